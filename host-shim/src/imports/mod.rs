//! Host implementations of the WIT imports, one file per interface.
//!
//! Every import does the same steps in the same order: permission check, then path or input
//! validation, then the IO. Failures the guest should handle come back as `host-error`s; a
//! trap is kept for host bugs.
//!
//! * [`files`] — the vault through [`crate::confine`]; its write primitives are in [`atomic`]
//!   and its staging files in [`staging`]; new files written during an export call are
//!   batched by [`write_behind`]; the folders they use are opened once per export call
//!   ([`call_dirs`]).
//! * [`storage`], [`settings`] — the plugin's private documents under `.verstak/`.
//! * [`network`] — HTTP to the configured origin only, over the small client in [`http`]
//!   (`https` through [`tls`]).
//! * [`environment`], [`progress`], [`log`] — facts, live progress and diagnostics.

mod atomic;
pub(crate) mod call_dirs;
mod connection;
mod environment;
mod files;
mod http;
mod log;
pub(crate) mod network;
pub(crate) mod progress;
mod settings;
mod staging;
mod storage;
pub(crate) mod tls;
pub(crate) mod write_behind;

#[cfg(test)]
mod testing;

use crate::bindings::{ErrorCode, HostError};

impl crate::bindings::verstak::sync::types::Host for crate::state::HostState {}

pub(crate) fn err(code: ErrorCode, message: impl Into<String>) -> HostError {
    HostError {
        code,
        message: message.into(),
    }
}

pub(crate) fn io_error(what: &str, e: std::io::Error) -> HostError {
    let code = if e.kind() == std::io::ErrorKind::NotFound {
        ErrorCode::NotFound
    } else {
        ErrorCode::Io
    };
    HostError {
        code,
        message: format!("{what}: {e}"),
    }
}

/// Staging-file and document keys: `[A-Za-z0-9._-]`, 1 to 128 bytes, and not `.` or `..`
/// (which the character set would otherwise let through as folder references).
pub(crate) fn check_key(key: &str) -> Result<(), HostError> {
    let chars_ok = key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if (1..=128).contains(&key.len()) && chars_ok && key != "." && key != ".." {
        Ok(())
    } else {
        Err(err(
            ErrorCode::InvalidInput,
            format!("invalid key {key:?}: use 1 to 128 of [A-Za-z0-9._-]"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_wit_rule() {
        for ok in ["a", "op-log.json", "A_b.9", &"k".repeat(128), "..."] {
            check_key(ok).unwrap();
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a b",
            "ä",
            &"k".repeat(129),
            "a\0",
        ] {
            assert!(
                matches!(check_key(bad).unwrap_err().code, ErrorCode::InvalidInput),
                "{bad:?}"
            );
        }
    }
}
