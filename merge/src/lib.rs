//! Three-way line merge (diff3) for text files (plugin-contract §5.4.2), and the line diff the
//! web dashboard shows.
//!
//! Its own crate so that every place that merges (the engine on each device, and the browser
//! through the `wasm-bindgen` build in `merge-web/`) runs the same code and can never disagree.
//!
//! `merge3(base, local, remote)` returns the merged text when the merge is clean — no region was
//! changed differently on both sides (an identical change on both sides is fine) — and `None`
//! otherwise. Lines keep their terminators, so line endings and a missing final newline survive.
//! Matching is a longest-common-subsequence of lines after trimming the common prefix and suffix;
//! when the differing middle is too large to match cheaply the merge gives up (`None`), and the
//! caller keeps both versions instead.
//!
//! * [`hunks`]: the same merge as a list of resolved and conflicting regions (for a person to
//!   pick from), and a two-way variant when no common base is known;
//! * [`diff`]: a line diff (`=`, `-`, `+` lines with their numbers).
//!
//! The table of cases in `tests/cases.json` is shared with the browser build's tests.

pub mod diff;
pub mod hunks;

pub use diff::{DiffLine, Op, diff_lines};
pub use hunks::{Hunk, merge2_hunks, merge3_hunks};

/// Upper bound on the LCS table (cells) before giving up.
const MAX_CELLS: usize = 4_000_000;

pub fn merge3(base: &str, local: &str, remote: &str) -> Option<String> {
    if local == remote {
        return Some(local.to_string());
    }
    if base == local {
        return Some(remote.to_string());
    }
    if base == remote {
        return Some(local.to_string());
    }
    let mut out = String::with_capacity(local.len().max(remote.len()));
    for h in merge3_hunks(base, local, remote) {
        match h {
            Hunk::Resolved(text) => out.push_str(&text),
            Hunk::Conflict { .. } => return None,
        }
    }
    Some(out)
}

/// For each line of `x`, the index of the line of `y` it is matched with in an LCS.
fn matches(x: &[&str], y: &[&str]) -> Option<Vec<Option<usize>>> {
    matches_within(x, y, true)
}

/// [`matches`]; when the middle is too large, `None` if `strict`, else only the common prefix
/// and suffix matched (a correct but not minimal answer, which a diff can still show).
fn matches_within(x: &[&str], y: &[&str], strict: bool) -> Option<Vec<Option<usize>>> {
    let mut m = vec![None; x.len()];
    let mut pre = 0;
    while pre < x.len() && pre < y.len() && x[pre] == y[pre] {
        m[pre] = Some(pre);
        pre += 1;
    }
    let mut suf = 0;
    while suf < x.len() - pre && suf < y.len() - pre && x[x.len() - 1 - suf] == y[y.len() - 1 - suf]
    {
        m[x.len() - 1 - suf] = Some(y.len() - 1 - suf);
        suf += 1;
    }
    let xs = &x[pre..x.len() - suf];
    let ys = &y[pre..y.len() - suf];
    let (n, k) = (xs.len(), ys.len());
    if n == 0 || k == 0 {
        return Some(m);
    }
    if (n + 1).saturating_mul(k + 1) > MAX_CELLS {
        return (!strict).then_some(m);
    }
    // lcs[i][j] = LCS length of xs[i..] and ys[j..]; both sides are ≤ 2000 here, so u16 fits.
    let w = k + 1;
    let mut lcs = vec![0u16; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..k).rev() {
            lcs[i * w + j] = if xs[i] == ys[j] {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n && j < k {
        if xs[i] == ys[j] {
            m[pre + i] = Some(pre + j);
            i += 1;
            j += 1;
        } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared table (also run against the browser build by the frontend's Vitest).
    pub(crate) fn cases(kind: &str) -> Vec<serde_json::Value> {
        let all: serde_json::Value =
            serde_json::from_str(include_str!("../tests/cases.json")).expect("cases.json");
        all[kind].as_array().expect("a list of cases").clone()
    }

    pub(crate) fn field<'a>(c: &'a serde_json::Value, name: &str) -> &'a str {
        c[name].as_str().unwrap_or_else(|| panic!("{name} of {c}"))
    }

    #[test]
    fn merge_table() {
        let cases = cases("merge3");
        assert!(cases.len() >= 17);
        for c in &cases {
            let got = merge3(field(c, "base"), field(c, "local"), field(c, "remote"));
            assert_eq!(got.as_deref(), c["want"].as_str(), "case {}", c["name"]);
        }
    }

    #[test]
    fn merge_is_symmetric_in_cleanliness() {
        let base = "1\n2\n3\n4\n5\n6\n";
        let l = "1\nx\n3\n4\n5\n6\n";
        let r = "1\n2\n3\n4\ny\n6\n";
        assert_eq!(merge3(base, l, r), merge3(base, r, l));
    }

    #[test]
    fn matches_handles_repeated_lines() {
        let x = ["a\n", "a\n", "b\n"];
        let y = ["a\n", "b\n"];
        let m = matches(&x, &y).unwrap();
        assert_eq!(m.iter().filter(|v| v.is_some()).count(), 2);
        assert_eq!(m[2], Some(1));
    }

    #[test]
    fn huge_middles_give_up() {
        let base: String = (0..3000).map(|i| format!("b{i}\n")).collect();
        let local: String = (0..3000).map(|i| format!("l{i}\n")).collect();
        let remote: String = (0..3000).map(|i| format!("r{i}\n")).collect();
        assert_eq!(merge3(&base, &local, &remote), None);
    }
}
