//! A merge as regions a person can resolve: [`merge3_hunks`] walks the same diff3 as
//! [`crate::merge3`] but, where both sides changed a region differently, keeps a
//! [`Hunk::Conflict`] with the three versions of that region instead of giving up.
//! [`merge2_hunks`] is the two-way form for when no common base is known: every region where the
//! texts differ is a conflict (without a base nobody can tell which side changed it).
//!
//! Concatenating the resolved text of every hunk, with one side picked for each conflict, gives
//! a whole file again; lines keep their terminators.

use crate::{Op, diff_lines, matches};

/// One region of a merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hunk {
    /// Text both sides agree on after the merge (unchanged, or changed on one side only, or
    /// changed identically).
    Resolved(String),
    /// A region changed differently on both sides: the base's lines (empty for a two-way
    /// merge) and each side's.
    Conflict {
        base: String,
        local: String,
        remote: String,
    },
}

/// Appends resolved text, joining it to a resolved hunk before it; empty text adds nothing.
fn push_resolved(out: &mut Vec<Hunk>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Hunk::Resolved(last)) = out.last_mut() {
        last.push_str(text);
    } else {
        out.push(Hunk::Resolved(text.to_string()));
    }
}

/// The three-way merge of `local` and `remote` from `base` as hunks. A clean merge is at most
/// one [`Hunk::Resolved`] equal to [`crate::merge3`]'s text. When the texts are too large to
/// match line by line, the whole file is one conflict.
pub fn merge3_hunks(base: &str, local: &str, remote: &str) -> Vec<Hunk> {
    let mut out = Vec::new();
    if local == remote || base == local || base == remote {
        let text = if base == local { remote } else { local };
        push_resolved(&mut out, text);
        return out;
    }
    let o: Vec<&str> = base.split_inclusive('\n').collect();
    let a: Vec<&str> = local.split_inclusive('\n').collect();
    let b: Vec<&str> = remote.split_inclusive('\n').collect();
    let (Some(ma), Some(mb)) = (matches(&o, &a), matches(&o, &b)) else {
        out.push(Hunk::Conflict {
            base: base.to_string(),
            local: local.to_string(),
            remote: remote.to_string(),
        });
        return out;
    };

    let (mut i, mut ja, mut jb) = (0usize, 0usize, 0usize);
    loop {
        if i < o.len() && ma[i] == Some(ja) && mb[i] == Some(jb) {
            push_resolved(&mut out, o[i]);
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
        if ac == oc {
            push_resolved(&mut out, &bc.concat());
        } else if bc == oc || ac == bc {
            push_resolved(&mut out, &ac.concat());
        } else {
            out.push(Hunk::Conflict {
                base: oc.concat(),
                local: ac.concat(),
                remote: bc.concat(),
            });
        }
        if k.is_none() {
            return out;
        }
        i = ek;
        ja = ea;
        jb = eb;
    }
}

/// The two-way merge of `local` and `remote`: their common lines are resolved, every run of
/// lines that differs is a conflict with an empty base.
pub fn merge2_hunks(local: &str, remote: &str) -> Vec<Hunk> {
    let mut out = Vec::new();
    let (mut del, mut ins) = (String::new(), String::new());
    let flush = |out: &mut Vec<Hunk>, del: &mut String, ins: &mut String| {
        if !del.is_empty() || !ins.is_empty() {
            out.push(Hunk::Conflict {
                base: String::new(),
                local: std::mem::take(del),
                remote: std::mem::take(ins),
            });
        }
    };
    for line in diff_lines(local, remote) {
        match line.op {
            Op::Equal => {
                flush(&mut out, &mut del, &mut ins);
                push_resolved(&mut out, line.text);
            }
            Op::Delete => del.push_str(line.text),
            Op::Insert => ins.push_str(line.text),
        }
    }
    flush(&mut out, &mut del, &mut ins);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge3;
    use crate::tests::{cases, field};

    /// `["=", text]` or `["!", base, local, remote]` (`["!", local, remote]` for two-way).
    fn shape(h: &[Hunk], two_way: bool) -> serde_json::Value {
        h.iter()
            .map(|h| match h {
                Hunk::Resolved(t) => serde_json::json!(["=", t]),
                Hunk::Conflict { local, remote, .. } if two_way => {
                    serde_json::json!(["!", local, remote])
                }
                Hunk::Conflict {
                    base,
                    local,
                    remote,
                } => serde_json::json!(["!", base, local, remote]),
            })
            .collect()
    }

    #[test]
    fn hunks_table() {
        for c in cases("merge3_hunks") {
            let h = merge3_hunks(field(&c, "base"), field(&c, "local"), field(&c, "remote"));
            assert_eq!(shape(&h, false), c["want"], "case {}", c["name"]);
        }
        for c in cases("merge2") {
            let h = merge2_hunks(field(&c, "local"), field(&c, "remote"));
            assert_eq!(shape(&h, true), c["want"], "case {}", c["name"]);
        }
    }

    /// The hunks agree with `merge3` on every shared case: clean exactly when it merges, with
    /// the same text; picking one side of every conflict rebuilds that side where the other
    /// side had no change of its own.
    #[test]
    fn hunks_agree_with_merge3() {
        for c in cases("merge3") {
            let (o, a, b) = (field(&c, "base"), field(&c, "local"), field(&c, "remote"));
            let h = merge3_hunks(o, a, b);
            let clean = h.iter().all(|h| matches!(h, Hunk::Resolved(_)));
            let text: String = h
                .iter()
                .map(|h| match h {
                    Hunk::Resolved(t) => t.as_str(),
                    Hunk::Conflict { local, .. } => local.as_str(),
                })
                .collect();
            match merge3(o, a, b) {
                Some(m) => assert!(clean && text == m, "case {}", c["name"]),
                None => assert!(!clean, "case {}", c["name"]),
            }
        }
    }

    #[test]
    fn two_way_picks_rebuild_either_side() {
        let (a, b) = ("a\nx\nc\nd\n", "a\nc\ny\nd\nz");
        let h = merge2_hunks(a, b);
        let pick = |left: bool| -> String {
            h.iter()
                .map(|h| match h {
                    Hunk::Resolved(t) => t.clone(),
                    Hunk::Conflict { local, remote, .. } => {
                        if left { local } else { remote }.clone()
                    }
                })
                .collect()
        };
        assert_eq!((pick(true).as_str(), pick(false).as_str()), (a, b));
    }

    #[test]
    fn huge_texts_are_one_conflict() {
        let base: String = (0..3000).map(|i| format!("b{i}\n")).collect();
        let local: String = (0..3000).map(|i| format!("l{i}\n")).collect();
        let remote: String = (0..3000).map(|i| format!("r{i}\n")).collect();
        let h = merge3_hunks(&base, &local, &remote);
        assert_eq!(
            h,
            [Hunk::Conflict {
                base,
                local,
                remote
            }]
        );
    }
}
