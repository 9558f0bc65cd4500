//! WIT glue: the component's exports, implemented over the host imports.
//!
//! Each export reads what it needs through the imports, hands plain data to the engine, and
//! converts the result back. Decisions live in `crate::engine`, never here.

mod convert;

use crate::engine::settings::Settings;
use crate::engine::status::{Pairing, Status};

wit_bindgen::generate!({
    path: "../wit",
    world: "plugin",
});

use exports::verstak::sync::sync_provider::{Guest, SyncError, SyncStatus};
use verstak::sync::{log, settings};

struct Component;

fn load_settings() -> Result<Settings, SyncError> {
    let text = settings::read().map_err(convert::host_error)?;
    Settings::parse(&text).map_err(convert::engine_error)
}

impl Guest for Component {
    fn status() -> Result<SyncStatus, SyncError> {
        let settings = load_settings()?;
        Ok(convert::status(Status::new(&settings, &Pairing::default())))
    }

    fn set_interval(minutes: i32) -> Result<(), SyncError> {
        let mut settings = load_settings()?;
        settings.set_interval(minutes).map_err(convert::engine_error)?;
        settings::write(&settings.to_json()).map_err(convert::host_error)?;
        log::write(log::Level::Info, &format!("sync interval set to {minutes} min"));
        Ok(())
    }
}

export!(Component);
