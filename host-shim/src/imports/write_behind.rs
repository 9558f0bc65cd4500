//! Write-behind of new vault files during an export call: one journal commit for a batch of
//! created files instead of one fsync each.
//!
//! A first sync creates thousands of files with `files.write(…, absent)` and
//! `files.commit-stage(…, absent)` (downloaded blobs), and the fsync of each new file's bytes (a
//! journal commit on ext4) was most of a second device's initial sync. While an export call runs
//! (`runtime::Instance::call` turns this on), such a write only fills a temp file and queues it,
//! and such a commit queues the staging file as it is (already complete, made 0644); the queue
//! is settled in one batch:
//!
//! 1. every queued temp file is made durable together ([`make_durable`]): one `syncfs` for a
//!    batch of 16 or more on Linux (measured on a second device's initial sync of 10,000 files:
//!    5.1 s with an fsync per file, 3.7–4.2 s), else writeback of each is started
//!    (`sync_file_range`) and each is fsynced, where a journal commit covers the batch;
//! 2. only then is each file moved into place (the same last-moment `absent` check as an
//!    immediate write, `renameat2(RENAME_NOREPLACE)` or link-then-unlink: a user's file that
//!    appeared meanwhile is never replaced);
//! 3. the new folder entries join `unsynced_dirs`, fsynced before the next durable storage
//!    write as before.
//!
//! Why this never loses data or records a file that is not there: a file's bytes are durable
//! before its name exists in the vault (the same order as an immediate write), and the queue is
//! settled before anything can observe or record the vault: before every other `files` call
//! (a read, hash, listing, overwrite, trash, rename… sees the files in program order), before
//! every durable storage write (the engine's state may record the queued files), before a
//! staging call on the key of a queued staging file, and at the end of the export call. A host
//! killed with files still queued leaves only temp files in the host's temp folder (swept
//! later) and staging files under their keys; the engine's saved state never recorded them, so
//! it writes them again. A staging file that cannot be placed stays under its key, as after a
//! refused immediate commit. If a queued file cannot be placed (its path got taken meanwhile), the call that
//! settled the queue fails with `io`, and every durable storage write fails for the rest of the
//! export call, so a state claiming the file was written can never be saved.

use super::atomic::{Parents, Temp, place_new};
use super::err;
use crate::bindings::{ErrorCode, HostError};
use crate::confine::{VaultPath, io_error};
use crate::state::HostState;
use cap_std::fs::{Dir, File};
use std::path::Path;
use std::sync::Arc;

/// The most files queued at once: each holds an open descriptor until settled.
pub(crate) const MAX_QUEUED_FILES: usize = 256;
/// The most bytes queued at once, so the dirty pages of one batch stay bounded.
pub(crate) const MAX_QUEUED_BYTES: u64 = 64 << 20;

/// A new file, complete but not yet moved into the vault.
pub(crate) struct Queued {
    pub src: Source,
    /// Open on the file, for making it durable.
    pub file: File,
    pub dest: VaultPath,
}

/// Where a queued file waits.
pub(crate) enum Source {
    /// A temp file of `files.write`; removed when it cannot be placed.
    Temp(Temp),
    /// A staging file of `files.commit-stage`; left under its key when it cannot be placed, as
    /// an immediate commit leaves it.
    Stage { dir: Arc<Dir>, key: String },
}

impl Source {
    fn dir(&self) -> &Dir {
        match self {
            Source::Temp(t) => &t.dir,
            Source::Stage { dir, .. } => dir,
        }
    }

    fn name(&self) -> &Path {
        match self {
            Source::Temp(t) => &t.name,
            Source::Stage { key, .. } => Path::new(key),
        }
    }

    fn placed(self) {
        if let Source::Temp(t) = self {
            t.keep();
        }
    }
}

/// The queue and what became of it in this export call.
#[derive(Default)]
pub(crate) struct WriteBehind {
    pub queued: Vec<Queued>,
    pub bytes: u64,
    /// A queued file could not be placed in this export call: durable storage writes fail.
    pub failed: Option<String>,
}

impl WriteBehind {
    pub(crate) fn holds(&self, dest: &VaultPath) -> bool {
        self.queued.iter().any(|q| q.dest == *dest)
    }

    /// True when the staging file `key` is queued: it is no longer under its key once placed,
    /// so a staging call on that key settles the queue first.
    pub(crate) fn holds_stage(&self, key: &str) -> bool {
        self.queued
            .iter()
            .any(|q| matches!(&q.src, Source::Stage { key: k, .. } if k == key))
    }

    pub(crate) fn full(&self) -> bool {
        self.queued.len() >= MAX_QUEUED_FILES || self.bytes >= MAX_QUEUED_BYTES
    }
}

/// From this many queued files on, one `syncfs` makes them all durable instead of an fsync
/// each: without a journal (ext4 on many VMs) every fsync is a device cache flush of its own.
pub(crate) const SYNCFS_FROM_FILES: usize = 16;

/// Makes the bytes of every queued temp file durable. A large batch on Linux: one `syncfs`
/// (data, inodes and folders of the whole filesystem; it reports writeback errors since Linux
/// 5.8). Otherwise writeback of every file is started (`sync_file_range`), then each is fsynced:
/// on a journaling filesystem the first fsync commits the transaction that holds them all.
fn make_durable(queued: &[Queued]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if queued.len() >= SYNCFS_FROM_FILES {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; syncfs only flushes its filesystem.
        if unsafe { libc::syncfs(queued[0].file.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        return Ok(());
    }
    for q in queued {
        start_writeback(&q.file);
    }
    for q in queued {
        q.file.sync_all()?;
    }
    Ok(())
}

/// Starts writeback of `file`'s dirty pages without waiting (Linux; elsewhere a no-op, and the
/// fsync that follows does all the work).
fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; the call only schedules IO on it.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

impl HostState {
    /// Settles the write-behind queue (see the module doc). An `Err` means some queued file is
    /// not in the vault; the others were placed.
    pub(crate) fn settle_writes(&mut self) -> Result<(), HostError> {
        if self.write_behind.queued.is_empty() {
            return Ok(());
        }
        let queued = std::mem::take(&mut self.write_behind.queued);
        self.write_behind.bytes = 0;
        let result = self.place_queued(queued);
        if let Err(e) = &result {
            tracing::warn!("a new file could not be placed: {}", e.message);
            self.write_behind.failed = Some(e.message.clone());
        }
        result
    }

    fn place_queued(&mut self, queued: Vec<Queued>) -> Result<(), HostError> {
        make_durable(&queued).map_err(|e| io_error("sync temp files", e))?;
        let fs = self.vault_fs()?;
        let root = fs.root();
        let mut parents = Parents::default();
        let mut first_error = None;
        for q in queued {
            let Queued { src, dest, .. } = q;
            match place_new(root, &mut parents, src.dir(), src.name(), &dest) {
                Ok(true) => {
                    src.placed();
                    self.unsynced_dirs.insert(dest.parent().to_path_buf());
                    self.writes.note(&self.vault.root, dest.as_str());
                }
                Ok(false) => {
                    first_error.get_or_insert(err(
                        ErrorCode::Io,
                        format!("{dest} appeared while it was being written; it was left alone"),
                    ));
                }
                Err(e) => {
                    first_error.get_or_insert(err(
                        ErrorCode::Io,
                        format!("{dest} could not be placed: {}", e.message),
                    ));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Settles the queue before a durable storage write and refuses the write when a queued
    /// file of this export call was not placed.
    pub(crate) fn settle_before_saving(&mut self) -> Result<(), HostError> {
        self.settle_writes()?;
        match &self.write_behind.failed {
            Some(why) => Err(err(
                ErrorCode::Io,
                format!("not saved: a file written in this run is missing ({why})"),
            )),
            None => Ok(()),
        }
    }

    /// Turns write-behind on for an export call, and the call's folder handles
    /// (`imports::call_dirs`).
    pub(crate) fn begin_call_writes(&mut self) {
        self.call_dirs = Default::default();
        self.in_call = true;
        self.write_behind.failed = None;
    }

    /// Settles what the export call left queued and turns write-behind off. A file that could
    /// not be placed is only logged: no state recording it was saved (see the module doc).
    /// Then drops the call's folder handles.
    pub(crate) fn end_call_writes(&mut self) {
        let _ = self.settle_writes();
        self.in_call = false;
        self.write_behind.failed = None;
        self.call_dirs = Default::default();
    }
}
