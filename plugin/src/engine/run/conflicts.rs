//! Keeping the conflict list document ([`CONFLICTS_KEY`], see `engine/conflict_list.rs`) during
//! a run and for `dismiss-conflicts`.
//!
//! A sync run loads the list first ([`load`]); `apply.rs` records a conflict
//! ([`Run::note_conflict`]) durably *before* it makes the copy, so a crash between the two
//! leaves at worst an entry whose copy does not exist, which the next successful run drops
//! ([`Run::prune_conflicts`], against the snapshot: copies the user deleted go too).

use super::super::command::Command;
use super::super::conflict::rfc3339;
use super::super::conflict_list::{CONFLICTS_KEY, Conflict, ConflictList};
use super::super::error::EngineError;
use super::super::io::Io;
use super::super::path::VaultPath;
use super::Run;

/// The stored list (empty when absent or unreadable).
pub(super) async fn load(io: &Io) -> Result<ConflictList, EngineError> {
    let json = io
        .storage_read(CONFLICTS_KEY.to_string())
        .await
        .map_err(|e| EngineError::SaveState(e.to_string()))?;
    Ok(ConflictList::parse(json.as_deref()))
}

async fn store(io: &Io, list: &ConflictList) -> Result<(), EngineError> {
    let value = list.to_json();
    io.done(|id| Command::StorageWrite {
        id,
        key: CONFLICTS_KEY.to_string(),
        value,
        durable: true,
    })
    .await
    .map_err(|e| EngineError::SaveState(e.to_string()))
}

/// `dismiss-conflicts(ids)`: removes these conflicts from the list; the files stay.
pub(super) async fn dismiss(io: &Io, ids: &[String]) -> Result<(), EngineError> {
    let mut list = load(io).await?;
    if list.dismiss(ids) {
        store(io, &list).await?;
    }
    Ok(())
}

impl Run {
    /// Records that the version of `path` is about to be kept at `copy` (the local one when
    /// `local_is_copy`), met by a change from `remote_device`.
    pub(super) async fn note_conflict(
        &mut self,
        path: &VaultPath,
        copy: &VaultPath,
        local_is_copy: bool,
        remote_device: &str,
    ) -> Result<(), EngineError> {
        let at = rfc3339(self.io.now());
        let c = Conflict::new(
            path.as_str(),
            copy.as_str(),
            local_is_copy,
            remote_device,
            &at,
        );
        if self.conflicts.record(c) {
            store(&self.io, &self.conflicts).await?;
        }
        Ok(())
    }

    /// A folder moves from `from` to `to` (another device's move): the conflicts under it move
    /// along. Written before the move, so a crash between the two cannot lose them.
    pub(super) async fn move_conflicts(
        &mut self,
        from: &VaultPath,
        to: &VaultPath,
    ) -> Result<(), EngineError> {
        let moved = |p: &str| {
            let p = VaultPath::parse(p).ok()?;
            (p == *from || p.is_inside(from)).then(|| p.rebase(from, to).to_string())
        };
        if self.conflicts.rename(moved) {
            store(&self.io, &self.conflicts).await?;
        }
        Ok(())
    }

    /// Drops the conflicts whose copy is no longer in the vault (deleted or renamed by the
    /// user, trashed as identical, deleted by another device). A copy that is ignored now is
    /// not in the snapshot but still exists, so it stays.
    pub(super) async fn prune_conflicts(&mut self) -> Result<(), EngineError> {
        let (local, rules) = (&self.st.local, &self.rules);
        let changed = self.conflicts.prune(|copy| match VaultPath::parse(copy) {
            Ok(p) => local.get(&p).is_some_and(|e| !e.is_dir()) || rules.ignores(&p, false),
            Err(_) => false,
        });
        if changed {
            store(&self.io, &self.conflicts).await?;
        }
        Ok(())
    }
}
