//! The one `bindgen!` of the host: Rust types and traits for the `verstak:sync` world in `wit/`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
});

pub use exports::verstak::sync::sync_provider::{SyncError, SyncStatus};
pub use verstak::sync::types::{ErrorCode, HostError};
