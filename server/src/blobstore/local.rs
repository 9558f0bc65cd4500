//! The local blob folder (spec §1.2, §4.9): `blobs/ab/cd/<sha256>` files, in-flight
//! `blobs/.upload-<rand>` files, readiness probes and the temp-upload sweep of retention.
//!
//! Files are 0640 and directories 0750. A blob lands at its final path only by an atomic
//! rename of a fully written, fsynced temp file; its directories are fsynced before the upload
//! is acknowledged. The S3 backend uses a `Local` as its spool folder for `.upload-*` files.

use bytes::Bytes;
use futures_util::Stream;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{BlobMeta, ReadError};
use crate::util::ids::random_hex;

/// From this many files or directories on, [`Local::sync_paths`] runs one `syncfs`.
const SYNCFS_FROM: usize = 16;

#[derive(Debug, Clone)]
pub struct Local {
    root: PathBuf,
}

impl Local {
    /// Uses (and creates, 0750) `<data>/blobs`.
    pub(crate) fn open(root: PathBuf) -> io::Result<Self> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(&root)?;
        Ok(Self { root })
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// A fresh `.upload-<rand>` path and its file, created 0640.
    pub(crate) fn create_temp(&self) -> io::Result<(PathBuf, File)> {
        let path = self.root.join(format!(".upload-{}", random_hex(16)));
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(&path)?;
        Ok((path, f))
    }

    pub(crate) fn final_path(&self, sha256: &str) -> PathBuf {
        self.root
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256)
    }

    /// Moves a verified temp file to its final path (or drops it when an intact copy is already
    /// there). Returns true when this call created the file, so a failed database step should
    /// remove it again. Runs inside the writer job, so it does not fsync: the caller runs
    /// [`Local::sync_placed`] before acknowledging the upload.
    pub(crate) fn place(&self, temp: &Path, sha256: &str, size: u64) -> io::Result<bool> {
        let dest = self.final_path(sha256);
        let dir = dest.parent().expect("a blob path has a parent directory");
        DirBuilder::new().recursive(true).mode(0o750).create(dir)?;
        match fs::metadata(&dest) {
            Ok(m) if m.is_file() && m.len() == size => {
                let _ = fs::remove_file(temp);
                Ok(false)
            }
            Ok(_) => {
                tracing::warn!(
                    sha256,
                    "replacing a corrupt blob file with a verified upload"
                );
                fs::rename(temp, &dest)?;
                Ok(false)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::rename(temp, &dest)?;
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// Makes placed blobs' names durable: fsyncs each one's `ab/cd/`, `ab/` and the blob root
    /// (the directories `place` may have created), each directory once. Cheap when nothing in
    /// them changed.
    pub(crate) fn sync_placed(&self, shas: &[String]) -> io::Result<()> {
        let dirs: std::collections::BTreeSet<PathBuf> = shas
            .iter()
            .flat_map(|sha| {
                let path = self.final_path(sha);
                path.ancestors()
                    .skip(1)
                    .take(3)
                    .map(Path::to_path_buf)
                    .collect::<Vec<_>>()
            })
            .collect();
        self.sync_paths(dirs.iter().map(PathBuf::as_path))
    }

    /// Makes files or directories durable: an fsync each, or from [`SYNCFS_FROM`] paths on,
    /// one `syncfs` of the blob folder's filesystem (on a filesystem without a journal every
    /// fsync is a device cache flush of its own; a bulk upload would pay hundreds).
    pub(crate) fn sync_paths<'a>(&self, paths: impl Iterator<Item = &'a Path>) -> io::Result<()> {
        let paths: Vec<&Path> = paths.collect();
        #[cfg(target_os = "linux")]
        if paths.len() >= SYNCFS_FROM {
            use std::os::fd::AsRawFd;
            let root = File::open(&self.root)?;
            // SAFETY: a valid open descriptor; syncfs only flushes its filesystem.
            if unsafe { libc::syncfs(root.as_raw_fd()) } != 0 {
                return Err(io::Error::last_os_error());
            }
            return Ok(());
        }
        for p in paths {
            File::open(p)?.sync_all()?;
        }
        Ok(())
    }

    /// Removes a file this process placed, when the database step after it failed.
    pub(crate) fn unplace(&self, sha256: &str) {
        let _ = fs::remove_file(self.final_path(sha256));
    }

    /// Removes a blob's file (garbage collection); a missing file is `NotFound`.
    pub(crate) fn remove(&self, sha256: &str) -> io::Result<()> {
        fs::remove_file(self.final_path(sha256))
    }

    /// The size and modification time of a blob's file. A missing file is
    /// [`ReadError::Missing`]; anything else that is not a readable regular file is
    /// [`ReadError::Unavailable`].
    pub(crate) async fn stat(&self, sha256: &str) -> Result<BlobMeta, ReadError> {
        match tokio::fs::metadata(self.final_path(sha256)).await {
            Ok(m) if m.is_file() => Ok(BlobMeta {
                size: m.len(),
                mtime: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            }),
            Ok(_) => Err(ReadError::Unavailable),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ReadError::Missing),
            Err(_) => Err(ReadError::Unavailable),
        }
    }

    /// `len` bytes of a blob's file from `start`, streamed in chunks of up to 256 KiB.
    pub(crate) async fn read(
        &self,
        sha256: &str,
        start: u64,
        len: u64,
    ) -> Result<impl Stream<Item = io::Result<Bytes>> + Send + 'static, ReadError> {
        let mut file = tokio::fs::File::open(self.final_path(sha256))
            .await
            .map_err(|_| ReadError::Unavailable)?;
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|_| ReadError::Unavailable)?;
        Ok(chunks(file, len))
    }

    /// Creates, writes and removes `.health-<rand>` (readiness, §4.11).
    pub(crate) fn probe_writable(&self) -> bool {
        let path = self.root.join(format!(".health-{}", random_hex(8)));
        let ok = (|| -> io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o640)
                .open(&path)?;
            f.write_all(b"ok")?;
            Ok(())
        })();
        let removed = fs::remove_file(&path).is_ok();
        ok.is_ok() && removed
    }

    /// Removes top-level `.upload-*` files older than `max_age` (retention step 5).
    pub(crate) fn sweep_uploads(&self, max_age: Duration) -> io::Result<usize> {
        let cutoff = SystemTime::now()
            .checked_sub(max_age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut removed = 0;
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            if !entry.file_name().to_string_lossy().starts_with(".upload-") {
                continue;
            }
            if entry.metadata()?.modified()? < cutoff && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

impl Local {
    /// `(temp uploads, bytes of every regular file under blobs/)` for `ServerStats` (§6.14).
    pub(crate) fn usage(&self) -> (i64, i64) {
        let mut temp = 0i64;
        if let Ok(rd) = fs::read_dir(&self.root) {
            temp = rd
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(".upload-"))
                .count() as i64;
        }
        fn walk(dir: &Path, depth: u8) -> i64 {
            let Ok(rd) = fs::read_dir(dir) else { return 0 };
            rd.flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_file() => e.metadata().map(|m| m.len() as i64).unwrap_or(0),
                    Ok(t) if t.is_dir() && depth < 3 => walk(&e.path(), depth + 1),
                    _ => 0,
                })
                .sum()
        }
        (temp, walk(&self.root, 0))
    }
}

/// `len` bytes of `file` as a body stream; a file that ends early is a stream error, which
/// cuts the response short rather than sending fewer bytes than `Content-Length` promised.
fn chunks(file: tokio::fs::File, len: u64) -> impl Stream<Item = io::Result<Bytes>> {
    futures_util::stream::unfold((file, len), |(mut f, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; left.min(256 * 1024) as usize];
        match f.read(&mut buf).await {
            Ok(0) => Some((Err(io::Error::other("blob file shrank")), (f, 0))),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (f, left - n as u64)))
            }
            Err(e) => Some((Err(e), (f, 0))),
        }
    })
}
