//! The JSON shapes the host prints and serves: `SyncStatusDTO` (plugin-contract §3.2) and the
//! `{code, message}` error.

use crate::bindings::{SyncError, SyncStatus};
use serde_json::{Value, json};

pub fn status_json(s: &SyncStatus) -> Value {
    json!({
        "configured": s.configured,
        "syncing": s.syncing,
        "serverUrl": s.server_url,
        "vaultId": s.vault_id,
        "deviceId": s.device_id,
        "deviceName": s.device_name,
        "connected": s.connected,
        "revoked": s.revoked,
        "tokenStored": s.token_stored,
        "unpushedOps": s.unpushed_ops,
        "lastSyncAt": s.last_sync_at,
        "syncInterval": s.sync_interval,
        "lastError": s.last_error,
        "lastWarning": s.last_warning,
        "statusLabel": s.status_label,
    })
}

pub fn error_json(e: &SyncError) -> Value {
    json!({ "code": e.code, "message": e.message })
}
