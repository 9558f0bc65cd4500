//! Version history (issue #13): what the `History`, `Deleted` and `Restore` actions answer.
//! The versions themselves are the wire types of `verstak_sync_proto::history`, passed on as
//! the server lists them; `run/history.rs` fetches them and `run/restore_version.rs` restores one.

pub use verstak_sync_proto::history::{DeletedFile, Version};

use super::summary::Summary;

/// What `Action::Restore` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    pub path: String,
    /// The version whose content was put back.
    pub version: i64,
    /// Where the local content of `path` was kept before it was replaced, when it was not
    /// synced (a conflict copy beside it).
    pub kept_local: Option<String>,
    /// The sync run that pushed the restored content.
    pub summary: Summary,
}
