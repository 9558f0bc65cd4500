//! Entity chains: how a SQLite database finds the ops of one entity (schema version 7, spec
//! §7.3 allows the layout; server/README.md "Entity chains").
//!
//! An index over `(scope, entity, sequence)` has one insertion point per entity being edited,
//! so a group commit of pushes dirtied a page of it per entity: most of the WAL the writer
//! wrote. Instead each op keeps the sequence of its entity's previous and next op (`prev_seq`,
//! `next_seq`) and `server_entity_heads` keeps each entity's newest op. A push reads and moves
//! the head and links the previous op (rows that are hot while an entity is edited); the
//! entity queries walk the chain through the unique `(scope, sequence)` index. PostgreSQL
//! keeps the entity index, so the callers here run on SQLite only.
//!
//! Every op of an entity is on its chain, in sequence order: pushes append at the head
//! (`super::ops_sqlite`), and history retention unlinks an op before deleting it ([`unlink`]).

use super::sql::{Conn, OptionalExtension, Row, params};

use super::compaction::SUPERSEDED;
use super::{Scope, StoreError};

/// `(entity_type, entity_id)`.
pub(crate) type Entity<'a> = (&'a str, &'a str);

/// Runs `f` in one read transaction when `c` is outside any (a reader's connection): a walk
/// reads one op at a time, and history retention may unlink ops between two of those reads.
/// Writer jobs and pulls are in a transaction already.
pub(crate) fn consistent<T>(
    c: &Conn,
    f: impl FnOnce(&Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if !c.sqlite().is_some_and(|raw| raw.is_autocommit()) {
        return f(c);
    }
    let tx = c.snapshot()?;
    let out = f(&tx)?;
    tx.finish()?;
    Ok(out)
}

/// The head lookup: `(user, vault, entity_type, entity_id)`.
pub(super) const HEAD: &str = "SELECT head_seq FROM server_entity_heads
     WHERE user_id = ?1 AND vault_id = ?2 AND entity_type = ?3 AND entity_id = ?4";

/// The sequence of the entity's newest op, if it has any.
pub(crate) fn head(c: &Conn, s: &Scope, (et, eid): Entity<'_>) -> Result<Option<i64>, StoreError> {
    Ok(c.prepare_cached(HEAD)?
        .query_row(params![s.user_id, s.vault_id, et, eid], |r| r.get(0))
        .optional()?)
}

/// Makes op `seq` the entity's newest.
pub(crate) fn set_head(
    c: &Conn,
    s: &Scope,
    (et, eid): Entity<'_>,
    seq: i64,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO server_entity_heads (user_id, vault_id, entity_type, entity_id, head_seq)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_id, vault_id, entity_type, entity_id) DO UPDATE SET head_seq = excluded.head_seq",
    )?
    .execute(params![s.user_id, s.vault_id, et, eid, seq])?;
    Ok(())
}

/// Links op `prev` forward to `next`, the next op of its entity; `superseded` marks `prev`
/// superseded in the same write (`compaction::superseded`).
pub(crate) fn link_forward(
    c: &Conn,
    s: &Scope,
    prev: i64,
    next: i64,
    superseded: bool,
) -> Result<(), StoreError> {
    c.prepare_cached(&format!(
        "UPDATE server_ops SET next_seq = ?4,
           compaction = CASE WHEN ?5 THEN {SUPERSEDED} ELSE compaction END
         WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence = ?3"
    ))?
    .execute(params![s.user_id, s.vault_id, prev, next, superseded])?;
    Ok(())
}

/// Before op `seq` is deleted: joins its neighbours on its entity's chain, and makes its
/// previous op the entity's newest when it was (no op left: no head row). Nothing when no op
/// `seq` is stored.
pub(crate) fn unlink(c: &Conn, s: &Scope, seq: i64) -> Result<(), StoreError> {
    type Links = (String, String, Option<i64>, Option<i64>);
    let found: Option<Links> = c
        .prepare_cached(
            "SELECT entity_type, entity_id, prev_seq, next_seq FROM server_ops
             WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence = ?3",
        )?
        .query_row(params![s.user_id, s.vault_id, seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((et, eid, prev, next)) = found else {
        return Ok(());
    };
    if let Some(p) = prev {
        set_link(c, s, p, "next_seq", next)?;
    }
    match (next, prev) {
        (Some(n), _) => set_link(c, s, n, "prev_seq", prev)?,
        (None, Some(p)) => {
            c.prepare_cached(
                "UPDATE server_entity_heads SET head_seq = ?5
                 WHERE user_id = ?1 AND vault_id = ?2 AND entity_type = ?3 AND entity_id = ?4",
            )?
            .execute(params![s.user_id, s.vault_id, et, eid, p])?;
        }
        (None, None) => {
            c.prepare_cached(
                "DELETE FROM server_entity_heads
                 WHERE user_id = ?1 AND vault_id = ?2 AND entity_type = ?3 AND entity_id = ?4",
            )?
            .execute(params![s.user_id, s.vault_id, et, eid])?;
        }
    }
    Ok(())
}

fn set_link(
    c: &Conn,
    s: &Scope,
    seq: i64,
    column: &str,
    to: Option<i64>,
) -> Result<(), StoreError> {
    c.prepare_cached(&format!(
        "UPDATE server_ops SET {column} = ?4 WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence = ?3"
    ))?
    .execute(params![s.user_id, s.vault_id, seq, to])?;
    Ok(())
}

/// The sequence of the op after `seq` on its entity's chain.
pub(crate) fn next(c: &Conn, s: &Scope, seq: i64) -> Result<Option<i64>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT next_seq FROM server_ops WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence = ?3",
    )?
    .query_row(params![s.user_id, s.vault_id, seq], |r| r.get(0))
    .optional()?
    .flatten())
}

/// Walks an entity's ops newest first from op `from`: reads `columns` (a plain comma-separated
/// list over `server_ops o`, with `joins` after it) of each op and hands the row to `f`, until
/// `f` returns false or the chain ends.
pub(crate) fn walk(
    c: &Conn,
    s: &Scope,
    columns: &str,
    joins: &str,
    from: Option<i64>,
    mut f: impl FnMut(&Row<'_>) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let prev_at = columns.split(',').count();
    let mut st = c.prepare_cached(&format!(
        "SELECT {columns}, o.prev_seq FROM server_ops o {joins}
         WHERE o.user_id = ?1 AND o.vault_id = ?2 AND o.server_sequence = ?3"
    ))?;
    let mut at = from;
    while let Some(seq) = at {
        let mut rows = st.query(params![s.user_id, s.vault_id, seq])?;
        let Some(r) = rows.next()? else {
            return Err(StoreError::Damaged(format!(
                "the entity chain of scope {}/{} names op {seq}, which is not stored",
                s.user_id, s.vault_id
            )));
        };
        if !f(&r)? {
            return Ok(());
        }
        at = r.get(prev_at)?;
    }
    Ok(())
}

/// How many ops and entities disagree with a full scan of `server_ops`: a link that is not the
/// entity's previous or next op, or a head row that is not its newest op (or has no op).
#[cfg(test)]
pub(super) fn broken_links(c: &Conn) -> i64 {
    c.query_row(
        "SELECT
           (SELECT COUNT(*) FROM (
              SELECT prev_seq, next_seq,
                LAG(server_sequence) OVER e AS p, LEAD(server_sequence) OVER e AS n
              FROM server_ops
              WINDOW e AS (PARTITION BY user_id, vault_id, entity_type, entity_id ORDER BY server_sequence))
            WHERE prev_seq IS NOT p OR next_seq IS NOT n)
         + (SELECT COUNT(*) FROM (
              SELECT user_id, vault_id, entity_type, entity_id, MAX(server_sequence) AS m
              FROM server_ops GROUP BY 1, 2, 3, 4) t
            FULL JOIN server_entity_heads h USING (user_id, vault_id, entity_type, entity_id)
            WHERE t.m IS NOT h.head_seq)",
        params![],
        |r| r.get(0),
    )
    .unwrap()
}
