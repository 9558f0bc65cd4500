//! The database part of `copy-storage`: every table of the SQLite schema into the PostgreSQL
//! schema, row for row, inside the caller's one transaction.
//!
//! Tables and columns are read from both schemas, so a table the target lacks (or a target
//! column nobody fills) stops the copy instead of being dropped silently. Rows are read in
//! SQLite's rowid order (insertion order) and written as multi-row `INSERT … VALUES` of up to
//! [`CHUNK_PARAMS`] parameters. `server_users` and `server_devices` take SQLite's rowid into
//! their `rowid` column (the console's insertion-order tiebreak); identity sequences are then
//! moved past the copied values. `server_blob_usage` is not copied: the trigger on
//! `server_blob_refs` builds it (and clears `orphaned_at`) as the refs go in, which is why
//! `server_blobs` is copied before the refs; the check compares the totals.

use std::time::Instant;

use crate::store::StoreError;
use crate::store::schema::{SQLITE_ONLY_TABLES, V7_COLUMNS};
use crate::store::sql::{Conn, FromValue, ToValue, Value, params, params_from_iter};

/// Parameters per `INSERT` statement (PostgreSQL allows 65535).
const CHUNK_PARAMS: usize = 16_000;
/// A progress line per this many rows of a table.
const PROGRESS_EVERY: u64 = 10_000;

/// Derived by the target's trigger, never copied.
pub(super) const DERIVED: &str = "server_blob_usage";

/// Tables whose SQLite rowid goes into a `rowid` column of the target.
const ROWID_TABLES: &[&str] = &["server_users", "server_devices"];

/// Identity columns whose sequence must continue after the copied values.
const IDENTITIES: &[(&str, &str)] = &[
    ("server_users", "rowid"),
    ("server_devices", "rowid"),
    ("server_audit_log", "id"),
];

/// One column value, owned (the SQLite schema stores integers, text and NULL; reals and blobs
/// are carried too so nothing is lost if one shows up).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl FromValue for Cell {
    fn from_value(v: Value<'_>) -> Result<Self, String> {
        Ok(match v {
            Value::Null => Cell::Null,
            Value::Int(i) => Cell::Int(i),
            Value::Real(f) => Cell::Real(f),
            Value::Text(s) => Cell::Text(s.to_owned()),
            Value::Blob(b) => Cell::Blob(b.to_vec()),
        })
    }
}

impl ToValue for Cell {
    fn value(&self) -> Value<'_> {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::Int(*i),
            Cell::Real(f) => Value::Real(*f),
            Cell::Text(s) => Value::Text(s),
            Cell::Blob(b) => Value::Blob(b),
        }
    }
}

/// The user tables of the SQLite database, in copy order: every table but the derived one,
/// with `server_blob_refs` last (after `server_blobs`, whose `orphaned_at` its trigger keeps).
pub(super) fn source_tables(src: &Conn) -> Result<Vec<String>, StoreError> {
    let mut st = src.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )?;
    let mut names: Vec<String> = st
        .query_map(params![], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    names.retain(|n| n != DERIVED && !SQLITE_ONLY_TABLES.contains(&n.as_str()));
    if let Some(i) = names.iter().position(|n| n == "server_blob_refs") {
        let refs = names.remove(i);
        names.push(refs);
    }
    Ok(names)
}

/// The columns of a SQLite table that PostgreSQL has too (not the entity chain's links).
pub(super) fn sqlite_columns(src: &Conn, table: &str) -> Result<Vec<String>, StoreError> {
    let mut st = src.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
    let mut cols: Vec<String> = st
        .query_map(params![table], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    cols.retain(|c| {
        !V7_COLUMNS
            .iter()
            .any(|(t, name, _)| *t == table && name == c)
    });
    Ok(cols)
}

fn pg_columns(dst: &Conn, table: &str) -> Result<Vec<String>, StoreError> {
    let mut st = dst.prepare(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position",
    )?;
    Ok(st
        .query_map(params![table], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Row counts of the copied tables (and the derived one) in `c`; a table `c` lacks counts as
/// absent.
pub(super) fn counts(
    c: &Conn,
    tables: &[String],
) -> Result<Vec<(String, Option<i64>)>, StoreError> {
    let mut out = Vec::new();
    for t in tables {
        let exists = if c.is_pg() {
            c.query_row(
                "SELECT to_regclass(?1) IS NOT NULL",
                params![t.as_str()],
                |r| r.get::<_, bool>(0),
            )?
        } else {
            c.query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                params![t.as_str()],
                |r| r.get::<_, bool>(0),
            )?
        };
        let n = if exists {
            Some(
                c.query_row(&format!("SELECT COUNT(*) FROM {t}"), params![], |r| {
                    r.get(0)
                })?,
            )
        } else {
            None
        };
        out.push((t.clone(), n));
    }
    Ok(out)
}

/// What [`copy_all`] wrote.
pub(super) struct Copied {
    pub tables: usize,
    pub rows: u64,
}

/// Copies every table from `src` into `dst` (inside the caller's transaction on `dst`), then
/// moves the identity sequences past the copied values.
pub(super) fn copy_all(src: &Conn, dst: &Conn) -> Result<Copied, StoreError> {
    let tables = source_tables(src)?;
    let mut plans = Vec::new();
    for t in &tables {
        plans.push(plan(src, dst, t)?);
    }
    let mut rows = 0;
    for p in &plans {
        rows += copy_table(src, dst, p)?;
    }
    for (table, col) in IDENTITIES {
        // The next value is one past the largest copied (1 when the table is empty).
        dst.query_row(
            &format!(
                "SELECT setval(pg_get_serial_sequence(?1, ?2), \
                 COALESCE((SELECT MAX({col}) FROM {table}), 0) + 1, false)"
            ),
            params![*table, *col],
            |r| r.get::<_, i64>(0),
        )?;
    }
    Ok(Copied {
        tables: plans.len(),
        rows,
    })
}

/// How one table is copied: the SQLite select list and the target's column list.
struct Plan {
    table: String,
    select: String,
    insert_cols: Vec<String>,
}

fn plan(src: &Conn, dst: &Conn, table: &str) -> Result<Plan, StoreError> {
    let cols = sqlite_columns(src, table)?;
    let target = pg_columns(dst, table)?;
    if target.is_empty() {
        return Err(StoreError::Refused(format!(
            "the target database has no table {table}: it was created by another server \
             version (run the same verstak-sync-server version for both)"
        )));
    }
    let with_rowid = ROWID_TABLES.contains(&table);
    let mut insert_cols = cols.clone();
    if with_rowid {
        insert_cols.push("rowid".into());
    }
    let missing: Vec<&String> = cols.iter().filter(|c| !target.contains(c)).collect();
    let unfilled: Vec<&String> = target.iter().filter(|c| !insert_cols.contains(c)).collect();
    if !missing.is_empty() || !unfilled.is_empty() {
        return Err(StoreError::Refused(format!(
            "the schemas of {table} differ (only in SQLite: {missing:?}; only in PostgreSQL: \
             {unfilled:?}): run the same verstak-sync-server version for both"
        )));
    }
    let mut list = cols.join(", ");
    if with_rowid {
        list.push_str(", rowid");
    }
    Ok(Plan {
        table: table.to_owned(),
        select: format!("SELECT {list} FROM {table} ORDER BY rowid"),
        insert_cols,
    })
}

/// `INSERT INTO t (cols) VALUES (?1, …), (…)` for `rows` rows.
fn insert_sql(table: &str, cols: &[String], rows: usize) -> String {
    let n = cols.len();
    let mut s = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..n {
            if c > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("?{}", r * n + c + 1));
        }
        s.push(')');
    }
    s
}

fn copy_table(src: &Conn, dst: &Conn, p: &Plan) -> Result<u64, StoreError> {
    let started = Instant::now();
    let total: i64 = src.query_row(
        &format!("SELECT COUNT(*) FROM {}", p.table),
        params![],
        |r| r.get(0),
    )?;
    let ncols = p.insert_cols.len();
    let per_chunk = (CHUNK_PARAMS / ncols).max(1);
    let mut st = src.prepare(&p.select)?;
    let mut rows = st.query(params![])?;
    let mut chunk: Vec<Cell> = Vec::with_capacity(per_chunk * ncols);
    let mut done = 0u64;
    let flush = |chunk: &mut Vec<Cell>, done: &mut u64| -> Result<(), StoreError> {
        let n = chunk.len() / ncols;
        if n == 0 {
            return Ok(());
        }
        let sql = insert_sql(&p.table, &p.insert_cols, n);
        dst.prepare_cached(&sql)?
            .execute(params_from_iter(chunk.iter()))?;
        chunk.clear();
        let before = *done / PROGRESS_EVERY;
        *done += n as u64;
        if *done / PROGRESS_EVERY > before {
            eprintln!("  {}: {done}/{total} rows", p.table);
        }
        Ok(())
    };
    while let Some(r) = rows.next()? {
        for i in 0..ncols {
            chunk.push(r.get::<_, Cell>(i)?);
        }
        if chunk.len() >= per_chunk * ncols {
            flush(&mut chunk, &mut done)?;
        }
    }
    flush(&mut chunk, &mut done)?;
    if done != total as u64 {
        return Err(StoreError::Refused(format!(
            "{}: read {done} rows but the table has {total}: the source changed during the \
             copy (is the server still running?)",
            p.table
        )));
    }
    eprintln!(
        "  {}: {done} rows ({:.1} s)",
        p.table,
        started.elapsed().as_secs_f64()
    );
    Ok(done)
}

/// The copied tables that hold rows in `dst` (empty = the target may take the copy).
pub(super) fn non_empty(src: &Conn, dst: &Conn) -> Result<Vec<(String, i64)>, StoreError> {
    let mut tables = source_tables(src)?;
    tables.push(DERIVED.to_owned());
    Ok(counts(dst, &tables)?
        .into_iter()
        .filter_map(|(t, n)| n.filter(|n| *n > 0).map(|n| (t, n)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_statements_number_every_parameter() {
        let cols = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(
            insert_sql("t", &cols, 2),
            "INSERT INTO t (a, b) VALUES (?1, ?2), (?3, ?4)"
        );
    }

    #[test]
    fn blob_refs_are_copied_after_blobs_and_usage_is_derived() {
        let c = Conn::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        c.execute_batch(
            "CREATE TABLE server_blob_refs (x); CREATE TABLE server_blobs (x);
             CREATE TABLE server_blob_usage (x); CREATE TABLE server_users (x);",
        )
        .unwrap();
        assert_eq!(
            source_tables(&c).unwrap(),
            ["server_blobs", "server_users", "server_blob_refs"]
        );
    }
}
