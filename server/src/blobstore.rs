//! The blob directory (spec §1.2, §4.9): `blobs/ab/cd/<sha256>` files, in-flight
//! `blobs/.upload-<rand>` files, readiness probes and the temp-upload sweep of retention.
//!
//! Files are 0640 and directories 0750. A blob lands at its final path only by an atomic
//! rename of a fully written, fsynced temp file; its directories are fsynced before the upload
//! is acknowledged.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::util::ids::random_hex;

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Uses (and creates, 0750) `<data>/blobs`.
    pub fn open(root: PathBuf) -> io::Result<Self> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(&root)?;
        Ok(Self { root })
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
    /// [`BlobStore::sync_placed`] before acknowledging the upload.
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

    /// Makes a placed blob's name durable: fsyncs `ab/cd/`, `ab/` and the blob root (the
    /// directories `place` may have created). Cheap when nothing in them changed.
    pub(crate) fn sync_placed(&self, sha256: &str) -> io::Result<()> {
        let path = self.final_path(sha256);
        for dir in path.ancestors().skip(1).take(3) {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Removes a file this process placed, when the database step after it failed.
    pub(crate) fn unplace(&self, sha256: &str) {
        let _ = fs::remove_file(self.final_path(sha256));
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

impl BlobStore {
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
