//! The op log (spec §5): push with idempotency, duplicates, conflicts, tombstones and blob
//! references, and paginated pull.
//!
//! [`push`] runs inside one writer job, so it is atomic: any `Err` rolls back everything it did.
//! Rejections that are decided before anything is written come back as [`PushOutcome`] values.

use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;
use verstak_sync_proto::{Conflict, PullResponse, PulledOp, PushOp, PushResponse};

use super::{Scope, StoreError, blobs};
use crate::sync_rules::{BlobRef, PayloadError, blob_reference};

/// Counters for the metrics of §4.12.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PushStats {
    pub stored: u64,
    pub duplicates: u64,
    pub rejected_duplicates: u64,
    pub conflicts: u64,
}

#[derive(Debug)]
pub(crate) enum PushOutcome {
    /// The ops were applied; `body` is the exact response (ending in `\n`).
    Stored { body: Vec<u8>, stats: PushStats },
    /// Same key, same fingerprint: the stored response bytes.
    Replay(Vec<u8>),
    /// Same key, different fingerprint.
    KeyReused,
    /// A blob-reference check failed; nothing was written.
    Rejected(PayloadError),
}

pub(crate) struct PushInput {
    pub scope: Scope,
    pub device_id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub ops: Vec<PushOp>,
}

pub(crate) fn push(c: &Connection, p: &PushInput, now: &str) -> Result<PushOutcome, StoreError> {
    let (u, v) = (&p.scope.user_id, &p.scope.vault_id);
    if !p.idempotency_key.is_empty() {
        let stored: Option<(String, String)> = c
            .prepare_cached(
                "SELECT request_hash, response_json FROM server_idempotency_keys
                 WHERE user_id = ?1 AND vault_id = ?2 AND idempotency_key = ?3",
            )?
            .query_row(params![u, v, p.idempotency_key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        if let Some((hash, body)) = stored {
            return Ok(if hash == p.fingerprint {
                PushOutcome::Replay(body.into_bytes())
            } else {
                PushOutcome::KeyReused
            });
        }
    }
    for op in &p.ops {
        if op.entity_type != "file" || op.payload_json.is_empty() {
            continue;
        }
        if let Some(BlobRef { sha256, size }) = match blob_reference(&op.payload_json) {
            Ok(r) => r,
            Err(e) => return Ok(PushOutcome::Rejected(e)),
        } {
            match blobs::ref_size(c, &p.scope, &sha256)? {
                None => return Ok(PushOutcome::Rejected(PayloadError::BlobNotOwned)),
                Some(s) if s != size => {
                    return Ok(PushOutcome::Rejected(PayloadError::SizeMismatch));
                }
                Some(_) => {}
            }
        }
    }

    let mut last: i64 = c
        .prepare_cached(
            "SELECT last_sequence FROM server_scopes WHERE user_id = ?1 AND vault_id = ?2",
        )?
        .query_row(params![u, v], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let start = last;
    let mut stats = PushStats::default();
    let mut accepted = Vec::new();
    let mut listed = HashSet::new();
    let mut conflicts = Vec::new();
    for op in &p.ops {
        // Insert first; a primary-key collision means the op id is already stored in the scope.
        let inserted = c
            .prepare_cached(
                "INSERT INTO server_ops (user_id, vault_id, op_id, server_sequence, device_id, entity_type,
                    entity_id, op_type, payload_json, idempotency_key, client_sequence, last_seen_server_seq,
                    created_at, pushed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT (user_id, vault_id, op_id) DO NOTHING",
            )?
            .execute(params![
                u, v, op.op_id, last + 1, p.device_id, op.entity_type, op.entity_id, op.op_type,
                op.payload_json, p.idempotency_key, op.client_sequence, op.last_seen_server_seq,
                op.created_at, now
            ])?;
        if inserted == 0 {
            let (et, eid, ot, pj): (String, String, String, String) = c
                .prepare_cached(
                    "SELECT entity_type, entity_id, op_type, payload_json FROM server_ops
                     WHERE user_id = ?1 AND vault_id = ?2 AND op_id = ?3",
                )?
                .query_row(params![u, v, op.op_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?;
            if et == op.entity_type
                && eid == op.entity_id
                && ot == op.op_type
                && pj == op.payload_json
            {
                stats.duplicates += 1;
                if listed.insert(op.op_id.clone()) {
                    accepted.push(op.op_id.clone());
                }
            } else {
                stats.rejected_duplicates += 1;
                tracing::warn!(user_id = %u, vault_id = %v, op_id = %op.op_id, "op id reused with different content; skipped");
            }
            continue;
        }
        last += 1;
        // The new row has the pushing device's id, so the device filter excludes it.
        if op.last_seen_server_seq > 0 {
            let mut st = c.prepare_cached(
                "SELECT op_id, device_id, op_type, server_sequence FROM server_ops
                 WHERE user_id = ?1 AND vault_id = ?2 AND entity_type = ?3 AND entity_id = ?4
                   AND server_sequence > ?5 AND device_id <> ?6 AND op_type <> 'delete'
                 ORDER BY server_sequence",
            )?;
            let rows = st.query_map(
                params![
                    u,
                    v,
                    op.entity_type,
                    op.entity_id,
                    op.last_seen_server_seq,
                    p.device_id
                ],
                |r| {
                    Ok(Conflict {
                        op_id: r.get(0)?,
                        device_id: r.get(1)?,
                        op_type: r.get(2)?,
                        server_sequence: r.get(3)?,
                        entity_type: op.entity_type.clone(),
                        entity_id: op.entity_id.clone(),
                    })
                },
            )?;
            for row in rows {
                conflicts.push(row?);
                stats.conflicts += 1;
            }
        }
        if op.op_type == "delete" {
            c.prepare_cached(
                "INSERT INTO server_tombstones (user_id, vault_id, entity_type, entity_id, op_id, deleted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (user_id, vault_id, entity_type, entity_id)
                 DO UPDATE SET op_id = excluded.op_id, deleted_at = excluded.deleted_at",
            )?
            .execute(params![u, v, op.entity_type, op.entity_id, op.op_id, now])?;
        }
        stats.stored += 1;
        if listed.insert(op.op_id.clone()) {
            accepted.push(op.op_id.clone());
        }
    }
    if last != start {
        c.prepare_cached(
            "INSERT INTO server_scopes (user_id, vault_id, last_sequence, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id, vault_id) DO UPDATE SET last_sequence = excluded.last_sequence",
        )?
        .execute(params![u, v, last, now])?;
    }
    let body = crate::http::json_bytes(&PushResponse::new(accepted, conflicts));
    if !p.idempotency_key.is_empty() {
        let text = std::str::from_utf8(&body).expect("serde_json output is UTF-8");
        c.prepare_cached(
            "INSERT INTO server_idempotency_keys (user_id, vault_id, idempotency_key, request_hash, response_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![u, v, p.idempotency_key, p.fingerprint, text, now])?;
    }
    Ok(PushOutcome::Stored { body, stats })
}

/// One page of a scope's ops after `since`, at most `limit` of them (§4.8).
pub(crate) fn pull(
    c: &Connection,
    scope: &Scope,
    since: i64,
    limit: i64,
) -> Result<PullResponse, StoreError> {
    let server_sequence: i64 = c
        .prepare_cached(
            "SELECT last_sequence FROM server_scopes WHERE user_id = ?1 AND vault_id = ?2",
        )?
        .query_row(params![scope.user_id, scope.vault_id], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let mut st = c.prepare_cached(
        "SELECT op_id, server_sequence, device_id, entity_type, entity_id, op_type, payload_json, created_at
         FROM server_ops WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence > ?3
         ORDER BY server_sequence LIMIT ?4",
    )?;
    let mut ops = st
        .query_map(
            params![scope.user_id, scope.vault_id, since, limit + 1],
            |r| {
                Ok(PulledOp {
                    op_id: r.get(0)?,
                    server_sequence: r.get(1)?,
                    device_id: r.get(2)?,
                    entity_type: r.get(3)?,
                    entity_id: r.get(4)?,
                    op_type: r.get(5)?,
                    payload_json: r.get(6)?,
                    created_at: r.get(7)?,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let has_more = ops.len() as i64 > limit;
    ops.truncate(limit as usize);
    let page_last_sequence = ops.last().map(|o| o.server_sequence).unwrap_or(since);
    Ok(PullResponse {
        has_more,
        ops,
        page_last_sequence,
        server_sequence,
    })
}

/// Total number of stored ops (metrics gauge).
pub(crate) fn count(c: &Connection) -> Result<i64, StoreError> {
    Ok(c.query_row("SELECT COUNT(*) FROM server_ops", [], |r| r.get(0))?)
}
