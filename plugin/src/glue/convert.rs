//! Conversions between WIT types and engine types.

use super::exports::verstak::sync::sync_provider::{SyncError, SyncStatus};
use super::verstak::sync::types::{ErrorCode, HostError};
use crate::engine::settings::SettingsError;
use crate::engine::status::Status;

/// A failed host call, as the exported error: the host's code in snake_case and its message.
pub(super) fn host_error(e: HostError) -> SyncError {
    let code = match e.code {
        ErrorCode::NotPermitted => "not_permitted",
        ErrorCode::OutsideVault => "outside_vault",
        ErrorCode::NotFound => "not_found",
        ErrorCode::InvalidInput => "invalid_input",
        ErrorCode::TooLarge => "too_large",
        ErrorCode::Io => "io",
    };
    SyncError { code: code.into(), message: e.message }
}

pub(super) fn engine_error(e: SettingsError) -> SyncError {
    SyncError { code: e.code().into(), message: e.to_string() }
}

pub(super) fn status(s: Status) -> SyncStatus {
    SyncStatus {
        configured: s.configured,
        syncing: s.syncing,
        server_url: s.server_url,
        vault_id: s.vault_id,
        device_id: s.device_id,
        device_name: s.device_name,
        connected: s.connected,
        revoked: s.revoked,
        token_stored: s.token_stored,
        unpushed_ops: s.unpushed_ops,
        last_sync_at: s.last_sync_at,
        sync_interval: s.sync_interval,
        last_error: s.last_error,
        last_warning: s.last_warning,
        status_label: s.status_label.into(),
    }
}
