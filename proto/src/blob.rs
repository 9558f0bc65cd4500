//! Blobs (spec §4.9): the upload response, and [`BlobRef`], the reference a file payload
//! carries instead of inline bytes. Uploads are multipart with one part named `file`;
//! downloads are `GET` [`crate::paths::blob`] returning raw bytes.

use serde::{Deserialize, Serialize};

use crate::hash::Sha256Hex;
pub use crate::hash::is_sha256_hex;

/// `POST /api/v1/blobs/` response: the hash and size the server computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BlobUploadResponse {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub sha256: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub size: i64,
}

/// `POST /api/v1/blobs/bulk` response: one entry per uploaded file, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BlobBulkResponse {
    #[serde(default)]
    pub blobs: Vec<BlobUploadResponse>,
}

/// The most files one bulk upload may carry.
pub const MAX_BULK_FILES: usize = 256;
/// The most file bytes one bulk upload may carry (larger files go one per request).
pub const MAX_BULK_BYTES: u64 = 16 * 1024 * 1024;

/// The multipart form field name of an upload.
pub const UPLOAD_FIELD: &str = "file";

/// `{"sha256", "size"}` inside a file payload: an uploaded blob of `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    pub sha256: Sha256Hex,
    pub size: u64,
}
