//! Client route paths (spec §4). Blob downloads append the lowercase hex SHA-256 to [`BLOBS`].

use crate::hash::Sha256Hex;

pub const PAIR: &str = "/api/client/pair";
pub const DEVICE_REGISTER: &str = "/api/v1/device/register";
pub const AUTH_TEST: &str = "/api/auth/test";
pub const ME: &str = "/api/client/me";
pub const REVOKE_CURRENT: &str = "/api/client/revoke-current";
pub const REVOKE_DEVICE: &str = "/api/client/revoke-device";
pub const PUSH: &str = "/api/v1/sync/push";
pub const PULL: &str = "/api/v1/sync/pull";
/// Upload with POST here; download with GET `BLOBS` + sha256. Always the slashed form.
pub const BLOBS: &str = "/api/v1/blobs/";
/// Several blobs uploaded in one request (an extension: `docs/api-extensions.md`).
pub const BLOBS_BULK: &str = "/api/v1/blobs/bulk";
/// Download many small blobs in one request (an addition, `blob_batch.rs`). Outside
/// [`BLOBS`], where every POST is an upload (§4.9): a server without the route answers 404.
pub const BLOB_BATCH: &str = "/api/v1/blob-batch";
/// Version history of a path (issue #13; `history.rs`).
pub const HISTORY_VERSIONS: &str = "/api/v1/history/versions";
/// Restorable deleted files.
pub const HISTORY_DELETED: &str = "/api/v1/history/deleted";
/// The bytes of one version.
pub const HISTORY_CONTENT: &str = "/api/v1/history/content";
/// Restore a version on the server.
pub const HISTORY_RESTORE: &str = "/api/v1/history/restore";
pub const HEALTH: &str = "/api/v1/health";
pub const READYZ: &str = "/readyz";
pub const LIVEZ: &str = "/livez";
pub const METRICS: &str = "/metrics";

/// The download path of a blob: `/api/v1/blobs/<sha256>`.
pub fn blob(sha256: &Sha256Hex) -> String {
    format!("{BLOBS}{sha256}")
}

/// The hash named by a download path, when the path is [`BLOBS`] followed by a valid hash.
pub fn blob_hash(path: &str) -> Option<Sha256Hex> {
    Sha256Hex::parse(path.strip_prefix(BLOBS)?).ok()
}
