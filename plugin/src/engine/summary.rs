//! The result of `now()` (plugin-contract §3.9 with the §3.13 extensions) and the engine's part
//! of the status snapshot (`EngineStatus`, merged into `status::Status` by `Status::apply`).

use serde::Serialize;
use verstak_sync_proto::Conflict;

use super::codes::closed_enum;
use super::error::EngineError;
use super::guard::Guard;

/// `{path, copyPath}`: a conflict resolved by keeping both versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptBoth {
    pub path: String,
    #[serde(rename = "copyPath")]
    pub copy_path: String,
}

/// `{pushed, pulled, serverSequence, conflicts?, keptBoth, merged, skipped, guard?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Changes sent: the local ops (files and folders) the server accepted during this run.
    pub pushed: u64,
    /// Changes received: other devices' ops this run applied here. Unlike the desktop (§3.9),
    /// this device's own echoes are not counted (a file sent is not also "received"), nor are
    /// ops counted in `skipped` (not understood, or set aside).
    pub pulled: u64,
    pub server_sequence: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    pub kept_both: Vec<KeptBoth>,
    pub merged: Vec<String>,
    pub skipped: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<Guard>,
}

/// How an action ended.
pub type Outcome = Result<Summary, EngineError>;

closed_enum! {
    /// The step of a sync run that `Progress` counts (WIT `progress.phase`).
    pub enum Phase {
        Scan = "scan",
        Pull = "pull",
        Upload = "upload",
        Push = "push",
    }
}

/// `status().progress` (§3.13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
}

impl Phase {
    /// The order of the phases in a run: scan, pull, upload, push.
    fn rank(self) -> usize {
        Phase::ALL.iter().position(|p| *p == self).expect("in ALL")
    }
}

impl Progress {
    /// What to show after a step reports `report`, given what this run showed so far: one
    /// progress per run that never goes backwards. Phases only advance; within a phase `done`
    /// and `total` only grow (and `done <= total`); a step of an earlier phase (the pull after
    /// the push, a blob uploaded between push batches) leaves the progress as it is.
    pub(crate) fn after(shown: Option<&Progress>, report: Progress) -> Progress {
        let grown = |p: Progress| Progress {
            total: p.total.max(p.done),
            ..p
        };
        match shown {
            None => grown(report),
            Some(s) if report.phase.rank() > s.phase.rank() => grown(report),
            Some(s) if report.phase.rank() < s.phase.rank() => s.clone(),
            Some(s) => grown(Progress {
                phase: s.phase,
                done: s.done.max(report.done),
                total: s.total.max(report.total),
            }),
        }
    }
}

/// The engine-owned status fields, answered from memory (§5.4.7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineStatus {
    pub syncing: bool,
    pub unpushed_ops: u64,
    pub last_sync_at: String,
    pub last_error: String,
    pub last_warning: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<Guard>,
    /// Bytes read, hashed, staged, written and downloaded during the current action, for the
    /// host's progress reports.
    #[serde(skip)]
    pub bytes: u64,
    /// The outcome of the last server call, if any was made (§5.4.7).
    #[serde(skip)]
    pub connected: Option<bool>,
    /// A server call with the device token answered 401 `unauthorized` (§3.2).
    #[serde(skip)]
    pub revoked: bool,
}

impl EngineStatus {
    /// Shows a step's progress under the rules of [`Progress::after`].
    pub(crate) fn report(&mut self, report: Progress) {
        self.progress = Some(Progress::after(self.progress.as_ref(), report));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_json_shape() {
        let s = Summary {
            pushed: 2,
            pulled: 3,
            server_sequence: 57,
            ..Summary::default()
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"pushed":2,"pulled":3,"serverSequence":57,"keptBoth":[],"merged":[],"skipped":0}"#
        );
    }

    #[test]
    fn progress_never_goes_backwards() {
        let p = |phase, done, total| Progress { phase, done, total };
        use Phase::*;
        // (shown, reported, shown after)
        let cases = [
            (None, p(Scan, 5, 0), p(Scan, 5, 5)),
            (Some(p(Scan, 5, 5)), p(Scan, 9, 0), p(Scan, 9, 9)),
            (Some(p(Scan, 9, 9)), p(Pull, 0, 100), p(Pull, 0, 100)),
            // A new page used to restart at 4/100 after 82/100.
            (Some(p(Pull, 82, 100)), p(Pull, 4, 100), p(Pull, 82, 100)),
            (Some(p(Pull, 82, 100)), p(Pull, 90, 120), p(Pull, 90, 120)),
            (
                Some(p(Pull, 90, 120)),
                p(Upload, 0, 4096),
                p(Upload, 0, 4096),
            ),
            (Some(p(Upload, 0, 4096)), p(Push, 0, 7), p(Push, 0, 7)),
            // A blob between two push batches, and the pull after the push, change nothing.
            (Some(p(Push, 3, 7)), p(Upload, 0, 99), p(Push, 3, 7)),
            (Some(p(Push, 7, 7)), p(Pull, 4, 100), p(Push, 7, 7)),
            (
                Some(p(Push, 16_400, 20_122)),
                p(Pull, 99, 100),
                p(Push, 16_400, 20_122),
            ),
        ];
        for (shown, report, want) in cases {
            let got = Progress::after(shown.as_ref(), report.clone());
            assert_eq!(got, want, "{shown:?} then {report:?}");
            if let Some(s) = &shown {
                assert!(got.phase.rank() >= s.phase.rank());
                if got.phase == s.phase {
                    assert!(got.done >= s.done && got.total >= s.total);
                }
            }
            assert!(got.done <= got.total);
        }
    }
}
