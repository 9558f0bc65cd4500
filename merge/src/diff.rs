//! A line diff of two texts for people to read (the dashboard's side-by-side and inline views):
//! the same longest-common-subsequence matching as the merge. Within a changed run the removed
//! lines come before the added ones. When the changed middle is too large to match, it is shown
//! as all removed then all added (still a correct diff, just not the smallest).

use crate::matches_within;

/// What a diff line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// In both texts.
    Equal,
    /// Only in the old text.
    Delete,
    /// Only in the new text.
    Insert,
}

impl Op {
    /// `=`, `-` or `+`.
    pub fn sign(self) -> char {
        match self {
            Op::Equal => '=',
            Op::Delete => '-',
            Op::Insert => '+',
        }
    }
}

/// One line of a diff: its 1-based number in the old and/or new text, and the line with its
/// terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine<'a> {
    pub op: Op,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub text: &'a str,
}

/// The lines of `old` and `new` as a diff, in order.
pub fn diff_lines<'a>(old: &'a str, new: &'a str) -> Vec<DiffLine<'a>> {
    let x: Vec<&str> = old.split_inclusive('\n').collect();
    let y: Vec<&str> = new.split_inclusive('\n').collect();
    let m = matches_within(&x, &y, false).expect("a lenient match always answers");
    let mut out = Vec::with_capacity(x.len().max(y.len()));
    let mut j = 0;
    let insert_to = |out: &mut Vec<DiffLine<'a>>, j: &mut usize, end: usize| {
        while *j < end {
            out.push(DiffLine {
                op: Op::Insert,
                old: None,
                new: Some(*j + 1),
                text: y[*j],
            });
            *j += 1;
        }
    };
    for (i, mi) in m.iter().enumerate() {
        match *mi {
            Some(jj) => {
                insert_to(&mut out, &mut j, jj);
                out.push(DiffLine {
                    op: Op::Equal,
                    old: Some(i + 1),
                    new: Some(jj + 1),
                    text: x[i],
                });
                j = jj + 1;
            }
            None => out.push(DiffLine {
                op: Op::Delete,
                old: Some(i + 1),
                new: None,
                text: x[i],
            }),
        }
    }
    insert_to(&mut out, &mut j, y.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{cases, field};

    fn signed(d: &[DiffLine<'_>]) -> Vec<String> {
        d.iter()
            .map(|l| format!("{}{}", l.op.sign(), l.text))
            .collect()
    }

    #[test]
    fn diff_table() {
        for c in cases("diff") {
            let got = signed(&diff_lines(field(&c, "old"), field(&c, "new")));
            assert_eq!(serde_json::json!(got), c["want"], "case {}", c["name"]);
        }
    }

    #[test]
    fn numbers_count_each_side() {
        let d = diff_lines("a\nb\nc\n", "a\nB\nc\nd\n");
        let nums: Vec<(Option<usize>, Option<usize>)> = d.iter().map(|l| (l.old, l.new)).collect();
        assert_eq!(
            nums,
            [
                (Some(1), Some(1)),
                (Some(2), None),
                (None, Some(2)),
                (Some(3), Some(3)),
                (None, Some(4)),
            ]
        );
    }

    /// Every diff rebuilds both texts: the old from `=` and `-`, the new from `=` and `+`.
    #[test]
    fn a_diff_rebuilds_both_sides_even_when_too_large_to_match() {
        let big_old: String = (0..3000).map(|i| format!("o{i}\n")).collect();
        let big_new: String = (0..3000).map(|i| format!("n{i}\n")).collect();
        let pairs = [
            ("x\ny\nz\n", "y\nq\nz\nw"),
            ("", "a"),
            (&big_old[..], &big_new[..]),
        ];
        for (old, new) in pairs {
            let d = diff_lines(old, new);
            let side = |skip: Op| -> String {
                d.iter().filter(|l| l.op != skip).map(|l| l.text).collect()
            };
            assert_eq!(side(Op::Insert), old);
            assert_eq!(side(Op::Delete), new);
        }
    }
}
