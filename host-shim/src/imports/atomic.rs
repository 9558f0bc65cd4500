//! The write primitives of the `files` import, all relative to the vault root `Dir`:
//!
//! * [`hash_copy`] streams a reader (optionally into a writer) and returns size and SHA-256;
//! * [`create_temp`] makes a temp file (`.verstak-write-<rand>.tmp`) in the host-owned temp
//!   folder under `.verstak/` (same file system, so placing it is a rename), removed again by
//!   [`Temp`]'s `Drop` unless it was placed. A killed host therefore never leaves a temp file
//!   among the user's notes; stale ones are swept the first time a process uses the folder;
//! * [`place`] re-checks the caller's `expect` at the last moment and only then moves the
//!   source over the destination (Syncthing's `performFinish` order), then fsyncs the folder.
//!
//! Syscalls per written file are kept low, since a first sync writes thousands: folders are
//! created only when an operation finds them missing (the temp folder when the temp file cannot
//! be created, the destination's folders when the link into them fails), not probed each time,
//! and the temp file is created, linked and unlinked through one handle on the temp folder.

use super::err;
use crate::bindings::ErrorCode;
use crate::bindings::HostError;
use crate::bindings::verstak::sync::files::{Expect, FileMeta};
use crate::confine::{VaultPath, io_error};
use cap_std::fs::{Dir, File, Metadata, OpenOptions};
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// `n` random bytes as lowercase hex, for temp names and trash ids.
pub fn random_hex(n: usize) -> Result<String, HostError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| err(ErrorCode::Io, format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

/// Copies `r` to the end into `w` (when given) and returns the size and lowercase SHA-256.
pub fn hash_copy(r: &mut impl Read, w: Option<&mut dyn Write>) -> io::Result<(u64, String)> {
    thread_local! {
        // One buffer per thread: a scan hashes thousands of small files, and a fresh 256 KiB
        // buffer each time is an mmap, page faults and an munmap per file.
        static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 256 << 10]);
    }
    BUF.with_borrow_mut(|buf| hash_copy_with(buf, r, w))
}

fn hash_copy_with(
    buf: &mut [u8],
    r: &mut impl Read,
    mut w: Option<&mut dyn Write>,
) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let n = match r.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        if let Some(w) = w.as_deref_mut() {
            w.write_all(&buf[..n])?;
        }
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Milliseconds since the epoch of a file's modification time (0 when unknown).
pub fn mtime_ms(m: &Metadata) -> i64 {
    let Ok(t) = m.modified() else { return 0 };
    match t.into_std().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

pub fn file_meta(m: &Metadata) -> FileMeta {
    FileMeta {
        size: m.len(),
        mtime_ms: mtime_ms(m),
    }
}

/// A temp file in the temp folder, removed on drop unless [`Temp::keep`] was called.
pub struct Temp {
    /// The temp folder.
    pub dir: Dir,
    /// The file's name in it.
    pub name: PathBuf,
    kept: bool,
}

impl Temp {
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.kept {
            let _ = self.dir.remove_file(&self.name);
        }
    }
}

/// Temp files older than this in the temp folder were left by a killed host.
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(3600);

/// Creates a fresh temp file in the root-relative host-owned folder `temp_dir` (created 0700
/// when missing). The first time this process uses the folder named `sweep_key` (an absolute
/// path: one per vault), temp files a killed host left there are removed.
pub fn create_temp(
    root: &Dir,
    temp_dir: &Path,
    sweep_key: &Path,
) -> Result<(Temp, File), HostError> {
    use cap_std::fs::{DirBuilder, DirBuilderExt};
    let dir = match root.open_dir(temp_dir) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            root.create_dir_with(temp_dir, DirBuilder::new().recursive(true).mode(0o700))
                .map_err(|e| io_error("create the temp folder", e))?;
            root.open_dir(temp_dir)
                .map_err(|e| io_error("open the temp folder", e))?
        }
        Err(e) => return Err(io_error("open the temp folder", e)),
    };
    if first_use(sweep_key) {
        sweep_stale(&dir);
    }
    let name = PathBuf::from(format!(".verstak-write-{}.tmp", random_hex(8)?));
    let file = dir
        .open_with(&name, OpenOptions::new().write(true).create_new(true))
        .map_err(|e| io_error("create temp file", e))?;
    Ok((
        Temp {
            dir,
            name,
            kept: false,
        },
        file,
    ))
}

/// True the first time in this process for `key`.
fn first_use(key: &Path) -> bool {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock, PoisonError};
    static SWEPT: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    SWEPT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key.to_path_buf())
}

fn sweep_stale(dir: &Dir) {
    let Ok(entries) = dir.entries() else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.into_std().elapsed().ok());
        if old.is_some_and(|age| age > STALE_TEMP) {
            let _ = dir.remove_file(e.file_name());
        }
    }
}

/// Creates the missing parent folders of `path`.
pub fn ensure_parent(root: &Dir, path: &VaultPath) -> Result<(), HostError> {
    root.create_dir_all(path.parent())
        .map_err(|e| io_error(&format!("create the folders of {path}"), e))
}

/// What is at a destination right now.
enum Current {
    Absent,
    File(String),
    Other,
}

fn current(root: &Dir, dest: &Path) -> Result<Current, HostError> {
    match root.symlink_metadata(dest) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Current::Absent),
        Err(e) => Err(io_error("inspect destination", e)),
        Ok(m) if !m.is_file() => Ok(Current::Other),
        Ok(_) => {
            let mut f = root
                .open(dest)
                .map_err(|e| io_error("open destination", e))?;
            let (_, hash) = hash_copy(&mut f, None).map_err(|e| io_error("hash destination", e))?;
            Ok(Current::File(hash))
        }
    }
}

/// `Ok(())` when `dest` still looks as `expect` says, otherwise `changed`.
pub fn check_expect(root: &Dir, dest: &VaultPath, expect: &Expect) -> Result<(), HostError> {
    let ok = match (current(root, dest.as_path())?, expect) {
        (Current::Absent, Expect::Absent) => true,
        (Current::File(have), Expect::Hash(want)) => have.eq_ignore_ascii_case(want),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(err(
            ErrorCode::Changed,
            format!("{dest} changed meanwhile; nothing was touched"),
        ))
    }
}

/// Moves `src` (relative to `src_dir`) to `dest` if `dest` still matches `expect`. Returns
/// `Ok(false)` and touches nothing when it does not. For `absent` the move is a hard link
/// (which never replaces anything) followed by removing `src`; where links are unsupported it
/// falls back to check-then-rename. The destination's folders are created when missing. The
/// destination folder is not fsynced: the caller decides when (`HostState::place_durably`).
pub fn place(
    root: &Dir,
    src_dir: &Dir,
    src: &Path,
    dest: &VaultPath,
    expect: &Expect,
) -> Result<bool, HostError> {
    let linked = match expect {
        Expect::Absent => {
            let mut linked = src_dir.hard_link(src, root, dest.as_path());
            if matches!(&linked, Err(e) if e.kind() == io::ErrorKind::NotFound) {
                // Most files go into folders that exist: make them only when the link says so.
                ensure_parent(root, dest)?;
                linked = src_dir.hard_link(src, root, dest.as_path());
            }
            match linked {
                Ok(()) => {
                    src_dir
                        .remove_file(src)
                        .map_err(|e| io_error("remove source after link", e))?;
                    true
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EPERM | libc::EOPNOTSUPP | libc::ENOSYS | libc::EMLINK)
                    ) =>
                {
                    ensure_parent(root, dest)?;
                    false
                }
                Err(e) => return Err(io_error("place file", e)),
            }
        }
        Expect::Hash(_) => false,
    };
    if !linked {
        // `hash`: the destination exists (else `changed`), so its folder does too.
        match check_expect(root, dest, expect) {
            Ok(()) => {}
            Err(e) if matches!(e.code, ErrorCode::Changed) => return Ok(false),
            Err(e) => return Err(e),
        }
        src_dir
            .rename(src, root, dest.as_path())
            .map_err(|e| io_error("place file", e))?;
    }
    Ok(true)
}

/// Fsyncs the root-relative folder `dir` so a rename in it is durable.
pub fn sync_dir(root: &Dir, dir: &Path) -> io::Result<()> {
    // `open_dir` gives an `O_PATH` handle, which cannot be fsynced; a read-only open can.
    root.open(dir)?.sync_all()
}
