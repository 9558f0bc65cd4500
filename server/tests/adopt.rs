//! Adopting a reference (schema 2) data directory in place (spec §7.4; checklist S16).

mod common;

use common::*;
use rusqlite::{Connection, params};
use serde_json::json;

const REFERENCE_SCHEMA: &str = r#"
CREATE TABLE server_users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL, confirmed INTEGER NOT NULL DEFAULT 0, blocked INTEGER NOT NULL DEFAULT 0,
  last_seen TEXT, created_at TEXT NOT NULL);
CREATE TABLE server_devices (id TEXT PRIMARY KEY, name TEXT NOT NULL, api_key TEXT NOT NULL UNIQUE,
  token_hash TEXT UNIQUE, token_prefix TEXT, token_suffix TEXT, legacy_api_key INTEGER NOT NULL DEFAULT 0,
  user_id TEXT, vault_id TEXT, client_version TEXT, last_ip TEXT, last_seen TEXT, revoked_at TEXT,
  created_at TEXT NOT NULL);
CREATE TABLE server_user_devices (user_id TEXT NOT NULL, device_id TEXT NOT NULL, PRIMARY KEY (user_id, device_id));
CREATE TABLE server_ops (op_id TEXT PRIMARY KEY, server_sequence INTEGER, user_id TEXT, vault_id TEXT,
  device_id TEXT NOT NULL, entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, op_type TEXT NOT NULL,
  payload_json TEXT NOT NULL, idempotency_key TEXT, client_sequence INTEGER DEFAULT 0,
  last_seen_server_seq INTEGER DEFAULT 0, created_at TEXT NOT NULL, pushed_at TEXT NOT NULL);
CREATE INDEX idx_server_ops_seq ON server_ops(server_sequence);
CREATE TABLE server_idempotency_keys (user_id TEXT NOT NULL, vault_id TEXT NOT NULL, idempotency_key TEXT NOT NULL,
  response_json TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (user_id, vault_id, idempotency_key));
CREATE TABLE server_revisions (id INTEGER PRIMARY KEY);
PRAGMA user_version = 2;
"#;

fn seed(dir: &std::path::Path) -> String {
    let c = Connection::open(dir.join("server.db")).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
    c.execute_batch(REFERENCE_SCHEMA).unwrap();
    let hash = bcrypt::hash(PW, 4).unwrap();
    c.execute(
        "INSERT INTO server_users VALUES ('u1','alice','alice@example.test',?1,1,0,NULL,'2026-01-01T00:00:00Z')",
        params![hash],
    )
    .unwrap();
    let legacy_key = "legacy-plaintext-key-0123456789";
    c.execute(
        "INSERT INTO server_devices (id, name, api_key, legacy_api_key, user_id, vault_id, created_at)
         VALUES ('dev_legacy', 'old', ?1, 1, 'u1', NULL, '2026-01-01T00:00:00Z')",
        params![legacy_key],
    )
    .unwrap();
    let op = |id: &str, seq: Option<i64>, vault: Option<&str>| {
        c.execute(
            "INSERT INTO server_ops (op_id, server_sequence, user_id, vault_id, device_id, entity_type, entity_id,
               op_type, payload_json, created_at, pushed_at)
             VALUES (?1, ?2, 'u1', ?3, 'dev_legacy', 'file', 'a.txt', 'create', '{}', 'c', '2026-01-01T00:00:00Z')",
            params![id, seq, vault],
        )
        .unwrap();
    };
    op("l1", Some(1), None);
    op("a1", Some(2), Some("vault-a"));
    op("l2", Some(3), None);
    op("a2", Some(4), Some("vault-a"));
    op("l3", Some(7), None);
    legacy_key.to_owned()
}

#[test]
fn reference_database_is_adopted_in_place() {
    if skip_on_pg("adopts a reference SQLite file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = seed(dir.path());
    let s = TestServer::start_in(dir, &[]);
    let backups: Vec<_> = std::fs::read_dir(s.data())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("server.db.pre-v3-"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");

    let p = s.pull(&key, 0, 0).json();
    let seqs: Vec<i64> = p["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["server_sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 3, 7]);
    assert_eq!(p["server_sequence"], 7);
    let r = s.push(&key, vec![op("new-after-adopt")], None);
    assert_eq!(r.json()["accepted"], json!(["new-after-adopt"]));
    assert_eq!(s.pull(&key, 7, 0).json()["ops"][0]["server_sequence"], 8);
    let me = s.get("/api/client/me", Some(&key)).json();
    assert_eq!(me["vault_id"], "legacy:u1");

    // The other scope keeps its sequences; a new device of that vault sees them.
    let (ta, _) = s.pair("alice", "vault-a");
    let pa = s.pull(&ta, 0, 0).json();
    assert_eq!(pa["ops"].as_array().unwrap().len(), 2);
    assert_eq!(pa["server_sequence"], 4);

    // No plaintext key remains; adopted as version 3, then upgraded to version 4.
    let c = Connection::open(s.data().join("server.db")).unwrap();
    let api_key: String = c
        .query_row(
            "SELECT api_key FROM server_devices WHERE id = 'dev_legacy'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(api_key, "disabled:dev_legacy");
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 7);
    // The adopted history is linked into entity chains: every entity has its head row.
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    let entities = count(
        "SELECT COUNT(*) FROM (SELECT DISTINCT user_id, vault_id, entity_type, entity_id FROM server_ops)",
    );
    assert!(entities > 0);
    assert_eq!(count("SELECT COUNT(*) FROM server_entity_heads"), entities);
    let email: Option<String> = c
        .query_row("SELECT email FROM server_users WHERE id = 'u1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(email.as_deref(), Some("alice@example.test"));
    drop(c);

    // A second start is a no-op: no new backup, data unchanged.
    let mut s = s;
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    let s2 = TestServer::start_in(dir, &[]);
    let n = std::fs::read_dir(s2.data())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("server.db.pre-v3-")
        })
        .count();
    assert_eq!(n, 1);
    assert_eq!(s2.pull(&key, 0, 0).json()["server_sequence"], 8);
}

#[test]
fn old_or_newer_databases_are_refused() {
    for (version, msg) in [(1, "predates schema version 2"), (9, "newer server")] {
        let dir = tempfile::tempdir().unwrap();
        let c = Connection::open(dir.path().join("server.db")).unwrap();
        c.execute_batch(&format!(
            "CREATE TABLE t (x); PRAGMA user_version = {version};"
        ))
        .unwrap();
        drop(c);
        let out = std::process::Command::new(BIN)
            .arg("--data")
            .arg(dir.path())
            .args(["--port", "0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains(msg));
    }
}

/// Schema 3 → 4 (issue 15 item 9): `server_users.email` becomes optional and the
/// `<id>@users.invalid` placeholders that `user add` used to invent become NULL; real
/// addresses, passwords and flags stay, and both kinds of account sign in.
#[test]
fn version_3_placeholders_become_no_email() {
    if skip_on_pg("upgrades a schema 3 SQLite file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    add_user(dir.path(), "bob", PW);
    let (code, _, err) = user_add(dir.path(), &["--username", "ann", "--password", PW]);
    assert_eq!(code, 0, "{err}");
    // Turn the fresh database back into what schema 3 wrote: email NOT NULL, a placeholder.
    let c = Connection::open(dir.path().join("server.db")).unwrap();
    c.execute_batch(
        "CREATE TABLE v3 (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE,
            email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
            confirmed INTEGER NOT NULL DEFAULT 0, blocked INTEGER NOT NULL DEFAULT 0,
            last_seen TEXT, created_at TEXT NOT NULL);
         INSERT INTO v3 SELECT id, username, COALESCE(email, id || '@users.invalid'),
            password_hash, confirmed, blocked, last_seen, created_at FROM server_users;
         DROP TABLE server_users;
         ALTER TABLE v3 RENAME TO server_users;
         PRAGMA user_version = 3;",
    )
    .unwrap();
    let placeholders: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM server_users WHERE email LIKE '%@users.invalid'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(placeholders, 1);
    drop(c);

    let s = TestServer::start_in(dir, &[]);
    assert_eq!(s.get("/readyz", None).json()["schema_version"], 7);
    let c = Connection::open(s.data().join("server.db")).unwrap();
    let emails: Vec<(String, Option<String>)> = c
        .prepare("SELECT username, email FROM server_users ORDER BY username")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        emails,
        [
            ("ann".to_owned(), None),
            ("bob".to_owned(), Some("bob@example.test".to_owned()))
        ]
    );
    drop(c);
    s.pair("ann", "v");
    s.pair("bob@example.test", "v");
    // A later user without email sits next to ann.
    add_user_without_email(s.data(), "cid");
    s.pair("cid", "v");
}

fn add_user_without_email(data: &std::path::Path, name: &str) {
    let (code, out, err) = user_add(data, &["--username", name, "--password", PW]);
    assert_eq!(code, 0, "{out} {err}");
}
