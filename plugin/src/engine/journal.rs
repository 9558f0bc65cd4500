//! How the engine state is stored: a snapshot plus a journal of the changes since (§5.4.1).
//!
//! * The snapshot is the storage document [`STATE_KEY`]: the whole [`SavedState`] as one JSON
//!   document, the format every version wrote (so a state older versions wrote loads as a
//!   snapshot with no journal). It carries the journal generation `journal` (a random nonzero
//!   number, new at every snapshot).
//! * The journal is the document [`JOURNAL_KEY`], written with `storage.append` (durable, never
//!   rewritten): one line per checkpoint, `<checksum> <record>\n`, where the record holds the
//!   generation, the small fields when they changed ("head") and, per tracked collection
//!   (`tracked.rs`), each touched key with its value now or `null`. Every value is absolute, so
//!   replaying a record twice changes nothing. Records are ASCII (`\u` escapes), so a torn tail
//!   is still a valid UTF-8 document.
//!
//! Loading ([`load`]) applies the records of the snapshot's generation in order and stops at the
//! first line that is torn or fails its checksum. Records of another generation are left over
//! from a compaction that crashed before it emptied the journal, and are skipped. Anything of
//! the kind marks the journal unclean, and the next checkpoint writes a snapshot instead of
//! appending after the damage. Without a snapshot the journal is ignored (the state was lost).
//!
//! Compaction ([`Journal::plan`]): a checkpoint writes a snapshot (new generation, `set`, then
//! the journal emptied with `set(key, "")`) instead of appending when the journal would grow
//! past [`JOURNAL_FACTOR`] times the snapshot (at least [`MIN_JOURNAL_BYTES`]) or hold
//! [`MAX_RECORDS`] records, or when the journal is unclean. So the bytes written stay within
//! 1.5 times what the changes need (a snapshot per two snapshots' worth of records), loading
//! reads at most three snapshots' worth, and a checkpoint costs O(its changes), not O(state).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::Config;
use super::guard::Guard;
use super::hash::ContentHash;
use super::ids::ServerSeq;
use super::path::VaultPath;
use super::saved::{
    GuardDecision, LocalEntry, PendingBatch, QueuedOp, SavedState, SetAside, SyncedEntry, Unechoed,
};

/// Storage key of the snapshot.
pub use super::saved::STATE_KEY;

/// Storage key of the journal.
pub const JOURNAL_KEY: &str = "engine-journal";

/// The journal may grow to the snapshot's size, but always to this much.
pub const MIN_JOURNAL_BYTES: usize = 64 * 1024;
/// The journal may grow to this many times the snapshot. Measured on a first upload of 10,000
/// files (98 MiB): with 1 the host wrote 2.15 times the vault, with 2 1.97 times.
pub(crate) const JOURNAL_FACTOR: usize = 2;
/// More records than this make loading slow for little gain: compact.
pub(crate) const MAX_RECORDS: usize = 4_096;

/// Where the stored state stands (not part of the state): what the journal holds and what the
/// last checkpoint wrote of the small fields.
#[derive(Debug, Clone, Default)]
pub(crate) struct Journal {
    /// The journal holds only whole records of the snapshot's generation: appending is safe.
    clean: bool,
    snapshot_bytes: usize,
    bytes: usize,
    records: usize,
    /// The head as last stored.
    head: String,
    /// The key of the in-flight push batch as last stored. The batch (every op of it, text
    /// payloads included) is journaled when it changes, not in the head: the head is
    /// serialized and compared at every checkpoint, and a first upload spent a sixth of its
    /// time escaping the same batch again.
    pending_key: Option<String>,
}

/// What a checkpoint writes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Write {
    /// Nothing changed.
    Nothing,
    /// Append this line to the journal.
    Append(String),
    /// Write a snapshot (the state's `journal` generation is already the new one), then empty
    /// the journal.
    Snapshot(String),
}

/// The fields outside the tracked collections, journaled whole when any of them changed.
#[derive(Debug, Serialize, Deserialize)]
struct Head {
    salt: String,
    cursor: ServerSeq,
    bootstrap_complete: bool,
    next_client_seq: i64,
    next_batch: u64,
    last_sync_at: String,
    last_error: String,
    last_warning: String,
    guard: Option<Guard>,
    guard_decision: Option<GuardDecision>,
    set_aside: Vec<SetAside>,
    /// Absent from records older versions wrote.
    #[serde(default)]
    next_pack: u64,
    /// Only in records older versions wrote (now the record's `q`): applied when present.
    #[serde(default, deserialize_with = "present", skip_serializing)]
    pending: Option<Option<PendingBatch>>,
}

/// `Some` of the value when the field is present (even `null`), so that a missing field
/// (`None`, from `default`) and a stored `null` differ.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

impl Head {
    fn of(st: &SavedState) -> Head {
        Head {
            salt: st.salt.clone(),
            cursor: st.cursor,
            bootstrap_complete: st.bootstrap_complete,
            next_client_seq: st.next_client_seq,
            next_batch: st.next_batch,
            last_sync_at: st.last_sync_at.clone(),
            last_error: st.last_error.clone(),
            last_warning: st.last_warning.clone(),
            pending: None,
            guard: st.guard.clone(),
            guard_decision: st.guard_decision,
            set_aside: st.set_aside.clone(),
            next_pack: st.next_pack,
        }
    }

    fn apply(self, st: &mut SavedState) {
        st.salt = self.salt;
        st.cursor = self.cursor;
        st.bootstrap_complete = self.bootstrap_complete;
        st.next_client_seq = self.next_client_seq;
        st.next_batch = self.next_batch;
        st.last_sync_at = self.last_sync_at;
        st.last_error = self.last_error;
        st.last_warning = self.last_warning;
        if let Some(pending) = self.pending {
            st.pending = pending;
        }
        st.guard = self.guard;
        st.guard_decision = self.guard_decision;
        st.set_aside = self.set_aside;
        st.next_pack = self.next_pack;
    }

    fn json(st: &SavedState) -> String {
        serde_json::to_string(&Head::of(st)).expect("plain data")
    }
}

/// One journal record as read back.
#[derive(Deserialize)]
struct Record {
    g: u64,
    #[serde(default)]
    h: Option<Head>,
    #[serde(default)]
    l: BTreeMap<VaultPath, Option<LocalEntry>>,
    #[serde(default)]
    s: BTreeMap<VaultPath, Option<SyncedEntry>>,
    #[serde(default)]
    o: BTreeMap<String, Option<QueuedOp>>,
    #[serde(default)]
    u: BTreeMap<String, Option<Unechoed>>,
    #[serde(default)]
    b: BTreeMap<ContentHash, bool>,
    #[serde(default)]
    p: BTreeMap<ContentHash, Option<u64>>,
    /// The in-flight push batch, when it changed (`null`: none).
    #[serde(default, deserialize_with = "present")]
    q: Option<Option<PendingBatch>>,
}

impl Record {
    fn apply(self, st: &mut SavedState) {
        if let Some(h) = self.h {
            h.apply(st);
        }
        st.local.replay(self.l);
        st.synced.replay(self.s);
        st.oplog.replay(self.o);
        st.unechoed.replay(self.u);
        st.base_docs.replay(self.b);
        st.base_packs.replay(self.p);
        if let Some(pending) = self.q {
            st.pending = pending;
        }
    }
}

/// Identifies the in-flight push batch: a batch never changes once set, and each has its own
/// idempotency key.
fn pending_key(st: &SavedState) -> Option<String> {
    st.pending.as_ref().map(|p| p.key.clone())
}

fn checksum(record: &str) -> String {
    ContentHash::of(record.as_bytes()).as_str()[..16].to_string()
}

/// `json` with every non-ASCII character as a `\u` escape (valid wherever it occurs, since
/// JSON has non-ASCII only inside strings).
fn ascii(json: String) -> String {
    if json.is_ascii() {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    let mut units = [0u16; 2];
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// The record of one line, when the line is whole and intact.
fn parse_line(line: &str) -> Option<Record> {
    let (sum, record) = line.split_once(' ')?;
    if checksum(record) != sum {
        return None;
    }
    serde_json::from_str(record).ok()
}

/// The state from its snapshot and journal documents (either may be missing).
pub(crate) fn load(
    snapshot: Option<&str>,
    journal: Option<&str>,
) -> Result<(SavedState, Journal), serde_json::Error> {
    let mut st = match snapshot {
        Some(s) => SavedState::parse(s)?,
        None => SavedState::default(),
    };
    let text = journal.unwrap_or("");
    let mut j = Journal {
        clean: snapshot.is_some() && st.journal != 0,
        snapshot_bytes: snapshot.map_or(0, str::len),
        bytes: text.len(),
        records: 0,
        head: String::new(),
        pending_key: None,
    };
    if j.clean {
        let mut rest = text;
        while !rest.is_empty() {
            let Some(end) = rest.find('\n') else {
                j.clean = false; // a torn tail
                break;
            };
            let line = &rest[..end];
            rest = &rest[end + 1..];
            match parse_line(line) {
                Some(r) if r.g == st.journal => {
                    r.apply(&mut st);
                    j.records += 1;
                }
                Some(_) => j.clean = false,
                None => {
                    j.clean = false;
                    break;
                }
            }
        }
    } else {
        j.clean = text.is_empty() && st.journal != 0;
    }
    j.head = Head::json(&st);
    j.pending_key = pending_key(&st);
    Ok((st, j))
}

/// A new nonzero generation, different from `old` (from the engine's entropy, so a snapshot
/// lost and started afresh never meets records of its own generation).
fn next_generation(old: u64, entropy: &[u8; 16]) -> u64 {
    let seed = ContentHash::of(&[&old.to_le_bytes()[..], &entropy[..]].concat());
    let n = u64::from_str_radix(&seed.as_str()[..16], 16).expect("hex digits");
    if n == 0 || n == old {
        old.wrapping_add(1).max(1)
    } else {
        n
    }
}

impl Journal {
    /// What to write to store `st` now. A snapshot is prepared with its new generation set in
    /// `st`; call [`Journal::written`] once the write (and for a snapshot, the emptying of the
    /// journal) succeeded, or [`Journal::failed`] when it did not.
    pub(crate) fn plan(&self, st: &mut SavedState, cfg: &Config, force_snapshot: bool) -> Write {
        let head = Head::json(st);
        let changed = pending_key(st) != self.pending_key
            || st.local.has_changes()
            || st.synced.has_changes()
            || st.oplog.has_changes()
            || st.unechoed.has_changes()
            || st.base_docs.has_changes()
            || st.base_packs.has_changes();
        if self.clean && !force_snapshot && !changed && head == self.head {
            return Write::Nothing;
        }
        if self.clean && !force_snapshot {
            let line = self.line(st, &head);
            let limit = (self.snapshot_bytes * JOURNAL_FACTOR).max(cfg.journal_min_bytes);
            if self.bytes + line.len() <= limit && self.records < MAX_RECORDS {
                return Write::Append(line);
            }
        }
        st.journal = next_generation(st.journal, &cfg.entropy);
        Write::Snapshot(st.to_json())
    }

    /// One journal line with the changes of `st` since the last write.
    fn line(&self, st: &SavedState, head: &str) -> String {
        let mut r = format!("{{\"g\":{}", st.journal);
        let json = |v: &dyn erased::Json| v.json();
        if *head != self.head {
            r.push_str(",\"h\":");
            r.push_str(head);
        }
        if pending_key(st) != self.pending_key {
            r.push_str(",\"q\":");
            r.push_str(&serde_json::to_string(&st.pending).expect("plain data"));
        }
        for (key, part) in [
            (
                "l",
                st.local.has_changes().then(|| json(&st.local.changes())),
            ),
            (
                "s",
                st.synced.has_changes().then(|| json(&st.synced.changes())),
            ),
            (
                "o",
                st.oplog.has_changes().then(|| json(st.oplog.changes())),
            ),
            (
                "u",
                st.unechoed
                    .has_changes()
                    .then(|| json(&st.unechoed.changes())),
            ),
            (
                "b",
                st.base_docs
                    .has_changes()
                    .then(|| json(&st.base_docs.changes())),
            ),
            (
                "p",
                st.base_packs
                    .has_changes()
                    .then(|| json(&st.base_packs.changes())),
            ),
        ] {
            if let Some(part) = part {
                r.push_str(&format!(",\"{key}\":{part}"));
            }
        }
        r.push('}');
        let r = ascii(r);
        format!("{} {r}\n", checksum(&r))
    }

    /// The planned write is stored: `st`'s changes are no longer pending.
    pub(crate) fn written(&mut self, st: &mut SavedState, w: &Write) {
        match w {
            Write::Nothing => {}
            Write::Append(line) => {
                self.bytes += line.len();
                self.records += 1;
            }
            Write::Snapshot(doc) => {
                *self = Journal {
                    clean: true,
                    snapshot_bytes: doc.len(),
                    ..Journal::default()
                };
            }
        }
        self.head = Head::json(st);
        self.pending_key = pending_key(st);
        st.local.written();
        st.synced.written();
        st.oplog.written();
        st.unechoed.written();
        st.base_docs.written();
        st.base_packs.written();
    }

    /// A write failed (it may have left a torn append or a stale journal): the next checkpoint
    /// writes a snapshot.
    pub(crate) fn failed(&mut self) {
        self.clean = false;
    }
}

/// `serde_json::to_string` behind a trait object, so the parts of a record can share one loop.
mod erased {
    pub(super) trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("plain data")
        }
    }
}

#[cfg(test)]
mod tests;
