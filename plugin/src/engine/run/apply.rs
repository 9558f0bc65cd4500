//! Applying one pulled op (§5.4.2–§5.4.4, §4.11, §4.14). What to do is decided by the pure
//! functions of `incoming.rs` (route, upsert, file delete); this file carries the decisions
//! out. Every overwrite or trash of a local file is guarded: it happens only when the file
//! still hashes to the synced version (checked again by the glue through `Expect`), otherwise
//! the local version is merged or kept as a conflict copy. `Changed` from the glue means the
//! file moved under us: rehash, decide again.

use verstak_sync_proto::limits::MAX_TEXT_BYTES;
use verstak_sync_proto::{EntityType, OpType, PulledOp};

use super::super::command::{Command, Expect};
use super::super::conflict::{conflict_copy_path, remote_device_label, stamp};
use super::super::error::EngineError;
use super::super::event::IoError;
use super::super::hash::ContentHash;
use super::super::incoming::{self, FileDelete, Known, Route, Upsert};
use super::super::path::VaultPath;
use super::super::payload::{Incoming, Source, is_text};
use super::super::replaced_list::replaces_synced;
use super::super::saved::{LocalEntry, OpKind, SyncedEntry};
use super::super::summary::KeptBoth;
use super::Run;
use super::materialize::{Fail, io_fail};
use verstak_sync_merge::merge3;

const ATTEMPTS: usize = 3;

impl Run {
    pub(super) async fn apply_pulled(&mut self, op: &PulledOp) -> Result<(), EngineError> {
        if op.device_id == self.cfg.device_id {
            return self.on_echo(op).await;
        }
        let wrap = |inner: String| EngineError::PullApply {
            seq: op.server_sequence,
            entity_type: op.entity_type.to_string(),
            path: op.entity_id.clone(),
            op_id: op.op_id.clone(),
            inner,
        };
        if let Some(reason) = Self::unsafe_op(op) {
            self.set_aside(op, reason.to_string());
            return Ok(());
        }
        let skipped = self.sum.skipped;
        for _ in 0..ATTEMPTS {
            let step = match incoming::route(&op.entity_type, &op.op_type) {
                Route::FileUpsert => self.apply_upsert(op).await,
                Route::FileDelete => self.apply_file_delete(op).await,
                Route::FolderCreate => self.apply_folder_create(op).await,
                Route::FolderDelete => self.apply_folder_delete(op).await,
                Route::FolderTrash => self.apply_folder_trash(op).await,
                Route::Move => self.apply_move(op).await,
                Route::Skip => {
                    self.sum.skipped += 1;
                    Ok(())
                }
            };
            match step {
                Ok(()) => {
                    self.supersede_set_aside(op);
                    // Received: another device's change this run applied (not skipped).
                    if self.sum.skipped == skipped {
                        self.sum.pulled += 1;
                    }
                    return Ok(());
                }
                Err(Fail::Changed) => self
                    .rescan_entity(op)
                    .await
                    .map_err(|e| wrap(e.to_string()))?,
                Err(Fail::Err(e)) if self.can_set_aside(&e) => {
                    self.set_aside(op, e.to_string());
                    return Ok(());
                }
                Err(Fail::Err(e)) => return Err(wrap(e.to_string())),
            }
        }
        Err(wrap("file keeps changing".into()))
    }

    /// The path of a file or folder op, or `None` (counted as skipped, with a warning).
    pub(super) fn op_path(&mut self, op: &PulledOp, is_dir: bool) -> Option<VaultPath> {
        match VaultPath::parse(&op.entity_id) {
            Ok(p) if !self.rules.ignores(&p, is_dir) => Some(p),
            Ok(_) => {
                self.sum.skipped += 1;
                None
            }
            Err(_) => {
                self.warn(format!(
                    "skipped remote path that cannot be created locally: {}",
                    op.entity_id
                ));
                self.sum.skipped += 1;
                None
            }
        }
    }

    /// Re-reads the local file an op touches after the glue answered `Changed`.
    async fn rescan_entity(&mut self, op: &PulledOp) -> Result<(), EngineError> {
        let Ok(path) = VaultPath::parse(&op.entity_id) else {
            return Ok(());
        };
        match self.io.hash_file(&path).await {
            Ok(d) => {
                let entry = LocalEntry::File {
                    size: d.size,
                    mtime: -1,
                    hash: d.hash,
                };
                self.st.local.insert(path, entry);
            }
            Err(_) => {
                self.st.local.remove(&path);
            }
        }
        Ok(())
    }

    /// What the state says about `path`, for the decisions of `incoming.rs`.
    fn known(&self, path: &VaultPath) -> Known<'_> {
        Known {
            local: self.st.local.get(path),
            synced: self.st.synced.get(path),
            ours: self
                .st
                .unechoed
                .values()
                .find(|u| &u.path == path)
                .map(|u| (u.kind, u.hash.as_ref()))
                .or_else(|| {
                    self.our_delete_covers(path)
                        .then_some((OpKind::Delete, None))
                }),
            later_local: false,
        }
    }

    /// Whether our own delete of `path` or of a folder above it was accepted and not echoed
    /// yet. It comes later in server order than any op pulled now, so it deletes what such
    /// an op creates on every other device; here that create wins (§5.4.3: restored, and
    /// published again).
    pub(super) fn our_delete_covers(&self, path: &VaultPath) -> bool {
        self.st
            .unechoed
            .values()
            .any(|u| u.kind == OpKind::Delete && (&u.path == path || path.is_inside(&u.path)))
    }

    /// Whether an op after sequence `seq` among the fetched ones carries the local version of
    /// `path` (see `Known::later_local`).
    fn later_brings_local(&self, path: &VaultPath, seq: i64) -> bool {
        let Some(local) = self.st.local.get(path).and_then(LocalEntry::hash) else {
            return false;
        };
        self.upcoming_versions
            .get(path)
            .is_some_and(|v| v.iter().any(|(s, h)| *s > seq && h == local))
    }

    /// Remembers the file versions among `ops` (pulled, not yet applied), for
    /// [`Run::later_brings_local`].
    pub(super) fn note_upcoming_versions(&mut self, ops: &[PulledOp]) {
        for op in ops {
            if op.entity_type != EntityType::File
                || !matches!(op.op_type, OpType::Create | OpType::Update)
            {
                continue;
            }
            let hash = Incoming::parse(&op.payload_json).ok().and_then(|i| i.hash);
            if let (Ok(path), Some(hash)) = (VaultPath::parse(&op.entity_id), hash) {
                let versions = self.upcoming_versions.entry(path).or_default();
                versions.push((op.server_sequence, hash));
            }
        }
    }

    async fn apply_upsert(&mut self, op: &PulledOp) -> Result<(), Fail> {
        let Some(path) = self.op_path(op, false) else {
            return Ok(());
        };
        let parsed = Incoming::parse(&op.payload_json)
            .ok()
            .filter(|inc| inc.source != Source::Missing);
        let Some((inc, hash)) = parsed.and_then(|inc| inc.hash.clone().map(|h| (inc, h))) else {
            self.warn(format!("skipped remote file op without content: {path}"));
            self.sum.skipped += 1;
            return Ok(());
        };
        if !self.make_way(&path, false, op.server_sequence).await? {
            return Ok(());
        }
        let mut known = self.known(&path);
        known.later_local = self.later_brings_local(&path, op.server_sequence);
        let decision = incoming::upsert(&known, &hash);
        if let Some(local) = replaces_synced(&decision) {
            self.note_replaced(&path, &local.clone(), op).await?;
        }
        match decision {
            Upsert::Nothing => Ok(()),
            Upsert::MarkSynced => {
                self.mark_synced(&path, &hash, &inc).await?;
                self.drop_identical_copy(&path, &hash).await
            }
            Upsert::Create => {
                self.materialize(&path, &inc, &hash, Expect::Absent).await?;
                self.mark_synced(&path, &hash, &inc).await?;
                self.drop_identical_copy(&path, &hash).await
            }
            Upsert::Overwrite(lh) => {
                self.materialize(&path, &inc, &hash, Expect::Hash(lh))
                    .await?;
                self.mark_synced(&path, &hash, &inc).await?;
                self.drop_identical_copy(&path, &hash).await
            }
            Upsert::MergeOrKeepBoth(lh) => {
                self.merge_or_keep_both(&path, op, &inc, &hash, lh).await
            }
            Upsert::IncomingToCopy => self.incoming_to_copy(&path, op, &inc, &hash).await,
            Upsert::Restore => self.materialize(&path, &inc, &hash, Expect::Absent).await,
        }
    }

    /// §5.4.2 steps 2 and 3: a clean three-way text merge, else keep both versions. `lh` is
    /// the local file's hash.
    async fn merge_or_keep_both(
        &mut self,
        path: &VaultPath,
        op: &PulledOp,
        inc: &Incoming,
        hash: &ContentHash,
        lh: ContentHash,
    ) -> Result<(), Fail> {
        let local_size = match self.st.local.get(path) {
            Some(LocalEntry::File { size, .. }) => *size,
            _ => u64::MAX,
        };
        let base_hash = self
            .st
            .synced
            .get(path)
            .and_then(SyncedEntry::text_hash)
            .cloned();
        if let (Source::Inline(remote), Some(bh)) = (&inc.source, base_hash)
            && local_size <= MAX_TEXT_BYTES
            && is_text(remote)
            && let Some(base) = self.get_base(&bh).await
        {
            let local = self
                .io
                .read_all(path, self.cfg.chunk_size)
                .await
                .map_err(io_fail)?;
            if ContentHash::of(&local) != lh {
                return Err(Fail::Changed);
            }
            let remote_text = std::str::from_utf8(remote).expect("is_text checked UTF-8");
            if is_text(&local)
                && let Some(merged) = merge3(
                    &base,
                    std::str::from_utf8(&local).expect("is_text"),
                    remote_text,
                )
            {
                let mh = ContentHash::of(merged.as_bytes());
                let meta = self
                    .io
                    .write_file(path, merged.into_bytes(), Expect::Hash(lh))
                    .await
                    .map_err(io_fail)?;
                self.record_local_file(path, &mh, meta);
                self.mark_synced(path, hash, inc).await?;
                self.sum.merged.push(path.to_string());
                return Ok(());
            }
        }
        // Keep both: the local version goes to a conflict copy, the incoming one takes the path.
        // A copy made earlier (before a crash) was recorded in the conflict list then.
        let name = self.cfg.device_name.clone();
        let copy = match self.kept_copy(path, &lh).await? {
            Some(c) => c,
            None => {
                let copy = self.free_copy_path(path, &name);
                self.note_conflict(path, &copy, true, &op.device_id).await?;
                let meta = self.io.copy_file(path, &copy, &lh).await.map_err(io_fail)?;
                self.record_local_file(&copy, &lh, meta);
                copy
            }
        };
        self.materialize(path, inc, hash, Expect::Hash(lh)).await?;
        self.mark_synced(path, hash, inc).await?;
        self.sum.kept_both.push(KeptBoth {
            path: path.to_string(),
            copy_path: copy.to_string(),
        });
        Ok(())
    }

    /// §5.4.4 and type clashes: the incoming version goes to a conflict copy named after its device.
    async fn incoming_to_copy(
        &mut self,
        path: &VaultPath,
        op: &PulledOp,
        inc: &Incoming,
        hash: &ContentHash,
    ) -> Result<(), Fail> {
        if let Some(c) = self.kept_copy(path, hash).await? {
            self.sum.kept_both.push(KeptBoth {
                path: path.to_string(),
                copy_path: c.to_string(),
            });
            return Ok(());
        }
        let copy = self.free_copy_path(path, &remote_device_label(&op.device_id));
        self.note_conflict(path, &copy, false, &op.device_id)
            .await?;
        self.materialize(&copy, inc, hash, Expect::Absent).await?;
        self.sum.kept_both.push(KeptBoth {
            path: path.to_string(),
            copy_path: copy.to_string(),
        });
        Ok(())
    }

    /// `path` now holds the synced version `hash`: a conflict copy of it with the same bytes
    /// that was never published (made earlier in a re-read history whose later version was
    /// not fetched yet, or before a crash) is redundant. It goes to the trash, and out of this
    /// run's `keptBoth`: identical content never makes a conflict copy (issue 14 item 1).
    async fn drop_identical_copy(
        &mut self,
        path: &VaultPath,
        hash: &ContentHash,
    ) -> Result<(), Fail> {
        let Some(copy) = self.existing_copy(path, hash) else {
            return Ok(());
        };
        let in_flight = self.st.pending.iter().flat_map(|b| &b.entries);
        let published = self.st.synced.contains_key(&copy)
            || self.st.unechoed.values().any(|u| u.path == copy)
            || in_flight.map(|e| &e.op.path).any(|p| p == &copy);
        if published {
            return Ok(());
        }
        let expect = Expect::Hash(hash.clone());
        self.io
            .done(|id| Command::Trash {
                id,
                path: copy.clone(),
                expect,
            })
            .await
            .map_err(io_fail)?;
        self.st.local.remove(&copy);
        self.sum
            .kept_both
            .retain(|k| k.copy_path != copy.as_str() || k.path != path.as_str());
        Ok(())
    }

    fn free_copy_path(&self, path: &VaultPath, device: &str) -> VaultPath {
        let st = stamp(self.io.now(), self.cfg.utc_offset_min);
        conflict_copy_path(path, device, &st, |c| {
            self.st.local.contains_key(c) || self.st.synced.contains_key(c)
        })
    }

    /// [`Run::existing_copy`] that is still on disk with that content. The snapshot is as old
    /// as the scan, and the user may have moved or changed the copy since (put it back in
    /// place of the file, say): each candidate is hashed again, and one that is gone or
    /// different is recorded as it is now and passed over, so the caller makes a fresh copy
    /// rather than overwrite the only one.
    async fn kept_copy(
        &mut self,
        path: &VaultPath,
        hash: &ContentHash,
    ) -> Result<Option<VaultPath>, Fail> {
        while let Some(copy) = self.existing_copy(path, hash) {
            match self.io.hash_file(&copy).await {
                Ok(d) if &d.hash == hash => return Ok(Some(copy)),
                Ok(d) => {
                    let entry = LocalEntry::File {
                        size: d.size,
                        mtime: d.mtime,
                        hash: d.hash,
                    };
                    self.st.local.insert(copy, entry);
                }
                Err(IoError::NotFound) => {
                    self.st.local.remove(&copy);
                }
                Err(e) => return Err(io_fail(e)),
            }
        }
        Ok(None)
    }

    /// A conflict copy of `path` with this content made earlier (for example before a crash),
    /// as the snapshot has it.
    fn existing_copy(&self, path: &VaultPath, hash: &ContentHash) -> Option<VaultPath> {
        let name = path.name();
        let stem = match name.rfind('.') {
            Some(i) if i > 0 => &name[..i],
            _ => name,
        };
        let prefix = format!("{stem} (conflict ");
        path.siblings_starting_with(&self.st.local, &prefix)
            .find(|(_, e)| e.hash() == Some(hash))
            .map(|(p, _)| p.clone())
    }

    async fn apply_file_delete(&mut self, op: &PulledOp) -> Result<(), Fail> {
        let Some(path) = self.op_path(op, false) else {
            return Ok(());
        };
        self.delete_file_if_clean(&path).await
    }

    /// §5.4.3: trash the file only when it is exactly the synced version; otherwise keep it
    /// (it becomes a pending create). Our later op for the path wins over the delete.
    pub(super) async fn delete_file_if_clean(&mut self, path: &VaultPath) -> Result<(), Fail> {
        match incoming::file_delete(&self.known(path), self.keep_incoming_deletes) {
            FileDelete::Nothing => {}
            FileDelete::Trash(lh) => {
                let expect = Expect::Hash(lh);
                self.io
                    .done(|id| Command::Trash {
                        id,
                        path: path.clone(),
                        expect,
                    })
                    .await
                    .map_err(io_fail)?;
                self.st.local.remove(path);
                self.st.synced.remove(path);
            }
            FileDelete::ForgetSynced => {
                self.st.synced.remove(path);
            }
        }
        Ok(())
    }

    async fn on_echo(&mut self, op: &PulledOp) -> Result<(), EngineError> {
        if self.st.unechoed.remove(&op.op_id).is_some() {
            return Ok(());
        }
        // A batch whose response was lost: the echo acknowledges the op (§4.9).
        let found = self.st.pending.as_mut().and_then(|b| {
            let i = b.entries.iter().position(|e| e.op.op_id == op.op_id)?;
            Some(b.entries.remove(i))
        });
        if let Some(entry) = found {
            let id = entry.op.op_id.clone();
            self.accept_entry(entry, false).await?;
            self.st.oplog.remove_ids(&[id.as_str()].into());
            if self
                .st
                .pending
                .as_ref()
                .is_some_and(|b| b.entries.is_empty())
            {
                self.st.pending = None;
            }
            return Ok(());
        }
        self.adopt_own_version(op).await
    }

    /// An own op this state never knew (the state was lost or restored from a backup): when
    /// the local file is exactly the version it published, the server had that version, so
    /// record it as synced; a newer version from elsewhere then replaces it without a copy
    /// (issue 14 item 1). Anything else stays as it is, as for every own echo (§4.11).
    async fn adopt_own_version(&mut self, op: &PulledOp) -> Result<(), EngineError> {
        if incoming::route(&op.entity_type, &op.op_type) != Route::FileUpsert {
            return Ok(());
        }
        let (Ok(path), Ok(inc)) = (
            VaultPath::parse(&op.entity_id),
            Incoming::parse(&op.payload_json),
        ) else {
            return Ok(());
        };
        let Some(hash) = inc.hash.clone() else {
            return Ok(());
        };
        let local = self.st.local.get(&path).and_then(LocalEntry::hash);
        let synced = self.st.synced.get(&path).and_then(SyncedEntry::hash);
        if local == Some(&hash) && synced != Some(&hash) && inc.source != Source::Missing {
            self.mark_synced(&path, &hash, &inc).await?;
        }
        Ok(())
    }
}
