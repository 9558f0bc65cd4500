//! `verstak:sync/files`: the vault's files, confined by [`crate::confine`].
//!
//! Each function: (1) `grants.check` for the permission files.wit names, (2) parse every path
//! into a [`VaultPath`] and refuse symlinks along it (`outside-vault`), (3) the IO, relative to
//! the vault root `Dir` (held for the export call, [`super::call_dirs`]). Writes go through
//! [`super::atomic`] (temp file, fsync, last-moment `expect` check, rename, fsync folder);
//! staging files through [`super::staging`]. During an export call a new file (`write` or
//! `commit-stage` with `absent`) is queued and placed in a batch ([`super::write_behind`]);
//! every other call settles that queue first, so it sees the vault in program order, except
//! the staging calls, which settle it only when their key is queued.

use super::atomic::{
    check_expect, ensure_parent, file_meta, hash_copy, mtime_ms, place, random_hex, sync_dir,
};
use super::err;
use super::staging::{self, Stage};
use super::write_behind::{Queued, Source};
use crate::bindings::verstak::sync::files::{
    DirEntry, EntryKind, Expect, FileDigest, FileMeta, Host, Staged,
};
use crate::bindings::{ErrorCode, HostError};
use crate::confine::{self, Found, RESERVED, VaultFs, VaultPath, io_error, outside, reserved};
use crate::grants::Permission;
use crate::state::HostState;
use cap_std::fs::{Dir, File, OpenOptions, OpenOptionsExt, Permissions, PermissionsExt};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

/// The most one `read` may return (files.wit).
pub const MAX_READ_BYTES: u32 = 16 << 20;
/// The most one `write` may carry: the largest file that is synced (§4.7).
pub const MAX_WRITE_BYTES: usize = 256 << 20;

/// Parses `path` and refuses symlinks along it.
fn resolve(fs: &VaultFs, path: &str) -> Result<VaultPath, HostError> {
    Ok(resolve_probe(fs, path)?.0)
}

/// [`resolve`], and whether the path is free: nothing there, and nothing in the way of making
/// it (learnt on the way).
fn resolve_probe(fs: &VaultFs, path: &str) -> Result<(VaultPath, bool), HostError> {
    let p = confine::parse(path)?;
    let found = fs.refuse_symlinks(&p)?;
    Ok((p, found == Found::Missing))
}

/// `not-found` for a staging file when there is no staging folder at all.
fn no_stage(stage: &Stage) -> HostError {
    err(
        ErrorCode::NotFound,
        format!("open staging file: {:?} was never written", stage.key),
    )
}

/// Opens a regular file for reading (`not-found` when missing, `io` for a folder or a special
/// file). The open never blocks: `O_NONBLOCK` keeps a FIFO in the vault from stalling the host
/// forever, which the epoch deadline cannot interrupt; on a regular file the flag does nothing.
fn open_file(root: &Dir, path: &VaultPath) -> Result<File, HostError> {
    let mut opts = OpenOptions::new();
    opts.read(true).custom_flags(libc::O_NONBLOCK);
    let f = root
        .open_with(path.as_path(), &opts)
        .map_err(|e| io_error(path.as_str(), e))?;
    let m = f.metadata().map_err(|e| io_error(path.as_str(), e))?;
    if !m.is_file() {
        return Err(err(ErrorCode::Io, format!("{path} is not a regular file")));
    }
    Ok(f)
}

fn exists(root: &Dir, path: &VaultPath) -> Result<bool, HostError> {
    match root.symlink_metadata(path.as_path()) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(path.as_str(), e)),
    }
}

fn already_exists(path: &VaultPath) -> HostError {
    err(ErrorCode::AlreadyExists, format!("{path} already exists"))
}

fn changed(path: &VaultPath) -> HostError {
    err(
        ErrorCode::Changed,
        format!("{path} changed meanwhile; nothing was touched"),
    )
}

impl HostState {
    /// [`place`], then makes the new folder entry durable. Replacing content is fsynced at once,
    /// after every deferred folder, so a copy made earlier is durable before the content it
    /// keeps is overwritten. A new file replaces nothing, so its folder only joins
    /// `unsynced_dirs`, fsynced once before the next storage `set`: a first sync pays
    /// one folder fsync per folder, not one per file, and a power cut before the state that
    /// records the file is written loses only a copy the engine makes again.
    fn place_durably(
        &mut self,
        root: &Dir,
        (src_dir, src): (&Dir, &Path),
        dest: &VaultPath,
        expect: &Expect,
    ) -> Result<bool, HostError> {
        let creates = matches!(expect, Expect::Absent);
        if !creates {
            self.sync_deferred_dirs_in(root)?;
        }
        if !place(root, src_dir, src, dest, expect)? {
            return Ok(false);
        }
        if creates {
            self.unsynced_dirs.insert(dest.parent().to_path_buf());
        } else {
            sync_dir(root, dest.parent()).map_err(|e| io_error("sync folder", e))?;
        }
        Ok(true)
    }

    /// A new file during an export call: written to a temp file and queued, placed with the
    /// rest of its batch (`imports::write_behind`). The meta is the temp file's, which the link
    /// into place keeps.
    fn write_behind_new(
        &mut self,
        root: &Dir,
        path: VaultPath,
        bytes: &[u8],
    ) -> Result<FileMeta, HostError> {
        let (temp, mut file) = self.new_temp(root)?;
        file.write_all(bytes)
            .map_err(|e| io_error("write temp file", e))?;
        let meta = file.metadata().map_err(|e| io_error("stat temp file", e))?;
        self.queue(Source::Temp(temp), file, path, &meta)
    }

    /// Queues a complete file for its batch; settles the batch when it is full.
    fn queue(
        &mut self,
        src: Source,
        file: File,
        dest: VaultPath,
        meta: &cap_std::fs::Metadata,
    ) -> Result<FileMeta, HostError> {
        self.write_behind.bytes += meta.len();
        self.write_behind.queued.push(Queued { src, file, dest });
        if self.write_behind.full() {
            self.settle_writes()?;
        }
        Ok(file_meta(meta))
    }

    fn sync_deferred_dirs_in(&mut self, root: &Dir) -> Result<(), HostError> {
        while let Some(dir) = self.unsynced_dirs.first().cloned() {
            match sync_dir(root, &dir) {
                Ok(()) => {}
                // Removed meanwhile: nothing in it to keep.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("sync folder", e)),
            }
            self.unsynced_dirs.remove(&dir);
        }
        Ok(())
    }

    /// Fsyncs the folders of files created since the last call. Runs before every storage
    /// `set`, so the engine's state never records a file whose folder entry a power cut could
    /// still take away.
    pub(crate) fn sync_deferred_dirs(&mut self) -> Result<(), HostError> {
        if self.unsynced_dirs.is_empty() {
            return Ok(());
        }
        let fs = self.vault_fs()?;
        self.sync_deferred_dirs_in(fs.root())
    }
}

impl Host for HostState {
    fn list_dir(&mut self, dir: String) -> Result<Vec<DirEntry>, HostError> {
        self.grants.check(Permission::FilesRead)?;
        self.settle_writes()?;
        let dir = VaultPath::parse_dir(&dir).map_err(|e| outside(&dir, e))?;
        let fs = self.vault_fs()?;
        if let Some(d) = &dir {
            fs.refuse_symlinks(d)?;
        }
        let rel = dir.as_ref().map_or(Path::new("."), VaultPath::as_path);
        let what = dir.as_ref().map_or("the vault root", VaultPath::as_str);
        let mut out = vec![];
        for entry in fs.root().read_dir(rel).map_err(|e| io_error(what, e))? {
            let entry = entry.map_err(|e| io_error(what, e))?;
            let Ok(name) = entry.file_name().into_string() else {
                tracing::warn!("skipping a name that is not UTF-8 in {what}");
                continue;
            };
            if name.eq_ignore_ascii_case(RESERVED) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue }; // removed meanwhile
            let ft = meta.file_type();
            let kind = if ft.is_symlink() {
                EntryKind::Other
            } else if ft.is_dir() {
                EntryKind::Dir
            } else if ft.is_file() {
                EntryKind::File
            } else {
                EntryKind::Other
            };
            out.push(DirEntry {
                name,
                kind,
                size: meta.len(),
                mtime_ms: mtime_ms(&meta),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read(&mut self, path: String, offset: u64, len: u32) -> Result<Vec<u8>, HostError> {
        self.grants.check(Permission::FilesRead)?;
        self.settle_writes()?;
        let fs = self.vault_fs()?;
        let path = resolve(&fs, &path)?;
        if len > MAX_READ_BYTES {
            return Err(err(
                ErrorCode::TooLarge,
                format!("a read is limited to {MAX_READ_BYTES} bytes"),
            ));
        }
        let mut f = open_file(fs.root(), &path)?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| io_error(path.as_str(), e))?;
        let mut buf = Vec::with_capacity(len as usize);
        f.take(u64::from(len))
            .read_to_end(&mut buf)
            .map_err(|e| io_error(path.as_str(), e))?;
        Ok(buf)
    }

    fn hash(&mut self, path: String) -> Result<FileDigest, HostError> {
        self.grants.check(Permission::FilesRead)?;
        self.settle_writes()?;
        let fs = self.vault_fs()?;
        let path = resolve(&fs, &path)?;
        let mut f = open_file(fs.root(), &path)?;
        // The mtime before reading: a change during the read then shows at the next scan.
        let meta = f.metadata().map_err(|e| io_error(path.as_str(), e))?;
        let (size, sha256) = hash_copy(&mut f, None).map_err(|e| io_error(path.as_str(), e))?;
        Ok(FileDigest {
            size,
            mtime_ms: mtime_ms(&meta),
            sha256,
        })
    }

    fn write(
        &mut self,
        path: String,
        bytes: Vec<u8>,
        expect: Expect,
    ) -> Result<FileMeta, HostError> {
        self.grants.check(Permission::FilesWrite)?;
        let fs = self.vault_fs()?;
        let (path, free) = resolve_probe(&fs, &path)?;
        if bytes.len() > MAX_WRITE_BYTES {
            return Err(err(
                ErrorCode::TooLarge,
                format!("a write is limited to {MAX_WRITE_BYTES} bytes"),
            ));
        }
        let root = fs.root();
        if self.in_call
            && matches!(expect, Expect::Absent)
            && free
            && !self.write_behind.holds(&path)
        {
            return self.write_behind_new(root, path, &bytes);
        }
        self.settle_writes()?;
        let (temp, mut file) = self.new_temp(root)?;
        file.write_all(&bytes)
            .map_err(|e| io_error("write temp file", e))?;
        file.sync_all().map_err(|e| io_error("sync temp file", e))?;
        let meta = file.metadata().map_err(|e| io_error("stat temp file", e))?;
        if !self.place_durably(root, (&temp.dir, &temp.name), &path, &expect)? {
            return Err(changed(&path));
        }
        temp.keep();
        self.writes.note(&self.vault.root, path.as_str());
        Ok(file_meta(&meta))
    }

    fn copy(
        &mut self,
        from: String,
        to: String,
        from_sha256: String,
    ) -> Result<FileMeta, HostError> {
        self.grants.check(Permission::FilesRead)?;
        self.grants.check(Permission::FilesWrite)?;
        self.settle_writes()?;
        let fs = self.vault_fs()?;
        let (from, to) = (resolve(&fs, &from)?, resolve(&fs, &to)?);
        let root = fs.root();
        let mut src = open_file(root, &from)?;
        if exists(root, &to)? {
            return Err(already_exists(&to));
        }
        let (temp, mut file) = self.new_temp(root)?;
        let (_, hash) = hash_copy(&mut src, Some(&mut file as &mut dyn Write))
            .map_err(|e| io_error("copy", e))?;
        if !hash.eq_ignore_ascii_case(&from_sha256) {
            return Err(changed(&from));
        }
        file.sync_all().map_err(|e| io_error("sync temp file", e))?;
        let meta = file.metadata().map_err(|e| io_error("stat temp file", e))?;
        if !self.place_durably(root, (&temp.dir, &temp.name), &to, &Expect::Absent)? {
            return Err(already_exists(&to));
        }
        temp.keep();
        self.writes.note(&self.vault.root, to.as_str());
        Ok(file_meta(&meta))
    }

    fn rename(&mut self, from: String, to: String) -> Result<(), HostError> {
        self.grants.check(Permission::FilesWrite)?;
        self.settle_writes()?;
        let fs = self.vault_fs()?;
        let (from, to) = (resolve(&fs, &from)?, resolve(&fs, &to)?);
        let root = fs.root();
        if !exists(root, &from)? {
            return Err(err(ErrorCode::NotFound, format!("{from} does not exist")));
        }
        if exists(root, &to)? {
            return Err(already_exists(&to));
        }
        ensure_parent(root, &to)?;
        self.sync_deferred_dirs_in(root)?;
        root.rename(from.as_path(), root, to.as_path())
            .map_err(|e| io_error(&format!("rename {from}"), e))?;
        self.writes.note(&self.vault.root, from.as_str());
        self.writes.note(&self.vault.root, to.as_str());
        sync_dir(root, to.parent())
            .and_then(|()| sync_dir(root, from.parent()))
            .map_err(|e| io_error("sync folder", e))
    }

    fn trash(&mut self, path: String, expect: Expect) -> Result<(), HostError> {
        self.grants.check(Permission::FilesDelete)?;
        self.settle_writes()?;
        let fs = self.vault_fs()?;
        let path = resolve(&fs, &path)?;
        let root = fs.root();
        if !exists(root, &path)? {
            return Ok(());
        }
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let id = format!("{millis}-{}", random_hex(6)?);
        let dest = reserved(&["trash", "files", &id]).join(path.as_path());
        let dest_parent = dest.parent().unwrap_or(Path::new(RESERVED)).to_path_buf();
        root.create_dir_all(&dest_parent)
            .map_err(|e| io_error("create the trash folder", e))?;
        if let Err(e) = check_expect(root, &path, &expect) {
            let _ = root.remove_dir_all(reserved(&["trash", "files", &id]));
            return Err(e);
        }
        self.sync_deferred_dirs_in(root)?;
        root.rename(path.as_path(), root, &dest)
            .map_err(|e| io_error(&format!("trash {path}"), e))?;
        self.writes.note(&self.vault.root, path.as_str());
        sync_dir(root, path.parent())
            .and_then(|()| sync_dir(root, &dest_parent))
            .map_err(|e| io_error("sync folder", e))
    }

    fn mkdir(&mut self, path: String) -> Result<(), HostError> {
        self.grants.check(Permission::FilesWrite)?;
        self.settle_writes()?;
        let fs = self.vault_fs()?;
        let path = resolve(&fs, &path)?;
        let root = fs.root();
        let mut walked = std::path::PathBuf::new();
        for seg in path.as_str().split('/') {
            walked.push(seg);
            match root.symlink_metadata(&walked) {
                Ok(m) if !m.is_dir() => {
                    return Err(err(
                        ErrorCode::AlreadyExists,
                        format!("{} is a file", walked.display()),
                    ));
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) => return Err(io_error(path.as_str(), e)),
            }
        }
        root.create_dir_all(path.as_path())
            .map_err(|e| io_error(path.as_str(), e))?;
        self.writes.note(&self.vault.root, path.as_str());
        Ok(())
    }

    fn remove_dir(&mut self, path: String) -> Result<(), HostError> {
        self.grants.check(Permission::FilesDelete)?;
        self.settle_writes()?;
        let fs = self.vault_fs()?;
        let path = resolve(&fs, &path)?;
        match fs.root().remove_dir(path.as_path()) {
            Ok(()) => {
                self.writes.note(&self.vault.root, path.as_str());
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => {
                Err(err(ErrorCode::NotEmpty, format!("{path} is not empty")))
            }
            Err(e) => Err(io_error(path.as_str(), e)),
        }
    }

    fn stage_write(&mut self, stage: String, offset: u64, bytes: Vec<u8>) -> Result<(), HostError> {
        self.grants.check(Permission::StorageNamespace)?;
        let stage = Stage::new(&stage)?;
        if self.write_behind.holds_stage(&stage.key) {
            self.settle_writes()?;
        }
        let fs = self.vault_fs()?;
        self.with_staging(fs.root(), true, |dir| {
            staging::stage_write(dir.ok_or_else(|| no_stage(&stage))?, &stage, offset, &bytes)
        })
    }

    fn stage_copy(&mut self, from: String, stage: String) -> Result<Staged, HostError> {
        self.grants.check(Permission::FilesRead)?;
        self.grants.check(Permission::StorageNamespace)?;
        self.settle_writes()?;
        let fs = self.vault_fs()?;
        let from = resolve(&fs, &from)?;
        let stage = Stage::new(&stage)?;
        let mut src = open_file(fs.root(), &from)?;
        let mut tries = 0;
        self.with_staging(fs.root(), true, |dir| {
            if tries > 0 {
                // A second try (the staging folder was removed) copies from the start again.
                src.seek(SeekFrom::Start(0))
                    .map_err(|e| io_error(from.as_str(), e))?;
            }
            tries += 1;
            staging::stage_copy(dir.ok_or_else(|| no_stage(&stage))?, &stage, &mut src)
        })
    }

    /// During an export call a commit to a free path (`absent`) is queued like a new file of
    /// `write` (`imports::write_behind`): the staging file is already complete, so it only
    /// becomes durable with the batch and is then moved into place.
    fn commit_stage(
        &mut self,
        stage: String,
        to: String,
        expect: Expect,
    ) -> Result<FileMeta, HostError> {
        self.grants.check(Permission::FilesWrite)?;
        let fs = self.vault_fs()?;
        let (to, free) = resolve_probe(&fs, &to)?;
        let stage = Stage::new(&stage)?;
        let root = fs.root();
        let queue = self.in_call
            && matches!(expect, Expect::Absent)
            && free
            && !self.write_behind.holds(&to)
            && !self.write_behind.holds_stage(&stage.key);
        if !queue {
            self.settle_writes()?;
        }
        let (dir, file) = self.with_staging(root, false, |dir| {
            let dir = dir.ok_or_else(|| no_stage(&stage))?;
            Ok((Arc::clone(dir), stage.open(dir)?))
        })?;
        // Staging files are private (0600); a vault file gets the usual 0644.
        file.set_permissions(Permissions::from_mode(0o644))
            .map_err(|e| io_error("chmod staging file", e))?;
        if queue {
            let meta = file
                .metadata()
                .map_err(|e| io_error("stat staging file", e))?;
            let src = Source::Stage {
                dir,
                key: stage.key,
            };
            return self.queue(src, file, to, &meta);
        }
        file.sync_all()
            .map_err(|e| io_error("sync staging file", e))?;
        let meta = file
            .metadata()
            .map_err(|e| io_error("stat staging file", e))?;
        if !self.place_durably(root, (&dir, stage.name()), &to, &expect)? {
            return Err(changed(&to));
        }
        self.writes.note(&self.vault.root, to.as_str());
        Ok(file_meta(&meta))
    }

    fn delete_stage(&mut self, stage: String) -> Result<(), HostError> {
        self.grants.check(Permission::StorageNamespace)?;
        let stage = Stage::new(&stage)?;
        if self.write_behind.holds_stage(&stage.key) {
            self.settle_writes()?;
        }
        let fs = self.vault_fs()?;
        self.with_staging(fs.root(), false, |dir| match dir {
            Some(dir) => staging::stage_delete(dir, &stage),
            None => Ok(()),
        })
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
