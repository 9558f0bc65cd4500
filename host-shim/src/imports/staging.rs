//! Staging files of the `files` import: the plugin's scratch files for blob transfers, kept at
//! `<vault>/.verstak/plugin-data/<id>/staging/<key>` (mode 0600, folder 0700), outside the
//! part of the vault the plugin can name. Big files go vault → staging → network (and back)
//! without passing through the component's memory: [`stage_copy`] hashes natively while
//! copying, and `commit-stage` in `files.rs` moves a staging file into the vault atomically.
//! Every operation goes through a handle on the staging folder (kept for an export call by
//! `imports::call_dirs`) and names the file by its key alone.

use super::atomic::{create_unique, hash_copy};
use super::{check_key, err};
use crate::bindings::ErrorCode;
use crate::bindings::HostError;
use crate::bindings::verstak::sync::files::Staged;
use crate::confine::io_error;
use cap_std::fs::{Dir, File, OpenOptions, OpenOptionsExt};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

/// A staging file may grow to the largest file that is synced (§4.7).
pub const MAX_STAGE_BYTES: u64 = 256 << 20;

/// A validated staging key: one segment, the file's name in the staging folder.
pub struct Stage {
    pub key: String,
}

impl Stage {
    /// Validates `key` (`invalid-input`).
    pub fn new(key: &str) -> Result<Stage, HostError> {
        check_key(key)?;
        Ok(Stage {
            key: key.to_string(),
        })
    }

    pub fn name(&self) -> &Path {
        Path::new(&self.key)
    }

    /// Opens the staging file for reading; `not-found` when it was never written.
    pub fn open(&self, dir: &Dir) -> Result<File, HostError> {
        dir.open(self.name())
            .map_err(|e| io_error("open staging file", e))
    }
}

/// Writes `bytes` at `offset` in the staging folder `dir`; offset 0 truncates first (in the
/// open), and a write may not leave a hole.
pub fn stage_write(dir: &Dir, stage: &Stage, offset: u64, bytes: &[u8]) -> Result<(), HostError> {
    let end = offset.saturating_add(bytes.len() as u64);
    if end > MAX_STAGE_BYTES {
        return Err(err(
            ErrorCode::TooLarge,
            format!("staging files are limited to {MAX_STAGE_BYTES} bytes"),
        ));
    }
    let mut opts = OpenOptions::new();
    opts.write(true)
        .create(true)
        .truncate(offset == 0)
        .mode(0o600);
    let mut f = dir
        .open_with(stage.name(), &opts)
        .map_err(|e| io_error("open staging file", e))?;
    if offset > 0 {
        let len = f
            .metadata()
            .map_err(|e| io_error("stat staging file", e))?
            .len();
        if offset > len {
            return Err(err(
                ErrorCode::InvalidInput,
                format!("offset {offset} is past the end of the staging file ({len} bytes)"),
            ));
        }
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| io_error("seek staging file", e))?;
    }
    f.write_all(bytes)
        .map_err(|e| io_error("write staging file", e))
}

/// Copies `from` (an open vault file) into the staging file, hashing while copying. The copy
/// goes to a temp file that is renamed over the key, so a reader never sees half a copy.
pub fn stage_copy(dir: &Dir, stage: &Stage, from: &mut File) -> Result<Staged, HostError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true).mode(0o600);
    let (tmp, mut out) =
        create_unique(dir, ".", ".tmp", &opts).map_err(|e| io_error("create staging file", e))?;
    let result = (|| {
        let (size, sha256) = hash_copy(from, Some(&mut out as &mut dyn Write))
            .map_err(|e| io_error("copy into staging", e))?;
        out.sync_all()
            .map_err(|e| io_error("sync staging file", e))?;
        dir.rename(&tmp, dir, stage.name())
            .map_err(|e| io_error("rename staging file", e))?;
        Ok(Staged { size, sha256 })
    })();
    if result.is_err() {
        let _ = dir.remove_file(&tmp);
    }
    result
}

/// Removes a staging file; a missing one is fine.
pub fn stage_delete(dir: &Dir, stage: &Stage) -> Result<(), HostError> {
    match dir.remove_file(stage.name()) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io_error("remove staging file", e))
        }
        _ => Ok(()),
    }
}
