//! Staging files of the `files` import: the plugin's scratch files for blob transfers, kept at
//! `<vault>/.verstak/plugin-data/<id>/staging/<key>` (mode 0600, folder 0700), outside the
//! part of the vault the plugin can name. Big files go vault → staging → network (and back)
//! without passing through the component's memory: [`stage_copy`] hashes natively while
//! copying, and `commit-stage` in `files.rs` moves a staging file into the vault atomically.

use super::atomic::{hash_copy, random_hex};
use super::{check_key, err};
use crate::bindings::ErrorCode;
use crate::bindings::HostError;
use crate::bindings::verstak::sync::files::Staged;
use crate::confine::io_error;
use cap_std::fs::{Dir, DirBuilder, DirBuilderExt, File, OpenOptions, OpenOptionsExt};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A staging file may grow to the largest file that is synced (§4.7).
pub const MAX_STAGE_BYTES: u64 = 256 << 20;

/// The root-relative path of a validated staging key.
pub struct Stage {
    pub rel: PathBuf,
    dir: PathBuf,
}

impl Stage {
    /// Validates `key` (`invalid-input`) and names its file under `staging_dir`.
    pub fn new(staging_dir: &Path, key: &str) -> Result<Stage, HostError> {
        check_key(key)?;
        Ok(Stage {
            rel: staging_dir.join(key),
            dir: staging_dir.to_path_buf(),
        })
    }

    fn ensure_dir(&self, root: &Dir) -> Result<(), HostError> {
        let mut b = DirBuilder::new();
        b.recursive(true).mode(0o700);
        root.create_dir_with(&self.dir, &b)
            .map_err(|e| io_error("create staging folder", e))
    }

    /// Opens `rel` (in the staging folder) with `opts`, creating the folder only when the open
    /// finds it missing: it exists for all but the first staging file of a vault.
    fn open_in_dir(
        &self,
        root: &Dir,
        rel: &Path,
        opts: &OpenOptions,
        what: &str,
    ) -> Result<File, HostError> {
        match root.open_with(rel, opts) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.ensure_dir(root)?;
                root.open_with(rel, opts).map_err(|e| io_error(what, e))
            }
            r => r.map_err(|e| io_error(what, e)),
        }
    }

    /// Opens the staging file for reading; `not-found` when it was never written.
    pub fn open(&self, root: &Dir) -> Result<File, HostError> {
        root.open(&self.rel)
            .map_err(|e| io_error("open staging file", e))
    }
}

/// Writes `bytes` at `offset`; offset 0 truncates first, and a write may not leave a hole.
pub fn stage_write(root: &Dir, stage: &Stage, offset: u64, bytes: &[u8]) -> Result<(), HostError> {
    let end = offset.saturating_add(bytes.len() as u64);
    if end > MAX_STAGE_BYTES {
        return Err(err(
            ErrorCode::TooLarge,
            format!("staging files are limited to {MAX_STAGE_BYTES} bytes"),
        ));
    }
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).mode(0o600);
    let mut f = stage.open_in_dir(root, &stage.rel, &opts, "open staging file")?;
    if offset == 0 {
        f.set_len(0)
            .map_err(|e| io_error("truncate staging file", e))?;
    } else {
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
    }
    f.seek(SeekFrom::Start(offset))
        .map_err(|e| io_error("seek staging file", e))?;
    f.write_all(bytes)
        .map_err(|e| io_error("write staging file", e))
}

/// Copies `from` (an open vault file) into the staging file, hashing while copying. The copy
/// goes to a temp file that is renamed over the key, so a reader never sees half a copy.
pub fn stage_copy(root: &Dir, stage: &Stage, from: &mut File) -> Result<Staged, HostError> {
    let tmp = stage.dir.join(format!(".{}.tmp", random_hex(8)?));
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true).mode(0o600);
    let result = (|| {
        let mut out = stage.open_in_dir(root, &tmp, &opts, "create staging file")?;
        let (size, sha256) = hash_copy(from, Some(&mut out as &mut dyn Write))
            .map_err(|e| io_error("copy into staging", e))?;
        out.sync_all()
            .map_err(|e| io_error("sync staging file", e))?;
        root.rename(&tmp, root, &stage.rel)
            .map_err(|e| io_error("rename staging file", e))?;
        Ok(Staged { size, sha256 })
    })();
    if result.is_err() {
        let _ = root.remove_file(&tmp);
    }
    result
}

/// Removes a staging file; a missing one is fine.
pub fn stage_delete(root: &Dir, stage: &Stage) -> Result<(), HostError> {
    match root.remove_file(&stage.rel) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io_error("remove staging file", e))
        }
        _ => Ok(()),
    }
}
