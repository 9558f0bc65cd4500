//! Three-way line merge (diff3) for text files (plugin-contract §5.4.2).
//!
//! Its own crate so that every place that merges (the engine on each device, and later the
//! browser through a `wasm-bindgen` build) runs the same code and can never disagree.
//!
//! `merge3(base, local, remote)` returns the merged text when the merge is clean — no region was
//! changed differently on both sides (an identical change on both sides is fine) — and `None`
//! otherwise. Lines keep their terminators, so line endings and a missing final newline survive.
//! Matching is a longest-common-subsequence of lines after trimming the common prefix and suffix;
//! when the differing middle is too large to match cheaply the merge gives up (`None`), and the
//! caller keeps both versions instead.

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
    let o: Vec<&str> = base.split_inclusive('\n').collect();
    let a: Vec<&str> = local.split_inclusive('\n').collect();
    let b: Vec<&str> = remote.split_inclusive('\n').collect();
    let ma = matches(&o, &a)?;
    let mb = matches(&o, &b)?;

    let mut out = String::with_capacity(local.len().max(remote.len()));
    let (mut i, mut ja, mut jb) = (0usize, 0usize, 0usize);
    loop {
        if i < o.len() && ma[i] == Some(ja) && mb[i] == Some(jb) {
            out.push_str(o[i]);
            i += 1;
            ja += 1;
            jb += 1;
            continue;
        }
        // The next base line that both sides kept, or the end.
        let k = (i..o.len()).find(|&k| ma[k].is_some() && mb[k].is_some());
        let (ea, eb, ek) = match k {
            Some(k) => (ma[k].expect("checked"), mb[k].expect("checked"), k),
            None => (a.len(), b.len(), o.len()),
        };
        let (oc, ac, bc) = (&o[i..ek], &a[ja..ea], &b[jb..eb]);
        let chosen = if ac == oc {
            bc
        } else if bc == oc || ac == bc {
            ac
        } else {
            return None;
        };
        for line in chosen {
            out.push_str(line);
        }
        if k.is_none() {
            return Some(out);
        }
        i = ek;
        ja = ea;
        jb = eb;
    }
}

/// For each line of `x`, the index of the line of `y` it is matched with in an LCS.
fn matches(x: &[&str], y: &[&str]) -> Option<Vec<Option<usize>>> {
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
        return None;
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

    #[test]
    fn merge_table() {
        let cases: &[(&str, &str, &str, &str, Option<&str>)] = &[
            (
                "both unchanged",
                "a\nb\n",
                "a\nb\n",
                "a\nb\n",
                Some("a\nb\n"),
            ),
            ("only local", "a\nb\n", "a\nB\n", "a\nb\n", Some("a\nB\n")),
            ("only remote", "a\nb\n", "a\nb\n", "A\nb\n", Some("A\nb\n")),
            (
                "disjoint edits",
                "a\nb\nc\nd\n",
                "A\nb\nc\nd\n",
                "a\nb\nc\nD\n",
                Some("A\nb\nc\nD\n"),
            ),
            (
                "same edit both sides",
                "a\nb\nc\n",
                "a\nX\nc\n",
                "a\nX\nc\n",
                Some("a\nX\nc\n"),
            ),
            (
                "overlapping edits",
                "a\nb\nc\n",
                "a\nL\nc\n",
                "a\nR\nc\n",
                None,
            ),
            (
                "insert at different places",
                "a\nb\nc\n",
                "top\na\nb\nc\n",
                "a\nb\nc\nend\n",
                Some("top\na\nb\nc\nend\n"),
            ),
            (
                "insert at same place differs",
                "a\nc\n",
                "a\nL\nc\n",
                "a\nR\nc\n",
                None,
            ),
            (
                "delete vs edit elsewhere",
                "a\nb\nc\nd\n",
                "a\nc\nd\n",
                "a\nb\nc\nD\n",
                Some("a\nc\nD\n"),
            ),
            (
                "delete vs edit same line",
                "a\nb\nc\n",
                "a\nc\n",
                "a\nB\nc\n",
                None,
            ),
            (
                "both delete same line",
                "a\nb\nc\n",
                "a\nc\n",
                "a\nc\n",
                Some("a\nc\n"),
            ),
            (
                "no final newline kept",
                "a\nb\nc",
                "A\nb\nc",
                "a\nb\nC",
                Some("A\nb\nC"),
            ),
            (
                "appended line touches unterminated end",
                "a\nb",
                "A\nb",
                "a\nb\nc",
                None,
            ),
            ("empty base both add", "", "x\n", "y\n", None),
            ("empty base one adds", "", "", "y\n", Some("y\n")),
            (
                "crlf preserved",
                "a\r\nb\r\nc\r\n",
                "A\r\nb\r\nc\r\n",
                "a\r\nb\r\nC\r\n",
                Some("A\r\nb\r\nC\r\n"),
            ),
            (
                "adjacent edits conflict",
                "a\nb\nc\n",
                "A\nb\nc\n",
                "a\nB\nc\n",
                None,
            ),
        ];
        for (name, base, local, remote, want) in cases {
            assert_eq!(merge3(base, local, remote).as_deref(), *want, "case {name}");
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
