//! WIT glue: the component's exports, implemented over the host imports.
//!
//! * `bindings`: the generated WIT types and imports.
//! * `mod.rs`: the `Guest` impls. Each export but `status` starts one engine action and drives
//!   it (`driver::act`); `status` reads the settings, the pairing document and the engine.
//! * `driver`: builds the engine from private storage and runs the drain loop that executes the
//!   engine's commands through the imports.
//! * `convert`: conversions between WIT and engine types.
//!
//! Imports go one way: `mod` → `driver` → `convert` → `bindings`. The glue decides nothing:
//! every `match` on business data lives in the engine.

mod bindings;
mod convert;
mod driver;

use crate::engine::account::{PAIRING_KEY, TOKEN_KEY};
use crate::engine::error::EngineError;
use crate::engine::event::{Action, Login, Password};
use crate::engine::status::Status;
use bindings::exports::verstak::sync::status_provider;
use bindings::exports::verstak::sync::sync_provider as wit;
use bindings::verstak::sync::{settings, storage};
use wit::{Direction, SyncError, SyncStatus, SyncSummary};

struct Component;

type Out<T> = Result<T, SyncError>;

/// The status from local state only (§5.4.7): settings, the pairing document, the engine.
fn status() -> Result<Status, EngineError> {
    let settings = settings::read()?;
    let pairing = storage::get(PAIRING_KEY)?;
    let token = storage::get(TOKEN_KEY)?;
    let engine = driver::engine()?.status();
    Status::read(&settings, pairing.as_deref(), token.as_deref(), &engine)
}

fn login(server_url: String, username: String, password: String) -> Login {
    let password = Password(password);
    Login {
        server_url,
        username,
        password,
    }
}

/// Runs an action whose export answers nothing.
fn run(action: Action) -> Out<()> {
    driver::act(action).map(drop).map_err(convert::error)
}

/// Runs a sync action.
fn sync(action: Action) -> Out<SyncSummary> {
    let outcome = driver::act(action);
    outcome.map(convert::summary).map_err(convert::error)
}

impl wit::Guest for Component {
    fn status() -> Out<SyncStatus> {
        status().map(convert::status).map_err(convert::error)
    }

    fn configure(
        server_url: String,
        username: String,
        password: String,
        vault_id: String,
    ) -> Out<()> {
        let login = login(server_url, username, password);
        run(Action::Configure { login, vault_id })
    }

    fn test_connection(server_url: String, username: String, password: String) -> Out<()> {
        run(Action::TestConnection(login(
            server_url, username, password,
        )))
    }

    fn disconnect() -> Out<()> {
        run(Action::Disconnect)
    }

    fn set_interval(minutes: i32) -> Out<()> {
        run(Action::SetInterval(minutes))
    }

    fn sync_now() -> Out<SyncSummary> {
        sync(Action::Sync)
    }

    fn reset_key() -> Out<()> {
        run(Action::ResetKey)
    }

    fn confirm_deletions(direction: Direction) -> Out<SyncSummary> {
        sync(Action::ConfirmDeletions(convert::direction(direction)))
    }

    fn restore_deletions(direction: Direction) -> Out<SyncSummary> {
        sync(Action::RestoreDeletions(convert::direction(direction)))
    }

    fn set_ignore(patterns: Vec<String>) -> Out<()> {
        run(Action::SetIgnore(patterns))
    }
}

impl status_provider::Guest for Component {
    fn snapshot() -> Out<SyncStatus> {
        <Component as wit::Guest>::status()
    }
}

bindings::export!(Component);
