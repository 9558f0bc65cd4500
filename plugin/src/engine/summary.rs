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
    pub pushed: u64,
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
}
