//! The push of [`super::ops`] on SQLite: decided in memory like PostgreSQL's
//! ([`super::push_plan`]), then written op by op. In process a statement costs microseconds,
//! so what counts is how many run per op: the reads are the stored ops among the push's op ids
//! (one query), each entity's head and, for an entity whose supersede walk reaches the ops
//! stored before, that walk; the writes are one insert per new op, carrying its final class
//! and its entity chain links (`super::chain`), then per entity one head move and one forward
//! link of its previous newest op.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use verstak_sync_proto::Conflict;

use super::ops::{self, PushInput, PushOutcome};
use super::push_plan::{Entity, NewOp, plan};
use super::sql::{Conn, OptionalExtension, params};
use super::{Scope, StoreError, blobs, chain, compaction};
use crate::push_prep::BlobRefusal;

pub(super) fn push(c: &Conn, p: &PushInput, now: &str) -> Result<PushOutcome, StoreError> {
    if let Some(answer) = earlier_answer(c, p)? {
        return Ok(answer);
    }
    if let Some(refusal) = refused_blob(c, p)? {
        return Ok(PushOutcome::Rejected(refusal));
    }
    let s = &p.scope;
    let (start, first_barrier) = scope_marks(c, s)?;
    let known = known_ops(c, p)?;
    let planned = plan(p, &known, start, first_barrier);
    let new = &planned.new;
    let mut stats = planned.stats;

    // Reads: each entity's newest op before the push, while linking the new ops in one pass
    // (each new op's `(prev_seq, next_seq)` on its entity's chain).
    let mut touched: HashMap<Entity<'_>, Touched> = HashMap::new();
    let mut links: Vec<(Option<i64>, Option<i64>)> = Vec::with_capacity(new.len());
    for (i, n) in new.iter().enumerate() {
        let prev = match touched.entry(entity(n)) {
            Entry::Occupied(mut t) => {
                let t = t.get_mut();
                links[t.last].1 = Some(n.seq);
                let prev = new[t.last].seq;
                t.last = i;
                Some(prev)
            }
            Entry::Vacant(slot) => {
                let head = chain::head(c, s, *slot.key())?;
                slot.insert(Touched {
                    head,
                    first: n.seq,
                    last: i,
                });
                head
            }
        };
        links.push((prev, None));
    }
    let mut superseded: HashMap<Entity<'_>, Vec<i64>> = HashMap::new();
    for e in &planned.walk_stored {
        let found = compaction::superseded(c, s, touched[e].head, first_barrier)?;
        superseded.insert(*e, found);
    }
    let conflicts = conflicts(c, p, new, &touched)?;
    stats.conflicts = conflicts.len() as u64;

    // Writes: the new ops with their links, then per entity its head and its previous newest.
    let mut insert = c.prepare_cached(
        "INSERT INTO server_ops (user_id, vault_id, op_id, server_sequence, device_id, entity_type,
            entity_id, op_type, payload_json, idempotency_key, client_sequence, last_seen_server_seq,
            created_at, pushed_at, compaction, prev_seq, next_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    for (n, (prev, next)) in new.iter().zip(&links) {
        let op = n.op;
        insert.execute(params![
            s.user_id,
            s.vault_id,
            op.op_id,
            n.seq,
            p.device_id,
            op.entity_type.as_str(),
            op.entity_id,
            op.op_type.as_str(),
            op.payload_json,
            p.idempotency_key,
            op.client_sequence,
            op.last_seen_server_seq,
            op.created_at,
            now,
            n.class,
            prev,
            next
        ])?;
    }
    drop(insert);
    for (e, t) in &touched {
        chain::set_head(c, s, *e, new[t.last].seq)?;
        if let Some(before) = t.head {
            let found = superseded.get(e).map_or(&[][..], Vec::as_slice);
            // The walk starts at `before`: when it found anything, `before` comes first.
            chain::link_forward(c, s, before, t.first, !found.is_empty())?;
            compaction::mark_superseded(c, s, found.get(1..).unwrap_or_default())?;
        }
    }
    for ((et, eid), op_id) in &planned.tombstones {
        c.prepare_cached(
            "INSERT INTO server_tombstones (user_id, vault_id, entity_type, entity_id, op_id, deleted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (user_id, vault_id, entity_type, entity_id)
             DO UPDATE SET op_id = excluded.op_id, deleted_at = excluded.deleted_at",
        )?
        .execute(params![s.user_id, s.vault_id, et, eid, op_id, now])?;
    }
    let (last, last_barrier) = (planned.last, planned.last_barrier);
    if last != start {
        c.prepare_cached(
            "INSERT INTO server_scopes (user_id, vault_id, last_sequence, created_at, last_barrier)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (user_id, vault_id) DO UPDATE SET last_sequence = excluded.last_sequence,
                last_barrier = excluded.last_barrier",
        )?
        .execute(params![s.user_id, s.vault_id, last, now, last_barrier])?;
        // What a compacted pull asks first: did this device push after the cursor?
        c.prepare_cached(
            "INSERT INTO server_device_sync (device_id, user_id, vault_id, last_push_sequence)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (device_id, user_id, vault_id) DO UPDATE SET last_push_sequence = excluded.last_push_sequence",
        )?
        .execute(params![p.device_id, s.user_id, s.vault_id, last])?;
    }
    if let Some(text) = ops::answer_record(p, &planned.skip, &conflicts) {
        c.prepare_cached(
            "INSERT INTO server_idempotency_keys (user_id, vault_id, idempotency_key, request_hash, response_json, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![s.user_id, s.vault_id, p.idempotency_key, p.fingerprint, text, now])?;
    }
    Ok(ops::stored(
        p,
        planned.skip,
        conflicts,
        stats,
        (start, last),
    ))
}

fn entity<'a>(n: &NewOp<'a>) -> Entity<'a> {
    (n.op.entity_type.as_str(), n.op.entity_id.as_str())
}

/// An entity the push changes: its newest op before the push, its first new op's sequence,
/// and its last new op (an index into the plan's new ops).
struct Touched {
    head: Option<i64>,
    first: i64,
    last: usize,
}

/// The stored ops among the push's op ids, as `[entity_type, entity_id, op_type, payload_json]`.
fn known_ops(c: &Conn, p: &PushInput) -> Result<HashMap<String, [String; 4]>, StoreError> {
    let ids: Vec<&str> = p.ops.iter().map(|o| o.op_id.as_str()).collect();
    let ids = serde_json::to_string(&ids).expect("plain strings");
    let mut st = c.prepare_cached(
        "SELECT op_id, entity_type, entity_id, op_type, payload_json FROM server_ops
         WHERE user_id = ?1 AND vault_id = ?2 AND op_id IN (SELECT value FROM json_each(?3))",
    )?;
    let rows = st.query_map(params![p.scope.user_id, p.scope.vault_id, ids], |r| {
        Ok((r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?]))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// §5.6 for every new op with a cursor, in push order: the ops of other devices on its entity
/// after its `last_seen_server_seq`, walking back from the entity's newest op before the push
/// (the push's own ops carry the pusher's device, so they are never conflicts).
fn conflicts(
    c: &Conn,
    p: &PushInput,
    new: &[NewOp<'_>],
    touched: &HashMap<Entity<'_>, Touched>,
) -> Result<Vec<Conflict>, StoreError> {
    let mut out = Vec::new();
    // Many ops of a push share an entity and a cursor: one walk for each pair.
    let mut walked: HashMap<(Entity<'_>, i64), Vec<Conflict>> = HashMap::new();
    for n in new.iter().filter(|n| n.op.last_seen_server_seq > 0) {
        let (op, after) = (n.op, n.op.last_seen_server_seq);
        let key = (entity(n), after);
        if let Entry::Vacant(slot) = walked.entry(key) {
            let mut found = Vec::new();
            let columns = "o.server_sequence, o.op_id, o.device_id, o.op_type";
            chain::walk(c, &p.scope, columns, "", touched[&key.0].head, |r| {
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
            slot.insert(found);
        }
        out.extend(walked[&key].iter().cloned());
    }
    Ok(out)
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
    ops::replay(p, record)
}

/// §5.8, the steps that need the database, in request order: the first refusal, if any.
fn refused_blob(c: &Conn, p: &PushInput) -> Result<Option<BlobRefusal>, StoreError> {
    ops::first_refusal(p, |sha256| blobs::ref_size(c, &p.scope, sha256))
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
