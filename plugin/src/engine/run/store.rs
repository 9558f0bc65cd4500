//! Saving the state document and the base store (§5.4.1).

use super::super::command::Command;
use super::super::error::EngineError;
use super::super::hash::ContentHash;
use super::super::saved::{STATE_KEY, base_key};
use super::{Run, fill_status};

impl Run {
    /// Writes the whole state atomically and refreshes the status fields.
    pub(super) async fn save(&mut self) -> Result<(), EngineError> {
        let value = self.st.to_json();
        self.io
            .done(|id| Command::StorageWrite {
                id,
                key: STATE_KEY.to_string(),
                value,
            })
            .await
            .map_err(|e| EngineError::SaveState(e.to_string()))?;
        let st = &self.st;
        self.io.status(|s| fill_status(s, st));
        Ok(())
    }

    /// Stores the text of a synced version, once. Written before the state that refers to it.
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
            .done(|id| Command::StorageWrite { id, key, value })
            .await
            .map_err(|e| EngineError::SaveState(e.to_string()))?;
        self.st.base_docs.insert(hash.clone());
        Ok(())
    }

    /// The text of a synced version, if the base store has it.
    pub(super) async fn get_base(&mut self, hash: &ContentHash) -> Option<String> {
        if !self.st.base_docs.contains(hash) {
            return None;
        }
        self.io.storage_read(base_key(hash)).await.ok().flatten()
    }

    /// Deletes base documents no synced entry refers to any more (best effort).
    pub(super) async fn gc_bases(&mut self) {
        let used: std::collections::BTreeSet<&ContentHash> = self
            .st
            .synced
            .values()
            .filter(|e| e.text)
            .filter_map(|e| e.hash.as_ref())
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
