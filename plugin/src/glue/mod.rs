//! WIT glue: the component's exports, implemented over the host imports.
//!
//! * `mod.rs`: the bindings and the `Guest` impls, which only forward to [`service`].
//! * `service`: each `api.sync` call as a short sequence of host calls around engine decisions
//!   (`crate::engine::account` for pairing, `crate::engine::machine::Engine` for sync runs).
//! * `driver`: the drain loop that executes the engine's commands through the imports.
//! * `net`: HTTP calls with the shared retry policy.
//! * `convert`: `From`-style conversions between WIT and engine types.
//!
//! The glue decides nothing: every `match` on business data lives in the engine.

mod convert;
mod driver;
mod net;
mod service;

wit_bindgen::generate!({
    path: "../wit",
    world: "plugin",
});

use exports::verstak::sync::status_provider;
use exports::verstak::sync::sync_provider::{Direction, Guest, SyncError, SyncStatus, SyncSummary};

struct Component;

impl Guest for Component {
    fn status() -> Result<SyncStatus, SyncError> {
        service::status()
            .map(convert::status)
            .map_err(convert::error)
    }

    fn configure(
        server_url: String,
        username: String,
        password: String,
        vault_id: String,
    ) -> Result<(), SyncError> {
        service::configure(&server_url, &username, &password, &vault_id).map_err(convert::error)
    }

    fn test_connection(
        server_url: String,
        username: String,
        password: String,
    ) -> Result<(), SyncError> {
        service::test_connection(&server_url, &username, &password).map_err(convert::error)
    }

    fn disconnect() -> Result<(), SyncError> {
        service::disconnect().map_err(convert::error)
    }

    fn set_interval(minutes: i32) -> Result<(), SyncError> {
        service::set_interval(minutes).map_err(convert::error)
    }

    fn sync_now() -> Result<SyncSummary, SyncError> {
        service::run(crate::engine::event::Action::Sync)
            .map(convert::summary)
            .map_err(convert::error)
    }

    fn reset_key() -> Result<(), SyncError> {
        service::reset_key().map_err(convert::error)
    }

    fn confirm_deletions(direction: Direction) -> Result<SyncSummary, SyncError> {
        let action = crate::engine::event::Action::ConfirmDeletions(convert::direction(direction));
        service::run(action)
            .map(convert::summary)
            .map_err(convert::error)
    }

    fn restore_deletions(direction: Direction) -> Result<SyncSummary, SyncError> {
        let action = crate::engine::event::Action::RestoreDeletions(convert::direction(direction));
        service::run(action)
            .map(convert::summary)
            .map_err(convert::error)
    }

    fn set_ignore(patterns: Vec<String>) -> Result<(), SyncError> {
        service::set_ignore(patterns).map_err(convert::error)
    }
}

impl status_provider::Guest for Component {
    fn snapshot() -> Result<SyncStatus, SyncError> {
        <Component as Guest>::status()
    }
}

export!(Component);
