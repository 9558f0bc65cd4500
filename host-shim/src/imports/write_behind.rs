//! Write-behind of new vault files during an export call: one journal commit for a batch of
//! created files instead of one fsync each.
//!
//! A first sync creates thousands of files with `files.write(…, absent)`, and the fsync of each
//! new file's bytes (a journal commit on ext4) was most of a second device's initial sync. While
//! an export call runs (`runtime::Instance::call` turns this on), such a write only fills a
//! temp file and queues it; the queue is settled in one batch:
//!
//! 1. every queued temp file is made durable together ([`make_durable`]): one `syncfs` for a
//!    batch of 16 or more on Linux (measured on a second device's initial sync of 10,000 files:
//!    5.1 s with an fsync per file, 3.7–4.2 s), else writeback of each is started
//!    (`sync_file_range`) and each is fsynced, where a journal commit covers the batch;
//! 2. only then is each temp file linked into place (the same last-moment `absent` check as an
//!    immediate write: a user's file that appeared meanwhile is never replaced);
//! 3. the new folder entries join `unsynced_dirs`, fsynced before the next durable storage
//!    write as before.
//!
//! Why this never loses data or records a file that is not there: a file's bytes are durable
//! before its name exists in the vault (the same order as an immediate write), and the queue is
//! settled before anything can observe or record the vault: before every other `files` call
//! (a read, hash, listing, overwrite, trash, rename… sees the files in program order), before
//! every durable storage write (the engine's state may record the queued files), and at the end
//! of the export call. A host killed with files still queued leaves only temp files in the
//! host's temp folder (swept later); the engine's saved state never recorded them, so it writes
//! them again. If a queued file cannot be placed (its path got taken meanwhile), the call that
//! settled the queue fails with `io`, and every durable storage write fails for the rest of the
//! export call, so a state claiming the file was written can never be saved.

use super::atomic::{Temp, place};
use super::err;
use crate::bindings::verstak::sync::files::Expect;
use crate::bindings::{ErrorCode, HostError};
use crate::confine::{VaultPath, io_error};
use crate::state::HostState;
use cap_std::fs::File;

/// The most files queued at once: each holds an open descriptor until settled.
pub(crate) const MAX_QUEUED_FILES: usize = 256;
/// The most bytes queued at once, so the dirty pages of one batch stay bounded.
pub(crate) const MAX_QUEUED_BYTES: u64 = 64 << 20;

/// A new file written to a temp file and not yet linked into the vault.
pub(crate) struct Queued {
    pub temp: Temp,
    pub file: File,
    pub dest: VaultPath,
}

/// The queue and what became of it in this export call.
#[derive(Default)]
pub(crate) struct WriteBehind {
    /// On only while an export call runs: direct users of `HostState` (tests, tools) keep the
    /// immediate write.
    pub on: bool,
    pub queued: Vec<Queued>,
    pub bytes: u64,
    /// A queued file could not be placed in this export call: durable storage writes fail.
    pub failed: Option<String>,
}

impl WriteBehind {
    pub(crate) fn holds(&self, dest: &VaultPath) -> bool {
        self.queued.iter().any(|q| q.dest == *dest)
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
        let mut first_error = None;
        for q in queued {
            let Queued { temp, dest, .. } = q;
            match place(root, &temp.dir, &temp.name, &dest, &Expect::Absent) {
                Ok(true) => {
                    temp.keep();
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

    /// Turns write-behind on for an export call.
    pub(crate) fn begin_call_writes(&mut self) {
        self.write_behind.on = true;
        self.write_behind.failed = None;
    }

    /// Settles what the export call left queued and turns write-behind off. A file that could
    /// not be placed is only logged: no state recording it was saved (see the module doc).
    pub(crate) fn end_call_writes(&mut self) {
        let _ = self.settle_writes();
        self.write_behind.on = false;
        self.write_behind.failed = None;
    }
}
