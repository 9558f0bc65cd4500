//! Batch blob download, `POST /api/v1/blob-batch` (an addition to the reference API,
//! `docs/api-extensions.md`; the frame format is `verstak_sync_proto::blob_batch`).
//!
//! A device pulling many small binaries asks for them in one request instead of one
//! `GET /api/v1/blobs/<sha256>` each. The checks, in order: method (405 `Allow: POST`),
//! device authentication and scope (§3), the body (§2.5), then [`check_names`] (at least one
//! hash, at most [`MAX_BLOBS`], each 64 lowercase hex characters). [`sizes`] looks up the
//! scope's refs in one database read: the isolation rule of the single download (§4.10), so a
//! hash without a ref in the caller's scope is answered as unavailable (`-`) even when the
//! bytes exist. The refs' sizes must total at most [`MAX_BYTES`]. Then [`available`] checks
//! each blob in the store as the single download does (missing, not a file or the wrong size:
//! unavailable; the object store failing: 500), the accesses are recorded (batched, as the
//! single download's: `crate::marks`), and the body streams each frame from the blob store
//! in request order, with its `Content-Length` set, so a blob that fails mid-stream cuts the
//! response short rather than sending it incomplete.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use verstak_sync_proto::blob::is_sha256_hex;
use verstak_sync_proto::blob_batch::{BlobBatchRequest, MAX_BLOBS, MAX_BYTES, frame_header};
use verstak_sync_proto::paths;

use super::only;
use crate::blobstore::{BlobStore, ReadError};
use crate::error::ApiError;
use crate::extract::{AppJson, ScopedDevice};
use crate::state::AppState;
use crate::store::{Scope, blobs};
use crate::util::time;

/// Blob checks in the store run this many at a time (an S3 store answers each with a request).
const STAT_CONCURRENCY: usize = 8;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(paths::BLOB_BATCH, only("POST").post(batch))
}

async fn batch(
    State(st): State<AppState>,
    ScopedDevice { scope, .. }: ScopedDevice,
    AppJson(r): AppJson<BlobBatchRequest>,
) -> Result<Response, ApiError> {
    let names = check_names(r.sha256)?;
    let refs = sizes(&st, &scope, &names).await?;
    check_total(&names, &refs)?;
    let found = available(&st.blobs, &refs).await?;
    let now = time::now_rfc3339();
    let mut len = 0u64;
    let mut frames = Vec::with_capacity(names.len());
    for sha in names {
        let size = found.get(&sha).copied().flatten();
        if size.is_some() {
            st.marks.blob_read(&scope, &sha, now.clone());
        }
        len += frame_header(&sha, size).len() as u64 + size.unwrap_or(0);
        frames.push((sha, size));
    }
    let bytes: u64 = frames.iter().filter_map(|(_, s)| *s).sum();
    st.metrics.blob_download_bytes.fetch_add(bytes, Relaxed);
    let mut resp = Response::new(Body::from_stream(body(st.blobs.clone(), frames)));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    *resp.status_mut() = StatusCode::OK;
    Ok(resp)
}

/// The requested hashes, checked: at least one, at most [`MAX_BLOBS`], each 64 lowercase hex
/// characters.
pub(crate) fn check_names(names: Vec<String>) -> Result<Vec<String>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::InvalidRequest(
            "sha256 must name at least one blob",
        ));
    }
    if names.len() > MAX_BLOBS {
        return Err(ApiError::BlobBatchTooLarge(
            "a batch may name at most 1000 blobs",
        ));
    }
    if !names.iter().all(|n| is_sha256_hex(n)) {
        return Err(ApiError::InvalidBlobHash);
    }
    Ok(names)
}

/// Each distinct hash's ref size in the scope (`None`: no ref), in one database read.
async fn sizes(
    st: &AppState,
    scope: &Scope,
    names: &[String],
) -> Result<HashMap<String, Option<u64>>, ApiError> {
    let (s, names) = (scope.clone(), names.to_vec());
    let refs = st
        .db
        .read(move |c| {
            let mut refs = HashMap::new();
            for n in names {
                if let std::collections::hash_map::Entry::Vacant(e) = refs.entry(n) {
                    let size = blobs::ref_size(c, &s, e.key())?.map(|v| v.max(0) as u64);
                    e.insert(size);
                }
            }
            Ok(refs)
        })
        .await?;
    Ok(refs)
}

/// The blobs the answer would carry must total at most [`MAX_BYTES`] (a repeated hash counts
/// each time: its frame carries the bytes again).
pub(crate) fn check_total(
    names: &[String],
    refs: &HashMap<String, Option<u64>>,
) -> Result<(), ApiError> {
    let total: u64 = names
        .iter()
        .filter_map(|n| refs.get(n).copied().flatten())
        .sum();
    if total > MAX_BYTES {
        return Err(ApiError::BlobBatchTooLarge(
            "the blobs of a batch may total at most 8 MiB (8388608 bytes)",
        ));
    }
    Ok(())
}

/// Each ref'd blob's size when the store holds it whole, as the single download checks it
/// (`download::locate`): missing, unreadable or of another size is unavailable (`None`); the
/// object store failing is a 500.
async fn available(
    store: &BlobStore,
    refs: &HashMap<String, Option<u64>>,
) -> Result<HashMap<String, Option<u64>>, ApiError> {
    // Owned inputs: a future borrowing `refs` would not be `Send` for every lifetime.
    let checks = refs.clone().into_iter().map(|(sha, size)| {
        let store = store.clone();
        async move {
            let Some(size) = size else {
                return Ok((sha, None));
            };
            match store.stat(&sha).await {
                Ok(meta) if meta.size == size => Ok((sha, Some(size))),
                Ok(_) | Err(ReadError::Missing) | Err(ReadError::Unavailable) => {
                    tracing::warn!(sha256 = %sha, "batch download: blob missing or damaged");
                    Ok((sha, None))
                }
                Err(ReadError::Backend(e)) => Err(ApiError::internal(e.context("reading a blob"))),
            }
        }
    });
    stream::iter(checks)
        .buffer_unordered(STAT_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// The answer's body: each frame's header line, then its blob streamed from the store.
fn body(
    store: BlobStore,
    frames: Vec<(String, Option<u64>)>,
) -> BoxStream<'static, std::io::Result<Bytes>> {
    stream::iter(frames)
        .then(move |(sha, size)| {
            let store = store.clone();
            async move {
                let line = Bytes::from(frame_header(&sha, size));
                let head = stream::once(async move { Ok(line) });
                match size {
                    None | Some(0) => head.boxed(),
                    Some(n) => match store.read(&sha, 0, n).await {
                        Ok(bytes) => head.chain(bytes).boxed(),
                        Err(_) => {
                            // Gone since the check: end the response early, the client sees a
                            // short body and downloads these blobs one by one.
                            tracing::warn!(sha256 = %sha, "batch download: blob vanished");
                            let cut = std::io::Error::other("blob vanished during a batch");
                            head.chain(stream::once(async move { Err(cut) })).boxed()
                        }
                    },
                }
            }
        })
        .flatten()
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(c: char) -> String {
        std::iter::repeat_n(c, 64).collect()
    }

    #[test]
    fn names_are_checked_in_order() {
        let code = |r: Result<Vec<String>, ApiError>| r.err().map(|e| e.code());
        assert_eq!(code(check_names(vec![])), Some("invalid_request"));
        assert_eq!(code(check_names(vec![hex('a'), hex('a')])), None);
        assert_eq!(
            code(check_names(vec![hex('a'); MAX_BLOBS])),
            None,
            "the limit itself is fine"
        );
        // Too many comes before a bad name.
        let mut many = vec![hex('a'); MAX_BLOBS];
        many.push("x".into());
        assert_eq!(code(check_names(many)), Some("blob_batch_too_large"));
        for bad in [hex('A'), hex('g'), "ab".into(), String::new()] {
            assert_eq!(
                code(check_names(vec![hex('a'), bad])),
                Some("invalid_blob_hash")
            );
        }
    }

    #[test]
    fn the_total_counts_each_frame_with_bytes() {
        let total = |v: &[(char, Option<u64>)]| {
            let names: Vec<String> = v.iter().map(|(c, _)| hex(*c)).collect();
            let refs = v.iter().map(|(c, s)| (hex(*c), *s)).collect();
            check_total(&names, &refs).err().map(|e| e.code())
        };
        assert_eq!(total(&[('a', Some(MAX_BYTES)), ('b', None)]), None);
        assert_eq!(total(&[('a', Some(MAX_BYTES - 1)), ('b', Some(1))]), None);
        let over = Some("blob_batch_too_large");
        assert_eq!(total(&[('a', Some(MAX_BYTES)), ('b', Some(1))]), over);
        // A repeated hash is sent again, so it counts again.
        assert_eq!(
            total(&[('a', Some(MAX_BYTES / 2)), ('a', Some(MAX_BYTES / 2))]),
            None
        );
        assert_eq!(
            total(&[
                ('a', Some(MAX_BYTES / 2 + 1)),
                ('a', Some(MAX_BYTES / 2 + 1))
            ]),
            over
        );
    }
}
