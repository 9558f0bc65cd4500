//! `verstak:sync/log`: the plugin's diagnostics, forwarded to the host's `tracing` output.

use crate::bindings::verstak::sync::log::{Host, Level};
use crate::state::HostState;

impl Host for HostState {
    fn write(&mut self, level: Level, message: String) {
        match level {
            Level::Trace => tracing::trace!(target: "plugin", "{message}"),
            Level::Debug => tracing::debug!(target: "plugin", "{message}"),
            Level::Info => tracing::info!(target: "plugin", "{message}"),
            Level::Warn => tracing::warn!(target: "plugin", "{message}"),
            Level::Error => tracing::error!(target: "plugin", "{message}"),
        }
    }
}
