//! Version history (issue #13, `docs/api-extensions.md`): the device routes under
//! [`crate::paths::HISTORY_VERSIONS`], [`crate::paths::HISTORY_DELETED`] and
//! [`crate::paths::HISTORY_CONTENT`], and their JSON bodies.
//!
//! A version of a path is one stored `file` op of the scope: a `create`/`update` (text inline or
//! a blob), a `delete`, or a `move` (listed under both paths). Its number is its server sequence.

use serde::{Deserialize, Serialize};

/// `kind` of a version whose content is inline text.
pub const KIND_TEXT: &str = "text";
/// `kind` of a version whose content is a blob.
pub const KIND_BINARY: &str = "binary";
/// `kind` of a deletion.
pub const KIND_DELETED: &str = "deleted";

/// The header of a content download carrying the content's SHA-256 (hex).
pub const CONTENT_SHA256_HEADER: &str = "X-Content-SHA256";

/// One version of a path (`V` in the history routes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Version {
    /// The op's server sequence.
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub version: i64,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub op_id: String,
    /// RFC 3339 UTC: when the server received the op.
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub time: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_id: String,
    /// The device's name; `""` when the device is gone.
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device: String,
    /// Content bytes; `None` for a deletion.
    #[serde(default)]
    pub size: Option<u64>,
    /// Lowercase hex SHA-256 of the content; `""` for a deletion.
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub sha256: String,
    /// [`KIND_TEXT`], [`KIND_BINARY`] or [`KIND_DELETED`].
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub kind: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub deleted: bool,
    #[serde(default)]
    pub renamed_from: Option<String>,
    #[serde(default)]
    pub renamed_to: Option<String>,
}

/// `GET /api/v1/history/versions?path=P[&limit=N]`: the versions of `path`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VersionsResponse {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub path: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub versions: Vec<Version>,
}

/// A file whose latest op is a deletion and whose last live version is still stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeletedFile {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub path: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub deletion: Version,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub last: Version,
}

/// `GET /api/v1/history/deleted[?limit=N]`: newest deletion first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeletedResponse {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub files: Vec<DeletedFile>,
}

/// `POST /api/v1/history/restore` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RestoreRequest {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub path: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub version: i64,
}

/// `POST /api/v1/history/restore` answer: the path's new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RestoreResponse {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub path: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub version: i64,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub op_id: String,
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The request path of the versions of `path` (`limit` 0: the server's default).
pub fn versions_path(path: &str, limit: u32) -> String {
    let mut p = format!(
        "{}?path={}",
        crate::paths::HISTORY_VERSIONS,
        query_value(path)
    );
    if limit > 0 {
        p.push_str(&format!("&limit={limit}"));
    }
    p
}

/// The request path of the deleted files (`limit` 0: the server's default).
pub fn deleted_path(limit: u32) -> String {
    match limit {
        0 => crate::paths::HISTORY_DELETED.to_string(),
        n => format!("{}?limit={n}", crate::paths::HISTORY_DELETED),
    }
}

/// The request path of the content of `version` of `path`.
pub fn content_path(path: &str, version: i64) -> String {
    format!(
        "{}?path={}&version={version}",
        crate::paths::HISTORY_CONTENT,
        query_value(path)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_reads_the_contract_shape_and_deletions_have_no_size() {
        let v: Version = serde_json::from_str(
            r#"{"version":12,"op_id":"o","time":"2026-12-06T02:36:30Z","device_id":"dev_a",
               "device":"Anna's laptop","size":123,"sha256":"ab","kind":"text","deleted":false,
               "renamed_from":null,"renamed_to":"b.md","extra":1}"#,
        )
        .unwrap();
        assert_eq!(v.version, 12);
        assert_eq!(v.device, "Anna's laptop");
        assert_eq!(v.size, Some(123));
        assert_eq!(v.renamed_from, None);
        assert_eq!(v.renamed_to.as_deref(), Some("b.md"));
        let d: Version = serde_json::from_str(
            r#"{"version":13,"size":null,"sha256":"","kind":"deleted","deleted":true}"#,
        )
        .unwrap();
        assert_eq!((d.size, d.deleted), (None, true));
    }

    #[test]
    fn request_paths_encode_the_vault_path() {
        assert_eq!(
            versions_path("a b/ü&x.md", 0),
            "/api/v1/history/versions?path=a%20b%2F%C3%BC%26x.md"
        );
        assert_eq!(
            versions_path("n.md", 5),
            "/api/v1/history/versions?path=n.md&limit=5"
        );
        assert_eq!(deleted_path(0), "/api/v1/history/deleted");
        assert_eq!(deleted_path(3), "/api/v1/history/deleted?limit=3");
        assert_eq!(
            content_path("d/n.md", 7),
            "/api/v1/history/content?path=d%2Fn.md&version=7"
        );
    }
}
