//! Blob upload (spec §4.9) and the method router for everything under `/api/v1/blobs/`.
//!
//! Authentication runs before the method check here. An upload streams the first multipart
//! part into `blobs/.upload-<rand>` while hashing it, fsyncs it, checks that no further part
//! follows, and then attaches it to the scope in one writer job (quota, rename into place,
//! rows). The temp file is removed on every path that does not rename it, including a client
//! that disconnects mid-upload.

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
use crate::error::ApiError;
use crate::extract::ScopedDevice;
use crate::http::json_response;
use crate::state::AppState;
use crate::store::blobs::{self, Attach, Quota};
use crate::util::time;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::BLOBS, methods())
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
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

const IDLE: Duration = Duration::from_secs(60);
const BAD: ApiError = ApiError::InvalidMultipart("invalid multipart request");
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

/// The first part must be the `file` field with a non-empty file name.
pub(crate) fn check_file_field(field: &multer::Field<'_>) -> Result<(), ApiError> {
    if field.name() != Some(UPLOAD_FIELD) || field.file_name().is_none_or(str::is_empty) {
        return Err(ONE_FILE);
    }
    Ok(())
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

async fn upload(
    State(st): State<AppState>,
    ScopedDevice { scope }: ScopedDevice,
    req: Request,
) -> Result<Response, ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = upload_boundary(ct)?;
    let max = st.config.limits.max_blob_bytes.max(0) as u64;
    let mut mp = multer::Multipart::with_constraints(
        req.into_body().into_data_stream(),
        boundary,
        upload_constraints(max),
    );
    let mut field = match tokio::time::timeout(IDLE, mp.next_field())
        .await
        .map_err(|_| BAD)?
    {
        Ok(Some(f)) => f,
        Ok(None) => return Err(ApiError::InvalidMultipart("file field is required")),
        Err(e) => return Err(multipart_error(e)),
    };
    check_file_field(&field)?;
    let (path, file) = st.blobs.create_temp().map_err(ApiError::internal)?;
    let mut guard = TempGuard(Some(path.clone()));
    let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::from_std(file));
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    loop {
        let chunk = match tokio::time::timeout(IDLE, field.chunk())
            .await
            .map_err(|_| BAD)?
        {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(e)),
        };
        size += chunk.len() as u64;
        if size > max {
            return Err(ApiError::BlobTooLarge);
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    drop(field);
    file.flush().await.map_err(ApiError::internal)?;
    let file = file.into_inner();
    file.sync_all().await.map_err(ApiError::internal)?;
    drop(file);
    no_more_fields(
        tokio::time::timeout(IDLE, mp.next_field())
            .await
            .map_err(|_| BAD)?,
    )?;
    let sha = hex::encode(hasher.finalize());
    st.metrics.blob_upload_bytes.fetch_add(size, Relaxed);
    let quota = Quota {
        vault_max: st.config.limits.max_vault_blob_bytes,
        user_max: st.config.limits.max_user_blob_bytes,
    };
    let (store, store2, sha1, sha2, temp) = (
        st.blobs.clone(),
        st.blobs.clone(),
        sha.clone(),
        sha.clone(),
        path,
    );
    let sz = size as i64;
    let outcome = st
        .db
        .write(move |c| {
            blobs::attach(
                c,
                &scope,
                (&sha1, sz),
                quota,
                || store.place(&temp, &sha1, size),
                || store2.unplace(&sha2),
                &time::now_rfc3339(),
            )
        })
        .await?;
    match outcome {
        // Renamed into place (or dropped as a duplicate).
        Attach::Added | Attach::Existing => guard.0 = None,
        Attach::QuotaExceeded => return Err(ApiError::QuotaExceeded),
    }
    drop(guard);
    let (blobs, sha3) = (st.blobs.clone(), sha.clone());
    tokio::task::spawn_blocking(move || blobs.sync_placed(&sha3))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(json_response(
        StatusCode::OK,
        &BlobUploadResponse {
            sha256: sha,
            size: size as i64,
        },
    ))
}
