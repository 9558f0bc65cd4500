//! The mass-deletion guard (plugin-contract §5.4.5): hold deletes when more than 10 files and
//! more than half of the tracked files would go.

use serde::{Deserialize, Serialize};

/// Which side's deletes are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Incoming,
    Outgoing,
}

/// `{direction, deletions, files}` as reported in `status().guard` and the `now()` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guard {
    pub direction: Direction,
    pub deletions: u64,
    pub files: u64,
}

/// How `lastWarning` starts while a guard holds deletes; the warning goes with the guard.
pub(crate) const WARNING: &str = "mass deletion awaiting confirmation";

/// Whether `warning` is a guard's warning that no guard stands behind any more (the user
/// confirmed or restored, or the deletes went away): such a warning is stale.
pub(crate) fn is_stale_warning(warning: &str, guard: Option<&Guard>) -> bool {
    guard.is_none() && warning.starts_with(WARNING)
}

/// The guard to raise for `deletions` out of `files`, if any.
pub(crate) fn check(direction: Direction, deletions: u64, files: u64) -> Option<Guard> {
    (deletions > 10 && deletions * 2 > files).then_some(Guard {
        direction,
        deletions,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        let cases = [
            (10, 10, false),
            (11, 20, true),
            (11, 22, false),
            (11, 21, true),
            (100, 1000, false),
            (0, 0, false),
        ];
        for (d, n, held) in cases {
            assert_eq!(
                check(Direction::Outgoing, d, n).is_some(),
                held,
                "D={d} N={n}"
            );
        }
        assert!(is_stale_warning(
            "mass deletion awaiting confirmation: 12 incoming deletions of 12 files",
            None
        ));
        let held = check(Direction::Incoming, 12, 12);
        assert!(!is_stale_warning(
            "mass deletion awaiting confirmation: 12 incoming deletions of 12 files",
            held.as_ref()
        ));
        assert!(!is_stale_warning("file-too-large: a.bin", None));
        assert_eq!(
            check(Direction::Incoming, 12, 12),
            Some(Guard {
                direction: Direction::Incoming,
                deletions: 12,
                files: 12
            })
        );
    }
}
