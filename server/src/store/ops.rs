//! The op log (spec §5): push with idempotency, duplicates, conflicts, tombstones and blob
//! references, and paginated pull.
//!
//! [`PushInput::new`] does the pure work before the writer transaction: the fingerprint and
//! the reading of every blob reference. [`push`] then runs inside one writer job, so it is
//! atomic (any `Err` rolls back everything it did) and kept to the database work: the
//! idempotency check, the §5.8 ownership checks, then the ops as `push_plan` decides them.
//! Rejections decided before anything is written come back as [`PushOutcome`] values.
//!
//! Each backend reads and writes in its own form (`ops_sqlite`: a statement per new op and per
//! entity; `ops_pg`: a few statements over arrays, since each statement there is a round trip
//! to another process); the rules both share live here.

use super::sql::{Conn, OptionalExtension, params};
use std::collections::HashSet;
use verstak_sync_proto::{
    Conflict, EntityType, OpType, PullResponse, PulledOp, PushOp, PushResponse,
};

use super::{Scope, StoreError, compaction};
use crate::push_prep::{BlobCheck, BlobRefusal, blob_checks, fingerprint};

/// How this server stores a push's response for §5.5: `#1 ` and [`Answer`]. A replay has the
/// same fingerprint, hence the same ops, so the response is rebuilt from the request and this,
/// byte for byte, instead of keeping every accepted op id for a day (about 4 KB per push of
/// 100 ops, which was a fifth of a vault's database after 50 edit rounds). A record without the
/// prefix is a whole response (rows a reference server or an older version wrote).
const ANSWER_PREFIX: &str = "#1 ";

/// What a push's response has beyond its request: the ops skipped as colliding (by index in
/// the request) and the conflicts.
#[derive(serde::Serialize, serde::Deserialize)]
struct Answer {
    skip: Vec<usize>,
    conflicts: Vec<Conflict>,
}

/// The accepted ids of a push (§5.5): its op ids in request order, each once, without the ops
/// skipped as colliding.
fn accepted_ids(ops: &[PushOp], skip: &[usize]) -> Vec<String> {
    let mut listed = HashSet::new();
    let mut accepted = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if !skip.contains(&i) && listed.insert(op.op_id.as_str()) {
            accepted.push(op.op_id.clone());
        }
    }
    accepted
}

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
    /// The ops were applied; `body` is the exact response (ending in `\n`). `advanced` is
    /// `(before, after)` when new ops moved the scope's sequence (for the event stream).
    Stored {
        body: Vec<u8>,
        stats: PushStats,
        advanced: Option<(i64, i64)>,
    },
    /// Same key, same fingerprint: the stored response bytes.
    Replay(Vec<u8>),
    /// Same key, different fingerprint.
    KeyReused,
    /// A blob-reference check failed; nothing was written.
    Rejected(BlobRefusal),
}

/// A validated push, prepared for the writer.
pub(crate) struct PushInput {
    pub scope: Scope,
    pub device_id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub ops: Vec<PushOp>,
    /// The §5.8 steps left for the database, in request order.
    pub blob_checks: Vec<BlobCheck>,
}

impl PushInput {
    /// Computes the fingerprint and reads the blob references (no database needed).
    pub(crate) fn new(
        scope: Scope,
        device_id: String,
        idempotency_key: String,
        ops: Vec<PushOp>,
    ) -> PushInput {
        PushInput {
            scope,
            device_id,
            idempotency_key,
            fingerprint: fingerprint(&ops),
            blob_checks: blob_checks(&ops),
            ops,
        }
    }
}

/// What happened to one op of a push.
pub(super) enum Stored {
    /// New: it has the next sequence.
    New,
    /// The same op was stored before: acknowledged, not stored again.
    Duplicate,
    /// The op id is taken by different content: skipped.
    Collision,
}

pub(crate) fn push(c: &Conn, p: &PushInput, now: &str) -> Result<PushOutcome, StoreError> {
    super::lock_scope(c, &p.scope)?;
    match c.pg() {
        Some(pg) => super::ops_pg::push(pg, p, now),
        None => super::ops_sqlite::push(c, p, now),
    }
}

/// What a push with an idempotency key keeps for its replays (§5.5), `None` without a key.
pub(super) fn answer_record(
    p: &PushInput,
    skip: &[usize],
    conflicts: &[Conflict],
) -> Option<String> {
    (!p.idempotency_key.is_empty()).then(|| {
        let a = Answer {
            skip: skip.to_vec(),
            conflicts: conflicts.to_vec(),
        };
        format!(
            "{ANSWER_PREFIX}{}",
            serde_json::to_string(&a).expect("plain data")
        )
    })
}

/// The outcome of a push that was applied; `(start, last)` are the scope's sequence before
/// and after it.
pub(super) fn stored(
    p: &PushInput,
    skip: Vec<usize>,
    conflicts: Vec<Conflict>,
    stats: PushStats,
    (start, last): (i64, i64),
) -> PushOutcome {
    let accepted = accepted_ids(&p.ops, &skip);
    let body = crate::reply::json_bytes(&PushResponse::new(accepted, conflicts));
    let advanced = (last != start).then_some((start, last));
    PushOutcome::Stored {
        body,
        stats,
        advanced,
    }
}

/// §5.5 given the record stored under the push's key, if any: its replay, a refusal of a
/// different request, or `None` (go on with the push).
pub(super) fn replay(
    p: &PushInput,
    record: Option<(String, String)>,
) -> Result<Option<PushOutcome>, StoreError> {
    let Some((hash, body)) = record else {
        return Ok(None);
    };
    if hash != p.fingerprint {
        return Ok(Some(PushOutcome::KeyReused));
    }
    let Some(answer) = body.strip_prefix(ANSWER_PREFIX) else {
        return Ok(Some(PushOutcome::Replay(body.into_bytes())));
    };
    let a: Answer = serde_json::from_str(answer)
        .map_err(|e| StoreError::Refused(format!("stored push answer is damaged: {e}")))?;
    let response = PushResponse::new(accepted_ids(&p.ops, &a.skip), a.conflicts);
    Ok(Some(PushOutcome::Replay(crate::reply::json_bytes(
        &response,
    ))))
}

/// The §5.8 steps in request order, `ref_size` giving the size of this scope's ref to a blob.
pub(super) fn first_refusal(
    p: &PushInput,
    mut ref_size: impl FnMut(&str) -> Result<Option<i64>, StoreError>,
) -> Result<Option<BlobRefusal>, StoreError> {
    for check in &p.blob_checks {
        let r = match check {
            BlobCheck::Refuse(e) => return Ok(Some(BlobRefusal::Payload(*e))),
            BlobCheck::Owned(r) => r,
        };
        match ref_size(r.sha256.as_str())? {
            None => return Ok(Some(BlobRefusal::BlobNotOwned)),
            Some(s) if u64::try_from(s).ok() != Some(r.size) => {
                return Ok(Some(BlobRefusal::SizeMismatch));
            }
            Some(_) => {}
        }
    }
    Ok(None)
}

/// The scope's last sequence (0 for a new scope).
pub(crate) fn last_sequence(c: &Conn, scope: &Scope) -> Result<i64, StoreError> {
    Ok(c.prepare_cached(
        "SELECT last_sequence FROM server_scopes WHERE user_id = ?1 AND vault_id = ?2",
    )?
    .query_row(params![scope.user_id, scope.vault_id], |r| r.get(0))
    .optional()?
    .unwrap_or(0))
}

/// An op whose id is stored already, as `[entity_type, entity_id, op_type, payload_json]`:
/// the same op again is a duplicate, anything else a collision (§5.5).
pub(super) fn retold(op: &PushOp, stored: [&str; 4]) -> Stored {
    let [et, eid, ot, pj] = stored;
    let same = et == op.entity_type.as_str()
        && eid == op.entity_id
        && ot == op.op_type.as_str()
        && pj == op.payload_json;
    if same {
        Stored::Duplicate
    } else {
        Stored::Collision
    }
}

/// Who pulls, and when the server may compact the answer (docs/compacted-joins.md).
#[derive(Debug, Clone)]
pub(crate) struct Puller {
    pub device_id: String,
    /// A pull whose backlog (`server_sequence - since`) is at most this is never compacted.
    pub compact_min_backlog: i64,
}

/// One page of a scope's ops after `since`, at most `limit` of them (§4.8), compacted when the
/// puller is behind by more than its threshold and pushed nothing after `since`.
pub(crate) fn pull(
    c: &Conn,
    scope: &Scope,
    puller: &Puller,
    since: i64,
    limit: i64,
) -> Result<PullResponse, StoreError> {
    // One read transaction: the page, its compaction and `server_sequence` agree.
    let tx = c.snapshot()?;
    let server_sequence = last_sequence(&tx, scope)?;
    let (ops, has_more) = if compacts(&tx, scope, puller, since, server_sequence)? {
        compaction::page(&tx, scope, since, limit as usize, server_sequence)?
    } else {
        plain_page(&tx, scope, since, limit)?
    };
    tx.finish()?;
    let page_last_sequence = ops.last().map(|o| o.server_sequence).unwrap_or(since);
    Ok(PullResponse {
        has_more,
        ops,
        page_last_sequence,
        server_sequence,
    })
}

/// Whether this pull is compacted: far enough behind, and no op of the puller's own after the
/// cursor (its echoes and the ops that raced with them keep their full order).
fn compacts(
    c: &Conn,
    scope: &Scope,
    puller: &Puller,
    since: i64,
    server_sequence: i64,
) -> Result<bool, StoreError> {
    if server_sequence.saturating_sub(since) <= puller.compact_min_backlog {
        return Ok(false);
    }
    let pushed: i64 = c
        .prepare_cached(
            "SELECT last_push_sequence FROM server_device_sync
             WHERE device_id = ?1 AND user_id = ?2 AND vault_id = ?3",
        )?
        .query_row(
            params![puller.device_id, scope.user_id, scope.vault_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    Ok(pushed <= since)
}

/// Every op after `since` in order (§4.8 as written): `limit` of them and whether more follow.
fn plain_page(
    c: &Conn,
    scope: &Scope,
    since: i64,
    limit: i64,
) -> Result<(Vec<PulledOp>, bool), StoreError> {
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
                    entity_type: EntityType::from(r.get::<_, String>(3)?),
                    entity_id: r.get(4)?,
                    op_type: OpType::from(r.get::<_, String>(5)?),
                    payload_json: r.get(6)?,
                    created_at: r.get(7)?,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let has_more = ops.len() as i64 > limit;
    ops.truncate(limit as usize);
    Ok((ops, has_more))
}

/// Total number of stored ops (metrics gauge).
pub(crate) fn count(c: &Conn) -> Result<i64, StoreError> {
    Ok(c.query_row("SELECT COUNT(*) FROM server_ops", params![], |r| r.get(0))?)
}
