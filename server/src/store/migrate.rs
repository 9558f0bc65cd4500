//! Schema versions and adopting a reference data directory (spec §7.4).
//!
//! [`migrate`] reads `PRAGMA user_version`: an empty database gets the base tables (version
//! [`BASE`]) and then the later steps; a version 3 database or later first runs the versioned
//! steps above its version ([`super::upgrade`]), then the idempotent create-if-missing pass; a
//! reference version 2 database is adopted in place after a file backup (to version 3), then
//! upgraded the same way; anything else is refused.

use rusqlite::{Connection, params};
use std::path::Path;

use super::StoreError;
use super::schema::{
    BLOB_USAGE, BLOB_USAGE_FILL, INDEXES, SCHEMA_VERSION, TABLES, V5_TABLES, V6_TABLES, V7_TABLES,
};
use super::upgrade;
use crate::util::{ids::sha256_hex, time};

const PREDATES: &str = "database predates schema version 2; open it once with the reference Verstak server to upgrade it first";
const NEWER: &str = "database was created by a newer server";

pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        [],
        |r| r.get(0),
    )?;
    match version {
        0 if tables == 0 => {
            // Free pages go back to the file system in small steps after history retention
            // (`history::reclaim`); only possible before the first table is created.
            // (The WAL header already exists, so the mode takes effect through a VACUUM of the
            // empty file.)
            conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")?;
            create(conn, BASE)?;
            upgrade::run(conn, BASE)?;
            create(conn, SCHEMA_VERSION)
        }
        v if v > SCHEMA_VERSION => Err(StoreError::Refused(NEWER.into())),
        ADOPTED..=SCHEMA_VERSION => {
            upgrade::run(conn, version)?;
            create(conn, SCHEMA_VERSION)
        }
        2 if is_reference_layout(conn)? => {
            adopt(conn, path)?;
            upgrade::run(conn, ADOPTED)?;
            create(conn, SCHEMA_VERSION)
        }
        _ => Err(StoreError::Refused(PREDATES.into())),
    }
}

/// The version an adopted reference database gets (§7.4), before the later steps.
const ADOPTED: i64 = 3;

/// The version of the base tables ([`TABLES`], [`INDEXES`]): a new database is created at it
/// and then takes the later steps, like every older database.
const BASE: i64 = 4;

/// The idempotent create-if-missing pass of the tables a database of `version` has, then
/// `user_version = version`.
fn create(conn: &mut Connection, version: i64) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute_batch(TABLES)?;
    blob_usage(&tx)?;
    tx.execute_batch(INDEXES)?;
    if version >= 5 {
        tx.execute_batch(V5_TABLES)?;
    }
    if version >= 6 {
        tx.execute_batch(V6_TABLES)?;
    }
    if version >= 7 {
        tx.execute_batch(V7_TABLES)?;
    }
    tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
    tx.commit()?;
    Ok(())
}

/// Creates the blob usage totals and their triggers, filling them when they are new (a database
/// from before they existed, or an adopted one).
fn blob_usage(tx: &Connection) -> Result<(), StoreError> {
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'server_blob_usage')",
        [],
        |r| r.get(0),
    )?;
    tx.execute_batch(BLOB_USAGE)?;
    if !exists {
        tx.execute_batch(BLOB_USAGE_FILL)?;
    }
    Ok(())
}

fn columns(conn: &Connection, table: &str) -> Result<Vec<(String, i64)>, StoreError> {
    let mut st = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The reference layout: `server_ops` keyed by `op_id` alone, and a `server_devices` table.
fn is_reference_layout(conn: &Connection) -> Result<bool, StoreError> {
    let ops = columns(conn, "server_ops")?;
    let pk: Vec<&str> = ops
        .iter()
        .filter(|(_, pk)| *pk > 0)
        .map(|(n, _)| n.as_str())
        .collect();
    Ok(pk == ["op_id"] && !columns(conn, "server_devices")?.is_empty())
}

fn adopt(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    let backup = path.with_file_name(format!("server.db.pre-v3-{}", time::file_stamp()));
    std::fs::copy(path, &backup)?;
    std::fs::File::open(&backup)?.sync_all()?;
    tracing::info!(backup = %backup.display(), "adopting reference database (schema 2 -> 3)");

    let now = time::now_rfc3339();
    let tx = conn.transaction()?;
    let old_ops: Vec<String> = columns(&tx, "server_ops")?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    tx.execute_batch(
        "ALTER TABLE server_ops RENAME TO server_ops_v2;
         DROP TABLE IF EXISTS server_idempotency_keys;",
    )?;
    let dev_cols: Vec<String> = columns(&tx, "server_devices")?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for (col, ty) in [
        ("token_hash", "TEXT"),
        ("token_prefix", "TEXT"),
        ("token_suffix", "TEXT"),
        ("legacy_api_key", "INTEGER NOT NULL DEFAULT 0"),
        ("vault_id", "TEXT"),
        ("client_version", "TEXT"),
        ("last_ip", "TEXT"),
        ("last_seen", "TEXT"),
        ("revoked_at", "TEXT"),
    ] {
        if !dev_cols.iter().any(|c| c == col) {
            tx.execute_batch(&format!("ALTER TABLE server_devices ADD COLUMN {col} {ty}"))?;
        }
    }
    tx.execute_batch(TABLES)?;
    copy_ops(&tx, &old_ops, &now)?;
    tx.execute_batch("DROP TABLE server_ops_v2;")?;
    tx.execute(
        "INSERT OR REPLACE INTO server_scopes (user_id, vault_id, last_sequence, created_at)
         SELECT user_id, vault_id, MAX(server_sequence), ?1 FROM server_ops GROUP BY user_id, vault_id",
        params![now],
    )?;
    convert_legacy_keys(&tx)?;
    blob_usage(&tx)?;
    tx.execute_batch(INDEXES)?;
    tx.execute_batch(&format!("PRAGMA user_version = {ADOPTED}"))?;
    tx.commit()?;
    Ok(())
}

/// Copies every op, keeping its sequence. NULL vault ids map to the legacy scope; NULL
/// sequences get fresh ones after their scope's maximum, in `pushed_at` order.
fn copy_ops(tx: &Connection, old: &[String], now: &str) -> Result<(), StoreError> {
    let has = |c: &str| old.iter().any(|o| o == c);
    let col = |c: &str, default: &str| {
        if has(c) {
            format!("COALESCE({c}, {default})")
        } else {
            default.to_owned()
        }
    };
    let vault = if has("vault_id") {
        "CASE WHEN vault_id IS NULL OR vault_id = '' THEN 'legacy:' || COALESCE(user_id, '') ELSE vault_id END".to_owned()
    } else {
        "'legacy:' || COALESCE(user_id, '')".to_owned()
    };
    let select = format!(
        "SELECT {user}, {vault}, op_id, server_sequence, {dev}, {et}, {eid}, {ot}, {pj}, {ik}, {cs}, {ls}, {ca}, {pa} FROM server_ops_v2",
        user = col("user_id", "''"),
        dev = col("device_id", "''"),
        et = col("entity_type", "''"),
        eid = col("entity_id", "''"),
        ot = col("op_type", "''"),
        pj = col("payload_json", "''"),
        ik = col("idempotency_key", "''"),
        cs = col("client_sequence", "0"),
        ls = col("last_seen_server_seq", "0"),
        ca = col("created_at", "''"),
        pa = col("pushed_at", &format!("'{now}'")),
    );
    let insert = "INSERT INTO server_ops (user_id, vault_id, op_id, server_sequence, device_id, entity_type,
        entity_id, op_type, payload_json, idempotency_key, client_sequence, last_seen_server_seq, created_at, pushed_at)";
    tx.execute_batch(&format!(
        "{insert} SELECT * FROM ({select}) WHERE server_sequence IS NOT NULL;"
    ))?;
    let mut st = tx.prepare(&format!(
        "SELECT * FROM ({select}) WHERE server_sequence IS NULL ORDER BY 14"
    ))?;
    let rows: Vec<Vec<rusqlite::types::Value>> = st
        .query_map([], |r| (0..14).map(|i| r.get(i)).collect())?
        .collect::<Result<_, _>>()?;
    for mut row in rows {
        let next: i64 = tx.query_row(
            "SELECT COALESCE(MAX(server_sequence), 0) + 1 FROM server_ops WHERE user_id = ?1 AND vault_id = ?2",
            params![row[0], row[1]],
            |r| r.get(0),
        )?;
        row[3] = rusqlite::types::Value::Integer(next);
        tx.execute(
            &format!(
                "{insert} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ),
            rusqlite::params_from_iter(row),
        )?;
    }
    Ok(())
}

/// Replaces plaintext legacy keys by their SHA-256 (§7.4 step 4).
fn convert_legacy_keys(tx: &Connection) -> Result<(), StoreError> {
    let mut st = tx.prepare(
        "SELECT id, api_key, COALESCE(token_hash, '') FROM server_devices WHERE legacy_api_key = 1",
    )?;
    let rows: Vec<(String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (id, key, hash) in rows {
        let disabled = format!("disabled:{id}");
        if hash.is_empty() {
            let prefix: String = key.chars().take(8).collect();
            let suffix: String = key
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            tx.execute(
                "UPDATE server_devices SET token_hash = ?2, token_prefix = ?3, token_suffix = ?4,
                 api_key = ?5, legacy_api_key = 0 WHERE id = ?1",
                params![id, sha256_hex(&key), prefix, suffix, disabled],
            )?;
        } else {
            tx.execute(
                "UPDATE server_devices SET api_key = ?2, legacy_api_key = 0 WHERE id = ?1",
                params![id, disabled],
            )?;
        }
    }
    Ok(())
}
