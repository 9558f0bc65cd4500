//! Limits (spec §1.7): the configurable ones with their defaults, and the fixed field limits.
//! Clients hold themselves to the defaults: the engine's pull page and push batch are at most
//! [`DEFAULT_MAX_PULL_PAGE`] and [`DEFAULT_MAX_PUSH_OPERATIONS`], and its inline payloads at most
//! [`DEFAULT_MAX_PAYLOAD_JSON`] bytes (plugin-contract §4.6, §4.9, §4.10).

use serde::{Deserialize, Serialize};

/// The configurable limits (`limits:` in `config.yml`). `Default` gives the spec defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_json_body: i64,
    pub max_push_operations: i64,
    pub max_payload_json: i64,
    pub max_pull_page: i64,
    pub max_blob_bytes: i64,
    pub max_vault_blob_bytes: i64,
    pub max_user_blob_bytes: i64,
}

pub const DEFAULT_MAX_JSON_BODY: i64 = 2 * 1024 * 1024;
pub const DEFAULT_MAX_PUSH_OPERATIONS: i64 = 100;
pub const DEFAULT_MAX_PAYLOAD_JSON: i64 = 256 * 1024;
pub const DEFAULT_MAX_PULL_PAGE: i64 = 100;
pub const DEFAULT_MAX_BLOB_BYTES: i64 = 256 * 1024 * 1024;
pub const DEFAULT_MAX_VAULT_BLOB_BYTES: i64 = 4 * 1024 * 1024 * 1024;
pub const DEFAULT_MAX_USER_BLOB_BYTES: i64 = 8 * 1024 * 1024 * 1024;

/// A blob upload request may be this much larger than `max_blob_bytes` (multipart framing).
pub const BLOB_REQUEST_OVERHEAD: i64 = 1024 * 1024;

/// Files larger than this are never synced (plugin-contract §4.7): the default blob limit.
pub const MAX_FILE_BYTES: u64 = DEFAULT_MAX_BLOB_BYTES as u64;
/// A file's text goes inline as `content` only up to this size (plugin-contract §4.6).
pub const MAX_TEXT_BYTES: u64 = 2 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_json_body: DEFAULT_MAX_JSON_BODY,
            max_push_operations: DEFAULT_MAX_PUSH_OPERATIONS,
            max_payload_json: DEFAULT_MAX_PAYLOAD_JSON,
            max_pull_page: DEFAULT_MAX_PULL_PAGE,
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
            max_vault_blob_bytes: DEFAULT_MAX_VAULT_BLOB_BYTES,
            max_user_blob_bytes: DEFAULT_MAX_USER_BLOB_BYTES,
        }
    }
}

impl Limits {
    /// Replaces every value ≤ 0 by its default (§1.6 normalisation).
    pub fn normalized(self) -> Self {
        let d = Self::default();
        let pick = |v: i64, dv: i64| if v <= 0 { dv } else { v };
        Self {
            max_json_body: pick(self.max_json_body, d.max_json_body),
            max_push_operations: pick(self.max_push_operations, d.max_push_operations),
            max_payload_json: pick(self.max_payload_json, d.max_payload_json),
            max_pull_page: pick(self.max_pull_page, d.max_pull_page),
            max_blob_bytes: pick(self.max_blob_bytes, d.max_blob_bytes),
            max_vault_blob_bytes: pick(self.max_vault_blob_bytes, d.max_vault_blob_bytes),
            max_user_blob_bytes: pick(self.max_user_blob_bytes, d.max_user_blob_bytes),
        }
    }
}

/// Fixed limits, in bytes of UTF-8.
pub mod fixed {
    pub const PUSH_DEVICE_ID: usize = 128;
    pub const IDEMPOTENCY_KEY: usize = 128;
    pub const OP_ID: usize = 128;
    pub const ENTITY_TYPE: usize = 64;
    pub const ENTITY_ID: usize = 4096;
    pub const OP_TYPE: usize = 64;
    pub const LOGIN: usize = 320;
    pub const DEVICE_NAME: usize = 128;
    pub const CLIENT_VERSION: usize = 256;
    pub const VAULT_ID: usize = 256;
    pub const USERNAME: usize = 320;
    pub const EMAIL: usize = 254;
    pub const PASSWORD_MIN: usize = 8;
    pub const PASSWORD_MAX: usize = 72;
    pub const DEVICE_TOKEN_HEX: usize = 64;
    pub const SHA256_HEX: usize = 64;
    /// What a blob upload may send before the first part's body starts, or between two parts:
    /// preamble, boundary line and part headers together. Clients send a few hundred bytes.
    pub const PART_HEADER: usize = 8 * 1024;
    /// Vault ids starting with this prefix are reserved for adopted legacy devices.
    pub const LEGACY_VAULT_PREFIX: &str = "legacy:";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_positive_limits_fall_back_to_defaults() {
        let l = Limits {
            max_pull_page: 0,
            max_blob_bytes: -1,
            max_push_operations: 7,
            ..Limits::default()
        };
        let n = l.normalized();
        assert_eq!(n.max_pull_page, DEFAULT_MAX_PULL_PAGE);
        assert_eq!(n.max_blob_bytes, DEFAULT_MAX_BLOB_BYTES);
        assert_eq!(n.max_push_operations, 7);
    }
}
