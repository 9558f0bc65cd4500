//! `ApiError`: every JSON error the client routes can answer (spec §2.4), with its status,
//! stable machine code and the spec's exact message.
//!
//! `IntoResponse` writes `{"code": code(), "error": to_string()}` plus `\n`. `Internal` logs its
//! cause and always writes the fixed 500 body. 405s carry `Allow`, 429s carry `Retry-After`.
//! A full disk is not an internal error: [`ApiError::internal`] and the `StoreError`
//! conversion recognise it (`ENOSPC`/`EDQUOT`, SQLite's `SQLITE_FULL`) and answer **507**
//! `storage_full`, logged as one line without a backtrace; nothing was stored, so the client
//! may retry once space returns.
//! This type knows nothing of HTML or sessions: the web layer's `WebError` adds the login
//! redirect (§6.6) on top of it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use verstak_sync_proto::codes;

use crate::reply::json_response;

/// `Retry-After` of [`ApiError::TooManyStreams`], in seconds: a stream slot frees only when
/// another stream of the user or IP ends.
pub(crate) const STREAM_RETRY_AFTER: u64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidRequest(&'static str),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    /// `post_required` selects the "POST required" message of the five legacy routes.
    #[error("{}", if *post_required { "POST required" } else { "method not allowed" })]
    MethodNotAllowed {
        allow: &'static str,
        post_required: bool,
    },
    #[error("request body is too large")]
    RequestTooLarge,
    #[error("invalid JSON request")]
    InvalidJson,
    #[error("request must contain one JSON value")]
    TrailingJson,
    #[error("PASSWORD_TOO_LONG")]
    PasswordTooLong,
    #[error("too many operations in one push")]
    TooManyOperations,
    #[error("{0}")]
    FieldTooLong(String),
    #[error("{0}")]
    InvalidOperation(String),
    #[error("operation payload is too large")]
    PayloadTooLarge,
    #[error("operation payload_json must be valid JSON")]
    InvalidPayload,
    #[error("idempotency key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("binary file payload must reference a blob")]
    InlineBinaryForbidden,
    #[error("{0}")]
    InvalidBlobReference(&'static str),
    #[error("blob must be uploaded before its operation")]
    BlobNotOwned,
    #[error("{0}")]
    InvalidMultipart(&'static str),
    #[error("blob is too large")]
    BlobTooLarge,
    #[error("blob quota exceeded")]
    QuotaExceeded,
    #[error("invalid SHA-256")]
    InvalidBlobHash,
    #[error("blob not found")]
    BlobNotFound,
    #[error("blob is unavailable")]
    BlobUnavailable,
    /// A batch download names too many blobs or too many bytes (`routes::blob_batch`).
    #[error("{0}")]
    BlobBatchTooLarge(&'static str),
    #[error("too many attempts")]
    RateLimited { retry_after: u64 },
    /// The client IP is at its connection cap (`crate::conns`); answered with `Retry-After: 1`.
    #[error("too many connections")]
    TooManyConnections,
    /// The user or the client IP holds as many event streams as allowed (`docs/events.md`);
    /// answered with `Retry-After: 30`.
    #[error("too many event streams")]
    TooManyStreams,
    #[error("{0}")]
    Csrf(&'static str),
    #[error("username already taken")]
    UsernameTaken,
    #[error("email already taken")]
    EmailTaken,
    #[error("registration is disabled")]
    RegistrationDisabled,
    #[error("one-time password is no longer available")]
    SecretExpired,
    #[error("session is invalid")]
    SessionInvalid,
    /// A history save named a version that is no longer the file's newest (issue 13).
    #[error("the file has a newer version than the one edited")]
    VersionConflict,
    /// The cause (logged, never sent) of a write refused for lack of disk space.
    #[error("server storage is full; nothing was stored, try again later")]
    StorageFull(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            InvalidRequest(_) => codes::INVALID_REQUEST,
            Unauthorized(_) => codes::UNAUTHORIZED,
            Forbidden(_) => codes::FORBIDDEN,
            NotFound(_) => codes::NOT_FOUND,
            MethodNotAllowed { .. } => codes::METHOD_NOT_ALLOWED,
            RequestTooLarge => codes::REQUEST_TOO_LARGE,
            InvalidJson => codes::INVALID_JSON,
            TrailingJson => codes::TRAILING_JSON,
            PasswordTooLong => codes::PASSWORD_TOO_LONG,
            TooManyOperations => codes::TOO_MANY_OPERATIONS,
            FieldTooLong(_) => codes::FIELD_TOO_LONG,
            InvalidOperation(_) => codes::INVALID_OPERATION,
            PayloadTooLarge => codes::PAYLOAD_TOO_LARGE,
            InvalidPayload => codes::INVALID_PAYLOAD,
            IdempotencyKeyReused => codes::IDEMPOTENCY_KEY_REUSED,
            InlineBinaryForbidden => codes::INLINE_BINARY_FORBIDDEN,
            InvalidBlobReference(_) => codes::INVALID_BLOB_REFERENCE,
            BlobNotOwned => codes::BLOB_NOT_OWNED,
            InvalidMultipart(_) => codes::INVALID_MULTIPART,
            BlobTooLarge => codes::BLOB_TOO_LARGE,
            QuotaExceeded => codes::QUOTA_EXCEEDED,
            InvalidBlobHash => codes::INVALID_BLOB_HASH,
            BlobNotFound => codes::BLOB_NOT_FOUND,
            BlobUnavailable => codes::BLOB_UNAVAILABLE,
            BlobBatchTooLarge(_) => codes::BLOB_BATCH_TOO_LARGE,
            RateLimited { .. } | TooManyConnections => codes::RATE_LIMITED,
            TooManyStreams => verstak_sync_proto::events::TOO_MANY_STREAMS,
            Csrf(_) => codes::CSRF_INVALID,
            UsernameTaken => codes::USERNAME_TAKEN,
            EmailTaken => codes::EMAIL_TAKEN,
            RegistrationDisabled => codes::REGISTRATION_DISABLED,
            SecretExpired => codes::ONE_TIME_SECRET_EXPIRED,
            SessionInvalid => "session_invalid",
            VersionConflict => codes::VERSION_CONFLICT,
            StorageFull(_) => codes::STORAGE_FULL,
            Internal(_) => codes::INTERNAL_ERROR,
        }
    }

    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Forbidden(_) | Csrf(_) | RegistrationDisabled | SessionInvalid => StatusCode::FORBIDDEN,
            UsernameTaken | EmailTaken | VersionConflict => StatusCode::CONFLICT,
            SecretExpired => StatusCode::GONE,
            NotFound(_) | BlobNotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            RequestTooLarge | TooManyOperations | PayloadTooLarge | BlobTooLarge
            | QuotaExceeded | BlobBatchTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            IdempotencyKeyReused => StatusCode::CONFLICT,
            RateLimited { .. } | TooManyConnections | TooManyStreams => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Internal(_) | BlobUnavailable => StatusCode::INTERNAL_SERVER_ERROR,
            StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Wraps any internal failure; the cause is logged, never sent. A full disk anywhere in
    /// the cause's chain makes it [`ApiError::StorageFull`] instead.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        let e = e.into();
        if e.chain().any(is_storage_full) {
            ApiError::StorageFull(format!("{e:#}"))
        } else {
            ApiError::Internal(e)
        }
    }
}

/// Whether one error (not its sources) says the disk or the quota is full.
fn is_storage_full(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return is_full_io(io);
    }
    if let Some(st) = e.downcast_ref::<crate::store::StoreError>() {
        return st.is_storage_full();
    }
    if let Some(sq) = e.downcast_ref::<rusqlite::Error>() {
        return crate::store::is_disk_full(sq);
    }
    false
}

/// `ENOSPC` or `EDQUOT`.
pub(crate) fn is_full_io(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            ApiError::StorageFull(cause) => tracing::warn!(cause, "storage full: write refused"),
            ApiError::BlobUnavailable => tracing::error!("blob file unavailable"),
            other => tracing::debug!(code = other.code(), "client error"),
        }
        let body = verstak_sync_proto::ErrorBody::new(self.code(), self.to_string());
        let mut resp = json_response(self.status(), &body);
        match self {
            ApiError::MethodNotAllowed { allow, .. } => {
                resp.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            ApiError::RateLimited { retry_after } => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
            }
            ApiError::TooManyStreams => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(STREAM_RETRY_AFTER));
            }
            ApiError::TooManyConnections => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_match_the_spec_tables() {
        let table: Vec<(ApiError, u16, &str, &str)> = vec![
            (
                ApiError::InvalidRequest("vault_id required"),
                400,
                "invalid_request",
                "vault_id required",
            ),
            (
                ApiError::Unauthorized("device revoked"),
                401,
                "unauthorized",
                "device revoked",
            ),
            (
                ApiError::Forbidden("user blocked"),
                403,
                "forbidden",
                "user blocked",
            ),
            (
                ApiError::NotFound("not found"),
                404,
                "not_found",
                "not found",
            ),
            (
                ApiError::MethodNotAllowed {
                    allow: "POST",
                    post_required: true,
                },
                405,
                "method_not_allowed",
                "POST required",
            ),
            (
                ApiError::MethodNotAllowed {
                    allow: "GET",
                    post_required: false,
                },
                405,
                "method_not_allowed",
                "method not allowed",
            ),
            (
                ApiError::RequestTooLarge,
                413,
                "request_too_large",
                "request body is too large",
            ),
            (
                ApiError::InvalidJson,
                400,
                "invalid_json",
                "invalid JSON request",
            ),
            (
                ApiError::TrailingJson,
                400,
                "trailing_json",
                "request must contain one JSON value",
            ),
            (
                ApiError::PasswordTooLong,
                400,
                "password_too_long",
                "PASSWORD_TOO_LONG",
            ),
            (
                ApiError::TooManyOperations,
                413,
                "too_many_operations",
                "too many operations in one push",
            ),
            (
                ApiError::PayloadTooLarge,
                413,
                "payload_too_large",
                "operation payload is too large",
            ),
            (
                ApiError::InvalidPayload,
                400,
                "invalid_payload",
                "operation payload_json must be valid JSON",
            ),
            (
                ApiError::IdempotencyKeyReused,
                409,
                "idempotency_key_reused",
                "idempotency key was already used with a different request",
            ),
            (
                ApiError::InlineBinaryForbidden,
                400,
                "inline_binary_forbidden",
                "binary file payload must reference a blob",
            ),
            (
                ApiError::BlobNotOwned,
                400,
                "blob_not_owned",
                "blob must be uploaded before its operation",
            ),
            (
                ApiError::BlobTooLarge,
                413,
                "blob_too_large",
                "blob is too large",
            ),
            (
                ApiError::QuotaExceeded,
                413,
                "quota_exceeded",
                "blob quota exceeded",
            ),
            (
                ApiError::InvalidBlobHash,
                400,
                "invalid_blob_hash",
                "invalid SHA-256",
            ),
            (
                ApiError::BlobNotFound,
                404,
                "blob_not_found",
                "blob not found",
            ),
            (
                ApiError::BlobUnavailable,
                500,
                "blob_unavailable",
                "blob is unavailable",
            ),
            (
                ApiError::BlobBatchTooLarge("a batch may name at most 1000 blobs"),
                413,
                "blob_batch_too_large",
                "a batch may name at most 1000 blobs",
            ),
            (
                ApiError::RateLimited { retry_after: 3 },
                429,
                "rate_limited",
                "too many attempts",
            ),
            (
                ApiError::TooManyConnections,
                429,
                "rate_limited",
                "too many connections",
            ),
            (
                ApiError::TooManyStreams,
                429,
                "too_many_streams",
                "too many event streams",
            ),
            (
                ApiError::Csrf("CSRF token is required"),
                403,
                "csrf_invalid",
                "CSRF token is required",
            ),
            (
                ApiError::UsernameTaken,
                409,
                "username_taken",
                "username already taken",
            ),
            (
                ApiError::EmailTaken,
                409,
                "email_taken",
                "email already taken",
            ),
            (
                ApiError::VersionConflict,
                409,
                "version_conflict",
                "the file has a newer version than the one edited",
            ),
            (
                ApiError::RegistrationDisabled,
                403,
                "registration_disabled",
                "registration is disabled",
            ),
            (
                ApiError::SecretExpired,
                410,
                "one_time_secret_expired",
                "one-time password is no longer available",
            ),
            (
                ApiError::SessionInvalid,
                403,
                "session_invalid",
                "session is invalid",
            ),
            (
                ApiError::internal(anyhow::anyhow!("secret path")),
                500,
                "internal_error",
                "internal error",
            ),
            (
                ApiError::StorageFull("sqlite: database or disk is full".into()),
                507,
                "storage_full",
                "server storage is full; nothing was stored, try again later",
            ),
        ];
        for (e, status, code, msg) in table {
            assert_eq!(e.status().as_u16(), status, "{e:?}");
            assert_eq!(e.code(), code);
            assert_eq!(e.to_string(), msg);
        }
    }

    #[test]
    fn a_full_disk_is_storage_full_wherever_it_is_reported() {
        use crate::store::StoreError;
        let enospc = || std::io::Error::from_raw_os_error(libc::ENOSPC);
        let full = |e: ApiError| matches!(e, ApiError::StorageFull(_));
        assert!(full(ApiError::internal(enospc())));
        assert!(full(ApiError::internal(
            anyhow::Error::from(enospc()).context("writing the upload")
        )));
        assert!(full(StoreError::Io(enospc()).into()));
        assert!(full(ApiError::internal(std::io::Error::from_raw_os_error(
            libc::EDQUOT
        ))));
        let sqlite_full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(full(StoreError::Sqlite(sqlite_full).into()));
        assert!(full(StoreError::StorageFull("commit".into()).into()));
        assert!(!full(StoreError::Commit("busy".into()).into()));
        assert!(!full(ApiError::internal(
            std::io::Error::from_raw_os_error(libc::EACCES)
        )));
    }
}
