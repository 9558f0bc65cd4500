//! The write primitives of the `files` import, all relative to the vault root `Dir`:
//!
//! * [`hash_copy`] streams a reader (optionally into a writer) and returns size and SHA-256;
//! * [`create_temp`] makes a temp file (`.verstak-write-<unique>.tmp`) in the host-owned temp
//!   folder under `.verstak/` (same file system, so placing it is a rename), removed again by
//!   [`Temp`]'s `Drop` unless it was placed. A killed host therefore never leaves a temp file
//!   among the user's notes; stale ones are swept the first time a process uses the folder
//!   ([`sweep_stale_once`]);
//! * [`place`] re-checks the caller's `expect` at the last moment and only then moves the
//!   source over the destination (Syncthing's `performFinish` order), then fsyncs the folder.
//!
//! Syscalls per written file are kept low, since a first sync writes thousands: folders are
//! created only when an operation finds them missing (the destination's folders when opening
//! them fails), not probed each time; the temp folder handle is shared by the temp files of an
//! export call (`imports::call_dirs`), and a new file is moved into place with one
//! `renameat2(RENAME_NOREPLACE)` through handles on both folders.

use super::err;
use crate::bindings::ErrorCode;
use crate::bindings::HostError;
use crate::bindings::verstak::sync::files::{Expect, FileMeta};
use crate::confine::{VaultPath, io_error};
use cap_std::fs::{Dir, File, Metadata, OpenOptions};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// The temp folder (shared by the temp files of an export call).
    pub dir: Arc<Dir>,
    /// The file's name in it: one segment.
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

/// Creates a fresh temp file (`.verstak-write-<unique>.tmp`) in the temp folder `dir`. A
/// `not-found` error means the folder was removed meanwhile.
pub fn create_temp(dir: &Arc<Dir>) -> Result<(Temp, File), HostError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    let (name, file) = create_unique(dir, ".verstak-write-", ".tmp", &opts)
        .map_err(|e| io_error("create temp file", e))?;
    Ok((
        Temp {
            dir: dir.clone(),
            name,
            kept: false,
        },
        file,
    ))
}

/// Creates `<prefix><unique><suffix>` in `dir` with `opts` (which must say `create_new`). The
/// names come from a counter seeded once with randomness (`vault::unique_suffix`), so a name
/// taken by another process is rare and only costs one more try.
pub fn create_unique(
    dir: &Dir,
    prefix: &str,
    suffix: &str,
    opts: &OpenOptions,
) -> io::Result<(PathBuf, File)> {
    let mut tries = 0;
    loop {
        let name = PathBuf::from(format!(
            "{prefix}{}{suffix}",
            crate::vault::unique_suffix()?
        ));
        match dir.open_with(&name, opts) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 8 => tries += 1,
            r => return r.map(|f| (name, f)),
        }
    }
}

/// The first time in this process for `key` (an absolute path: one per vault's temp folder),
/// removes the temp files a killed host left in `dir`.
pub fn sweep_stale_once(dir: &Dir, key: &Path) {
    if first_use(key) {
        sweep_stale(dir);
    }
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

/// Handles on destination folders, reused while a batch of new files is placed (most files of
/// a first sync share a folder with the file before).
#[derive(Default)]
pub struct Parents(HashMap<PathBuf, Dir>);

/// What became of an attempt to move a file to a free name.
enum Placed {
    Yes,
    /// Something is at the destination: nothing was touched.
    Taken,
    /// The file system cannot link or rename without replacing: check, then rename.
    Unsupported,
}

/// Moves `src` (one segment, relative to `src_dir`) to `dest` if `dest` still matches `expect`.
/// Returns `Ok(false)` and touches nothing when it does not. For `absent` the move never
/// replaces anything: a `renameat2(RENAME_NOREPLACE)` where the file system has it, else a hard
/// link followed by removing `src`, else (no links either) check-then-rename. The destination's
/// folders are created when missing. The destination folder is not fsynced: the caller decides
/// when (`HostState::place_durably`).
pub fn place(
    root: &Dir,
    src_dir: &Dir,
    src: &Path,
    dest: &VaultPath,
    expect: &Expect,
) -> Result<bool, HostError> {
    if matches!(expect, Expect::Absent) {
        return place_new(root, &mut Parents::default(), src_dir, src, dest);
    }
    replace_checked(root, src_dir, src, dest, expect)
}

/// [`place`] for `absent`, reusing the folder handles in `parents`.
pub fn place_new(
    root: &Dir,
    parents: &mut Parents,
    src_dir: &Dir,
    src: &Path,
    dest: &VaultPath,
) -> Result<bool, HostError> {
    let mut made_parent = false;
    loop {
        let parent = dest.parent();
        let dir = if parent == Path::new(".") {
            root
        } else {
            if !parents.0.contains_key(parent) {
                let d = match root.open_dir(parent) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound && !made_parent => {
                        // Most files go into folders that exist: make them only when missing.
                        ensure_parent(root, dest)?;
                        made_parent = true;
                        root.open_dir(parent)
                    }
                    r => r,
                }
                .map_err(|e| io_error(&format!("open the folder of {dest}"), e))?;
                parents.0.insert(parent.to_path_buf(), d);
            }
            &parents.0[parent]
        };
        match move_no_replace(src_dir, src, dir, dest.name()) {
            Ok(Placed::Yes) => return Ok(true),
            Ok(Placed::Taken) => return Ok(false),
            Ok(Placed::Unsupported) => {
                return replace_checked(root, src_dir, src, dest, &Expect::Absent);
            }
            // The folder was removed since its handle was opened: make it again, once.
            Err(e) if e.kind() == io::ErrorKind::NotFound && !made_parent => {
                parents.0.remove(parent);
                ensure_parent(root, dest)?;
                made_parent = true;
            }
            Err(e) => return Err(io_error("place file", e)),
        }
    }
}

/// Moves `src` in `src_dir` to `name` in `dir` unless `name` exists there. Both names are single
/// segments, so nothing is resolved outside the two folder handles.
fn move_no_replace(src_dir: &Dir, src: &Path, dir: &Dir, name: &str) -> io::Result<Placed> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::fd::AsRawFd;
        use std::os::unix::ffi::OsStrExt;
        let from = CString::new(src.as_os_str().as_bytes()).map_err(io::Error::other)?;
        let to = CString::new(name).map_err(io::Error::other)?;
        // SAFETY: valid open folder descriptors and NUL-terminated names that live across the
        // call; the syscall only reads them.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                src_dir.as_raw_fd(),
                from.as_ptr(),
                dir.as_raw_fd(),
                to.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if r == 0 {
            return Ok(Placed::Yes);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EEXIST) => return Ok(Placed::Taken),
            // No RENAME_NOREPLACE here (an old kernel or some file systems): try a link.
            Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => {}
            _ => return Err(e),
        }
    }
    match src_dir.hard_link(src, dir, name) {
        Ok(()) => {
            src_dir.remove_file(src)?;
            Ok(Placed::Yes)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(Placed::Taken),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EPERM | libc::EOPNOTSUPP | libc::ENOSYS | libc::EMLINK)
            ) =>
        {
            Ok(Placed::Unsupported)
        }
        Err(e) => Err(e),
    }
}

/// Checks `expect` at the last moment, then renames `src` over `dest` (`Ok(false)` when the
/// check fails). For `hash` the destination exists, so its folder does too.
fn replace_checked(
    root: &Dir,
    src_dir: &Dir,
    src: &Path,
    dest: &VaultPath,
    expect: &Expect,
) -> Result<bool, HostError> {
    match check_expect(root, dest, expect) {
        Ok(()) => {}
        Err(e) if matches!(e.code, ErrorCode::Changed) => return Ok(false),
        Err(e) => return Err(e),
    }
    src_dir
        .rename(src, root, dest.as_path())
        .map_err(|e| io_error("place file", e))?;
    Ok(true)
}

/// Fsyncs the root-relative folder `dir` so a rename in it is durable.
pub fn sync_dir(root: &Dir, dir: &Path) -> io::Result<()> {
    // `open_dir` gives an `O_PATH` handle, which cannot be fsynced; a read-only open can.
    root.open(dir)?.sync_all()
}
