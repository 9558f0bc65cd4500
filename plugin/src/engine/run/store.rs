//! Saving the state (a journal record or a snapshot, `journal.rs`) and the base store (§5.4.1).

use super::super::command::Command;
use super::super::config::Config;
use super::super::error::EngineError;
use super::super::event::IoError;
use super::super::hash::ContentHash;
use super::super::io::Io;
use super::super::journal::{JOURNAL_KEY, Write};
use super::super::saved::{STATE_KEY, SavedState, SyncedEntry, base_key};
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

impl Run {
    /// Stores the state's changes since the last checkpoint and refreshes the status fields.
    pub(super) async fn save(&mut self) -> Result<(), EngineError> {
        checkpoint(&self.io, &mut self.st, &self.cfg, false).await?;
        let st = &self.st;
        self.io.status(|s| fill_status(s, st));
        Ok(())
    }

    /// Stores the text of a synced version, once. Written before the state that refers to it,
    /// but not durably: a base document lost or torn by a crash only turns a later merge into a
    /// conflict copy (`get_base` checks the hash). Skipping its two fsyncs per text file cut a
    /// first upload of 2,000 files by about a quarter.
    pub(super) async fn put_base(
        &mut self,
        hash: &ContentHash,
        text: &str,
    ) -> Result<(), EngineError> {
        if self.st.base_docs.contains(hash) {
            return Ok(());
        }
        let (key, value) = (base_key(hash), text.to_string());
        self.io
            .done(|id| Command::StorageWrite {
                id,
                key,
                value,
                durable: false,
            })
            .await
            .map_err(|e| EngineError::SaveState(e.to_string()))?;
        self.st.base_docs.insert(hash.clone());
        Ok(())
    }

    /// The text of a synced version, if the base store has it intact. A document that does not
    /// hash to its name (torn by a crash) is forgotten, so the next `put_base` writes it again.
    pub(super) async fn get_base(&mut self, hash: &ContentHash) -> Option<String> {
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
        let now = (self.st.base_docs.len(), self.st.synced.len());
        if let Some((bases, synced)) = self.st.gc_at.0
            && now.0 < bases + GC_SLACK
            && now.1 + GC_SLACK > synced
        {
            return;
        }
        self.collect_bases().await;
        self.st.gc_at.0 = Some((self.st.base_docs.len(), self.st.synced.len()));
    }

    async fn collect_bases(&mut self) {
        let used: std::collections::BTreeSet<&ContentHash> = self
            .st
            .synced
            .values()
            .filter_map(SyncedEntry::text_hash)
            .collect();
        let orphans: Vec<ContentHash> = self
            .st
            .base_docs
            .iter()
            .filter(|h| !used.contains(h))
            .cloned()
            .collect();
        if orphans.is_empty() {
            return;
        }
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
        let _ = self.save().await;
    }
}
