//! Local files a sync replaced by another device's version (`sync-status.replaced`, issue #13):
//! the old bytes stay in the server's history (`history PATH`); the list is kept by `replaced_list.rs`.

/// One replaced local file, newest first in the status (at most 50).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplacedFile {
    pub path: String,
    /// SHA-256 (hex) of the replaced local content.
    pub sha256: String,
    pub size: u64,
    /// The server sequence of the incoming version that replaced it.
    pub version: i64,
    /// The name (or id) of the device that wrote that version.
    pub by_device: String,
    /// When it was replaced, milliseconds since the Unix epoch.
    pub at_ms: i64,
}
