//! The JSON shapes the host prints and serves: `SyncStatusDTO` (plugin-contract §3.2 with the
//! §3.13 extensions) and the `now()` result (§3.9). Errors reach the panel as the bridge's
//! `[value, err]` text and the CLI as `code: message`, never as JSON built here.

use crate::bindings::SyncStatus;
use crate::bindings::exports::verstak::sync::sync_provider::{
    Conflict, Direction, Guard, ReplacedFile, SyncSummary,
};
use crate::state::Progress;
use serde_json::{Value, json};

fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Incoming => "incoming",
        Direction::Outgoing => "outgoing",
    }
}

fn guard(g: &Guard) -> Value {
    json!({ "direction": direction(g.direction), "deletions": g.deletions, "files": g.files })
}

/// One entry of `status().conflicts` (docs/api-extensions.md).
pub fn conflict(c: &Conflict) -> Value {
    json!({
        "id": c.id,
        "path": c.path,
        "copyPath": c.copy_path,
        "localIsCopy": c.local_is_copy,
        "remoteDeviceId": c.remote_device_id,
        "at": c.at,
    })
}

/// One entry of `status().replaced` (docs/api-extensions.md).
pub fn replaced(r: &ReplacedFile) -> Value {
    json!({
        "path": r.path,
        "sha256": r.sha256,
        "size": r.size,
        "version": r.version,
        "byDevice": r.by_device,
        "atMs": r.at_ms,
    })
}

/// The DTO; `live` is the host's latest progress report, which wins while a sync runs.
pub fn status_json(s: &SyncStatus, live: Option<&Progress>) -> Value {
    let mut v = json!({
        "configured": s.configured,
        "syncing": s.syncing || live.is_some(),
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
        "statusLabel": s.status_label.as_str(),
        "effectiveVaultId": s.effective_vault_id,
        "lastCheckedAt": s.last_checked_at,
        "ignore": s.ignore,
        "conflicts": s.conflicts.iter().map(conflict).collect::<Vec<_>>(),
        "replaced": s.replaced.iter().map(replaced).collect::<Vec<_>>(),
    });
    let progress = match (live, &s.progress) {
        (Some(p), _) => {
            Some(json!({ "phase": p.phase.as_str(), "done": p.done, "total": p.total }))
        }
        (None, Some(p)) => {
            Some(json!({ "phase": p.phase.as_str(), "done": p.done, "total": p.total }))
        }
        (None, None) => None,
    };
    if let Some(p) = progress {
        v["progress"] = p;
    }
    if let Some(g) = &s.guard {
        v["guard"] = guard(g);
    }
    v
}

pub fn summary_json(s: &SyncSummary) -> Value {
    let mut v = json!({
        "pushed": s.pushed,
        "pulled": s.pulled,
        "serverSequence": s.server_sequence,
        "keptBoth": s.kept_both.iter().map(|k| json!({ "path": k.path, "copyPath": k.copy_path })).collect::<Vec<_>>(),
        "merged": s.merged,
        "skipped": s.skipped,
    });
    if !s.conflicts.is_empty() {
        v["conflicts"] = s
            .conflicts
            .iter()
            .map(|c| {
                json!({ "device_id": c.device_id, "entity_id": c.entity_id, "entity_type": c.entity_type,
                        "op_id": c.op_id, "op_type": c.op_type, "server_sequence": c.server_sequence })
            })
            .collect();
    }
    if let Some(g) = &s.guard {
        v["guard"] = guard(g);
    }
    v
}
