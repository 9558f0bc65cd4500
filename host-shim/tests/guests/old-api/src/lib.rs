//! A `plugin` component of API 0.1.0 (`wit/since_v0.1.0/`) that does nothing: its only use is
//! to be refused by a host of a newer API version (`host-shim/tests/api_version.rs`).

wit_bindgen::generate!({
    path: "../../../../wit/since_v0.1.0",
    world: "plugin",
});

use exports::verstak::sync::status_provider;
use exports::verstak::sync::sync_provider::{Direction, Guest, SyncError, SyncStatus, SyncSummary};

struct Component;

fn old<T>() -> Result<T, SyncError> {
    Err(SyncError { code: "old-api".into(), message: "built for verstak:sync@0.1.0".into() })
}

impl Guest for Component {
    fn status() -> Result<SyncStatus, SyncError> {
        old()
    }

    fn configure(_: String, _: String, _: String, _: String) -> Result<(), SyncError> {
        old()
    }

    fn test_connection(_: String, _: String, _: String) -> Result<(), SyncError> {
        old()
    }

    fn disconnect() -> Result<(), SyncError> {
        old()
    }

    fn set_interval(_: i32) -> Result<(), SyncError> {
        old()
    }

    fn sync_now() -> Result<SyncSummary, SyncError> {
        old()
    }

    fn reset_key() -> Result<(), SyncError> {
        old()
    }

    fn confirm_deletions(_: Direction) -> Result<SyncSummary, SyncError> {
        old()
    }

    fn restore_deletions(_: Direction) -> Result<SyncSummary, SyncError> {
        old()
    }

    fn set_ignore(_: Vec<String>) -> Result<(), SyncError> {
        old()
    }
}

impl status_provider::Guest for Component {
    fn snapshot() -> Result<SyncStatus, SyncError> {
        old()
    }
}

export!(Component);
