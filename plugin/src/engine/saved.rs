//! The persisted engine state (plugin-contract §5.4.1): one JSON document, storage key
//! [`STATE_KEY`], written whole and atomically at every checkpoint, plus one document per synced
//! text version (`base-<sha256>`, the base store for merges).
//!
//! The state holds *observations*, not a plan: the local snapshot (`local`), the tree the server
//! is known to have (`synced`, the merge base), the pull cursor, the ops already handed ids
//! (`oplog`), the in-flight push batch with its idempotency key (`pending`), and ops accepted
//! but not yet echoed (`unechoed`). What to push is recomputed from `local` vs `synced`
//! after every crash (see `derive`).

use serde::{Deserialize, Serialize};
use verstak_sync_proto::{OpType, PulledOp, PushOp};

use super::guard::{Direction, Guard};
use super::hash::ContentHash;
use super::ids::ServerSeq;
use super::path::VaultPath;
use super::tracked::{Memo, OpLog, TrackedMap, TrackedSet};

/// Storage key of the state document.
pub const STATE_KEY: &str = "engine-state";

/// Storage key of the base-store document holding the text of the version `hash`.
pub fn base_key(hash: &ContentHash) -> String {
    format!("base-{hash}")
}

/// Storage key of base pack `n` (`run/store.rs`).
pub fn pack_key(n: u64) -> String {
    format!("bases-{n}")
}

/// One entry of the local snapshot: what the last scan (or apply) saw on disk. A file always
/// has its hash; a folder, or a file too large to sync, has none. Stored in the shape older
/// versions wrote (`LocalEntryDoc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LocalEntryDoc", into = "LocalEntryDoc")]
pub enum LocalEntry {
    Dir,
    File {
        size: u64,
        mtime: i64,
        hash: ContentHash,
    },
    /// Over 256 MiB: never hashed, never synced, never deleted because of it (§4.7).
    TooLarge {
        size: u64,
        mtime: i64,
    },
}

impl LocalEntry {
    pub(crate) fn dir() -> LocalEntry {
        LocalEntry::Dir
    }

    pub(crate) fn is_dir(&self) -> bool {
        matches!(self, LocalEntry::Dir)
    }

    /// The hash of a file that is synced by content (not of a folder or a too-large file).
    pub(crate) fn hash(&self) -> Option<&ContentHash> {
        match self {
            LocalEntry::File { hash, .. } => Some(hash),
            _ => None,
        }
    }
}

/// The persisted form of [`LocalEntry`].
#[derive(Serialize, Deserialize)]
struct LocalEntryDoc {
    dir: bool,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    mtime: i64,
    #[serde(default)]
    hash: Option<ContentHash>,
    #[serde(default)]
    too_large: bool,
}

impl TryFrom<LocalEntryDoc> for LocalEntry {
    type Error = &'static str;
    fn try_from(d: LocalEntryDoc) -> Result<LocalEntry, &'static str> {
        match (d.dir, d.too_large, d.hash) {
            (true, _, _) => Ok(LocalEntry::Dir),
            (false, true, _) => Ok(LocalEntry::TooLarge {
                size: d.size,
                mtime: d.mtime,
            }),
            (false, false, Some(hash)) => Ok(LocalEntry::File {
                size: d.size,
                mtime: d.mtime,
                hash,
            }),
            (false, false, None) => Err("a local file entry has no hash"),
        }
    }
}

impl From<LocalEntry> for LocalEntryDoc {
    fn from(e: LocalEntry) -> LocalEntryDoc {
        let (dir, size, mtime, hash, too_large) = match e {
            LocalEntry::Dir => (true, 0, 0, None, false),
            LocalEntry::File { size, mtime, hash } => (false, size, mtime, Some(hash), false),
            LocalEntry::TooLarge { size, mtime } => (false, size, mtime, None, true),
        };
        LocalEntryDoc {
            dir,
            size,
            mtime,
            hash,
            too_large,
        }
    }
}

/// One entry of the synced tree: the version of a path the server is known to hold. A synced
/// file always has its hash; a synced folder has none. Stored in the shape older versions wrote
/// (`SyncedEntryDoc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SyncedEntryDoc", into = "SyncedEntryDoc")]
pub enum SyncedEntry {
    Dir,
    File {
        hash: ContentHash,
        /// The text of this version is in the base store.
        text: bool,
        size: u64,
    },
}

impl SyncedEntry {
    pub(crate) fn dir() -> SyncedEntry {
        SyncedEntry::Dir
    }

    pub(crate) fn is_dir(&self) -> bool {
        matches!(self, SyncedEntry::Dir)
    }

    /// The hash of a synced file (`None` for a folder).
    pub(crate) fn hash(&self) -> Option<&ContentHash> {
        match self {
            SyncedEntry::File { hash, .. } => Some(hash),
            SyncedEntry::Dir => None,
        }
    }

    /// The hash of a synced file whose text is in the base store.
    pub(crate) fn text_hash(&self) -> Option<&ContentHash> {
        match self {
            SyncedEntry::File {
                hash, text: true, ..
            } => Some(hash),
            _ => None,
        }
    }
}

/// The persisted form of [`SyncedEntry`].
#[derive(Serialize, Deserialize)]
struct SyncedEntryDoc {
    dir: bool,
    #[serde(default)]
    hash: Option<ContentHash>,
    #[serde(default)]
    text: bool,
    #[serde(default)]
    size: u64,
}

impl TryFrom<SyncedEntryDoc> for SyncedEntry {
    type Error = &'static str;
    fn try_from(d: SyncedEntryDoc) -> Result<SyncedEntry, &'static str> {
        match (d.dir, d.hash) {
            (true, _) => Ok(SyncedEntry::Dir),
            (false, Some(hash)) => Ok(SyncedEntry::File {
                hash,
                text: d.text,
                size: d.size,
            }),
            (false, None) => Err("a synced file entry has no hash"),
        }
    }
}

impl From<SyncedEntry> for SyncedEntryDoc {
    fn from(e: SyncedEntry) -> SyncedEntryDoc {
        let (dir, hash, text, size) = match e {
            SyncedEntry::Dir => (true, None, false, 0),
            SyncedEntry::File { hash, text, size } => (false, Some(hash), text, size),
        };
        SyncedEntryDoc {
            dir,
            hash,
            text,
            size,
        }
    }
}

/// Create, update or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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

/// What a local op publishes: a file version (which always has its hash), a folder, or a
/// delete (which has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// File create or update (`update`), with the version to publish.
    File {
        update: bool,
        hash: ContentHash,
        size: u64,
    },
    /// Folder create.
    Folder,
    /// Delete of a file, or of a folder (`dir`).
    Delete { dir: bool },
}

impl Change {
    pub fn kind(&self) -> OpKind {
        match self {
            Change::File { update: true, .. } => OpKind::Update,
            Change::File { update: false, .. } | Change::Folder => OpKind::Create,
            Change::Delete { .. } => OpKind::Delete,
        }
    }

    /// A folder create or delete.
    pub fn is_dir(&self) -> bool {
        matches!(self, Change::Folder | Change::Delete { dir: true })
    }

    pub fn hash(&self) -> Option<&ContentHash> {
        match self {
            Change::File { hash, .. } => Some(hash),
            _ => None,
        }
    }
}

/// A local op that has an id but has not been accepted yet. Stored in the shape older
/// versions wrote (`QueuedOpDoc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "QueuedOpDoc", into = "QueuedOpDoc")]
pub struct QueuedOp {
    pub op_id: String,
    pub client_seq: i64,
    pub path: VaultPath,
    pub change: Change,
}

/// The persisted form of [`QueuedOp`].
#[derive(Serialize, Deserialize)]
struct QueuedOpDoc {
    op_id: String,
    client_seq: i64,
    path: VaultPath,
    dir: bool,
    kind: OpKind,
    /// Content hash for file creates and updates.
    #[serde(default)]
    hash: Option<ContentHash>,
    #[serde(default)]
    size: u64,
}

impl TryFrom<QueuedOpDoc> for QueuedOp {
    type Error = &'static str;
    fn try_from(d: QueuedOpDoc) -> Result<QueuedOp, &'static str> {
        let change = match (d.dir, d.kind, d.hash) {
            (dir, OpKind::Delete, _) => Change::Delete { dir },
            (true, OpKind::Create, _) => Change::Folder,
            (true, OpKind::Update, _) => return Err("a folder op is a create or a delete"),
            (false, kind, Some(hash)) => Change::File {
                update: kind == OpKind::Update,
                hash,
                size: d.size,
            },
            (false, _, None) => return Err("a file create or update has no hash"),
        };
        Ok(QueuedOp {
            op_id: d.op_id,
            client_seq: d.client_seq,
            path: d.path,
            change,
        })
    }
}

impl From<QueuedOp> for QueuedOpDoc {
    fn from(q: QueuedOp) -> QueuedOpDoc {
        let (dir, kind) = (q.change.is_dir(), q.change.kind());
        let (hash, size) = match q.change {
            Change::File { hash, size, .. } => (Some(hash), size),
            _ => (None, 0),
        };
        QueuedOpDoc {
            op_id: q.op_id,
            client_seq: q.client_seq,
            path: q.path,
            dir,
            kind,
            hash,
            size,
        }
    }
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

/// A pulled op that could not be applied locally (a name this file system cannot hold, a
/// permission denied, an unsafe name): the cursor moved past it, and every later sync tries it
/// again, since the condition may have changed (issue 14 item 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAside {
    pub op: PulledOp,
    /// Why it was set aside the last time it was tried.
    pub reason: String,
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
    pub local: TrackedMap<VaultPath, LocalEntry>,
    #[serde(default)]
    pub synced: TrackedMap<VaultPath, SyncedEntry>,
    #[serde(default)]
    pub oplog: OpLog,
    #[serde(default)]
    pub pending: Option<PendingBatch>,
    #[serde(default)]
    pub unechoed: TrackedMap<String, Unechoed>,
    #[serde(default)]
    pub guard: Option<Guard>,
    /// The user's answer to the guard, used by the next run (§5.4.5).
    #[serde(default)]
    pub guard_decision: Option<GuardDecision>,
    /// Base-store documents (one per text) that older versions wrote; read and garbage-collected
    /// like packs, never added to.
    #[serde(default)]
    pub base_docs: TrackedSet<ContentHash>,
    /// Merge bases stored in packs (`run/store.rs`): content hash → pack number (absent from
    /// documents older versions wrote).
    #[serde(default, skip_serializing_if = "no_packs")]
    pub base_packs: TrackedMap<ContentHash, u64>,
    /// The number of the next base pack.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub next_pack: u64,
    /// Pulled ops set aside, in server order (absent from documents older versions wrote).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<SetAside>,
    /// The generation of the journal that extends this snapshot (`journal.rs`); 0 in documents
    /// older versions wrote, which no journal extends.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub journal: u64,
    /// The paths where `local` and `synced` differ, once computed (`derive.rs`; not stored).
    #[serde(skip)]
    pub unsynced: Memo<Option<std::collections::BTreeSet<VaultPath>>>,
    /// The base documents and synced entries after the last base-store GC (`run/store.rs`;
    /// not stored).
    #[serde(skip)]
    pub gc_at: Memo<Option<(usize, usize)>>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn no_packs(p: &TrackedMap<ContentHash, u64>) -> bool {
    p.is_empty()
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
        self.set_aside.clear();
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
            LocalEntry::File {
                size: 1,
                mtime: 2,
                hash: ContentHash::of(b"x"),
            },
        );
        s.synced.insert(p("d"), SyncedEntry::dir());
        let back = SavedState::parse(&s.to_json()).unwrap();
        assert_eq!(back, s);
        s.set_aside.push(SetAside {
            op: PulledOp {
                entity_id: "long".into(),
                server_sequence: 3,
                ..PulledOp::default()
            },
            reason: "File name too long".into(),
        });
        let back = SavedState::parse(&s.to_json()).unwrap();
        assert_eq!(back, s);
    }

    /// A state document exactly as the engine wrote it before `LocalEntry`, `SyncedEntry` and
    /// `QueuedOp` became enums: it loads, and is written back byte for byte.
    #[test]
    fn state_written_by_older_versions_loads_unchanged() {
        let h = ContentHash::of(b"x");
        let doc = r#"{"salt":"ab","cursor":7,"bootstrap_complete":true,"next_client_seq":4,"next_batch":2,"last_sync_at":"2026-11-22T00:00:00Z","last_error":"","last_warning":"w","local":{"a.md":{"dir":false,"size":1,"mtime":9,"hash":"HASH","too_large":false},"big.bin":{"dir":false,"size":300000000,"mtime":3,"hash":null,"too_large":true},"d":{"dir":true,"size":0,"mtime":0,"hash":null,"too_large":false}},"synced":{"d":{"dir":true,"hash":null,"text":false,"size":0},"old.md":{"dir":false,"hash":"HASH","text":true,"size":1}},"oplog":[{"op_id":"o2","client_seq":2,"path":"d","dir":true,"kind":"create","hash":null,"size":0},{"op_id":"o3","client_seq":3,"path":"old.md","dir":false,"kind":"delete","hash":null,"size":0}],"pending":{"key":"k1","entries":[{"op":{"op_id":"o1","client_seq":1,"path":"a.md","dir":false,"kind":"update","hash":"HASH","size":1},"wire":{"op_id":"o1","entity_type":"file","entity_id":"a.md","op_type":"update","payload_json":"{\"path\":\"a.md\"}","client_sequence":1,"last_seen_server_seq":7,"created_at":"2026-11-22T00:00:00Z"}}]},"unechoed":{"o0":{"path":"gone","kind":"delete","hash":null}},"guard":{"direction":"outgoing","deletions":12,"files":13},"guard_decision":{"direction":"outgoing","confirm":true},"base_docs":["HASH"]}"#
            .replace("HASH", h.as_str());
        let s = SavedState::parse(&doc).unwrap();
        assert_eq!(
            s.local[&p("a.md")],
            LocalEntry::File {
                size: 1,
                mtime: 9,
                hash: h.clone()
            }
        );
        assert_eq!(
            s.local[&p("big.bin")],
            LocalEntry::TooLarge {
                size: 300_000_000,
                mtime: 3
            }
        );
        assert_eq!(s.local[&p("d")], LocalEntry::Dir);
        assert_eq!(s.synced[&p("d")], SyncedEntry::Dir);
        assert_eq!(
            s.synced[&p("old.md")],
            SyncedEntry::File {
                hash: h.clone(),
                text: true,
                size: 1
            }
        );
        let changes: Vec<&Change> = s.oplog.iter().map(|q| &q.change).collect();
        assert_eq!(changes, [&Change::Folder, &Change::Delete { dir: false }]);
        let pending = &s.pending.as_ref().unwrap().entries[0];
        assert_eq!(
            pending.op.change,
            Change::File {
                update: true,
                hash: h.clone(),
                size: 1
            }
        );
        assert_eq!(pending.wire.op_type, verstak_sync_proto::OpType::Update);
        assert_eq!(s.to_json(), doc);
        // Older documents left out defaulted fields.
        let sparse = r#"{"local":{"d":{"dir":true}},"synced":{"d":{"dir":true}},"oplog":[{"op_id":"o","client_seq":0,"path":"x","dir":true,"kind":"delete"}]}"#;
        let s = SavedState::parse(sparse).unwrap();
        assert_eq!(s.local[&p("d")], LocalEntry::Dir);
        assert_eq!(s.synced[&p("d")], SyncedEntry::Dir);
        assert_eq!(s.oplog[0].change, Change::Delete { dir: true });
        // States no version wrote (the old code would have panicked on them) are refused.
        for bad in [
            r#"{"local":{"a":{"dir":false}}}"#,
            r#"{"synced":{"a":{"dir":false,"text":true,"size":1}}}"#,
            r#"{"oplog":[{"op_id":"o","client_seq":0,"path":"x","dir":false,"kind":"create"}]}"#,
        ] {
            assert!(SavedState::parse(bad).is_err(), "{bad}");
        }
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
