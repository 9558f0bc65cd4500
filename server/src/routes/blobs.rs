//! Blob upload (spec §4.9) and the method router for everything under `/api/v1/blobs/`.
//!
//! Authentication runs before the method check here. [`upload`] runs these steps:
//!
//! 1. [`upload_boundary`] from the content type, then the first part ([`first_field`]) must be
//!    the file field ([`check_file_field`]); the body is read through a [`HeaderGate`], so
//!    part headers over `PART_HEADER` bytes are broken framing (400) and never held whole;
//! 2. [`stage`] streams it into a `.upload-<rand>` temp file (in `blobs/`, or `uploads/` when
//!    blobs are in S3) while [`BlobDigest`] hashes and counts it, then fsyncs it;
//! 3. [`no_more_fields`] checks that no further part follows;
//! 4. [`commit`] gets it ready for the blob store (an S3 store uploads it to a staging
//!    object), attaches it to the scope in one writer job (quota, place, rows) and makes the
//!    placed blob durable (the folder fsyncs its directory).
//!
//! The temp file is removed on every path that does not rename it, including a client that
//! disconnects mid-upload ([`TempGuard`]). The pure steps are shared with
//! `crate::fuzzing::upload`, which runs them over an in-memory body.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::{MethodRouter, any};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use verstak_sync_proto::limits::BLOB_REQUEST_OVERHEAD;
use verstak_sync_proto::{BlobUploadResponse, blob::UPLOAD_FIELD, paths};

use super::download::download;
use super::not_allowed;
use super::part_headers::HeaderGate;
use crate::error::ApiError;
use crate::extract::ScopedDevice;
use crate::reply::json_response;
use crate::state::AppState;
use crate::store::Scope;
use crate::store::blobs::{self, Attach, Quota};
use crate::util::time;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::BLOBS, methods())
        .route(
            paths::BLOBS_BULK,
            any(|_: ScopedDevice| async { not_allowed("POST") }).post(super::bulk_upload::upload),
        )
        .route(&format!("{}{{*rest}}", paths::BLOBS), methods())
}

/// POST uploads, GET and HEAD download. Authentication and scope come before the method
/// check here (§4.9, §4.10), so other methods are refused only after [`ScopedDevice`].
fn methods() -> MethodRouter<AppState> {
    any(|_: ScopedDevice| async { not_allowed("GET, POST") })
        .post(upload)
        .get(download)
}

/// Deletes the temp file when dropped, unless it was handed on.
pub(super) struct TempGuard(Option<PathBuf>);

impl TempGuard {
    /// The file was renamed into place (or dropped as a duplicate): nothing to delete.
    pub(super) fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

const IDLE: Duration = Duration::from_secs(60);
pub(super) const BAD: ApiError = ApiError::InvalidMultipart("invalid multipart request");
const ONE_FILE: ApiError = ApiError::InvalidMultipart("exactly one file field is required");

/// A multer error while reading the file field.
pub(crate) fn multipart_error(e: multer::Error) -> ApiError {
    match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            ApiError::BlobTooLarge
        }
        _ => BAD,
    }
}

// The pure steps of an upload, shared with `crate::fuzzing::upload` (which runs them over an
// in-memory body): content type to boundary, size limits, the file-field check, and what may
// follow the file field.

/// The boundary of a `multipart/form-data` content type, or 400 `invalid_multipart`.
pub(crate) fn upload_boundary(ct: &str) -> Result<String, ApiError> {
    let is_form = ct
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data");
    multer::parse_boundary(ct)
        .ok()
        .filter(|_| is_form)
        .ok_or(BAD)
}

/// The multipart limits for a blob of at most `max` bytes.
pub(crate) fn upload_constraints(max: u64) -> multer::Constraints {
    let limits = multer::SizeLimit::new()
        .whole_stream(max + BLOB_REQUEST_OVERHEAD as u64)
        .per_field(max);
    multer::Constraints::new().size_limit(limits)
}

/// The first part of the body: none at all is 400 `file field is required`.
pub(crate) fn first_field(
    next: Result<Option<multer::Field<'_>>, multer::Error>,
) -> Result<multer::Field<'_>, ApiError> {
    match next {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Err(ApiError::InvalidMultipart("file field is required")),
        Err(e) => Err(multipart_error(e)),
    }
}

/// The SHA-256 and size of the file field so far; more than `max` bytes is 413.
pub(crate) struct BlobDigest {
    hasher: Sha256,
    size: u64,
    max: u64,
}

impl BlobDigest {
    pub(crate) fn new(max: u64) -> BlobDigest {
        BlobDigest {
            hasher: Sha256::new(),
            size: 0,
            max,
        }
    }

    /// Counts and hashes the next chunk (counted first, so a chunk past the limit is refused
    /// before it is hashed or written).
    pub(crate) fn update(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.size += chunk.len() as u64;
        if self.size > self.max {
            return Err(ApiError::BlobTooLarge);
        }
        self.hasher.update(chunk);
        Ok(())
    }

    /// The lowercase hex SHA-256 and the size.
    pub(crate) fn finish(self) -> (String, u64) {
        (hex::encode(self.hasher.finalize()), self.size)
    }
}

/// The first part must be the `file` field with a non-empty file name.
pub(crate) fn check_file_field(field: &multer::Field<'_>) -> Result<(), ApiError> {
    if !is_file_field(field) {
        return Err(ONE_FILE);
    }
    Ok(())
}

/// A part named `file` with a file name: what the single and the bulk upload accept.
pub(crate) fn is_file_field(field: &multer::Field<'_>) -> bool {
    field.name() == Some(UPLOAD_FIELD) && field.file_name().is_some_and(|n| !n.is_empty())
}

/// What follows the file field: the end of the body, or an error.
pub(crate) fn no_more_fields(
    next: Result<Option<multer::Field<'_>>, multer::Error>,
) -> Result<(), ApiError> {
    match next {
        Ok(None) => Ok(()),
        Ok(Some(_)) => Err(ONE_FILE),
        Err(e) => Err(match multipart_error(e) {
            ApiError::BlobTooLarge => ApiError::BlobTooLarge,
            _ => ONE_FILE,
        }),
    }
}

/// An upload's body as `multipart/form-data` within `limits`, read through a [`HeaderGate`]
/// (returned too: it bounds each part's headers), or 400 `invalid_multipart`.
pub(super) fn open_multipart(
    req: Request,
    limits: multer::Constraints,
) -> Result<(HeaderGate, multer::Multipart<'static>), ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = upload_boundary(ct)?;
    let gate = HeaderGate::default();
    let body = gate.wrap(req.into_body().into_data_stream());
    Ok((
        gate,
        multer::Multipart::with_constraints(body, boundary, limits),
    ))
}

async fn upload(
    State(st): State<AppState>,
    ScopedDevice { scope, .. }: ScopedDevice,
    req: Request,
) -> Result<Response, ApiError> {
    let max = st.config.limits.max_blob_bytes.max(0) as u64;
    let (gate, mut mp) = open_multipart(req, upload_constraints(max))?;
    let field = first_field(idle(gate.next_field(mp.next_field())).await?)?;
    check_file_field(&field)?;
    let staged = stage(&st, field, max, true).await?;
    no_more_fields(idle(gate.next_field(mp.next_field())).await?)?;
    st.metrics.blob_upload_bytes.fetch_add(staged.size, Relaxed);
    let (sha256, size) = commit(&st, scope, staged).await?;
    Ok(json_response(
        StatusCode::OK,
        &BlobUploadResponse {
            sha256,
            size: size as i64,
        },
    ))
}

/// `fut`, or 400 `invalid multipart request` when the client sends nothing for [`IDLE`].
pub(super) async fn idle<T>(fut: impl Future<Output = T>) -> Result<T, ApiError> {
    tokio::time::timeout(IDLE, fut).await.map_err(|_| BAD)
}

/// A fully written temp file (deleted with `guard` unless committed), with its hash and size.
pub(super) struct Staged {
    pub(super) path: PathBuf,
    pub(super) guard: TempGuard,
    pub(super) sha: String,
    pub(super) size: u64,
}

/// Streams the file field into a new temp file, hashing and counting it; with `durable`, then
/// fsyncs it (a bulk upload makes its files durable together).
pub(super) async fn stage(
    st: &AppState,
    mut field: multer::Field<'_>,
    max: u64,
    durable: bool,
) -> Result<Staged, ApiError> {
    let (path, file) = st.blobs.create_temp().map_err(ApiError::internal)?;
    let guard = TempGuard(Some(path.clone()));
    let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::from_std(file));
    let mut digest = BlobDigest::new(max);
    while let Some(chunk) = idle(field.chunk()).await?.map_err(multipart_error)? {
        digest.update(&chunk)?;
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    drop(field);
    file.flush().await.map_err(ApiError::internal)?;
    if durable {
        file.into_inner()
            .sync_all()
            .await
            .map_err(ApiError::internal)?;
    }
    let (sha, size) = digest.finish();
    Ok(Staged {
        path,
        guard,
        sha,
        size,
    })
}

/// The blob quotas of the configuration.
pub(super) fn quota(st: &AppState) -> Quota {
    Quota {
        vault_max: st.config.limits.max_vault_blob_bytes,
        user_max: st.config.limits.max_user_blob_bytes,
    }
}

/// Attaches the staged blob to the scope (quota, rename into place, rows: one writer job),
/// then fsyncs the placed file's directory. Returns the hash and size.
async fn commit(st: &AppState, scope: Scope, staged: Staged) -> Result<(String, u64), ApiError> {
    let Staged {
        path,
        mut guard,
        sha,
        size,
    } = staged;
    let quota = quota(st);
    let prepared = st
        .blobs
        .prepare(&path, &sha, size)
        .await
        .map_err(ApiError::internal)?;
    let (store, store2, sha1, sha2) =
        (st.blobs.clone(), st.blobs.clone(), sha.clone(), sha.clone());
    let ready = prepared.clone();
    let outcome = st
        .db
        .write(move |c| {
            blobs::attach(
                c,
                &scope,
                (&sha1, size as i64),
                quota,
                || store.place(&path, &ready, &sha1, size),
                || store2.unplace(&sha2),
                &time::now_rfc3339(),
            )
        })
        .await;
    st.blobs.release(&prepared).await;
    let outcome = outcome?;
    match outcome {
        Attach::Added | Attach::Existing => guard.disarm(),
        Attach::QuotaExceeded => return Err(ApiError::QuotaExceeded),
    }
    drop(guard);
    let (blobs, placed) = (st.blobs.clone(), [sha.clone()]);
    tokio::task::spawn_blocking(move || blobs.sync_placed(&placed))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok((sha, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_hashes_counts_and_stops_at_the_limit() {
        let mut d = BlobDigest::new(3);
        d.update(b"ab").unwrap();
        d.update(b"c").unwrap();
        let (sha, size) = d.finish();
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(size, 3);
        let mut d = BlobDigest::new(3);
        d.update(b"ab").unwrap();
        assert!(matches!(d.update(b"cd"), Err(ApiError::BlobTooLarge)));
        let empty = BlobDigest::new(0).finish();
        assert_eq!(empty.1, 0);
        assert!(empty.0.starts_with("e3b0c442"));
    }
}
