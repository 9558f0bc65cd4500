//! Host implementations of the WIT imports, one file per interface.
//!
//! Every import does the same steps in the same order: permission check, then path or input
//! validation, then the IO. Failures the guest should handle come back as `host-error`s.

mod log;
mod settings;

use crate::bindings::{ErrorCode, HostError};

impl crate::bindings::verstak::sync::types::Host for crate::state::HostState {}

pub(crate) fn io_error(what: &str, e: std::io::Error) -> HostError {
    let code = if e.kind() == std::io::ErrorKind::NotFound { ErrorCode::NotFound } else { ErrorCode::Io };
    HostError { code, message: format!("{what}: {e}") }
}
