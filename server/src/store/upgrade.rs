//! Versioned schema steps after version 3: each step takes a database from `version - 1` to
//! `version` inside one transaction and sets `user_version`. [`run`] applies every step above
//! the database's version in order, so a step added later (5, 6, …) follows the ones before.
//!
//! Step 4 makes `server_users.email` optional: `user add` without `--email` stores no address
//! instead of an undeliverable `<id>@users.invalid` placeholder, and the placeholders of
//! older databases become NULL.
//!
//! Step 5 classifies the stored history for compacted joins (`docs/compacted-joins.md`) and
//! adds what history retention needs (`docs/history-retention.md`).
//!
//! Step 6 adds the settings the admin console saves, shared by the server processes of one
//! database (`crate::console_settings`).
//!
//! Step 7 replaces the index over every op's entity by entity chains (`super::chain`).

use rusqlite::{Connection, Transaction};

use super::StoreError;
use super::schema::{V5_COLUMNS, V5_TABLES, V6_TABLES, V7_COLUMNS, V7_TABLES};

type Step = fn(&Transaction<'_>) -> Result<(), StoreError>;

/// `(version reached, step)` in ascending order.
const STEPS: &[(i64, Step)] = &[
    (4, email_optional),
    (5, history_classes),
    (6, console_settings),
    (7, entity_chains),
];

/// Applies the steps above `from`, each in its own transaction.
pub(crate) fn run(conn: &mut Connection, from: i64) -> Result<(), StoreError> {
    run_until(conn, from, i64::MAX)
}

/// Applies the steps above `from` up to version `until`.
fn run_until(conn: &mut Connection, from: i64, until: i64) -> Result<(), StoreError> {
    for &(version, step) in STEPS.iter().filter(|(v, _)| *v > from && *v <= until) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process (`user add` next to a starting server) may have taken it already.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now >= version {
            continue;
        }
        step(&tx)?;
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
        tx.commit()?;
        tracing::info!(version, "database schema upgraded");
    }
    Ok(())
}

/// The placeholder domain of schema 3's `user add` without `--email` (RFC 2606 `.invalid`:
/// no address there can receive mail).
const PLACEHOLDER_DOMAIN: &str = "@users.invalid";

/// 3 → 4: rebuilds `server_users` with `email TEXT UNIQUE` (SQLite lets several rows be NULL)
/// and turns placeholder addresses into NULL. Columns beyond §7.2 (an adopted reference
/// table may have some) are carried over as they were declared.
fn email_optional(tx: &Transaction<'_>) -> Result<(), StoreError> {
    const KNOWN: [&str; 8] = [
        "id",
        "username",
        "email",
        "password_hash",
        "confirmed",
        "blocked",
        "last_seen",
        "created_at",
    ];
    let mut st = tx.prepare("PRAGMA table_info(server_users)")?;
    type Column = (String, String, bool, Option<String>);
    let extra: Vec<Column> = st
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<Result<Vec<Column>, _>>()?
        .into_iter()
        .filter(|(name, ..)| !KNOWN.contains(&name.as_str()))
        .collect();
    drop(st);
    let mut extra_defs = String::new();
    let mut extra_cols = String::new();
    for (name, ty, not_null, default) in &extra {
        let name = name.replace('"', "\"\"");
        extra_defs.push_str(&format!(",\n    \"{name}\" {ty}"));
        if *not_null {
            extra_defs.push_str(" NOT NULL");
        }
        if let Some(d) = default {
            extra_defs.push_str(&format!(" DEFAULT {d}"));
        }
        extra_cols.push_str(&format!(", \"{name}\""));
    }
    tx.execute_batch(&format!(
        "CREATE TABLE server_users_v4 (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            email TEXT UNIQUE,
            password_hash TEXT NOT NULL,
            confirmed INTEGER NOT NULL DEFAULT 0,
            blocked INTEGER NOT NULL DEFAULT 0,
            last_seen TEXT,
            created_at TEXT NOT NULL{extra_defs}
         );
         INSERT INTO server_users_v4 (id, username, email, password_hash, confirmed, blocked,
                last_seen, created_at{extra_cols})
            SELECT id, username,
                   CASE WHEN email IS NULL OR email = '' OR email LIKE '%{PLACEHOLDER_DOMAIN}'
                        THEN NULL ELSE email END,
                   password_hash, confirmed, blocked, last_seen, created_at{extra_cols}
            FROM server_users;
         DROP TABLE server_users;
         ALTER TABLE server_users_v4 RENAME TO server_users;"
    ))?;
    Ok(())
}

/// 4 → 5: compaction classes of the stored history, the scopes' latest barriers, each device's
/// last pushed sequence (docs/compacted-joins.md) and blob orphan times (retention).
fn history_classes(tx: &Transaction<'_>) -> Result<(), StoreError> {
    add_columns(tx, V5_COLUMNS)?;
    tx.execute_batch(V5_TABLES)?;
    super::compaction::classify_history(tx)?;
    tx.execute_batch(
        "INSERT OR IGNORE INTO server_device_sync (device_id, user_id, vault_id, last_push_sequence)
         SELECT device_id, user_id, vault_id, MAX(server_sequence) FROM server_ops
         GROUP BY device_id, user_id, vault_id;
         UPDATE server_blobs SET orphaned_at = created_at
         WHERE NOT EXISTS (SELECT 1 FROM server_blob_refs r WHERE r.sha256 = server_blobs.sha256);",
    )?;
    Ok(())
}

/// 5 → 6: the console's saved settings (empty: each process keeps its `config.yml` until the
/// console saves).
fn console_settings(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(V6_TABLES)?;
    Ok(())
}

/// 6 → 7: links every stored op to the previous and next op of its entity, records each
/// entity's newest op, and drops the entity index the chains replace.
fn entity_chains(tx: &Transaction<'_>) -> Result<(), StoreError> {
    add_columns(tx, V7_COLUMNS)?;
    tx.execute_batch(V7_TABLES)?;
    tx.execute_batch(
        "UPDATE server_ops SET prev_seq = w.prev, next_seq = w.next FROM (
           SELECT rowid AS rid,
             LAG(server_sequence) OVER e AS prev, LEAD(server_sequence) OVER e AS next
           FROM server_ops
           WINDOW e AS (PARTITION BY user_id, vault_id, entity_type, entity_id ORDER BY server_sequence)
         ) AS w
         WHERE server_ops.rowid = w.rid AND (w.prev IS NOT NULL OR w.next IS NOT NULL);
         INSERT OR REPLACE INTO server_entity_heads (user_id, vault_id, entity_type, entity_id, head_seq)
           SELECT user_id, vault_id, entity_type, entity_id, MAX(server_sequence) FROM server_ops
           GROUP BY user_id, vault_id, entity_type, entity_id;
         DROP INDEX IF EXISTS idx_server_ops_entity;",
    )?;
    Ok(())
}

/// Adds the columns a table lacks; one that is already there (a database stepped back by
/// hand) is kept as it is.
fn add_columns(tx: &Transaction<'_>, columns: &[(&str, &str, &str)]) -> Result<(), StoreError> {
    for (table, column, decl) in columns {
        let present: bool = tx.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1)"),
            [column],
            |r| r.get(0),
        )?;
        if !present {
            tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_4_clears_placeholders_and_keeps_everything_else() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE server_users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE,
                email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
                confirmed INTEGER NOT NULL DEFAULT 0, blocked INTEGER NOT NULL DEFAULT 0,
                last_seen TEXT, created_at TEXT NOT NULL, note TEXT DEFAULT 'x');
             INSERT INTO server_users VALUES
                ('a1', 'ann', 'a1@users.invalid', 'h1', 1, 0, NULL, 't1', 'kept'),
                ('b2', 'bob', 'bob@example.test', 'h2', 0, 1, 't9', 't2', NULL);
             PRAGMA user_version = 3;",
        )
        .unwrap();
        run_until(&mut c, 3, 4).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 4);
        type Row = (String, Option<String>, i64, i64, Option<String>);
        let rows: Vec<Row> = c
            .prepare(
                "SELECT username, email, confirmed, blocked, note FROM server_users ORDER BY id",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                ("ann".into(), None, 1, 0, Some("kept".into())),
                ("bob".into(), Some("bob@example.test".into()), 0, 1, None)
            ]
        );
        // Several accounts may have no email; a present one stays unique.
        c.execute_batch(
            "INSERT INTO server_users (id, username, email, password_hash, created_at)
             VALUES ('c3', 'cat', NULL, 'h', 't')",
        )
        .unwrap();
        assert!(
            c.execute_batch(
                "INSERT INTO server_users (id, username, email, password_hash, created_at)
                 VALUES ('d4', 'dan', 'bob@example.test', 'h', 't')"
            )
            .is_err()
        );
        // Step 4 does not run again on a version 4 database, even when asked from 3 (another
        // process took it meanwhile): the version is re-checked inside the transaction.
        run_until(&mut c, 3, 4).unwrap();
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM server_users", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
    }

    #[test]
    fn step_6_adds_the_console_settings_to_a_version_5_database() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("PRAGMA user_version = 5;").unwrap();
        run_until(&mut c, 5, 6).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 6);
        c.execute_batch(
            "INSERT INTO server_console_settings (section, body, revision, saved_at)
             VALUES ('web', '{}', 'r1', 't')",
        )
        .unwrap();
    }

    /// Step 7 links a stored history exactly as pushes link it, and drops the entity index.
    #[test]
    fn step_7_links_every_entity_and_drops_the_index() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(super::super::schema::TABLES).unwrap();
        c.execute_batch(super::super::schema::INDEXES).unwrap();
        c.execute_batch(
            "CREATE INDEX idx_server_ops_entity ON server_ops(user_id, vault_id, entity_type, entity_id, server_sequence);
             PRAGMA user_version = 6;",
        )
        .unwrap();
        // Two scopes; in each, entities interleaved, one op alone, the same id as another type.
        let history = [
            ("u", "v", "file", "a"),
            ("u", "v", "file", "b"),
            ("u", "v", "file", "a"),
            ("u", "v", "folder", "a"),
            ("u", "v", "file", "a"),
            ("u", "w", "file", "a"),
            ("u", "v", "file", "b"),
            ("u", "w", "file", "a"),
        ];
        for (i, (u, v, et, eid)) in history.iter().enumerate() {
            c.execute(
                "INSERT INTO server_ops (user_id, vault_id, op_id, server_sequence, device_id,
                   entity_type, entity_id, op_type, payload_json, created_at, pushed_at)
                 VALUES (?1, ?2, ?3, ?4, 'd', ?5, ?6, 'update', '{}', 't', 't')",
                rusqlite::params![u, v, format!("o{i}"), i as i64 + 1, et, eid],
            )
            .unwrap();
        }
        run_until(&mut c, 6, 7).unwrap();
        type Links = (i64, Option<i64>, Option<i64>);
        let links: Vec<Links> = c
            .prepare("SELECT server_sequence, prev_seq, next_seq FROM server_ops ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            links,
            [
                (1, None, Some(3)),
                (2, None, Some(7)),
                (3, Some(1), Some(5)),
                (4, None, None),
                (5, Some(3), None),
                (6, None, Some(8)),
                (7, Some(2), None),
                (8, Some(6), None),
            ]
        );
        let heads: Vec<(String, String, String, i64)> = c
            .prepare(
                "SELECT vault_id, entity_type, entity_id, head_seq FROM server_entity_heads
                 ORDER BY head_seq",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let want = [
            ("v", "folder", "a", 4),
            ("v", "file", "a", 5),
            ("v", "file", "b", 7),
            ("w", "file", "a", 8),
        ];
        assert_eq!(heads.len(), want.len());
        for (got, w) in heads.iter().zip(want) {
            assert_eq!((got.0.as_str(), got.1.as_str(), got.2.as_str(), got.3), w);
        }
        let index: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'idx_server_ops_entity'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(index, 0);
    }
}
