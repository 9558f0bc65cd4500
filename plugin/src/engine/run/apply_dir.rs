//! Applying folder ops and moves (§4.4, §4.14, §5.4.3 folder row), and the desktop's folder
//! trash (`workspace-folder trash`, applied as a folder delete).

use std::collections::BTreeSet;

use verstak_sync_proto::{EntityType, PulledOp};

use super::super::command::Command;
use super::super::event::IoError;
use super::super::incoming;
use super::super::path::VaultPath;
use super::super::payload::Incoming;
use super::super::saved::{LocalEntry, SyncedEntry};
use super::Run;
use super::materialize::{Fail, io_fail};

impl Run {
    pub(super) async fn apply_folder_create(&mut self, op: &PulledOp) -> Result<(), Fail> {
        let Some(path) = self.op_path(op, true) else {
            return Ok(());
        };
        if !self.make_way(&path, true, op.server_sequence).await? {
            return Ok(());
        }
        match self.st.local.get(&path) {
            Some(e) if !e.is_dir() => {
                self.warn(format!("skipped remote folder over a local file: {path}"));
                self.sum.skipped += 1;
                return Ok(());
            }
            Some(_) => {}
            None => {
                self.io
                    .done(|id| Command::Mkdir {
                        id,
                        path: path.clone(),
                    })
                    .await
                    .map_err(io_fail)?;
                for a in path.ancestors() {
                    self.st.local.insert_if_absent(a, LocalEntry::dir);
                }
                self.st.local.insert(path.clone(), LocalEntry::dir());
            }
        }
        if self.our_delete_covers(&path) {
            // Made here but not recorded as synced: it is published again.
            return Ok(());
        }
        for a in path.ancestors() {
            self.st.synced.insert_if_absent(a, SyncedEntry::dir);
        }
        self.st.synced.insert(path, SyncedEntry::dir());
        Ok(())
    }

    /// Clears the way for an incoming `path` (a folder when `dir`) at sequence `seq`. The sender
    /// emits creates before deletes (§4.13), so a file that becomes a folder, or a folder that
    /// becomes a file, arrives while the old one is still here: when this pull holds a later
    /// delete of the old one, apply that delete now (it still trashes only clean files).
    /// Returns false, with a warning and the op counted as skipped (§4.2), when a file that
    /// stays in place is an ancestor of `path`, so `path` cannot be created.
    pub(super) async fn make_way(
        &mut self,
        path: &VaultPath,
        dir: bool,
        seq: i64,
    ) -> Result<bool, Fail> {
        let doomed =
            |run: &Run, p: &VaultPath| run.upcoming_deletes.get(p).is_some_and(|s| *s > seq);
        for a in path.ancestors() {
            if self.st.local.get(&a).is_some_and(|e| !e.is_dir()) && doomed(self, &a) {
                self.delete_file_if_clean(&a).await?;
            }
        }
        match self.st.local.get(path) {
            Some(e) if e.is_dir() && !dir && doomed(self, path) => {
                self.delete_folder_if_clean(path).await?
            }
            Some(e) if !e.is_dir() && dir && doomed(self, path) => {
                self.delete_file_if_clean(path).await?
            }
            _ => {}
        }
        if path
            .ancestors()
            .iter()
            .any(|a| self.st.local.get(a).is_some_and(|e| !e.is_dir()))
        {
            self.warn(format!(
                "skipped remote path that cannot be created locally: {path}"
            ));
            self.sum.skipped += 1;
            return Ok(false);
        }
        Ok(true)
    }

    pub(super) async fn apply_folder_delete(&mut self, op: &PulledOp) -> Result<(), Fail> {
        let Some(path) = self.op_path(op, true) else {
            return Ok(());
        };
        self.delete_folder_if_clean(&path).await
    }

    /// The desktop's `workspace-folder trash` (it publishes no per-file ops): a folder delete
    /// under the same delete-versus-edit rules. A folder that is not here is fine.
    pub(super) async fn apply_folder_trash(&mut self, op: &PulledOp) -> Result<(), Fail> {
        let Some(path) = incoming::trashed_folder(op) else {
            self.sum.skipped += 1;
            return Ok(());
        };
        if self.rules.ignores(&path, true) {
            self.sum.skipped += 1;
            return Ok(());
        }
        self.delete_folder_if_clean(&path).await
    }

    /// Trash only the known, unchanged files under the folder; keep changed or unknown ones,
    /// and the folders that still hold something (they become pending creates). What the
    /// synced tree has under the folder and the disk does not (a local delete, or this very
    /// delete done on disk before a crash) is forgotten: the server no longer has it either,
    /// and a delete published for it later would land after whatever other devices put in
    /// the folder since, and trash that on every device but this one. A folder that is not
    /// here is fine.
    async fn delete_folder_if_clean(&mut self, path: &VaultPath) -> Result<(), Fail> {
        let path = path.clone();
        if self.st.unechoed.values().any(|u| u.path == path) {
            return Ok(());
        }
        let (mut files, mut dirs) = (BTreeSet::new(), BTreeSet::new());
        let local = self.st.local.iter().map(|(p, e)| (p, e.is_dir()));
        let synced = self.st.synced.iter().map(|(p, e)| (p, e.is_dir()));
        for (p, dir) in local.chain(synced).filter(|(p, _)| p.is_inside(&path)) {
            if dir {
                dirs.insert(p.clone());
            } else {
                files.insert(p.clone());
            }
        }
        for f in files {
            self.delete_file_if_clean(&f).await?;
        }
        let mut dirs: Vec<VaultPath> = dirs.into_iter().collect();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.depth()));
        dirs.push(path.clone());
        for d in dirs {
            if !self.st.local.get(&d).is_some_and(|e| e.is_dir()) {
                // Gone, or a file by now (a folder replaced by a file, see `make_way`).
                if self.st.synced.get(&d).is_some_and(SyncedEntry::is_dir) {
                    self.st.synced.remove(&d);
                }
                continue;
            }
            let busy = self.st.local.keys().any(|p| p.is_inside(&d));
            if busy {
                self.st.synced.remove(&d);
                continue;
            }
            match self
                .io
                .done(|id| Command::RemoveDir {
                    id,
                    path: d.clone(),
                })
                .await
            {
                Ok(()) | Err(IoError::NotFound) => {
                    self.st.local.remove(&d);
                    self.st.synced.remove(&d);
                }
                // Untracked content (ignored files) keeps the folder; it is not republished.
                Err(IoError::NotEmpty) => {
                    self.st.synced.insert(d.clone(), SyncedEntry::dir());
                }
                Err(e) => return Err(io_fail(e)),
            }
        }
        Ok(())
    }

    /// A move of a file or folder, applied when the source exists and the target does not.
    /// A folder moves with any local edit inside: the edits stay unpushed, now under the new
    /// path, so they are published there (the desktop renames a workspace with one op and
    /// would not find the old parent, issue 14 item 4). A file moves only when it is the synced
    /// version. Our own ops under the source that the server already has (accepted, or in the
    /// batch in flight) name the old path, so then the move is skipped with a warning.
    pub(super) async fn apply_move(&mut self, op: &PulledOp) -> Result<(), Fail> {
        let inc = Incoming::parse(&op.payload_json)
            .unwrap_or_else(|_| Incoming::parse("").expect("empty parses"));
        let (from, to) = match op.entity_type {
            EntityType::File | EntityType::Folder => (
                inc.from_path
                    .clone()
                    .unwrap_or_else(|| op.entity_id.clone()),
                inc.to_path.clone(),
            ),
            _ => (
                inc.previous_path.clone().unwrap_or_default(),
                inc.path.clone(),
            ),
        };
        let (Ok(from), Some(Ok(to))) =
            (VaultPath::parse(&from), to.as_deref().map(VaultPath::parse))
        else {
            self.sum.skipped += 1;
            return Ok(());
        };
        let is_dir = self.st.local.get(&from).is_some_and(|e| e.is_dir());
        if self.rules.ignores(&from, is_dir) || self.rules.ignores(&to, is_dir) {
            self.sum.skipped += 1;
            return Ok(());
        }
        if !self.st.local.contains_key(&from) {
            // A missing source is not an error (a local delete of it, or a move already done
            // before a crash).
            self.follow_remote_move(&from, &to);
            return Ok(());
        }
        let touched = |p: &VaultPath| p == &from || p.is_inside(&from);
        let clean = self
            .st
            .local
            .iter()
            .filter(|(p, _)| touched(p))
            .all(|(p, e)| {
                e.is_dir() || self.st.synced.get(p).is_some_and(|s| s.hash() == e.hash())
            });
        let in_flight = self.st.pending.iter().flat_map(|b| &b.entries);
        let ours_inside = self.st.unechoed.values().any(|u| touched(&u.path))
            || in_flight.map(|e| &e.op.path).any(touched);
        let source_ok = if is_dir {
            !ours_inside
        } else {
            clean && !ours_inside
        };
        if !source_ok || self.st.local.contains_key(&to) {
            self.warn(format!("skipped remote move {from} -> {to}"));
            self.sum.skipped += 1;
            // Only our own ops under the source leave the model as it is: the server holds
            // them at the old path, after the move. Otherwise (the target exists here, such
            // as a move done on disk before a crash with a new file at the old path since,
            // or an edited file) what stays at the source is local content the server does
            // not have there; it is published from there, and nothing goes out under the
            // old path for what the server moved.
            if !ours_inside {
                self.follow_remote_move(&from, &to);
            }
            return Ok(());
        }
        self.move_conflicts(&from, &to).await?;
        self.io
            .done(|id| Command::Rename {
                id,
                from: from.clone(),
                to: to.clone(),
            })
            .await
            .map_err(io_fail)?;
        for tree in [&mut self.st.local as &mut dyn MoveTree, &mut self.st.synced] {
            tree.move_subtree(&from, &to);
        }
        for a in to.ancestors() {
            self.st.local.insert_if_absent(a.clone(), LocalEntry::dir);
            self.st.synced.insert_if_absent(a, SyncedEntry::dir);
        }
        Ok(())
    }
}

impl Run {
    /// The server's tree moved `from` to `to` whatever this device did on disk, so our model
    /// of it (the synced tree) moves too: otherwise a local change under the source would be
    /// published under the old path, which no device has now. A synced `to` is left as it is.
    fn follow_remote_move(&mut self, from: &VaultPath, to: &VaultPath) {
        if !self.st.synced.contains_key(to) {
            self.st.synced.move_subtree(from, to);
        }
    }
}

trait MoveTree {
    fn move_subtree(&mut self, from: &VaultPath, to: &VaultPath);
}

impl<V: PartialEq> MoveTree for crate::engine::tracked::TrackedMap<VaultPath, V> {
    fn move_subtree(&mut self, from: &VaultPath, to: &VaultPath) {
        let keys: Vec<VaultPath> = self
            .keys()
            .filter(|p| *p == from || p.is_inside(from))
            .cloned()
            .collect();
        for k in keys {
            if let Some(v) = self.remove(&k) {
                self.insert(k.rebase(from, to), v);
            }
        }
    }
}
