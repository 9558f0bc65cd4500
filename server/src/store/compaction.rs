//! Compacted joins (docs/compacted-joins.md): which stored ops a pull from an old cursor may
//! leave out, kept as one small class per op so that a compacted page is walked in time
//! proportional to what it delivers, not to the history behind it.
//!
//! Each op has a class in `server_ops.compaction`:
//! * [`HEAD`]: a state-setting op (file create/update/delete, folder create, plugin-record
//!   create/update/delete, workspace-tree-order update) that no later op has superseded;
//! * [`SUPERSEDED`]: a state-setting op followed, with no barrier in between, by a later
//!   update or delete of the same entity (`entity_type`, `entity_id`);
//! * [`BARRIER`]: every other op (moves, folder deletes, workspace ops, unknown types). It is
//!   never superseded and nothing before it is superseded by anything after it.
//!
//! Push keeps the classes (`push_plan`, and [`superseded`] for the ops stored before it); a
//! compacted pull walks the heads and barriers through a partial index and skips, per entity,
//! what a device that lacked the entity at its cursor cannot need ([`page`]).

use super::sql::{Conn, OptionalExtension, params};
use std::collections::HashMap;
use verstak_sync_proto::{EntityType, OpType, PulledOp};

use super::{Scope, StoreError, chain};

pub(crate) const HEAD: i64 = 0;
pub(crate) const SUPERSEDED: i64 = 1;
pub(crate) const BARRIER: i64 = 2;

/// The class a newly stored op gets: [`HEAD`] for a state-setting op, else [`BARRIER`].
/// Compared byte for byte, like the server compares `"delete"` (values are stored untrimmed).
pub(crate) fn class(entity_type: &str, op_type: &str) -> i64 {
    let state_setting = matches!(
        (entity_type, op_type),
        ("file", "create" | "update" | "delete")
            | ("folder", "create")
            | ("plugin-record", "create" | "update" | "delete")
            | ("workspace-tree-order", "update")
    );
    if state_setting { HEAD } else { BARRIER }
}

/// The same test as [`class`], in SQL, for classifying a stored history.
const STATE_SETTING_SQL: &str =
    "((entity_type = 'file' AND op_type IN ('create', 'update', 'delete'))
    OR (entity_type = 'folder' AND op_type = 'create')
    OR (entity_type = 'plugin-record' AND op_type IN ('create', 'update', 'delete'))
    OR (entity_type = 'workspace-tree-order' AND op_type = 'update'))";

/// Classifies every stored op and sets each scope's latest barrier (the 4 → 5 migration).
pub(crate) fn classify_history(tx: &rusqlite::Connection) -> Result<(), StoreError> {
    tx.execute_batch(&format!(
        "UPDATE server_ops SET compaction = {BARRIER} WHERE NOT {STATE_SETTING_SQL};
         UPDATE server_ops SET compaction = {SUPERSEDED} WHERE rowid IN (
           SELECT rid FROM (
             SELECT rowid AS rid, compaction AS cls,
               MIN(CASE WHEN compaction = {HEAD} AND op_type <> 'create' THEN server_sequence END)
                 OVER (PARTITION BY user_id, vault_id, entity_type, entity_id ORDER BY server_sequence
                       ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_setter,
               MIN(CASE WHEN compaction = {BARRIER} THEN server_sequence END)
                 OVER (PARTITION BY user_id, vault_id ORDER BY server_sequence
                       ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_barrier
             FROM server_ops)
           WHERE cls = {HEAD} AND next_setter IS NOT NULL
             AND (next_barrier IS NULL OR next_setter < next_barrier));
         UPDATE server_scopes SET last_barrier = COALESCE((SELECT MAX(server_sequence) FROM server_ops o
           WHERE o.user_id = server_scopes.user_id AND o.vault_id = server_scopes.vault_id
             AND o.compaction = {BARRIER}), 0);"
    ))?;
    Ok(())
}

/// For a push whose update or delete of an entity supersedes everything of the entity it
/// stores before it (`push_plan::Plan::walk_stored`), on SQLite: the entity's stored heads
/// since the scope's latest barrier that it supersedes, newest first, from `prev`, the entity's
/// newest op before the push. They are the suffix of its ops that starts at its last update or
/// delete (or all of them when it has none), so the walk back along the entity's chain stops
/// there, almost always at `prev`. The first, when any, is `prev` (marked with its forward
/// link, `chain::link_forward`); the caller marks the rest ([`mark_superseded`]).
///
/// A push on PostgreSQL marks the same ops in its one write (`ops_pg::WRITE`).
pub(crate) fn superseded(
    c: &Conn,
    s: &Scope,
    prev: Option<i64>,
    last_barrier: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut found = Vec::new();
    let columns = "o.server_sequence, o.op_type, o.compaction";
    chain::walk(c, s, columns, "", prev, |r| {
        let (q, op_type, cls): (i64, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        if q <= last_barrier || cls != HEAD {
            return Ok(false);
        }
        found.push(q);
        Ok(op_type == "create")
    })?;
    Ok(found)
}

/// Marks these ops of a scope superseded.
pub(crate) fn mark_superseded(c: &Conn, s: &Scope, seqs: &[i64]) -> Result<(), StoreError> {
    let mut up = c.prepare_cached(&format!(
        "UPDATE server_ops SET compaction = {SUPERSEDED}
         WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence = ?3"
    ))?;
    for q in seqs {
        up.execute(params![s.user_id, s.vault_id, q])?;
    }
    Ok(())
}

/// One head or barrier as the walk reads it: the op, its raw entity and op type, its class.
struct Row {
    op: PulledOp,
    entity_type: String,
    op_type: String,
    class: i64,
}

/// Heads and barriers read per query while filling a page.
const BATCH: i64 = 256;

/// One compacted page after `since`: at most `limit` ops and whether more follow. `last` is
/// the scope's last sequence (read in the same transaction); its op is always delivered, so a
/// full pull still ends at `server_sequence`.
pub(crate) fn page(
    c: &Conn,
    s: &Scope,
    since: i64,
    limit: usize,
    last: i64,
) -> Result<(Vec<PulledOp>, bool), StoreError> {
    let mut out = Vec::new();
    let mut after = since;
    let mut seen = Default::default();
    loop {
        let rows = heads(c, s, after)?;
        if rows.is_empty() {
            return Ok((out, false));
        }
        for row in rows {
            if out.len() == limit {
                // A head follows the page; the chain of supersession ends at a delivered op.
                return Ok((out, true));
            }
            after = row.op.server_sequence;
            let deliver = row.class == BARRIER
                || row.op.server_sequence == last
                || !skippable(c, s, &row, since, &mut seen)?;
            if deliver {
                out.push(row.op);
            }
        }
    }
}

fn heads(c: &Conn, s: &Scope, after: i64) -> Result<Vec<Row>, StoreError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT op_id, server_sequence, device_id, entity_type, entity_id, op_type, payload_json,
                created_at, compaction
         FROM server_ops INDEXED BY idx_server_ops_heads
         WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence > ?3 AND compaction <> {SUPERSEDED}
         ORDER BY server_sequence LIMIT ?4"
    ))?;
    let rows = st.query_map(params![s.user_id, s.vault_id, after, BATCH], |r| {
        let entity_type: String = r.get(3)?;
        let op_type: String = r.get(5)?;
        Ok(Row {
            op: PulledOp {
                op_id: r.get(0)?,
                server_sequence: r.get(1)?,
                device_id: r.get(2)?,
                entity_type: EntityType::from(entity_type.clone()),
                entity_id: r.get(4)?,
                op_type: OpType::from(op_type.clone()),
                payload_json: r.get(6)?,
                created_at: r.get(7)?,
            },
            entity_type,
            op_type,
            class: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The first barrier after a sequence, remembered per sequence for one page.
#[derive(Default)]
struct Barriers(HashMap<i64, Option<i64>>);

impl Barriers {
    fn first_after(&mut self, c: &Conn, s: &Scope, d: i64) -> Result<Option<i64>, StoreError> {
        if let Some(b) = self.0.get(&d) {
            return Ok(*b);
        }
        let b: Option<i64> = c
            .prepare_cached(&format!(
                "SELECT server_sequence FROM server_ops INDEXED BY idx_server_ops_barriers
                 WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence > ?3 AND compaction = {BARRIER}
                 ORDER BY server_sequence LIMIT 1"
            ))?
            .query_row(params![s.user_id, s.vault_id, d], |r| r.get(0))
            .optional()?;
        self.0.insert(d, b);
        Ok(b)
    }
}

/// Each entity's last op at or before the cursor (its sequence and op type), remembered per
/// entity for one page.
#[derive(Default)]
struct AtCursor(HashMap<(String, String), Option<(i64, String)>>);

impl AtCursor {
    /// `row` is an op of the entity after the cursor: on SQLite the walk back along the
    /// entity's chain starts there.
    fn of(
        &mut self,
        c: &Conn,
        s: &Scope,
        row: &Row,
        since: i64,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let key = (row.entity_type.clone(), row.op.entity_id.clone());
        if let Some(found) = self.0.get(&key) {
            return Ok(found.clone());
        }
        let found = if c.is_pg() {
            c.prepare_cached(
                "SELECT server_sequence, op_type FROM server_ops
                 WHERE user_id = ?1 AND vault_id = ?2 AND entity_type = ?3 AND entity_id = ?4
                   AND server_sequence <= ?5
                 ORDER BY server_sequence DESC LIMIT 1",
            )?
            .query_row(params![s.user_id, s.vault_id, key.0, key.1, since], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?
        } else {
            let mut found = None;
            let columns = "o.server_sequence, o.op_type";
            chain::walk(c, s, columns, "", Some(row.op.server_sequence), |r| {
                let q: i64 = r.get(0)?;
                if q <= since {
                    found = Some((q, r.get(1)?));
                }
                Ok(found.is_none())
            })?;
            found
        };
        self.0.insert(key, found.clone());
        Ok(found)
    }
}

/// The sequence of the entity's next op after `row`.
fn next_of(c: &Conn, s: &Scope, row: &Row) -> Result<Option<i64>, StoreError> {
    if !c.is_pg() {
        return chain::next(c, s, row.op.server_sequence);
    }
    Ok(c.prepare_cached(
        "SELECT server_sequence FROM server_ops
         WHERE user_id = ?1 AND vault_id = ?2 AND entity_type = ?3 AND entity_id = ?4
           AND server_sequence > ?5
         ORDER BY server_sequence LIMIT 1",
    )?
    .query_row(
        params![
            s.user_id,
            s.vault_id,
            row.entity_type,
            row.op.entity_id,
            row.op.server_sequence
        ],
        |r| r.get(0),
    )
    .optional()?)
}

/// Whether a head may be left out for a device at `since`: only when the entity was absent at
/// the cursor (its last op up to there is a delete, or it has none) and no barrier since that
/// point could have brought it back; then a delete changes nothing, and an op followed by
/// another op of the entity (a create, as the op is a head) is replaced by that later op.
fn skippable(
    c: &Conn,
    s: &Scope,
    row: &Row,
    since: i64,
    seen: &mut (Barriers, AtCursor),
) -> Result<bool, StoreError> {
    let (barriers, at_cursor) = seen;
    let absent_from = if since == 0 {
        0
    } else {
        match at_cursor.of(c, s, row, since)? {
            None => 0,
            Some((seq, op_type)) if op_type == "delete" => seq,
            Some(_) => return Ok(false),
        }
    };
    let barrier = barriers.first_after(c, s, absent_from)?;
    let before_barrier = |q: i64| barrier.is_none_or(|b| q < b);
    if !before_barrier(row.op.server_sequence) {
        return Ok(false);
    }
    if row.op_type == "delete" {
        return Ok(true);
    }
    Ok(next_of(c, s, row)?.is_some_and(before_barrier))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_table() {
        let cases = [
            ("file", "create", HEAD),
            ("file", "update", HEAD),
            ("file", "delete", HEAD),
            ("file", "move", BARRIER),
            ("file", "rename", BARRIER),
            ("folder", "create", HEAD),
            ("folder", "delete", BARRIER),
            ("folder", "move", BARRIER),
            ("plugin-record", "update", HEAD),
            ("workspace-tree-order", "update", HEAD),
            ("workspace-folder", "move", BARRIER),
            ("workspace-folder", "trash", BARRIER),
            ("workspace", "rename", BARRIER),
            ("note", "update", BARRIER),
            (" file", "update", BARRIER),
            ("file", "Update", BARRIER),
        ];
        for (e, o, want) in cases {
            assert_eq!(class(e, o), want, "{e} {o}");
        }
    }
}
