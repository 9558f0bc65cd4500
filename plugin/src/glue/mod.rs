//! WIT glue: the component's exports, implemented over the host imports.
//!
//! * `bindings`: the generated WIT types and imports.
//! * `mod.rs`: the `Guest` impls. Each export starts one engine action (`status` too:
//!   `Action::Status` reads the local documents) and drives it to its answer (`driver::act`).
//! * `driver`: builds the engine from private storage and runs the drain loop that executes the
//!   engine's commands through the imports.
//! * `convert`: conversions between WIT and engine types.
//!
//! Imports go one way: `mod` → `driver` → `convert` → `bindings`. The glue decides nothing:
//! every `match` on business data lives in the engine.

mod bindings;
mod convert;
mod driver;

use crate::engine::answer::Answer;
use crate::engine::event::{Action, Login};
use bindings::exports::verstak::sync::status_provider;
use bindings::exports::verstak::sync::sync_provider as wit;
use wit::{DeletedFile, Direction, FileVersion, Restored, SyncError, SyncStatus, SyncSummary};

struct Component;

type Out<T> = Result<T, SyncError>;

/// Runs `action`; `answer` takes what the export gives back from the engine's answer.
fn run<T>(action: Action, answer: impl FnOnce(Answer) -> T) -> Out<T> {
    driver::act(action).map(answer).map_err(convert::error)
}

fn sync(action: Action) -> Out<SyncSummary> {
    run(action, |a| convert::summary(a.summary()))
}

impl wit::Guest for Component {
    fn status() -> Out<SyncStatus> {
        run(Action::Status, |a| convert::status(a.status()))
    }

    fn configure(url: String, username: String, password: String, vault_id: String) -> Out<()> {
        let login = Login::new(url, username, password);
        run(Action::Configure { login, vault_id }, drop)
    }

    fn test_connection(url: String, username: String, password: String) -> Out<()> {
        run(
            Action::TestConnection(Login::new(url, username, password)),
            drop,
        )
    }

    fn disconnect() -> Out<()> {
        run(Action::Disconnect, drop)
    }

    fn set_interval(minutes: i32) -> Out<()> {
        run(Action::SetInterval(minutes), drop)
    }

    fn sync_now() -> Out<SyncSummary> {
        sync(Action::Sync)
    }

    fn sync_changed(paths: Vec<String>) -> Out<SyncSummary> {
        sync(Action::SyncChanged(paths))
    }

    fn dismiss_conflicts(ids: Vec<String>) -> Out<()> {
        run(Action::DismissConflicts(ids), drop)
    }

    fn reset_key() -> Out<()> {
        run(Action::ResetKey, drop)
    }

    fn confirm_deletions(direction: Direction) -> Out<SyncSummary> {
        sync(Action::ConfirmDeletions(convert::direction(direction)))
    }

    fn restore_deletions(direction: Direction) -> Out<SyncSummary> {
        sync(Action::RestoreDeletions(convert::direction(direction)))
    }

    fn set_ignore(patterns: Vec<String>) -> Out<()> {
        run(Action::SetIgnore(patterns), drop)
    }

    fn history(path: String, limit: u32) -> Out<Vec<FileVersion>> {
        run(Action::History { path, limit }, |a| {
            a.history().into_iter().map(convert::version).collect()
        })
    }

    fn deleted(limit: u32) -> Out<Vec<DeletedFile>> {
        run(Action::Deleted { limit }, |a| {
            a.deleted().into_iter().map(convert::deleted).collect()
        })
    }

    fn restore(path: String, version: i64) -> Out<Restored> {
        run(Action::Restore { path, version }, |a| {
            convert::restored(a.restored())
        })
    }
}

impl status_provider::Guest for Component {
    fn snapshot() -> Out<SyncStatus> {
        <Component as wit::Guest>::status()
    }
}

bindings::export!(Component);
