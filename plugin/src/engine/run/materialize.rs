//! Putting an incoming version on disk: inline bytes with one atomic write, blobs downloaded in
//! ranged chunks into a staging file, verified (size and SHA-256, §4.8), then moved into place.
//! A blob this run already fetched and verified in a batch (`prefetch.rs`) is moved into place
//! from its staging file without a download.
//! Also the bookkeeping after a write: local snapshot, ancestors, synced tree and base store.

use verstak_sync_proto::paths;

use super::super::command::{Command, Expect, HttpBody, HttpRequest, Method};
use super::super::error::EngineError;
use super::super::event::{FileMeta, IoError};
use super::super::hash::{ContentHash, Hasher};
use super::super::path::VaultPath;
use super::super::payload::{Incoming, Source, is_text};
use super::super::saved::{LocalEntry, SyncedEntry};
use super::Run;
use super::prefetch::stage_name;

/// Why an apply step did not complete.
pub(super) enum Fail {
    /// The destination no longer matched the snapshot: rescan it and decide again.
    Changed,
    Err(EngineError),
}

impl From<EngineError> for Fail {
    fn from(e: EngineError) -> Fail {
        Fail::Err(e)
    }
}

pub(super) fn io_fail(e: IoError) -> Fail {
    match e {
        IoError::Changed => Fail::Changed,
        e => Fail::Err(EngineError::LocalIo(e.to_string())),
    }
}

impl Run {
    /// Writes `inc` to `target` if the destination still matches `expect`; records it locally.
    pub(super) async fn materialize(
        &mut self,
        target: &VaultPath,
        inc: &Incoming,
        hash: &ContentHash,
        expect: Expect,
    ) -> Result<(), Fail> {
        let meta = match &inc.source {
            Source::Inline(bytes) => self
                .io
                .write_file(target, bytes.clone(), expect)
                .await
                .map_err(io_fail)?,
            Source::Blob { hash: blob, size } => {
                let stage = stage_name(blob);
                if !self.take_prefetched(blob) {
                    self.download(blob, *size, &stage).await?;
                }
                self.io
                    .commit_stage(&stage, target, expect)
                    .await
                    .map_err(io_fail)?
            }
            Source::Missing => {
                return Err(Fail::Err(EngineError::LocalIo(
                    "payload has no content".into(),
                )));
            }
        };
        self.record_local_file(target, hash, meta);
        Ok(())
    }

    pub(super) fn record_local_file(
        &mut self,
        path: &VaultPath,
        hash: &ContentHash,
        meta: FileMeta,
    ) {
        for a in path.ancestors() {
            self.st.local.insert_if_absent(a, LocalEntry::dir);
        }
        let entry = LocalEntry::File {
            size: meta.size,
            mtime: meta.mtime,
            hash: hash.clone(),
        };
        self.st.local.insert(path.clone(), entry);
    }

    /// Records that the server holds `hash` at `path`, storing its text for later merges.
    pub(super) async fn mark_synced(
        &mut self,
        path: &VaultPath,
        hash: &ContentHash,
        inc: &Incoming,
    ) -> Result<(), EngineError> {
        let (text, size) = match &inc.source {
            Source::Inline(bytes) if is_text(bytes) => {
                self.put_base(
                    hash,
                    std::str::from_utf8(bytes).expect("is_text checked UTF-8"),
                )
                .await?;
                (true, bytes.len() as u64)
            }
            Source::Inline(bytes) => (false, bytes.len() as u64),
            Source::Blob { size, .. } => (false, *size),
            Source::Missing => (false, 0),
        };
        for a in path.ancestors() {
            self.st.synced.insert_if_absent(a, SyncedEntry::dir);
        }
        self.st.synced.insert(
            path.clone(),
            SyncedEntry::File {
                hash: hash.clone(),
                text,
                size,
            },
        );
        Ok(())
    }

    /// Downloads blob `hash` into staging file `stage`, verified; a failed download (a size or
    /// SHA-256 mismatch above all) leaves no bytes in the staging folder.
    async fn download(&mut self, hash: &ContentHash, size: u64, stage: &str) -> Result<(), Fail> {
        let result = self.download_into(hash, size, stage).await;
        if result.is_err() {
            let stage = stage.to_string();
            // Best effort: the run fails with the download's own error either way.
            let _ = self.io.done(|id| Command::DeleteStage { id, stage }).await;
        }
        result
    }

    /// Downloads blob `hash` into staging file `stage` in ranged chunks, verifying it.
    async fn download_into(
        &mut self,
        hash: &ContentHash,
        size: u64,
        stage: &str,
    ) -> Result<(), Fail> {
        let mut h = Hasher::default();
        let chunk = self.cfg.chunk_size.max(1);
        loop {
            let from = h.len();
            let to = (from + chunk).min(size).saturating_sub(1);
            let mut headers = Vec::new();
            if size > 0 {
                headers.push(("Range".to_string(), format!("bytes={from}-{to}")));
            }
            let request = HttpRequest {
                method: Method::Get,
                path: paths::blob(hash),
                headers,
                body: HttpBody::Empty,
            };
            let resp = self.http(request).await?;
            let bytes = if resp.status == 200 && from > 0 {
                // The server ignored the range: take our part of the whole body.
                resp.body.get(from as usize..).unwrap_or_default().to_vec()
            } else {
                resp.body
            };
            if bytes.is_empty() && h.len() < size || h.len() + bytes.len() as u64 > size {
                return Err(EngineError::DownloadSizeMismatch.into());
            }
            h.update(&bytes);
            let offset = from;
            self.io
                .done(|id| Command::StageWrite {
                    id,
                    stage: stage.to_string(),
                    offset,
                    bytes,
                })
                .await
                .map_err(io_fail)?;
            if h.len() >= size {
                break;
            }
        }
        if h.finish() != *hash {
            return Err(EngineError::DownloadHashMismatch.into());
        }
        Ok(())
    }
}
