//! The push of [`super::ops`] on PostgreSQL, in a fixed number of statements.
//!
//! Each statement is a round trip to the database server, so statements per op (an insert, a
//! supersede walk, a conflict query, a tombstone) made a 100-op push some 200 round trips.
//! Here a push is, after the scope lock, at most four: the scope's marks with the idempotency
//! record and the stored ops among its op ids, the blob refs it names, the conflicts of its
//! new ops, and one statement that writes everything (ops, supersessions, tombstones, marks,
//! the idempotency record) with arrays bound per column. What to write is decided in memory
//! from those reads ([`super::push_plan`], as on SQLite). The answers are the same: the scope
//! lock is taken in a statement of its own before the first read (each statement reads the
//! commits made before it started), and keeps every row the push reads or writes unchanged by
//! others until it commits.

use postgres::types::ToSql;
use std::collections::HashMap;
use verstak_sync_proto::Conflict;

use super::StoreError;
use super::ops::{self, PushInput, PushOutcome};
use super::push_plan::{Entity, NewOp, plan};
use super::sql::PgConn;
use crate::push_prep::BlobCheck;

/// What a push reads before it decides anything, in one statement: a first row (kind 0) with
/// the scope's marks and the record under the push's idempotency key, then a row (kind 1) per
/// stored op among the push's op ids, each as `op_id, entity_type, entity_id, op_type,
/// payload_json`.
const READ: &str = "SELECT 0::bigint AS kind, s.last_sequence, s.last_barrier,
        k.request_hash, k.response_json, NULL::text, NULL::text, NULL::text
    FROM (SELECT 1) AS one
    LEFT JOIN server_scopes s ON s.user_id = $1::text AND s.vault_id = $2::text
    LEFT JOIN server_idempotency_keys k
        ON k.user_id = $1 AND k.vault_id = $2 AND k.idempotency_key = $3::text
    UNION ALL
    SELECT 1, NULL, NULL, op_id, entity_type, entity_id, op_type, payload_json
    FROM server_ops WHERE user_id = $1 AND vault_id = $2 AND op_id = ANY($4::text[])";

/// The sizes of this scope's refs to the blobs a push names.
const BLOB_SIZES: &str = "SELECT sha256, size FROM server_blob_refs
    WHERE user_id = $1::text AND vault_id = $2::text AND sha256 = ANY($3::text[])";

/// §5.6 for several (entity, cursor) pairs at once: per pair, the ops of other devices on the
/// entity after the cursor that are not deletes, numbered from 1 in the order given.
const CONFLICTS: &str = "SELECT e.k, o.op_id, o.device_id, o.op_type, o.server_sequence
    FROM unnest($3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS e(et, eid, since, k)
    JOIN server_ops o ON o.user_id = $1::text AND o.vault_id = $2::text
        AND o.entity_type = e.et AND o.entity_id = e.eid AND o.server_sequence > e.since
    WHERE o.device_id <> $6::text AND o.op_type <> 'delete'
    ORDER BY e.k, o.server_sequence";

/// Everything a push writes, in one statement. The sub-statements see the state before it, so
/// `superseded` touches only ops stored before the push (the push's own ops arrive with their
/// final class). For each entity whose supersede walk (`push_plan`) went past the push's own
/// ops, it marks what the walk would: the entity's heads after `floor` (the newest op since the
/// barrier that is not a head) from `setter` on (the newest head after it that is not a
/// create), each bound read first as an index range on the entity, not as a subquery per row. The scope's marks, the
/// device's and the idempotency record are skipped by their conditions when there is nothing
/// to write.
const WRITE: &str = "WITH superseded AS (
    UPDATE server_ops o SET compaction = 1
    FROM unnest($3::text[], $4::text[]) AS e(et, eid)
    CROSS JOIN LATERAL (SELECT COALESCE(MAX(x.server_sequence), $5::bigint) AS floor
        FROM server_ops x WHERE x.user_id = $1::text AND x.vault_id = $2::text
          AND x.entity_type = e.et AND x.entity_id = e.eid AND x.server_sequence > $5
          AND x.compaction <> 0) AS f
    CROSS JOIN LATERAL (SELECT COALESCE(MAX(x.server_sequence), 0) AS setter
        FROM server_ops x WHERE x.user_id = $1 AND x.vault_id = $2
          AND x.entity_type = e.et AND x.entity_id = e.eid AND x.server_sequence > f.floor
          AND x.compaction = 0 AND x.op_type <> 'create') AS g
    WHERE o.user_id = $1 AND o.vault_id = $2 AND o.entity_type = e.et AND o.entity_id = e.eid
      AND o.server_sequence > f.floor AND o.server_sequence >= g.setter AND o.compaction = 0
), stored AS (
    INSERT INTO server_ops (user_id, vault_id, op_id, server_sequence, device_id, entity_type,
        entity_id, op_type, payload_json, idempotency_key, client_sequence, last_seen_server_seq,
        created_at, pushed_at, compaction)
    SELECT $1, $2, n.op_id, n.seq, $6::text, n.et, n.eid, n.ot, n.pj, $7::text, n.cs, n.ls,
        n.ca, $8::text, n.cls
    FROM unnest($9::text[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[],
            $15::bigint[], $16::bigint[], $17::text[], $18::bigint[])
        AS n(op_id, seq, et, eid, ot, pj, cs, ls, ca, cls)
), tombstones AS (
    INSERT INTO server_tombstones (user_id, vault_id, entity_type, entity_id, op_id, deleted_at)
    SELECT $1, $2, t.et, t.eid, t.op_id, $8
    FROM unnest($19::text[], $20::text[], $21::text[]) AS t(et, eid, op_id)
    ON CONFLICT (user_id, vault_id, entity_type, entity_id)
    DO UPDATE SET op_id = excluded.op_id, deleted_at = excluded.deleted_at
), marks AS (
    INSERT INTO server_scopes (user_id, vault_id, last_sequence, created_at, last_barrier)
    SELECT $1, $2, $22::bigint, $8, $23::bigint WHERE $22 > $24::bigint
    ON CONFLICT (user_id, vault_id) DO UPDATE SET last_sequence = excluded.last_sequence,
        last_barrier = excluded.last_barrier
), device AS (
    INSERT INTO server_device_sync (device_id, user_id, vault_id, last_push_sequence)
    SELECT $6, $1, $2, $22 WHERE $22 > $24
    ON CONFLICT (device_id, user_id, vault_id)
    DO UPDATE SET last_push_sequence = excluded.last_push_sequence
)
INSERT INTO server_idempotency_keys (user_id, vault_id, idempotency_key, request_hash,
    response_json, created_at)
SELECT $1, $2, $7, $25::text, $26::text, $8 WHERE $26 IS NOT NULL";

pub(super) fn push(pg: &PgConn, p: &PushInput, now: &str) -> Result<PushOutcome, StoreError> {
    let (u, v) = (p.scope.user_id.as_str(), p.scope.vault_id.as_str());
    let ids: Vec<&str> = p.ops.iter().map(|o| o.op_id.as_str()).collect();
    let rows = pg.query_typed(READ, &[&u, &v, &p.idempotency_key, &ids])?;
    let mut marks = None;
    let mut known: HashMap<String, [String; 4]> = HashMap::new();
    for r in &rows {
        if r.try_get::<_, i64>(0)? == 0 {
            marks = Some(r);
        } else {
            known.insert(
                r.try_get(3)?,
                [r.try_get(4)?, r.try_get(5)?, r.try_get(6)?, r.try_get(7)?],
            );
        }
    }
    let marks =
        marks.ok_or_else(|| StoreError::Refused("the push's read found no marks row".into()))?;
    let start: i64 = marks.try_get::<_, Option<i64>>(1)?.unwrap_or(0);
    let first_barrier: i64 = marks.try_get::<_, Option<i64>>(2)?.unwrap_or(0);
    if !p.idempotency_key.is_empty() {
        let record = match (marks.try_get(3)?, marks.try_get(4)?) {
            (Some(hash), Some(body)) => Some((hash, body)),
            _ => None,
        };
        if let Some(answer) = ops::replay(p, record)? {
            return Ok(answer);
        }
    }
    let sizes = blob_sizes(pg, p)?;
    if let Some(refusal) = ops::first_refusal(p, |sha| Ok(sizes.get(sha).copied()))? {
        return Ok(PushOutcome::Rejected(refusal));
    }

    let planned = plan(p, &known, start, first_barrier);
    let mut stats = planned.stats;
    let conflicts = conflicts(pg, p, &planned.new)?;
    stats.conflicts = conflicts.len() as u64;
    let answer = ops::answer_record(p, &planned.skip, &conflicts);
    let last = planned.last;
    if !planned.new.is_empty() || answer.is_some() {
        write(
            pg,
            p,
            now,
            Written {
                new: &planned.new,
                walk_stored: &planned.walk_stored,
                tombstones: &planned.tombstones,
                marks: (start, last, first_barrier, planned.last_barrier),
                answer,
            },
        )?;
    }
    Ok(ops::stored(
        p,
        planned.skip,
        conflicts,
        stats,
        (start, last),
    ))
}

/// The sizes of this scope's refs to the blobs the push names (none read when it names none).
fn blob_sizes(pg: &PgConn, p: &PushInput) -> Result<HashMap<String, i64>, StoreError> {
    let shas: Vec<&str> = p
        .blob_checks
        .iter()
        .filter_map(|c| match c {
            BlobCheck::Owned(r) => Some(r.sha256.as_str()),
            BlobCheck::Refuse(_) => None,
        })
        .collect();
    let mut sizes = HashMap::new();
    if shas.is_empty() {
        return Ok(sizes);
    }
    let (u, v) = (p.scope.user_id.as_str(), p.scope.vault_id.as_str());
    for r in pg.query_typed(BLOB_SIZES, &[&u, &v, &shas])? {
        sizes.insert(r.try_get(0)?, r.try_get(1)?);
    }
    Ok(sizes)
}

/// §5.6 for every new op with a cursor, in push order: the ops of other devices on its entity
/// after its `last_seen_server_seq`. The push's own ops carry its device id, so reading before
/// they are written gives what reading after each insert would.
fn conflicts(pg: &PgConn, p: &PushInput, new: &[NewOp<'_>]) -> Result<Vec<Conflict>, StoreError> {
    // One query row per distinct (entity, cursor): many ops of a push share them.
    let mut keys: Vec<(Entity<'_>, i64)> = Vec::new();
    let mut key_of: HashMap<(Entity<'_>, i64), usize> = HashMap::new();
    let mut asks = Vec::new();
    for n in new.iter().filter(|n| n.op.last_seen_server_seq > 0) {
        let key = (
            (n.op.entity_type.as_str(), n.op.entity_id.as_str()),
            n.op.last_seen_server_seq,
        );
        let k = *key_of.entry(key).or_insert_with(|| {
            keys.push(key);
            keys.len()
        });
        asks.push((n.op, k));
    }
    if asks.is_empty() {
        return Ok(Vec::new());
    }
    let ets: Vec<&str> = keys.iter().map(|((et, _), _)| *et).collect();
    let eids: Vec<&str> = keys.iter().map(|((_, eid), _)| *eid).collect();
    let sinces: Vec<i64> = keys.iter().map(|(_, s)| *s).collect();
    let (u, v) = (p.scope.user_id.as_str(), p.scope.vault_id.as_str());
    let dev = p.device_id.as_str();
    let params: [&(dyn ToSql + Sync); 6] = [&u, &v, &ets, &eids, &sinces, &dev];
    // (op_id, device_id, op_type, server_sequence) per key, in sequence order.
    let mut found: HashMap<usize, Vec<(String, String, String, i64)>> = HashMap::new();
    for r in pg.query_typed(CONFLICTS, &params)? {
        let k: i64 = r.try_get(0)?;
        found.entry(k as usize).or_default().push((
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
        ));
    }
    let mut out = Vec::new();
    for (op, k) in asks {
        for (op_id, device_id, op_type, seq) in found.get(&k).into_iter().flatten() {
            out.push(Conflict {
                op_id: op_id.clone(),
                device_id: device_id.clone(),
                op_type: op_type.clone(),
                server_sequence: *seq,
                entity_type: op.entity_type.to_string(),
                entity_id: op.entity_id.clone(),
            });
        }
    }
    Ok(out)
}

/// What [`write`] stores.
struct Written<'a> {
    new: &'a [NewOp<'a>],
    walk_stored: &'a [Entity<'a>],
    tombstones: &'a [(Entity<'a>, &'a str)],
    /// The scope's last sequence and barrier before and after: (start, last, first, latest).
    marks: (i64, i64, i64, i64),
    answer: Option<String>,
}

fn write(pg: &PgConn, p: &PushInput, now: &str, w: Written<'_>) -> Result<(), StoreError> {
    let (u, v) = (p.scope.user_id.as_str(), p.scope.vault_id.as_str());
    let (start, last, first_barrier, last_barrier) = w.marks;
    let sup_et: Vec<&str> = w.walk_stored.iter().map(|e| e.0).collect();
    let sup_eid: Vec<&str> = w.walk_stored.iter().map(|e| e.1).collect();
    let op_id = column(w.new, |n| &n.op.op_id);
    let et = column(w.new, |n| n.op.entity_type.as_str());
    let eid = column(w.new, |n| &n.op.entity_id);
    let ot = column(w.new, |n| n.op.op_type.as_str());
    let pj = column(w.new, |n| &n.op.payload_json);
    let ca = column(w.new, |n| &n.op.created_at);
    let seq = column(w.new, |n| n.seq);
    let cs = column(w.new, |n| n.op.client_sequence);
    let ls = column(w.new, |n| n.op.last_seen_server_seq);
    let cls = column(w.new, |n| n.class);
    let t_et: Vec<&str> = w.tombstones.iter().map(|(e, _)| e.0).collect();
    let t_eid: Vec<&str> = w.tombstones.iter().map(|(e, _)| e.1).collect();
    let t_op: Vec<&str> = w.tombstones.iter().map(|(_, id)| *id).collect();
    let (dev, key) = (p.device_id.as_str(), p.idempotency_key.as_str());
    let params: [&(dyn ToSql + Sync); 26] = [
        &u,
        &v,
        &sup_et,
        &sup_eid,
        &first_barrier,
        &dev,
        &key,
        &now,
        &op_id,
        &seq,
        &et,
        &eid,
        &ot,
        &pj,
        &cs,
        &ls,
        &ca,
        &cls,
        &t_et,
        &t_eid,
        &t_op,
        &last,
        &last_barrier,
        &start,
        &p.fingerprint,
        &w.answer,
    ];
    pg.query_typed(WRITE, &params)?;
    Ok(())
}

/// One column of the new ops, bound as an array.
fn column<'a, T>(new: &'a [NewOp<'a>], f: impl Fn(&'a NewOp<'a>) -> T) -> Vec<T> {
    new.iter().map(f).collect()
}
