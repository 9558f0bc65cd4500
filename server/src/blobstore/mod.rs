//! The blob storage boundary (spec §1.2, §4.9, §4.10; issue 16): every caller holds a
//! [`BlobStore`], which is either the local folder `<data>/blobs` ([`local`]) or a bucket of
//! an S3-compatible store ([`s3`]).
//!
//! Both backends keep the same rules. An upload is spooled into a local `.upload-<rand>` temp
//! file and hashed on the way in ([`BlobStore::create_temp`]); only the verified bytes are
//! then placed under the blob's final name, inside the writer job ([`BlobStore::place`]), so a
//! rejected or broken upload never shows under it. For S3, [`BlobStore::prepare`] first
//! transfers the bytes to a private staging object outside the writer job, so that `place`
//! is a quick server-side copy. Downloads read a byte range
//! ([`BlobStore::read`]) as a stream. Garbage collection removes a blob
//! ([`BlobStore::remove`]) in the writer job that deletes its row.
//!
//! The methods that run inside the writer job or on the blocking pool are synchronous; the S3
//! backend runs its requests to completion there on the server's runtime.

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::config::BlobStoreCfg;

mod local;
mod s3;

/// What [`BlobStore::prepare`] got ready for [`BlobStore::place`]: for S3, the staging
/// object holding the verified bytes, if any. Hand it back to [`BlobStore::release`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Prepared(Option<object_store::path::Path>);

pub(crate) use local::Local;

/// The blob store every caller holds; cheap to clone.
#[derive(Debug, Clone)]
pub enum BlobStore {
    /// `<data>/blobs/ab/cd/<sha256>`.
    Local(Local),
    /// `<prefix>/ab/cd/<sha256>` in a bucket; temp files spool in `<data>/uploads`.
    S3(s3::S3),
}

/// What a download needs to know about a stored blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlobMeta {
    pub size: u64,
    /// The file's modification time, or the object's `Last-Modified`.
    pub mtime: SystemTime,
}

/// Why a blob cannot be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Nothing is stored under its name (404 `blob_not_found`).
    Missing,
    /// The local file is there but not a readable regular file (500 `blob_unavailable`).
    Unavailable,
    /// The object store failed (500 `internal_error`; the cause is logged, never sent).
    Backend(anyhow::Error),
}

impl BlobStore {
    /// The local folder `root` (created 0750).
    pub fn open_local(root: PathBuf) -> io::Result<Self> {
        Ok(BlobStore::Local(Local::open(root)?))
    }

    /// The configured store for the data directory `data`: `<data>/blobs`, or the bucket (whose
    /// temp files spool in `<data>/uploads`). Must run inside the server's tokio runtime. Does
    /// not contact the bucket; see [`BlobStore::check`].
    pub fn open(cfg: &BlobStoreCfg, data: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        match cfg {
            BlobStoreCfg::Local => Self::open_local(data.join("blobs")).context("creating blobs/"),
            BlobStoreCfg::S3(c) => {
                let spool = Local::open(data.join("uploads")).context("creating uploads/")?;
                Ok(BlobStore::S3(s3::S3::open(c, spool)?))
            }
        }
    }

    /// At startup: the bucket answers and accepts writes (a probe object is written and
    /// removed). The local folder needs no check beyond [`BlobStore::open`].
    pub async fn check(&self) -> anyhow::Result<()> {
        match self {
            BlobStore::Local(_) => Ok(()),
            BlobStore::S3(s) => s.check().await,
        }
    }

    /// What the store is, for log lines: `folder <path>` or `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        match self {
            BlobStore::Local(l) => format!("folder {}", l.root().display()),
            BlobStore::S3(s) => s.url().to_owned(),
        }
    }

    /// A fresh `.upload-<rand>` temp file (0640) in the local folder or the spool folder.
    pub(crate) fn create_temp(&self) -> io::Result<(PathBuf, File)> {
        self.spool().create_temp()
    }

    /// After the hash is known, before the writer job: S3 uploads the verified temp file to
    /// a staging object (unless an intact blob is already stored). The local folder has
    /// nothing to do.
    pub(crate) async fn prepare(
        &self,
        temp: &Path,
        sha256: &str,
        size: u64,
    ) -> io::Result<Prepared> {
        match self {
            BlobStore::Local(_) => Ok(Prepared(None)),
            BlobStore::S3(s) => Ok(Prepared(s.prepare(temp, sha256, size).await?)),
        }
    }

    /// After the writer job, whatever its outcome: removes the staging object.
    pub(crate) async fn release(&self, prepared: &Prepared) {
        if let (BlobStore::S3(s), Some(k)) = (self, &prepared.0) {
            s.release(k).await;
        }
    }

    /// Inside the writer job: puts the verified blob under its final name, or drops the temp
    /// file when an intact copy is already there (a copy of another size is replaced). The
    /// temp file is gone after `Ok`. Returns true when this call created the blob, so a failed
    /// database step should [`BlobStore::unplace`] it.
    pub(crate) fn place(
        &self,
        temp: &Path,
        prepared: &Prepared,
        sha256: &str,
        size: u64,
    ) -> io::Result<bool> {
        match self {
            BlobStore::Local(l) => l.place(temp, sha256, size),
            BlobStore::S3(s) => s.place(temp, prepared.0.as_ref(), sha256, size),
        }
    }

    /// Before an upload is acknowledged: makes its placed blobs durable (the local folder
    /// fsyncs their directories, each once; an acknowledged S3 write already is).
    pub(crate) fn sync_placed(&self, shas: &[String]) -> io::Result<()> {
        match self {
            BlobStore::Local(l) => l.sync_placed(shas),
            BlobStore::S3(_) => Ok(()),
        }
    }

    /// Makes written temp files durable before they are placed (in the local folder; an S3
    /// store puts a staging object from them, which is durable once acknowledged).
    pub(crate) fn sync_temps(&self, temps: &[PathBuf]) -> io::Result<()> {
        match self {
            BlobStore::Local(l) => l.sync_paths(temps.iter().map(PathBuf::as_path)),
            BlobStore::S3(_) => Ok(()),
        }
    }

    /// Removes a blob this request placed, when the database step after it failed.
    pub(crate) fn unplace(&self, sha256: &str) {
        match self {
            BlobStore::Local(l) => l.unplace(sha256),
            BlobStore::S3(s) => s.unplace(sha256),
        }
    }

    /// Garbage collection, inside the writer job: removes a blob. `NotFound` when the local
    /// file was already gone (S3 deletes are idempotent and never say so).
    pub(crate) fn remove(&self, sha256: &str) -> io::Result<()> {
        match self {
            BlobStore::Local(l) => l.remove(sha256),
            BlobStore::S3(s) => s.remove(sha256),
        }
    }

    /// The stored blob's size and time.
    pub(crate) async fn stat(&self, sha256: &str) -> Result<BlobMeta, ReadError> {
        match self {
            BlobStore::Local(l) => l.stat(sha256).await,
            BlobStore::S3(s) => s.stat(sha256).await,
        }
    }

    /// `len` bytes of the blob from `start`, streamed (an S3 ranged GET). A blob that ends
    /// early is a stream error, so a response is cut short rather than sent incomplete.
    pub(crate) async fn read(
        &self,
        sha256: &str,
        start: u64,
        len: u64,
    ) -> Result<BoxStream<'static, io::Result<Bytes>>, ReadError> {
        match self {
            BlobStore::Local(l) => Ok(l.read(sha256, start, len).await?.boxed()),
            BlobStore::S3(s) => s.read(sha256, start, len).await,
        }
    }

    /// Readiness (§4.11): writes and removes a probe in the temp folder, and for S3 a
    /// `<prefix>/.health-<rand>` object too.
    pub(crate) fn probe_writable(&self) -> bool {
        match self {
            BlobStore::Local(l) => l.probe_writable(),
            BlobStore::S3(s) => s.spool().probe_writable() && s.probe_writable(),
        }
    }

    /// Retention step 5: removes `.upload-*` temp files older than `max_age` (and for S3,
    /// staging objects as old).
    pub(crate) fn sweep_uploads(&self, max_age: Duration) -> io::Result<usize> {
        match self {
            BlobStore::Local(l) => l.sweep_uploads(max_age),
            BlobStore::S3(s) => Ok(s.spool().sweep_uploads(max_age)? + s.sweep_staged(max_age)?),
        }
    }

    /// `(temp uploads, stored blob bytes)` for `ServerStats` (§6.14). For S3 the bytes are
    /// summed from a listing of the prefix (one request per 1000 objects).
    pub(crate) fn usage(&self) -> (i64, i64) {
        match self {
            BlobStore::Local(l) => l.usage(),
            BlobStore::S3(s) => (s.spool().usage().0, s.stored_bytes()),
        }
    }

    /// The folder holding `.upload-*` temp files.
    fn spool(&self) -> &Local {
        match self {
            BlobStore::Local(l) => l,
            BlobStore::S3(s) => s.spool(),
        }
    }
}
