//! The database half of the completeness check of `copy-storage`: the same code reads the
//! SQLite source and the PostgreSQL target through [`Conn`] and compares.
//!
//! Compared: the row count of every table; per scope its `last_sequence` and `last_barrier`
//! and a SHA-256 over its ops in sequence order (every column, read [`OPS_PAGE`] at a time, so
//! no side holds a whole op log in memory); every device's token hash, key and binding (so
//! paired devices keep working); the audit log by id; and the blob bytes per scope that the
//! target's trigger derived from the refs.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

use super::tables::{Cell, DERIVED, counts, source_tables};
use crate::store::StoreError;
use crate::store::sql::{Conn, params};

/// Ops read per query while hashing a scope.
const OPS_PAGE: i64 = 5000;

/// Every column of an op, the sequence first.
const OP_COLUMNS: &str = "server_sequence, op_id, device_id, entity_type, entity_id, op_type, \
    payload_json, idempotency_key, client_sequence, last_seen_server_seq, created_at, \
    pushed_at, compaction";

/// What the database check found; empty `problems` = complete.
#[derive(Debug, Default)]
pub(super) struct DbReport {
    pub tables: usize,
    pub rows: i64,
    pub scopes: usize,
    pub ops: i64,
    pub devices: usize,
    pub problems: Vec<String>,
}

pub(super) fn compare(src: &Conn, dst: &Conn) -> Result<DbReport, StoreError> {
    let mut r = DbReport::default();
    let tables = source_tables(src)?;
    let (a, b) = (counts(src, &tables)?, counts(dst, &tables)?);
    for ((t, n), (_, m)) in a.iter().zip(&b) {
        let n = n.unwrap_or(0);
        r.tables += 1;
        r.rows += n;
        match m {
            None => r
                .problems
                .push(format!("{t}: the table is missing in the target")),
            Some(m) if *m != n => r
                .problems
                .push(format!("{t}: {n} rows in the source, {m} in the target")),
            Some(_) => {}
        }
    }
    if !r.problems.is_empty() {
        // A table is missing or short: the finer comparisons would only repeat it.
        return Ok(r);
    }
    scopes(src, dst, &mut r)?;
    devices(src, dst, &mut r)?;
    let audit = "SELECT id, event_type, user_id, device_id, ip, message, created_at \
                 FROM server_audit_log ORDER BY id";
    if digest(src, audit)? != digest(dst, audit)? {
        r.problems
            .push("server_audit_log: the entries differ".to_owned());
    }
    let usage = |c: &Conn| -> Result<BTreeMap<(String, String), i64>, StoreError> {
        let sql = format!("SELECT user_id, vault_id, bytes FROM {DERIVED} WHERE bytes <> 0");
        let mut st = c.prepare(&sql)?;
        let rows = st.query_map(params![], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let (ua, ub) = (usage(src)?, usage(dst)?);
    for (scope, bytes) in &ua {
        if ub.get(scope) != Some(bytes) {
            r.problems.push(format!(
                "blob bytes of {}/{}: {bytes} in the source, {} in the target",
                scope.0,
                scope.1,
                ub.get(scope).copied().unwrap_or(0)
            ));
        }
    }
    for (scope, bytes) in &ub {
        if !ua.contains_key(scope) {
            r.problems.push(format!(
                "blob bytes of {}/{}: none in the source, {bytes} in the target",
                scope.0, scope.1
            ));
        }
    }
    Ok(r)
}

type ScopeKey = (String, String);

fn scope_rows(c: &Conn) -> Result<BTreeMap<ScopeKey, (i64, i64)>, StoreError> {
    let mut st =
        c.prepare("SELECT user_id, vault_id, last_sequence, last_barrier FROM server_scopes")?;
    let rows = st.query_map(params![], |r| {
        Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?)))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn op_scopes(c: &Conn) -> Result<BTreeSet<ScopeKey>, StoreError> {
    let mut st = c.prepare("SELECT DISTINCT user_id, vault_id FROM server_ops")?;
    let rows = st.query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn scopes(src: &Conn, dst: &Conn, r: &mut DbReport) -> Result<(), StoreError> {
    let (a, b) = (scope_rows(src)?, scope_rows(dst)?);
    let mut all: BTreeSet<ScopeKey> = a.keys().chain(b.keys()).cloned().collect();
    all.extend(op_scopes(src)?);
    all.extend(op_scopes(dst)?);
    for key in &all {
        r.scopes += 1;
        let name = format!("{}/{}", key.0, key.1);
        match (a.get(key), b.get(key)) {
            (Some(x), Some(y)) if x != y => r.problems.push(format!(
                "scope {name}: last_sequence/last_barrier {}/{} in the source, {}/{} in the target",
                x.0, x.1, y.0, y.1
            )),
            (Some(_), None) => r
                .problems
                .push(format!("scope {name}: missing in the target")),
            (None, Some(_)) => r.problems.push(format!("scope {name}: not in the source")),
            _ => {}
        }
        let (ha, na) = ops_digest(src, key)?;
        let (hb, nb) = ops_digest(dst, key)?;
        r.ops += na;
        if (ha, na) != (hb, nb) {
            r.problems.push(format!(
                "scope {name}: the ops differ ({na} in the source, {nb} in the target)"
            ));
        }
    }
    Ok(())
}

/// SHA-256 over a scope's ops in sequence order, and their number.
fn ops_digest(c: &Conn, scope: &ScopeKey) -> Result<([u8; 32], i64), StoreError> {
    let sql = format!(
        "SELECT {OP_COLUMNS} FROM server_ops WHERE user_id = ?1 AND vault_id = ?2 \
         AND server_sequence > ?3 ORDER BY server_sequence LIMIT ?4"
    );
    let ncols = OP_COLUMNS.split(',').count();
    let mut h = Sha256::new();
    let (mut after, mut n) = (i64::MIN, 0i64);
    loop {
        let mut st = c.prepare_cached(&sql)?;
        let mut rows = st.query(params![scope.0.as_str(), scope.1.as_str(), after, OPS_PAGE])?;
        let mut page = 0;
        while let Some(row) = rows.next()? {
            after = row.get(0)?;
            for i in 0..ncols {
                feed(&mut h, &row.get::<_, Cell>(i)?);
            }
            page += 1;
        }
        n += page;
        if page < OPS_PAGE {
            return Ok((h.finalize().into(), n));
        }
    }
}

/// Every device's token hash, key, owner and revocation, compared by device id.
fn devices(src: &Conn, dst: &Conn, r: &mut DbReport) -> Result<(), StoreError> {
    let read = |c: &Conn| -> Result<BTreeMap<String, Vec<Cell>>, StoreError> {
        let mut st = c.prepare(
            "SELECT id, token_hash, api_key, user_id, vault_id, revoked_at, legacy_api_key \
             FROM server_devices",
        )?;
        let rows = st.query_map(params![], |row| {
            let cells = (1..7)
                .map(|i| row.get::<_, Cell>(i))
                .collect::<Result<_, _>>()?;
            Ok((row.get(0)?, cells))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let (a, b) = (read(src)?, read(dst)?);
    r.devices = a.len();
    let differ: Vec<&String> = a.keys().filter(|id| b.get(*id) != a.get(*id)).collect();
    if !differ.is_empty() {
        r.problems.push(format!(
            "server_devices: {} devices differ (tokens, keys or owners), e.g. {}",
            differ.len(),
            differ[0]
        ));
    }
    Ok(())
}

/// SHA-256 over every row of a query.
fn digest(c: &Conn, sql: &str) -> Result<[u8; 32], StoreError> {
    let mut st = c.prepare(sql)?;
    let ncols = sql
        .split_once(" FROM ")
        .map_or(1, |(cols, _)| cols.split(',').count());
    let mut rows = st.query(params![])?;
    let mut h = Sha256::new();
    while let Some(row) = rows.next()? {
        for i in 0..ncols {
            feed(&mut h, &row.get::<_, Cell>(i)?);
        }
    }
    Ok(h.finalize().into())
}

/// A cell into a hash, unambiguously (a type tag and a length before variable bytes).
fn feed(h: &mut Sha256, c: &Cell) {
    match c {
        Cell::Null => h.update([0u8]),
        Cell::Int(i) => {
            h.update([1u8]);
            h.update(i.to_be_bytes());
        }
        Cell::Real(f) => {
            h.update([2u8]);
            h.update(f.to_bits().to_be_bytes());
        }
        Cell::Text(s) => {
            h.update([3u8]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
        Cell::Blob(b) => {
            h.update([4u8]);
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_hash_without_ambiguity() {
        let hash = |cells: &[Cell]| {
            let mut h = Sha256::new();
            cells.iter().for_each(|c| feed(&mut h, c));
            h.finalize()
        };
        let t = |s: &str| Cell::Text(s.into());
        assert_ne!(hash(&[t("ab"), t("c")]), hash(&[t("a"), t("bc")]));
        assert_ne!(hash(&[Cell::Null]), hash(&[t("")]));
        assert_ne!(hash(&[Cell::Int(1)]), hash(&[t("1")]));
    }
}
