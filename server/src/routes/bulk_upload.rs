//! `POST /api/v1/blobs/bulk`: several blobs in one request (an extension beyond the reference
//! server, `docs/api-extensions.md`).
//!
//! A first upload sends every binary file of a vault. One request each costs a round trip, and
//! the server made each durable on its own: the temp file's fsync, the database commit and
//! the directories' fsyncs, five device cache flushes per blob on a filesystem without a
//! journal. Here a `multipart/form-data` body carries up to [`MAX_BULK_FILES`] `file` parts
//! (at most [`MAX_BULK_BYTES`] of file bytes); each is staged and hashed exactly as a single
//! upload does, then all are made durable together, attached in one writer job (quota, place,
//! rows, in order) and their directories made durable together before the answer. The
//! answer lists the hash and size of every part in order, like the single upload's answer.
//!
//! Refusals are the single upload's: `invalid_multipart` for broken framing, a part that is
//! not a file or more parts than allowed; `blob_too_large` for a file over the blob limit or
//! a body over the bulk limit; `quota_exceeded` when a blob does not fit (the blobs before it
//! in the request stay stored, as if uploaded one by one).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::atomic::Ordering::Relaxed;
use verstak_sync_proto::blob::{MAX_BULK_BYTES, MAX_BULK_FILES};
use verstak_sync_proto::limits::BLOB_REQUEST_OVERHEAD;
use verstak_sync_proto::{BlobBulkResponse, BlobUploadResponse};

use super::blobs::{Staged, idle, is_file_field, multipart_error, open_multipart, quota, stage};
use crate::error::ApiError;
use crate::extract::ScopedDevice;
use crate::reply::json_response;
use crate::state::AppState;
use crate::store::Scope;
use crate::store::blobs::{self, Attach};
use crate::util::time;

const NOT_A_FILE: ApiError =
    ApiError::InvalidMultipart("every part of a bulk upload must be a file field");
const TOO_MANY: ApiError = ApiError::InvalidMultipart("too many files in one bulk upload");
const NONE: ApiError = ApiError::InvalidMultipart("file field is required");

/// The multipart limits: each file at most `max` bytes, the files together [`MAX_BULK_BYTES`].
fn constraints(max: u64) -> multer::Constraints {
    let overhead = BLOB_REQUEST_OVERHEAD as u64;
    let limits = multer::SizeLimit::new()
        .whole_stream(MAX_BULK_BYTES + overhead)
        .per_field(max);
    multer::Constraints::new().size_limit(limits)
}

pub(super) async fn upload(
    State(st): State<AppState>,
    ScopedDevice { scope, .. }: ScopedDevice,
    req: Request,
) -> Result<Response, ApiError> {
    let max = st.config.limits.max_blob_bytes.max(0) as u64;
    let (gate, mut mp) = open_multipart(req, constraints(max))?;
    let mut staged: Vec<Staged> = Vec::new();
    while let Some(field) = idle(gate.next_field(mp.next_field()))
        .await?
        .map_err(multipart_error)?
    {
        if !is_file_field(&field) {
            return Err(NOT_A_FILE);
        }
        if staged.len() == MAX_BULK_FILES {
            return Err(TOO_MANY);
        }
        staged.push(stage(&st, field, max, false).await?);
    }
    if staged.is_empty() {
        return Err(NONE);
    }
    let temps: Vec<_> = staged.iter().map(|s| s.path.clone()).collect();
    let store = st.blobs.clone();
    tokio::task::spawn_blocking(move || store.sync_temps(&temps))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let bytes: u64 = staged.iter().map(|s| s.size).sum();
    st.metrics.blob_upload_bytes.fetch_add(bytes, Relaxed);
    let blobs = commit_all(&st, scope, staged).await?;
    Ok(json_response(StatusCode::OK, &BlobBulkResponse { blobs }))
}

/// Attaches every staged blob in one writer job, in order, then makes the placed ones durable.
async fn commit_all(
    st: &AppState,
    scope: Scope,
    staged: Vec<Staged>,
) -> Result<Vec<BlobUploadResponse>, ApiError> {
    let mut prepared = Vec::with_capacity(staged.len());
    for s in &staged {
        let p = st
            .blobs
            .prepare(&s.path, &s.sha, s.size)
            .await
            .map_err(ApiError::internal)?;
        prepared.push(p);
    }
    let quota = quota(st);
    let store = st.blobs.clone();
    let jobs: Vec<_> = staged
        .iter()
        .zip(&prepared)
        .map(|(s, p)| (s.path.clone(), p.clone(), s.sha.clone(), s.size))
        .collect();
    let outcome = st
        .db
        .write(move |c| {
            let now = time::now_rfc3339();
            let mut placed: Vec<String> = Vec::new();
            let mut outcomes = Vec::with_capacity(jobs.len());
            for (path, ready, sha, size) in &jobs {
                let attached = blobs::attach(
                    c,
                    &scope,
                    (sha, *size as i64),
                    quota,
                    || {
                        let new = store.place(path, ready, sha, *size)?;
                        if new {
                            placed.push(sha.clone());
                        }
                        Ok(new)
                    },
                    || {},
                    &now,
                );
                match attached {
                    Ok(a) => outcomes.push(a),
                    Err(e) => {
                        // The transaction rolls back: nothing this job placed stays.
                        for sha in &placed {
                            store.unplace(sha);
                        }
                        return Err(e);
                    }
                }
                if matches!(outcomes.last(), Some(Attach::QuotaExceeded)) {
                    break;
                }
            }
            Ok(outcomes)
        })
        .await;
    for p in &prepared {
        st.blobs.release(p).await;
    }
    let outcomes = outcome?;
    let mut stored = Vec::with_capacity(staged.len());
    let mut over_quota = false;
    for (mut s, o) in staged
        .into_iter()
        .zip(outcomes.iter().map(Some).chain(std::iter::repeat(None)))
    {
        match o {
            Some(Attach::Added | Attach::Existing) => {
                s.guard.disarm();
                stored.push(BlobUploadResponse {
                    sha256: s.sha,
                    size: s.size as i64,
                });
            }
            Some(Attach::QuotaExceeded) => over_quota = true,
            None => {}
        }
    }
    let shas: Vec<String> = stored.iter().map(|b| b.sha256.clone()).collect();
    let store = st.blobs.clone();
    tokio::task::spawn_blocking(move || store.sync_placed(&shas))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    if over_quota {
        return Err(ApiError::QuotaExceeded);
    }
    Ok(stored)
}
