//! The blob part of `copy-storage`: every blob of `server_blobs` from the deployment's store
//! into the target store, and the blob half of the check.
//!
//! A blob already in the target with the right size is skipped, so a run that was cut short
//! continues where it stopped. Otherwise the source bytes are streamed into a temp file of the
//! target ([`BlobStore::create_temp`]) and hashed on the way; only when the SHA-256 and the
//! size match the blob's name and row is the file placed under the blob's key
//! ([`BlobStore::place`], the server's own upload path, so the key layout is the server's).
//! When the blobs stay where they are (no `--to-blob-store`), each local file is still read
//! and hashed, so a corrupt file is found before the move (objects in a bucket are only looked
//! up). A missing or corrupt blob is
//! reported at the end and never stops the others.

use futures_util::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use std::io::Write;

use crate::blobstore::{BlobStore, Prepared, ReadError};

/// Blobs transferred at once.
const PARALLEL: usize = 8;
/// Blobs checked at once.
const PARALLEL_STAT: usize = 32;
/// A progress line per this many blobs.
const PROGRESS_EVERY: usize = 100;

/// What happened to one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Copied,
    Present,
    /// Read and verified in place (the blobs stay where they are).
    Verified,
    Missing,
    /// The stored bytes do not hash to the blob's name or have another size.
    Corrupt(String),
    Failed(String),
}

/// Totals and the blobs that could not be copied.
#[derive(Debug, Default)]
pub(super) struct BlobReport {
    pub copied: usize,
    pub present: usize,
    pub verified: usize,
    pub bytes: u64,
    /// How many of the problems are blobs missing in the source.
    pub missing: usize,
    /// `(sha256, what is wrong)`.
    pub problems: Vec<(String, String)>,
}

/// Copies (or, when `same` store, verifies) every `(sha256, size)` of `blobs`.
pub(super) async fn copy(
    src: &BlobStore,
    dst: &BlobStore,
    same: bool,
    blobs: &[(String, u64)],
) -> BlobReport {
    let total = blobs.len();
    let mut done = 0usize;
    let mut report = BlobReport::default();
    let mut results = futures_util::stream::iter(blobs.iter().cloned())
        .map(|(sha, size)| async move {
            let o = if same {
                verify(src, &sha, size).await
            } else {
                copy_one(src, dst, &sha, size).await
            };
            (sha, size, o)
        })
        .buffer_unordered(PARALLEL);
    while let Some((sha, size, o)) = results.next().await {
        done += 1;
        if done.is_multiple_of(PROGRESS_EVERY) {
            eprintln!("  blobs: {done}/{total}");
        }
        match o {
            Outcome::Copied => {
                report.copied += 1;
                report.bytes += size;
            }
            Outcome::Present => report.present += 1,
            Outcome::Verified => report.verified += 1,
            Outcome::Missing => {
                report.missing += 1;
                report.problems.push((sha, "missing in the source".into()));
            }
            Outcome::Corrupt(why) => report.problems.push((sha, format!("corrupt: {why}"))),
            Outcome::Failed(why) => report.problems.push((sha, format!("failed: {why}"))),
        }
    }
    report.problems.sort();
    report
}

async fn copy_one(src: &BlobStore, dst: &BlobStore, sha: &str, size: u64) -> Outcome {
    match dst.stat(sha).await {
        Ok(m) if m.size == size => return Outcome::Present,
        Ok(_) | Err(ReadError::Missing) => {}
        Err(ReadError::Unavailable) => return Outcome::Failed("target unavailable".into()),
        Err(ReadError::Backend(e)) => return Outcome::Failed(format!("target: {e:#}")),
    }
    let (temp, mut file) = match dst.create_temp() {
        Ok(t) => t,
        Err(e) => return Outcome::Failed(format!("creating a temp file: {e}")),
    };
    let hashed = stream_hashed(src, sha, size, |chunk| file.write_all(chunk)).await;
    drop(file);
    if let Err(o) = hashed {
        let _ = std::fs::remove_file(&temp);
        return o;
    }
    let (dst, sha_owned) = (dst.clone(), sha.to_owned());
    let placed = tokio::task::spawn_blocking(move || {
        let r = dst.place(&temp, &Prepared::default(), &sha_owned, size);
        if r.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        r
    })
    .await;
    match placed {
        Ok(Ok(_)) => Outcome::Copied,
        Ok(Err(e)) => Outcome::Failed(format!("upload: {e}")),
        Err(e) => Outcome::Failed(format!("upload: {e}")),
    }
}

/// A blob that stays where it is: a local file is read and hashed; an object in a bucket is
/// only looked up (its size), not downloaded.
async fn verify(src: &BlobStore, sha: &str, size: u64) -> Outcome {
    if let BlobStore::S3(_) = src {
        return match src.stat(sha).await {
            Ok(m) if m.size == size => Outcome::Verified,
            Ok(m) => Outcome::Corrupt(format!("{} bytes stored, {size} recorded", m.size)),
            Err(ReadError::Missing) => Outcome::Missing,
            Err(ReadError::Unavailable) => Outcome::Failed("unreadable".into()),
            Err(ReadError::Backend(e)) => Outcome::Failed(format!("source: {e:#}")),
        };
    }
    match stream_hashed(src, sha, size, |_| Ok(())).await {
        Ok(()) => Outcome::Verified,
        Err(o) => o,
    }
}

/// Reads the whole blob from `src` through `sink`, hashing it; `Err` says what is wrong.
async fn stream_hashed(
    src: &BlobStore,
    sha: &str,
    size: u64,
    mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<(), Outcome> {
    match src.stat(sha).await {
        Ok(m) if m.size == size => {}
        Ok(m) => {
            return Err(Outcome::Corrupt(format!(
                "{} bytes stored, {size} recorded",
                m.size
            )));
        }
        Err(ReadError::Missing) => return Err(Outcome::Missing),
        Err(ReadError::Unavailable) => return Err(Outcome::Failed("unreadable".into())),
        Err(ReadError::Backend(e)) => return Err(Outcome::Failed(format!("source: {e:#}"))),
    }
    let mut body = match src.read(sha, 0, size).await {
        Ok(b) => b,
        Err(ReadError::Missing) => return Err(Outcome::Missing),
        Err(ReadError::Unavailable) => return Err(Outcome::Failed("unreadable".into())),
        Err(ReadError::Backend(e)) => return Err(Outcome::Failed(format!("source: {e:#}"))),
    };
    let mut h = Sha256::new();
    let mut got = 0u64;
    loop {
        match body.try_next().await {
            Ok(Some(chunk)) => {
                h.update(&chunk);
                got += chunk.len() as u64;
                sink(&chunk).map_err(|e| Outcome::Failed(format!("writing a temp file: {e}")))?;
            }
            Ok(None) => break,
            Err(e) => return Err(Outcome::Corrupt(format!("reading: {e}"))),
        }
    }
    let hex = hex::encode(h.finalize());
    if got != size {
        return Err(Outcome::Corrupt(format!(
            "{got} bytes read, {size} recorded"
        )));
    }
    if hex != sha {
        return Err(Outcome::Corrupt(format!("its bytes hash to {hex}")));
    }
    Ok(())
}

/// The check: every blob is in `store` with its recorded size. Returns the problems.
pub(super) async fn check(store: &BlobStore, blobs: &[(String, u64)]) -> Vec<(String, String)> {
    let mut problems: Vec<(String, String)> = futures_util::stream::iter(blobs.iter().cloned())
        .map(|(sha, size)| async move {
            let p = match store.stat(&sha).await {
                Ok(m) if m.size == size => None,
                Ok(m) => Some(format!("{} bytes stored, {size} recorded", m.size)),
                Err(ReadError::Missing) => Some("missing".to_owned()),
                Err(ReadError::Unavailable) => Some("unreadable".to_owned()),
                Err(ReadError::Backend(e)) => Some(format!("store error: {e:#}")),
            };
            p.map(|p| (sha, p))
        })
        .buffer_unordered(PARALLEL_STAT)
        .filter_map(|p| async move { p })
        .collect()
        .await;
    problems.sort();
    problems
}
