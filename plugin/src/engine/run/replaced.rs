//! Noting a replaced local version in the replaced-files document ([`REPLACED_KEY`], see
//! `engine/replaced_list.rs`) right before a pulled edit overwrites it. The list is read on the
//! first replacement of a run only, so runs that replace nothing never touch it.

use super::super::command::Command;
use super::super::error::EngineError;
use super::super::hash::ContentHash;
use super::super::path::VaultPath;
use super::super::replaced_list::{REPLACED_KEY, Replaced, ReplacedList};
use super::Run;
use verstak_sync_proto::PulledOp;

impl Run {
    /// Records durably that the synced local version `local` of `path` is about to be replaced
    /// by `op` (whose server sequence is the version that replaces it).
    pub(super) async fn note_replaced(
        &mut self,
        path: &VaultPath,
        local: &ContentHash,
        op: &PulledOp,
    ) -> Result<(), EngineError> {
        let size = self.st.synced.get(path).map_or(0, |e| match e {
            super::super::saved::SyncedEntry::File { size, .. } => *size,
            super::super::saved::SyncedEntry::Dir => 0,
        });
        let entry = Replaced {
            path: path.to_string(),
            sha256: local.as_str().to_string(),
            size,
            version: op.server_sequence,
            by_device: op.device_id.clone(),
            at_ms: i64::try_from(self.io.now().0).unwrap_or(i64::MAX),
        };
        let list = match &mut self.replaced {
            Some(l) => l,
            None => {
                let json = self
                    .io
                    .storage_read(REPLACED_KEY.to_string())
                    .await
                    .map_err(|e| EngineError::SaveState(e.to_string()))?;
                self.replaced.insert(ReplacedList::parse(json.as_deref()))
            }
        };
        if !list.record(entry) {
            return Ok(());
        }
        let value = list.to_json();
        self.io
            .done(|id| Command::StorageWrite {
                id,
                key: REPLACED_KEY.to_string(),
                value,
                durable: true,
            })
            .await
            .map_err(|e| EngineError::SaveState(e.to_string()))
    }
}
