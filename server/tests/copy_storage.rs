//! `verstak-sync-server copy-storage` (issue 16): a SQLite + blob folder deployment built by the
//! real server is copied into a real PostgreSQL database (and into a bucket of a real
//! S3-compatible store when `VERSTAK_TEST_BLOB_STORE` and the S3 variables are set), then the
//! server started on the target answers the same device tokens with the same ops and blobs.
//!
//! Needs `VERSTAK_TEST_DATABASE_URL` (an admin URL, `scripts/pg.sh start DIR` prints one); each
//! test skips (and says so) without it.

#[allow(dead_code)]
#[path = "common/blobs.rs"]
mod backends;
mod common;

use backends::{Backend, Store};
use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::Duration;

/// A fresh empty database on the test PostgreSQL server; `None` (test skipped) without one.
fn new_database(tag: &str) -> Option<String> {
    if !on_pg() {
        eprintln!("skipped: {PG_ENV} is not set (scripts/pg.sh start DIR prints a URL)");
        return None;
    }
    let mut rand = [0u8; 6];
    getrandom::fill(&mut rand).unwrap();
    create_database(&format!("copy_{tag}_{}", hex::encode(rand)))
}

/// The binary with the storage variables of the environment removed, so that the source is
/// SQLite + the folder whatever the suite runs against.
fn sqlite_cmd() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("VERSTAK_DATABASE_URL")
        .env_remove("VERSTAK_BLOB_STORE")
        .env_remove("VERSTAK_PORT")
        .env_remove("VERSTAK_LISTEN")
        .env("RUST_LOG", "info");
    cmd
}

/// Starts the server on `dir` with `args` (SQLite + folder unless the args say otherwise).
fn start(dir: tempfile::TempDir, args: &[&str]) -> TestServer {
    let mut cmd = sqlite_cmd();
    cmd.arg("--data")
        .arg(dir.path())
        .args(["--port", "0"])
        .args(args);
    let (child, addr, log) = spawn_ready(cmd);
    TestServer::from_parts(child, addr, dir, log)
}

fn user_add(data: &Path, name: &str) {
    let out = sqlite_cmd()
        .args(["user", "add", "--data"])
        .arg(data)
        .args(["--username", name, "--password", PW])
        .args(["--email", &format!("{name}@example.test")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Stops the server (SIGTERM, so it checkpoints and exits cleanly) and returns its directory.
fn stop(mut s: TestServer) -> tempfile::TempDir {
    s.sigterm();
    assert_eq!(s.wait_exit(Duration::from_secs(20)), Some(0));
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    dir
}

fn copy_storage(data: &Path, url: &str, store: &Store, extra: &[&str]) -> Output {
    let mut cmd = sqlite_cmd();
    cmd.args(["copy-storage", "--data"])
        .arg(data)
        .args(["--to-database-url", url]);
    if let [flag, value] = store.flags().as_slice() {
        assert_eq!(flag, "--blob-store");
        cmd.args(["--to-blob-store", value]);
    }
    cmd.args(extra).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// What the source deployment holds, seen through the API.
struct Deployment {
    dir: tempfile::TempDir,
    /// `(token, pull answer)` of each live device.
    pulls: Vec<(String, Value)>,
    revoked: String,
    blobs: Vec<(String, Vec<u8>)>,
    blob_token: String,
}

/// Two users, three vault scopes, a conflict, a revoked device, blobs (one shared by two
/// scopes), idempotent pushes and audit rows, on SQLite + the folder.
fn build_deployment() -> Deployment {
    let dir = tempfile::tempdir().unwrap();
    user_add(dir.path(), "alice");
    user_add(dir.path(), "bob");
    let s = start(dir, &[]);
    let (a1, _) = s.pair("alice", "vault-a");
    let (a2, _) = s.pair("alice", "vault-a");
    let (b1, _) = s.pair("bob", "vault-b");
    let (gone, _) = s.pair("bob", "vault-c");
    let mut ops = Vec::new();
    for i in 0..40 {
        let mut o = op(&format!("a-{i}"));
        o["entity_id"] = json!(format!("Docs/{}.txt", i % 7));
        o["op_type"] = json!(if i < 7 { "create" } else { "update" });
        ops.push(o);
    }
    assert_eq!(s.push(&a1, ops, Some("key-1")).status, 200);
    // A conflict: a2 saw only sequence 1 and changes an entity a1 updated since.
    let mut mine = op("a2-late");
    mine["entity_id"] = json!("Docs/0.txt");
    mine["op_type"] = json!("update");
    mine["last_seen_server_seq"] = json!(1);
    let r = s.push(&a2, vec![mine], None).json();
    assert_ne!(r["conflicts"], Value::Null, "{r}");
    let mut del = op("a-del");
    del["entity_id"] = json!("Docs/1.txt");
    del["op_type"] = json!("delete");
    assert_eq!(s.push(&a2, vec![del], Some("key-2")).status, 200);
    assert_eq!(s.push(&b1, vec![op("b-1"), op("b-2")], None).status, 200);
    assert_eq!(s.push(&gone, vec![op("c-1")], None).status, 200);
    let mut blobs = Vec::new();
    for (i, t) in [&a1, &a1, &b1].into_iter().enumerate() {
        let bytes: Vec<u8> = (0..(1000 + i * 70_000))
            .map(|j| (j * 7 + i) as u8)
            .collect();
        let r = s.upload(t, &bytes);
        assert_eq!(r.status, 200, "{}", r.text());
        blobs.push((sha256_hex(&bytes), bytes));
    }
    // The same blob in a second scope.
    assert_eq!(s.upload(&b1, &blobs[0].1).status, 200);
    let r = s.post("/api/client/revoke-current", Some(&gone), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    let pulls = [&a1, &a2, &b1]
        .into_iter()
        .map(|t| (t.clone(), s.pull(t, 0, 1000).json()))
        .collect();
    Deployment {
        dir: stop(s),
        pulls,
        revoked: gone,
        blobs,
        blob_token: a1,
    }
}

/// A stand-in server (a sleeping process, no server) owning the data directory `dir`, for
/// [`Store`]'s helpers, which need a server only to find the local folder.
fn outside(dir: tempfile::TempDir) -> TestServer {
    let (_, log) = mpsc::channel();
    TestServer::from_parts(
        Command::new("sleep").arg("600").spawn().unwrap(),
        String::new(),
        dir,
        log,
    )
}

/// The ops of a pull answer without the fields that describe the request.
fn ops_of(v: &Value) -> Value {
    v["ops"].clone()
}

fn copied_deployment_serves_the_same_devices(backend: &Backend) {
    let Some(url) = new_database("serve") else {
        return;
    };
    let d = build_deployment();
    let store = backend.store();
    let o = copy_storage(d.dir.path(), &url, &store, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("complete: the target holds everything"),
        "{}",
        text(&o)
    );
    assert!(out.contains("3 blobs"), "{}", text(&o));
    if !store.is_local() {
        // A run into another empty database (as after an interruption) skips the blobs that
        // are already in the bucket.
        let again = new_database("again").unwrap();
        let o = copy_storage(d.dir.path(), &again, &store, &[]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr)
                .contains("0 copied (0 bytes), 3 already in the target"),
            "{}",
            text(&o)
        );
    }

    // The server on the target: a fresh data directory for S3, the old one (its blob folder)
    // for a database-only move.
    let (dir, moved) = if store.is_local() {
        (d.dir, None)
    } else {
        (tempfile::tempdir().unwrap(), Some(d.dir))
    };
    let mut args = vec!["--database-url".to_owned(), url.clone()];
    args.extend(store.flags());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = start(dir, &args);
    for (token, before) in &d.pulls {
        let after = s.pull(token, 0, 1000).json();
        assert_eq!(ops_of(&after), ops_of(before));
        assert_eq!(after["server_sequence"], before["server_sequence"]);
    }
    for (sha, bytes) in &d.blobs {
        let r = s.get(&format!("/api/v1/blobs/{sha}"), Some(&d.blob_token));
        let r = if r.status == 200 {
            r
        } else {
            // The third blob belongs to bob's scope.
            s.get(&format!("/api/v1/blobs/{sha}"), Some(&d.pulls[2].0))
        };
        assert_eq!(r.status, 200, "{sha}: {}", r.text());
        assert_eq!(&r.body, bytes);
        assert!(store.exists(&s, sha), "{sha} is in the target store");
    }
    assert_eq!(s.pull(&d.revoked, 0, 10).status, 401);
    // The sequence continues after the copied ops.
    let (t, before) = &d.pulls[0];
    let last = before["server_sequence"].as_i64().unwrap();
    let r = s.push(t, vec![op("after-move")], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.pull(t, last, 10).json()["server_sequence"], last + 1);
    // Pairing a new device (a new rowid) works on the copied devices table.
    s.pair("alice", "vault-a");
    let dir = stop(s);

    // A second copy into the now used database is refused and changes nothing.
    let source = moved.as_ref().unwrap_or(&dir);
    let o = copy_storage(source.path(), &url, &store, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("the target database is not empty"),
        "{}",
        text(&o)
    );
}

#[test]
fn copied_deployment_serves_the_same_devices_local_folder() {
    copied_deployment_serves_the_same_devices(&Backend::Local);
}

#[test]
fn copied_deployment_serves_the_same_devices_s3() {
    match backends::s3() {
        Some(b) => copied_deployment_serves_the_same_devices(&b),
        None => eprintln!("skipped: VERSTAK_TEST_BLOB_STORE is not set (scripts/garage.sh start)"),
    }
}

#[test]
fn check_reports_a_removed_blob_and_a_missing_source_file() {
    let Some(url) = new_database("check") else {
        return;
    };
    let backend = backends::s3().unwrap_or(Backend::Local);
    let d = build_deployment();
    // Not one blob in the source store (the wrong place, most likely): refused before the
    // database is written, so the copy below still finds the target empty.
    let blobs = d.dir.path().join("blobs");
    let away = d.dir.path().join("blobs.away");
    std::fs::rename(&blobs, &away).unwrap();
    let o = copy_storage(d.dir.path(), &url, &backend.store(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("none of the 3 blobs is in the source store"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir(&blobs);
    std::fs::rename(&away, &blobs).unwrap();

    // A source file lost before the move: reported, the rest is copied, exit 1.
    let lost = &d.blobs[1].0;
    std::fs::remove_file(blob_path(d.dir.path(), lost)).unwrap();
    let store = backend.store();
    let o = copy_storage(d.dir.path(), &url, &store, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("{lost}: missing in the source")),
        "{}",
        text(&o)
    );
    assert!(
        out.contains(&format!("blob {lost}: missing")),
        "{}",
        text(&o)
    );
    assert!(
        out.contains("incomplete: 0 database and 1 blob problems"),
        "{}",
        text(&o)
    );

    // The lost file is found again and put back into the target store by hand: --check
    // alone now reports the copy complete.
    let bytes = &d.blobs[1].1;
    let view = outside(d.dir);
    let data = view.data();
    std::fs::write(blob_path(data, lost), bytes).unwrap();
    if !store.is_local() {
        store.plant(&view, lost, bytes);
    }
    let check = copy_storage(data, &url, &store, &["--check"]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(String::from_utf8_lossy(&check.stdout).contains("complete"));

    // A blob removed from the target store: --check reports it and exits 1.
    let removed = &d.blobs[2].0;
    store.remove(&view, removed);
    let check = copy_storage(data, &url, &store, &["--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(
        out.contains(&format!("blob {removed}: missing")),
        "{}",
        text(&check)
    );
    assert!(out.contains("incomplete"), "{}", text(&check));

    // An op changed and a device's token hash changed in the target: both reported.
    psql(
        &url,
        "UPDATE server_ops SET payload_json = '{}' WHERE op_id = 'b-2'; \
         UPDATE server_devices SET token_hash = 'x' WHERE rowid = 1",
        &[],
    );
    let check = copy_storage(data, &url, &store, &["--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(
        out.contains("/vault-b: the ops differ (2 in the source, 2 in the target)"),
        "{}",
        text(&check)
    );
    assert!(
        out.contains("server_devices: 1 devices differ"),
        "{}",
        text(&check)
    );
    // One row fewer: the count says so.
    psql(&url, "DELETE FROM server_tombstones", &[]);
    let check = copy_storage(data, &url, &store, &["--check"]);
    assert!(
        String::from_utf8_lossy(&check.stdout)
            .contains("server_tombstones: 1 rows in the source, 0 in the target"),
        "{}",
        text(&check)
    );
}

#[test]
fn bad_arguments_are_named_by_their_flag() {
    let dir = tempfile::tempdir().unwrap();
    let run = |data: &Path, args: &[&str]| {
        let o = sqlite_cmd()
            .env_remove("AWS_ACCESS_KEY_ID")
            .args(["copy-storage", "--data"])
            .arg(data)
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(
        dir.path(),
        &["--to-database-url", "postgres://127.0.0.1:1/x"],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("has no server.db: nothing to copy"), "{err}");
    user_add(dir.path(), "alice");
    let (code, err) = run(dir.path(), &["--to-database-url", "mysql://x"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--to-database-url: expected a postgres:// or postgresql:// URL"),
        "{err}"
    );
    let (code, err) = run(
        dir.path(),
        &[
            "--to-database-url",
            "postgres://127.0.0.1:1/x",
            "--to-blob-store",
            "s3://bucket",
        ],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--to-blob-store: an S3 blob store needs AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    let (code, _) = run(dir.path(), &[]);
    assert_eq!(code, Some(2), "--to-database-url is required");
}

#[test]
fn an_older_source_database_is_upgraded_first() {
    let Some(url) = new_database("older") else {
        return;
    };
    let d = build_deployment();
    // Stepped back to schema 4 (the 4 → 5 step keeps columns that are already there).
    let db = rusqlite::Connection::open(d.dir.path().join("server.db")).unwrap();
    db.execute_batch("PRAGMA user_version = 4").unwrap();
    drop(db);
    let o = copy_storage(d.dir.path(), &url, &Store::Local, &["--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is at schema 4 (this server writes 7)"),
        "{}",
        text(&o)
    );
    let o = copy_storage(d.dir.path(), &url, &Store::Local, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("from schema 4 to 7"),
        "{}",
        text(&o)
    );
    let s = start(d.dir, &["--database-url", &url]);
    let (token, before) = &d.pulls[1];
    assert_eq!(ops_of(&s.pull(token, 0, 1000).json()), ops_of(before));
}
