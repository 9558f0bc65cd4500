//! Blob upload response (spec §4.9). Uploads are multipart with one part named `file`;
//! downloads are `GET /api/v1/blobs/<sha256>` returning raw bytes.

use serde::{Deserialize, Serialize};

/// `POST /api/v1/blobs/` response: the hash and size the server computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BlobUploadResponse {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub sha256: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub size: i64,
}

/// The multipart form field name of an upload.
pub const UPLOAD_FIELD: &str = "file";

/// True when `s` is exactly 64 lowercase hex characters.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_is_strict() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex(&"A".repeat(64)));
        assert!(!is_sha256_hex(&"a".repeat(63)));
        assert!(!is_sha256_hex(&"g".repeat(64)));
    }
}
