//! The op log (spec §5): push with idempotency, duplicates, conflicts, tombstones and blob
//! references, and paginated pull.
//!
//! [`PushInput::new`] does the pure work before the writer transaction: the fingerprint and
//! the reading of every blob reference. [`push`] then runs inside one writer job, so it is
//! atomic (any `Err` rolls back everything it did) and kept to the database work: the
//! idempotency check, the §5.8 ownership checks, then each op through [`store_op`].
//! Rejections decided before anything is written come back as [`PushOutcome`] values.
//!
//! On PostgreSQL the same push runs as a few statements over arrays (`ops_pg`), since each
//! statement there is a round trip to another process; the rules both share live here.

use super::sql::{Conn, OptionalExtension, params};
use std::collections::HashSet;
use verstak_sync_proto::{
    Conflict, EntityType, OpType, PullResponse, PulledOp, PushOp, PushResponse,
};

use super::{Scope, StoreError, blobs, chain, compaction};
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
    // PostgreSQL: one round trip per statement, so the batch form (a handful of statements
    // per push). SQLite runs in process, where the per-op statements below cost microseconds
    // and its in-place walks are faster than array forms would be.
    if let Some(pg) = c.pg() {
        return super::ops_pg::push(pg, p, now);
    }
    if let Some(answer) = earlier_answer(c, p)? {
        return Ok(answer);
    }
    if let Some(refusal) = refused_blob(c, p)? {
        return Ok(PushOutcome::Rejected(refusal));
    }
    let (start, mut last_barrier) = scope_marks(c, &p.scope)?;
    let mut last = start;
    let mut stats = PushStats::default();
    let mut skip = Vec::new();
    let mut conflicts = Vec::new();
    for (i, op) in p.ops.iter().enumerate() {
        let (stored, prev) = store_op(c, p, op, last + 1, now)?;
        match stored {
            Stored::Collision => {
                stats.rejected_duplicates += 1;
                tracing::warn!(user_id = %p.scope.user_id, vault_id = %p.scope.vault_id, op_id = %op.op_id, "op id reused with different content; skipped");
                skip.push(i);
                continue;
            }
            Stored::Duplicate => stats.duplicates += 1,
            Stored::New => {
                last += 1;
                let (et, ot) = (op.entity_type.as_str(), op.op_type.as_str());
                let mut superseded = Vec::new();
                if compaction::class(et, ot) == compaction::BARRIER {
                    last_barrier = last;
                } else if ot != "create" {
                    superseded = compaction::superseded(c, &p.scope, prev, last_barrier)?;
                }
                // The previous op (the first superseded one, when any) is written once.
                chain::append(
                    c,
                    &p.scope,
                    (et, &op.entity_id),
                    prev,
                    last,
                    !superseded.is_empty(),
                )?;
                compaction::mark_superseded(c, &p.scope, superseded.get(1..).unwrap_or_default())?;
                let found = conflicts_with(c, p, op, prev)?;
                stats.conflicts += found.len() as u64;
                conflicts.extend(found);
                if op.op_type == OpType::Delete {
                    tombstone(c, &p.scope, op, now)?;
                }
                stats.stored += 1;
            }
        }
    }
    if last != start {
        c.prepare_cached(
            "INSERT INTO server_scopes (user_id, vault_id, last_sequence, created_at, last_barrier)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (user_id, vault_id) DO UPDATE SET last_sequence = excluded.last_sequence,
                last_barrier = excluded.last_barrier",
        )?
        .execute(params![
            p.scope.user_id,
            p.scope.vault_id,
            last,
            now,
            last_barrier
        ])?;
        // What a compacted pull asks first: did this device push after the cursor?
        c.prepare_cached(
            "INSERT INTO server_device_sync (device_id, user_id, vault_id, last_push_sequence)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (device_id, user_id, vault_id) DO UPDATE SET last_push_sequence = excluded.last_push_sequence",
        )?
        .execute(params![p.device_id, p.scope.user_id, p.scope.vault_id, last])?;
    }
    if let Some(text) = answer_record(p, &skip, &conflicts) {
        c.prepare_cached(
            "INSERT INTO server_idempotency_keys (user_id, vault_id, idempotency_key, request_hash, response_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![p.scope.user_id, p.scope.vault_id, p.idempotency_key, p.fingerprint, text, now])?;
    }
    Ok(stored(p, skip, conflicts, stats, (start, last)))
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

/// §5.5: a key seen before answers with its stored response, or refuses a different request.
fn earlier_answer(c: &Conn, p: &PushInput) -> Result<Option<PushOutcome>, StoreError> {
    if p.idempotency_key.is_empty() {
        return Ok(None);
    }
    let record: Option<(String, String)> = c
        .prepare_cached(
            "SELECT request_hash, response_json FROM server_idempotency_keys
             WHERE user_id = ?1 AND vault_id = ?2 AND idempotency_key = ?3",
        )?
        .query_row(
            params![p.scope.user_id, p.scope.vault_id, p.idempotency_key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    replay(p, record)
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

/// §5.8, the steps that need the database, in request order: the first refusal, if any.
fn refused_blob(c: &Conn, p: &PushInput) -> Result<Option<BlobRefusal>, StoreError> {
    first_refusal(p, |sha256| blobs::ref_size(c, &p.scope, sha256))
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

/// The scope's last sequence and latest barrier (0, 0 for a new scope).
fn scope_marks(c: &Conn, scope: &Scope) -> Result<(i64, i64), StoreError> {
    Ok(c.prepare_cached(
        "SELECT last_sequence, last_barrier FROM server_scopes WHERE user_id = ?1 AND vault_id = ?2",
    )?
    .query_row(params![scope.user_id, scope.vault_id], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()?
    .unwrap_or((0, 0)))
}

pub(crate) fn last_sequence(c: &Conn, scope: &Scope) -> Result<i64, StoreError> {
    Ok(c.prepare_cached(
        "SELECT last_sequence FROM server_scopes WHERE user_id = ?1 AND vault_id = ?2",
    )?
    .query_row(params![scope.user_id, scope.vault_id], |r| r.get(0))
    .optional()?
    .unwrap_or(0))
}

/// Inserts `op` at sequence `seq`, linked after its entity's newest op, which it returns (the
/// caller makes the new op the head, `chain::append`). A primary-key collision means the op
/// id is already stored in the scope: an identical op is a duplicate, anything else a
/// collision (§5.5).
fn store_op(
    c: &Conn,
    p: &PushInput,
    op: &PushOp,
    seq: i64,
    now: &str,
) -> Result<(Stored, Option<i64>), StoreError> {
    let (u, v) = (&p.scope.user_id, &p.scope.vault_id);
    let entity = (op.entity_type.as_str(), op.entity_id.as_str());
    let prev = chain::head(c, &p.scope, entity)?;
    let inserted = c
        .prepare_cached(
            "INSERT INTO server_ops (user_id, vault_id, op_id, server_sequence, device_id, entity_type,
                entity_id, op_type, payload_json, idempotency_key, client_sequence, last_seen_server_seq,
                created_at, pushed_at, compaction, prev_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (user_id, vault_id, op_id) DO NOTHING",
        )?
        .execute(params![
            u, v, op.op_id, seq, p.device_id, op.entity_type.as_str(), op.entity_id,
            op.op_type.as_str(), op.payload_json, p.idempotency_key, op.client_sequence,
            op.last_seen_server_seq, op.created_at, now,
            compaction::class(op.entity_type.as_str(), op.op_type.as_str()), prev
        ])?;
    if inserted > 0 {
        return Ok((Stored::New, prev));
    }
    let (et, eid, ot, pj): (String, String, String, String) = c
        .prepare_cached(
            "SELECT entity_type, entity_id, op_type, payload_json FROM server_ops
             WHERE user_id = ?1 AND vault_id = ?2 AND op_id = ?3",
        )?
        .query_row(params![u, v, op.op_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    Ok((retold(op, [&et, &eid, &ot, &pj]), prev))
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

/// §5.6: the ops of other devices on the same entity after the pusher's `last_seen_server_seq`,
/// oldest first. The walk back along the entity's chain starts at `prev`, the op before the
/// one just stored (which is the pusher's own, so no conflict).
fn conflicts_with(
    c: &Conn,
    p: &PushInput,
    op: &PushOp,
    prev: Option<i64>,
) -> Result<Vec<Conflict>, StoreError> {
    let after = op.last_seen_server_seq;
    let mut found = Vec::new();
    if after <= 0 {
        return Ok(found);
    }
    let columns = "o.server_sequence, o.op_id, o.device_id, o.op_type";
    chain::walk(c, &p.scope, columns, "", prev, |r| {
        let q: i64 = r.get(0)?;
        if q <= after {
            return Ok(false);
        }
        let (device_id, op_type): (String, String) = (r.get(2)?, r.get(3)?);
        if device_id != p.device_id && op_type != "delete" {
            found.push(Conflict {
                op_id: r.get(1)?,
                device_id,
                op_type,
                server_sequence: q,
                entity_type: op.entity_type.to_string(),
                entity_id: op.entity_id.clone(),
            });
        }
        Ok(true)
    })?;
    found.reverse();
    Ok(found)
}

/// §5.7: a stored delete upserts the entity's tombstone; the latest delete wins.
fn tombstone(c: &Conn, scope: &Scope, op: &PushOp, now: &str) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO server_tombstones (user_id, vault_id, entity_type, entity_id, op_id, deleted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (user_id, vault_id, entity_type, entity_id)
         DO UPDATE SET op_id = excluded.op_id, deleted_at = excluded.deleted_at",
    )?
    .execute(params![
        scope.user_id,
        scope.vault_id,
        op.entity_type.as_str(),
        op.entity_id,
        op.op_id,
        now
    ])?;
    Ok(())
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
