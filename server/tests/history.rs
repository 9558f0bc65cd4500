//! History retention (docs/history-retention.md) against the real binary, with every window
//! set to 0 in `config.yml`: superseded versions and old tombstones are removed once every
//! active device has pulled past them, never the latest version of a live file; unused blob
//! refs are released and their files collected; a backup taken before still restores.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::Duration;

const THIN_NOW: &str = "history:\n  compact_min_backlog: 0\n  keep_all_days: 0\n  keep_daily_days: 0\n  tombstone_days: 0\n  blob_grace_hours: 0\n";

fn one(s: &TestServer, sql: &str) -> i64 {
    s.sql_i64(sql)
}

/// Stops the server gracefully (its pull marks are written) and starts it again on the same
/// data: startup runs retention.
fn restart(mut s: TestServer) -> TestServer {
    s.sigterm();
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0));
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    TestServer::start_in(dir, &[])
}

fn file_op(n: usize, op_type: &str, path: &str, payload: Value) -> Value {
    json!({"op_id": format!("o{n}"), "entity_type": "file", "entity_id": path,
           "op_type": op_type, "payload_json": payload.to_string(), "client_sequence": 0,
           "created_at": "2026-07-10T00:00:00Z"})
}

fn text(path: &str, content: &str) -> Value {
    json!({"path": path, "content": content})
}

fn contents(v: &Value) -> Vec<(i64, String)> {
    v["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["server_sequence"].as_i64().unwrap(),
                o["payload_json"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn thinning_waits_for_devices_keeps_heads_and_collects_blobs() {
    let s = TestServer::start_with(Some(THIN_NOW), &[]);
    let (w, _) = s.user_device("ann", "v");
    let (lagging, _) = s.pair("ann", "v");
    let bytes = b"a binary first version";
    let sha = sha256_hex(bytes);
    assert_eq!(s.upload(&w, bytes).status, 200);
    let blob =
        json!({"path": "a.bin", "contentHash": sha, "blob": {"sha256": sha, "size": bytes.len()}});
    let history = [
        file_op(1, "create", "a.bin", blob),
        file_op(2, "update", "a.bin", text("a.bin", "v2")),
        file_op(3, "create", "note.md", text("note.md", "n1")),
        file_op(4, "update", "note.md", text("note.md", "n2")),
        file_op(5, "update", "note.md", text("note.md", "n3")),
        file_op(6, "create", "tmp.md", text("tmp.md", "t")),
        file_op(7, "delete", "tmp.md", text("tmp.md", "")),
        file_op(8, "create", "keep.md", text("keep.md", "k")),
    ];
    for op in history {
        assert_eq!(s.push(&w, vec![op], None).status, 200);
    }
    assert_eq!(s.pull(&w, 8, 0).status, 200);
    let before = contents(&s.pull(&lagging, 0, 0).json());
    assert_eq!(before.len(), 3, "{before:?}");

    // A backup taken before anything is thinned (`backup` copies SQLite; PostgreSQL's are
    // pg_dump, see server/README.md).
    let out = tempfile::tempdir().unwrap();
    let backup = out.path().join("b");
    let sqlite = !skip_on_pg("the backup part: `backup` copies server.db");
    if sqlite {
        let st = std::process::Command::new(BIN)
            .args(["backup", "--data"])
            .arg(s.data())
            .arg("--out")
            .arg(&backup)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }

    // The lagging device pulled only from 0: nothing above its cursor goes.
    let s = restart(s);
    assert_eq!(one(&s, "SELECT COUNT(*) FROM server_ops"), 8);
    assert!(on_s3() || blob_path(s.data(), &sha).is_file());

    // Revoked, it holds nothing back: versions 1, 3, 4 and the whole of tmp.md go.
    let r = s.post("/api/client/revoke-current", Some(&lagging), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    let s = restart(s);
    let left: Vec<i64> = s
        .sql_col("SELECT server_sequence FROM server_ops ORDER BY server_sequence")
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(left, [2, 5, 8]);
    assert_eq!(one(&s, "SELECT COUNT(*) FROM server_tombstones"), 0);
    // The blob only version 1 used: ref released, quota freed, file collected.
    assert_eq!(one(&s, "SELECT COUNT(*) FROM server_blob_refs"), 0);
    assert_eq!(
        one(&s, "SELECT COALESCE(SUM(bytes), 0) FROM server_blob_usage"),
        0
    );
    assert_eq!(one(&s, "SELECT COUNT(*) FROM server_blobs"), 0);
    assert!(on_s3() || !blob_path(s.data(), &sha).exists());
    // A database created by this schema gives the freed pages back (incremental vacuum).
    if !on_pg() {
        assert_eq!(one(&s, "PRAGMA auto_vacuum"), 2);
        assert_eq!(one(&s, "PRAGMA freelist_count"), 0);
    }

    // A new device gets the same latest versions as before.
    let (fresh, _) = s.pair("ann", "v");
    let joined = contents(&s.pull(&fresh, 0, 0).json());
    assert_eq!(joined, before);
    assert_eq!(s.pull(&w, 8, 0).json()["ops"], json!([]));

    // The backup from before restores the whole history and the blob.
    drop(s);
    if !sqlite {
        return;
    }
    let restored_dir = tempfile::tempdir().unwrap();
    let copy = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", backup.display()))
        .arg(restored_dir.path())
        .status()
        .unwrap();
    assert!(copy.success());
    let r = TestServer::start_in(restored_dir, &[]);
    assert_eq!(one(&r, "SELECT COUNT(*) FROM server_ops"), 8);
    let got = r.get(&format!("/api/v1/blobs/{sha}"), Some(&w));
    assert_eq!((got.status, got.body.as_slice()), (200, &bytes[..]));
}

#[test]
fn the_console_shows_and_saves_the_history_settings() {
    const PW: &str = "admin-pass-123";
    // On two nodes the console's requests alternate between them (tests/console_settings.rs).
    let s = TestServer::start_with(
        Some("history:\n  keep_all_days: 7\nextra: kept\n"),
        &["--admin-user", "root", "--admin-pass", PW],
    );
    let mut a = common::web::admin_login(&s, "root", PW);
    let page = a.get("/admin/history");
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains(r#"href="/admin/history" aria-current="page""#),
        "{html}"
    );
    assert!(html.contains(r#"name="keep_all_days" value="7""#), "{html}");
    assert!(html.contains(r#"name="keep_daily_days" value="365""#));
    assert!(html.contains("Keep every version for (days)"));
    let csrf = a.csrf();
    let fields = |keep_all: &'static str, pw: &'static str| {
        vec![
            ("compact_min_backlog", "50"),
            ("keep_all_days", keep_all),
            ("keep_daily_days", "100"),
            ("tombstone_days", "10"),
            ("blob_grace_hours", "48"),
            ("password", pw),
        ]
    };
    let post = |a: &mut common::web::Browser<'_>, f: Vec<(&str, &str)>| {
        let mut f = f;
        f.push(("csrf_token", &csrf));
        a.post_form("/admin/history", &f)
    };
    // Wrong password, then an inconsistent value: nothing is saved.
    assert_eq!(post(&mut a, fields("14", "wrong")).status, 403);
    let bad = post(&mut a, fields("200", PW));
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("daily span cannot be shorter"));
    assert_eq!(a.get("/admin/api/history").json()["keep_all_days"], 7);
    // Saved: applied at once, written to config.yml (other keys kept), audited.
    let r = post(&mut a, fields("14", PW));
    assert_eq!(
        r.header("location"),
        Some("/admin/history?flash=history_saved")
    );
    let now = a.get("/admin/api/history").json();
    assert_eq!(
        now,
        json!({"compact_min_backlog": 50, "keep_all_days": 14, "keep_daily_days": 100,
               "tombstone_days": 10, "blob_grace_hours": 48})
    );
    let cfg = std::fs::read_to_string(s.data().join("config.yml")).unwrap();
    assert!(
        cfg.contains("keep_all_days: 14") && cfg.contains("extra: kept"),
        "{cfg}"
    );
    assert!(
        a.get("/admin/audit")
            .text()
            .contains("history settings saved by admin root")
    );
    // The JSON API takes the same values and refuses a negative one.
    let body = json!({"compact_min_backlog": 0, "keep_all_days": 1, "keep_daily_days": 1,
                      "tombstone_days": 0, "blob_grace_hours": -1});
    let r = a.mutate(
        "POST",
        "/admin/api/history",
        "application/json",
        body.to_string().as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let mut ok = body.clone();
    ok["blob_grace_hours"] = json!(0);
    let r = a.mutate(
        "POST",
        "/admin/api/history",
        "application/json",
        ok.to_string().as_bytes(),
    );
    assert_eq!((r.status, r.json()), (200, ok));
}

#[test]
fn history_settings_take_flags_then_environment_then_the_file() {
    const PW: &str = "admin-pass-123";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yml"),
        "history:\n  keep_all_days: 7\n  tombstone_days: 3\n  blob_grace_hours: 1\n",
    )
    .unwrap();
    let s = TestServer::start_in_env(
        dir,
        &[
            "--admin-user",
            "root",
            "--admin-pass",
            PW,
            "--history-tombstone-days",
            "5",
        ],
        &[
            ("VERSTAK_HISTORY_KEEP_ALL_DAYS", "9"),
            ("VERSTAK_HISTORY_TOMBSTONE_DAYS", "4"),
        ],
    );
    let mut a = common::web::admin_login(&s, "root", PW);
    assert_eq!(
        a.get("/admin/api/history").json(),
        json!({
            "compact_min_backlog": 100,
            "keep_all_days": 9,
            "keep_daily_days": 365,
            "tombstone_days": 5,
            "blob_grace_hours": 1,
        })
    );
    // Overrides are never written back into config.yml.
    let yml = std::fs::read_to_string(s.data().join("config.yml")).unwrap();
    assert!(
        yml.contains("keep_all_days: 7") && yml.contains("tombstone_days: 3"),
        "{yml}"
    );
}

#[test]
fn bad_history_overrides_stop_the_server_with_a_clear_message() {
    let run = |args: &[&str], envs: &[(&str, &str)], config: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let out = std::process::Command::new(BIN)
            .arg("--data")
            .arg(dir.path())
            .args(["--port", "0"])
            .args(args)
            .envs(envs.iter().copied())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&[], &[("VERSTAK_HISTORY_BLOB_GRACE_HOURS", "two")], "");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("VERSTAK_HISTORY_BLOB_GRACE_HOURS: expected a whole number of hours from 0 to 876000, got \"two\""),
        "{err}"
    );
    let (code, err) = run(&["--history-keep-all-days", "40000"], &[], "");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("expected a whole number of days from 0 to 36500, got \"40000\""),
        "{err}"
    );
    let (code, err) = run(
        &["--history-keep-daily-days", "3"],
        &[],
        "history:\n  keep_all_days: 7\n",
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("keep_daily_days (3, from --history-keep-daily-days) must be at least keep_all_days (7, from config.yml)"),
        "{err}"
    );
}
