//! Saving the state (a journal record or a snapshot, `journal.rs`) and the base store (§5.4.1).

use super::super::command::Command;
use super::super::config::Config;
use super::super::error::EngineError;
use super::super::event::IoError;
use super::super::hash::ContentHash;
use super::super::io::Io;
use super::super::journal::{JOURNAL_KEY, Write};
use std::collections::{BTreeMap, BTreeSet};

use super::super::base_pack::{self, PACK_BYTES};
use super::super::saved::{STATE_KEY, SavedState, SyncedEntry, base_key, pack_key};
use super::{Run, fill_status};

/// Stores what changed in `st` since the last checkpoint: one journal append, or a snapshot
/// (with `snapshot`, always) followed by emptying the journal. A failed append falls back to a
/// snapshot at once.
pub(super) async fn checkpoint(
    io: &Io,
    st: &mut SavedState,
    cfg: &Config,
    snapshot: bool,
) -> Result<(), EngineError> {
    let mut plan = io.0.borrow().journal.plan(st, cfg, snapshot);
    if let Write::Append(line) = &plan {
        let value = line.clone();
        let appended = io
            .done(|id| Command::StorageAppend {
                id,
                key: JOURNAL_KEY.to_string(),
                value,
            })
            .await;
        if appended.is_ok() {
            io.0.borrow_mut().journal.written(st, &plan);
            return Ok(());
        }
        io.0.borrow_mut().journal.failed();
        plan = io.0.borrow().journal.plan(st, cfg, true);
    }
    let Write::Snapshot(doc) = &plan else {
        return Ok(());
    };
    let result = write_snapshot(io, doc.clone()).await;
    match result {
        Ok(()) => {
            io.0.borrow_mut().journal.written(st, &plan);
            Ok(())
        }
        Err(e) => {
            io.0.borrow_mut().journal.failed();
            Err(EngineError::SaveState(e.to_string()))
        }
    }
}

/// The snapshot, atomically, then an empty journal (its records belong to the old generation).
async fn write_snapshot(io: &Io, value: String) -> Result<(), IoError> {
    let write = |key: &str, value: String| {
        let key = key.to_string();
        io.done(|id| Command::StorageWrite {
            id,
            key,
            value,
            durable: true,
        })
    };
    write(STATE_KEY, value).await?;
    write(JOURNAL_KEY, String::new()).await
}

/// How many base documents may be added (or synced entries go) before the next base-store GC.
const GC_SLACK: usize = 64;

/// Merge bases waiting to be written as one pack.
#[derive(Default)]
pub(super) struct PendingBases {
    texts: Vec<(ContentHash, String)>,
    hashes: std::collections::BTreeSet<ContentHash>,
    bytes: usize,
}

impl Run {
    /// Stores the state's changes since the last checkpoint and refreshes the status fields.
    /// The waiting merge bases are written first, so the state records only written packs.
    pub(super) async fn save(&mut self) -> Result<(), EngineError> {
        self.flush_bases().await?;
        checkpoint(&self.io, &mut self.st, &self.cfg, false).await?;
        let st = &self.st;
        self.io.status(|s| fill_status(s, st));
        Ok(())
    }

    /// Stores the text of a synced version, once, in the next base pack (`base_pack.rs`).
    /// The pack is written before the state that refers to it, but not durably: a pack lost or
    /// torn by a crash only turns a later merge into a conflict copy (`get_base` checks the
    /// hash). Skipping its two fsyncs per text file cut a first upload of 2,000 files by about a
    /// quarter; a pack instead of a document per text cut a file creation per received note.
    pub(super) async fn put_base(
        &mut self,
        hash: &ContentHash,
        text: &str,
    ) -> Result<(), EngineError> {
        if self.st.base_docs.contains(hash)
            || self.st.base_packs.contains_key(hash)
            || !self.bases.hashes.insert(hash.clone())
        {
            return Ok(());
        }
        self.bases.bytes += text.len();
        self.bases.texts.push((hash.clone(), text.to_string()));
        if self.bases.bytes >= PACK_BYTES {
            self.flush_bases().await?;
        }
        Ok(())
    }

    /// Writes the waiting merge bases as one pack.
    async fn flush_bases(&mut self) -> Result<(), EngineError> {
        if self.bases.texts.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.bases);
        let n = self.st.next_pack;
        let value = base_pack::encode(pending.texts.iter().map(|(h, t)| (h, t.as_str())));
        self.io
            .done(|id| Command::StorageWrite {
                id,
                key: pack_key(n),
                value,
                durable: false,
            })
            .await
            .map_err(|e| EngineError::SaveState(e.to_string()))?;
        self.st.next_pack = n + 1;
        for (hash, _) in pending.texts {
            self.st.base_packs.insert(hash, n);
        }
        Ok(())
    }

    /// The text of a synced version, if the base store has it intact. A base whose text does
    /// not hash to its name (torn by a crash) is forgotten, so the next `put_base` writes it
    /// again.
    pub(super) async fn get_base(&mut self, hash: &ContentHash) -> Option<String> {
        if let Some((_, text)) = self.bases.texts.iter().find(|(h, _)| h == hash) {
            return Some(text.clone());
        }
        if let Some(n) = self.st.base_packs.get(hash).copied() {
            let doc = self.io.storage_read(pack_key(n)).await.ok().flatten();
            let text = doc.and_then(|d| base_pack::find(&d, hash));
            if text.is_none() {
                self.st.base_packs.remove(hash);
            }
            return text;
        }
        if !self.st.base_docs.contains(hash) {
            return None;
        }
        let text = self.io.storage_read(base_key(hash)).await.ok().flatten();
        match text {
            Some(text) if ContentHash::of(text.as_bytes()) == *hash => Some(text),
            _ => {
                self.st.base_docs.remove(hash);
                None
            }
        }
    }

    /// Deletes base documents no synced entry refers to any more (best effort). A pass over
    /// the synced tree, so it runs once per load and then only after [`GC_SLACK`] new base
    /// documents or gone synced entries: until then a few orphans may stay behind.
    pub(super) async fn gc_bases(&mut self) {
        let now = (
            self.st.base_docs.len() + self.st.base_packs.len(),
            self.st.synced.len(),
        );
        if let Some((bases, synced)) = self.st.gc_at.0
            && now.0 < bases + GC_SLACK
            && now.1 + GC_SLACK > synced
        {
            return;
        }
        self.collect_bases().await;
        self.st.gc_at.0 = Some((
            self.st.base_docs.len() + self.st.base_packs.len(),
            self.st.synced.len(),
        ));
    }

    async fn collect_bases(&mut self) {
        let used: BTreeSet<ContentHash> = self
            .st
            .synced
            .values()
            .filter_map(SyncedEntry::text_hash)
            .cloned()
            .collect();
        let orphans: Vec<ContentHash> = self
            .st
            .base_docs
            .iter()
            .filter(|h| !used.contains(*h))
            .cloned()
            .collect();
        for h in &orphans {
            let key = base_key(h);
            if self
                .io
                .done(|id| Command::StorageDelete { id, key })
                .await
                .is_ok()
            {
                self.st.base_docs.remove(h);
            }
        }
        // Packs: bases no longer used are forgotten. A pack with no used base is deleted; one
        // where fewer than half are used is rewritten: its used bases join the next pack, and
        // it is deleted once the state that points to the new pack is saved.
        let mut count: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
        for (h, n) in self.st.base_packs.iter() {
            let c = count.entry(*n).or_default();
            c.1 += 1;
            if used.contains(h) {
                c.0 += 1;
            }
        }
        let unused: Vec<ContentHash> = (self.st.base_packs.keys())
            .filter(|h| !used.contains(*h))
            .cloned()
            .collect();
        for h in &unused {
            self.st.base_packs.remove(h);
        }
        let mut gone: Vec<u64> = Vec::new();
        for (n, (live, total)) in count {
            if live * 2 >= total {
                continue;
            }
            if live > 0 {
                self.repack(n).await;
            }
            gone.push(n);
        }
        let _ = self.save().await;
        for n in gone {
            let key = pack_key(n);
            let _ = self.io.done(|id| Command::StorageDelete { id, key }).await;
        }
    }

    /// Moves the bases of pack `n` still listed into the waiting bases (those that cannot be
    /// read are forgotten, as `get_base` would).
    async fn repack(&mut self, n: u64) {
        let doc = self.io.storage_read(pack_key(n)).await.ok().flatten();
        let listed: Vec<ContentHash> = (self.st.base_packs.iter())
            .filter(|(_, m)| **m == n)
            .map(|(h, _)| h.clone())
            .collect();
        for h in listed {
            self.st.base_packs.remove(&h);
            if let Some(text) = doc.as_deref().and_then(|d| base_pack::find(d, &h))
                && self.bases.hashes.insert(h.clone())
            {
                self.bases.bytes += text.len();
                self.bases.texts.push((h, text));
            }
        }
    }
}
