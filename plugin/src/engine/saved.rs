//! The persisted engine state (plugin-contract §5.4.1): one JSON document, storage key
//! [`STATE_KEY`], written whole and atomically at every checkpoint, plus one document per synced
//! text version (`base-<sha256>`, the base store for merges).
//!
//! The state holds *observations*, not a plan: the local snapshot (`local`), the tree the server
//! is known to have (`synced`, the merge base), the pull cursor, the ops already handed ids
//! (`oplog`), the in-flight push batch with its idempotency key (`pending`), and ops accepted
//! but not yet echoed (`unechoed`). What to push is recomputed from `local` vs `synced`
//! after every crash (see `derive`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use verstak_sync_proto::{OpType, PushOp};

use super::guard::{Direction, Guard};
use super::hash::ContentHash;
use super::ids::ServerSeq;
use super::path::VaultPath;

/// Storage key of the state document.
pub const STATE_KEY: &str = "engine-state";

/// Storage key of the base-store document holding the text of the version `hash`.
pub fn base_key(hash: &ContentHash) -> String {
    format!("base-{hash}")
}

/// One entry of the local snapshot: what the last scan (or apply) saw on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalEntry {
    pub dir: bool,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub mtime: i64,
    /// `None` for folders and for files over the size limit.
    #[serde(default)]
    pub hash: Option<ContentHash>,
    /// Over 256 MiB: never synced, never deleted because of it (§4.7).
    #[serde(default)]
    pub too_large: bool,
}

impl LocalEntry {
    pub(crate) fn dir() -> LocalEntry {
        LocalEntry {
            dir: true,
            size: 0,
            mtime: 0,
            hash: None,
            too_large: false,
        }
    }
}

/// One entry of the synced tree: the version of a path the server is known to hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedEntry {
    pub dir: bool,
    #[serde(default)]
    pub hash: Option<ContentHash>,
    /// The text of this version is in the base store.
    #[serde(default)]
    pub text: bool,
    #[serde(default)]
    pub size: u64,
}

impl SyncedEntry {
    pub(crate) fn dir() -> SyncedEntry {
        SyncedEntry {
            dir: true,
            hash: None,
            text: false,
            size: 0,
        }
    }
}

/// Create, update or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Create,
    Update,
    Delete,
}

impl From<OpKind> for OpType {
    fn from(k: OpKind) -> OpType {
        match k {
            OpKind::Create => OpType::Create,
            OpKind::Update => OpType::Update,
            OpKind::Delete => OpType::Delete,
        }
    }
}

/// A local op that has an id but has not been accepted yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedOp {
    pub op_id: String,
    pub client_seq: i64,
    pub path: VaultPath,
    pub dir: bool,
    pub kind: OpKind,
    /// Content hash for file creates and updates.
    #[serde(default)]
    pub hash: Option<ContentHash>,
    #[serde(default)]
    pub size: u64,
}

/// An op of the in-flight batch: what it means locally and exactly what was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchEntry {
    pub op: QueuedOp,
    pub wire: PushOp,
}

/// The batch being pushed, persisted with its key before it is sent (§4.9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBatch {
    pub key: String,
    pub entries: Vec<BatchEntry>,
}

/// An accepted op whose echo has not been pulled yet (§5.4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unechoed {
    pub path: VaultPath,
    pub kind: OpKind,
    #[serde(default)]
    pub hash: Option<ContentHash>,
}

/// The whole persisted state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedState {
    #[serde(default)]
    pub salt: String,
    #[serde(default)]
    pub cursor: ServerSeq,
    #[serde(default)]
    pub bootstrap_complete: bool,
    #[serde(default)]
    pub next_client_seq: i64,
    #[serde(default)]
    pub next_batch: u64,
    #[serde(default)]
    pub last_sync_at: String,
    #[serde(default)]
    pub last_error: String,
    #[serde(default)]
    pub last_warning: String,
    #[serde(default)]
    pub local: BTreeMap<VaultPath, LocalEntry>,
    #[serde(default)]
    pub synced: BTreeMap<VaultPath, SyncedEntry>,
    #[serde(default)]
    pub oplog: Vec<QueuedOp>,
    #[serde(default)]
    pub pending: Option<PendingBatch>,
    #[serde(default)]
    pub unechoed: BTreeMap<String, Unechoed>,
    #[serde(default)]
    pub guard: Option<Guard>,
    /// The user's answer to the guard, used by the next run (§5.4.5).
    #[serde(default)]
    pub guard_decision: Option<GuardDecision>,
    /// Base-store documents written so far (garbage-collected when no longer referenced).
    #[serde(default)]
    pub base_docs: BTreeSet<ContentHash>,
}

/// `confirmDeletions` / `restoreDeletions` for one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardDecision {
    pub direction: Direction,
    pub confirm: bool,
}

impl SavedState {
    pub fn parse(json: &str) -> Result<SavedState, serde_json::Error> {
        if json.trim().is_empty() || json.trim() == "{}" {
            return Ok(SavedState::default());
        }
        serde_json::from_str(json)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("state is plain data")
    }

    /// Local ops not yet accepted by the server (`unpushedOps`).
    pub fn unpushed_ops(&self) -> usize {
        self.oplog.len() + self.pending.as_ref().map_or(0, |b| b.entries.len())
    }

    /// Resets what belongs to a pairing (§3.4 step 6): a new `configure` re-reads the whole
    /// remote history under the first-sync rules. The local snapshot is kept; the synced tree
    /// is forgotten, so every local file is reconciled against the server again.
    pub fn reset_for_new_pairing(&mut self) {
        self.cursor = ServerSeq(0);
        self.bootstrap_complete = false;
        self.last_warning.clear();
        self.last_error.clear();
        self.synced.clear();
        self.unechoed.clear();
        self.pending = None;
        self.oplog.clear();
        self.guard = None;
        self.guard_decision = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::path::p;

    #[test]
    fn round_trip_and_empty_documents() {
        assert_eq!(SavedState::parse("").unwrap(), SavedState::default());
        assert_eq!(SavedState::parse("{}").unwrap(), SavedState::default());
        let mut s = SavedState {
            cursor: ServerSeq(7),
            ..SavedState::default()
        };
        s.local.insert(
            p("a.md"),
            LocalEntry {
                dir: false,
                size: 1,
                mtime: 2,
                hash: Some(ContentHash::of(b"x")),
                too_large: false,
            },
        );
        s.synced.insert(p("d"), SyncedEntry::dir());
        let back = SavedState::parse(&s.to_json()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn new_pairing_forgets_the_server_side() {
        let mut s = SavedState {
            cursor: ServerSeq(7),
            bootstrap_complete: true,
            ..SavedState::default()
        };
        s.synced.insert(p("d"), SyncedEntry::dir());
        s.local.insert(p("d"), LocalEntry::dir());
        s.reset_for_new_pairing();
        assert_eq!(s.cursor, ServerSeq(0));
        assert!(!s.bootstrap_complete && s.synced.is_empty());
        assert_eq!(s.local.len(), 1);
    }
}
