//! Machine codes of the JSON error body `{"code": …, "error": …}` (spec §2.4) and the body itself.
//!
//! A code never changes once shipped. The human message (`error`) is fixed by the spec per route.

use serde::{Deserialize, Serialize};

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ErrorBody {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub code: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub error: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, error: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            error: error.into(),
        }
    }
}

// Defaults by status (§2.4).
pub const INVALID_REQUEST: &str = "invalid_request";
pub const UNAUTHORIZED: &str = "unauthorized";
pub const FORBIDDEN: &str = "forbidden";
pub const NOT_FOUND: &str = "not_found";
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
pub const REQUEST_TOO_LARGE: &str = "request_too_large";
pub const RATE_LIMITED: &str = "rate_limited";
pub const INTERNAL_ERROR: &str = "internal_error";
/// 507: the server's disk is full; nothing was stored, the request may be retried later.
pub const STORAGE_FULL: &str = "storage_full";

// Body decoding (§2.5).
pub const INVALID_JSON: &str = "invalid_json";
pub const TRAILING_JSON: &str = "trailing_json";

// Passwords and accounts (§6.1, §6.4, §8.1).
pub const PASSWORD_TOO_LONG: &str = "password_too_long";
pub const USERNAME_TAKEN: &str = "username_taken";
pub const EMAIL_TAKEN: &str = "email_taken";
pub const REGISTRATION_DISABLED: &str = "registration_disabled";
pub const CSRF_INVALID: &str = "csrf_invalid";
pub const ONE_TIME_SECRET_EXPIRED: &str = "one_time_secret_expired";

// Push (§4.7, §5.5, §5.8).
pub const TOO_MANY_OPERATIONS: &str = "too_many_operations";
pub const FIELD_TOO_LONG: &str = "field_too_long";
pub const INVALID_OPERATION: &str = "invalid_operation";
pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
pub const INVALID_PAYLOAD: &str = "invalid_payload";
pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
pub const INLINE_BINARY_FORBIDDEN: &str = "inline_binary_forbidden";
pub const INVALID_BLOB_REFERENCE: &str = "invalid_blob_reference";
pub const BLOB_NOT_OWNED: &str = "blob_not_owned";

// Blobs (§4.9, §4.10).
pub const INVALID_MULTIPART: &str = "invalid_multipart";
pub const BLOB_TOO_LARGE: &str = "blob_too_large";
pub const QUOTA_EXCEEDED: &str = "quota_exceeded";
pub const INVALID_BLOB_HASH: &str = "invalid_blob_hash";
pub const BLOB_NOT_FOUND: &str = "blob_not_found";
pub const BLOB_UNAVAILABLE: &str = "blob_unavailable";
/// 413: a batch download names too many blobs, or blobs too large in total (`blob_batch.rs`).
pub const BLOB_BATCH_TOO_LARGE: &str = "blob_batch_too_large";

// Version history (server README "Version history").
/// 409: a save of a merged text named a version that is no longer the file's newest.
pub const VERSION_CONFLICT: &str = "version_conflict";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_round_trips_and_tolerates_null() {
        let b = ErrorBody::new(INVALID_JSON, "invalid JSON request");
        let s = serde_json::to_string(&b).unwrap();
        assert_eq!(
            s,
            r#"{"code":"invalid_json","error":"invalid JSON request"}"#
        );
        let back: ErrorBody = serde_json::from_str(r#"{"code":null,"extra":1}"#).unwrap();
        assert_eq!(back, ErrorBody::default());
    }
}
