//! Issue 4, "Done when": the real component in the real host against the real server binary.
//!
//! Every step opens a fresh `Session` (the host restarted), so nothing but what is on disk
//! carries over, and every outcome is checked on disk. Each test owns one server and one account;
//! two or three temp vaults ("devices") share the account's remote vault `notes`.
//!
//! Needs `cargo build -p verstak-sync-server` and the component
//! (`cargo build -p verstak-sync-plugin --target wasm32-wasip2 --release`).

mod common;

use common::device::{
    Device, PASSWORD, VAULT, conflict_copies, setup, sha256_file, write_random_file,
};
use common::proxy::{Fault, Plan, Proxy, Trigger};
use common::server::Server;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use verstak_sync_host::bindings::exports::verstak::sync::sync_provider::Direction;
use verstak_sync_host::limits::Limits;
use verstak_sync_host::runtime::Runtime;
use verstak_sync_host::session::Session;

#[test]
fn two_vaults_exchange_text_binary_nested_and_non_ascii_files_edits_renames_and_deletes() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);

    a.write("hello.md", "# Hello\n");
    a.write("Заметки/ёж.md", "ёж живёт в лесу\n");
    a.write("with space/my note.md", "spaces in names\n");
    a.write("deep/er/still/leaf.txt", "leaf\n");
    a.write("empty.txt", "");
    let binary: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    a.write("img/pic.bin", &binary);
    std::fs::create_dir_all(a.path("empty folder")).unwrap();
    let first = a.sync();
    assert!(first.pushed >= 6, "A pushed its files: {first:?}");
    b.sync();
    assert_eq!(b.files(), a.files(), "B received A's files");
    assert_eq!(
        std::fs::read(b.path("img/pic.bin")).unwrap(),
        binary,
        "the binary arrived byte-identical"
    );
    assert_eq!(b.folders(), a.folders(), "folders, empty ones included");

    // An edit on B reaches A.
    b.write("Заметки/ёж.md", "ёж живёт в лесу\nи ест яблоки\n");
    b.sync();
    a.sync();
    assert_eq!(a.read("Заметки/ёж.md"), "ёж живёт в лесу\nи ест яблоки\n");

    // A rename on A (delete + create) is a rename on B.
    a.rename("with space/my note.md", "with space/renamed note.md");
    a.sync();
    b.sync();
    assert!(
        !b.exists("with space/my note.md"),
        "the old name is gone on B"
    );
    assert_eq!(b.read("with space/renamed note.md"), "spaces in names\n");

    // A delete on A: gone on B, and restorable from B's trash.
    a.remove("hello.md");
    a.sync();
    b.sync();
    assert!(!b.exists("hello.md"), "the deleted file is gone on B");
    assert!(
        b.trash()
            .contains(&("hello.md".to_string(), "# Hello\n".to_string())),
        "B's trash: {:?}",
        b.trash()
    );
    b.restore_from_trash("hello.md");
    b.sync();
    a.sync();
    assert_eq!(
        a.read("hello.md"),
        "# Hello\n",
        "the restored file came back to A"
    );

    assert_eq!(a.files(), b.files());
    assert!(conflict_copies(a).is_empty() && conflict_copies(b).is_empty());
    // Converged: another round moves nothing.
    assert_eq!(a.sync().pushed, 0);
    assert_eq!(b.sync().pushed, 0);
    assert_eq!(a.files(), b.files());
}

#[test]
fn three_vaults_converge_including_one_that_joins_with_files_of_its_own() {
    let (server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("from-a.md", "a\n");
    a.write("shared/same.md", "identical everywhere\n");
    b.write("from-b.md", "b\n");
    a.sync();
    b.sync();
    a.sync();
    assert_eq!(a.files(), b.files());

    // C already has files when it joins: one equal to the server's, one of its own.
    let c = Device::new("gamma");
    c.write("shared/same.md", "identical everywhere\n");
    c.write("from-c/ünïcödé name.md", "c\n");
    c.configure(&server.url(), "ann", VAULT);
    c.sync();
    a.sync();
    b.sync();
    for x in [a, b] {
        assert_eq!(x.files(), c.files(), "{} and gamma agree", x.name);
    }
    assert_eq!(c.files().len(), 4);

    // Edits from each of the three reach the other two.
    a.write("from-a.md", "a2\n");
    b.write("from-b.md", "b2\n");
    c.write("from-c/ünïcödé name.md", "c2\n");
    for x in [a, b, &c, a, b] {
        x.sync();
    }
    for x in [a, b] {
        assert_eq!(x.files(), c.files(), "{} and gamma agree", x.name);
    }
    assert_eq!(a.read("from-c/ünïcödé name.md"), "c2\n");
    assert!(conflict_copies(a).is_empty(), "{:?}", a.files().keys());
}

#[test]
fn concurrent_edits_merge_when_they_touch_different_lines_and_keep_both_when_they_clash() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("notes/plan.md", "one\ntwo\nthree\nfour\nfive\n");
    a.sync();
    b.sync();

    // Different lines: a clean three-way merge on B, then on both.
    a.write("notes/plan.md", "ONE\ntwo\nthree\nfour\nfive\n");
    b.write("notes/plan.md", "one\ntwo\nthree\nfour\nFIVE\n");
    a.sync();
    let merged = b.sync();
    assert_eq!(
        merged.merged,
        vec!["notes/plan.md".to_string()],
        "{merged:?}"
    );
    assert!(merged.kept_both.is_empty());
    assert_eq!(b.read("notes/plan.md"), "ONE\ntwo\nthree\nfour\nFIVE\n");
    a.sync();
    assert_eq!(a.read("notes/plan.md"), "ONE\ntwo\nthree\nfour\nFIVE\n");

    // The same line: A's version (accepted first) keeps the path, B's goes to a conflict copy.
    a.write("notes/plan.md", "ONE\ntwo by alpha\nthree\nfour\nFIVE\n");
    b.write("notes/plan.md", "ONE\ntwo by beta\nthree\nfour\nFIVE\n");
    a.sync();
    let clash = b.sync();
    assert!(clash.merged.is_empty(), "{clash:?}");
    assert_eq!(clash.kept_both.len(), 1, "{clash:?}");
    assert_eq!(clash.kept_both[0].path, "notes/plan.md");
    let copy = clash.kept_both[0].copy_path.clone();
    assert_conflict_name(&copy, "notes/plan", "beta", ".md");
    assert_eq!(
        b.read("notes/plan.md"),
        "ONE\ntwo by alpha\nthree\nfour\nFIVE\n"
    );
    assert_eq!(b.read(&copy), "ONE\ntwo by beta\nthree\nfour\nFIVE\n");

    // The copy is an ordinary file: it reaches A.
    a.sync();
    assert_eq!(a.read(&copy), "ONE\ntwo by beta\nthree\nfour\nFIVE\n");
    assert_eq!(a.files(), b.files());
    assert_eq!(conflict_copies(a), vec![copy]);
}

/// `<stem> (conflict <device> <YYYY-MM-DD HHMM>)<ext>`
fn assert_conflict_name(copy: &str, stem: &str, device: &str, ext: &str) {
    let inner = copy
        .strip_prefix(&format!("{stem} (conflict {device} "))
        .and_then(|r| r.strip_suffix(&format!("){ext}")))
        .unwrap_or_else(|| panic!("{copy:?} is not a conflict copy of {stem}{ext} by {device}"));
    let b = inner.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    assert!(
        b.len() == 15
            && digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10)
            && b[10] == b' '
            && digits(11..15),
        "{copy:?}: the date is not YYYY-MM-DD HHMM"
    );
}

#[test]
fn delete_versus_edit_the_edit_survives_on_both_sides() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("first.md", "v1\n");
    a.write("second.md", "v1\n");
    a.sync();
    b.sync();

    // A's delete reaches the server first; B's edit was made before B saw it.
    a.remove("first.md");
    a.sync();
    b.write("first.md", "v2 edited on beta\n");
    b.sync();
    a.sync();
    assert_eq!(b.read("first.md"), "v2 edited on beta\n", "B kept its edit");
    assert_eq!(
        a.read("first.md"),
        "v2 edited on beta\n",
        "the edit came back to A"
    );

    // The other order: B's edit reaches the server first, A's delete was made before A saw it.
    b.write("second.md", "v2 edited on beta\n");
    b.sync();
    a.remove("second.md");
    a.sync();
    b.sync();
    assert_eq!(
        a.read("second.md"),
        "v2 edited on beta\n",
        "A took the edit instead of its delete"
    );
    assert_eq!(b.read("second.md"), "v2 edited on beta\n");

    assert_eq!(a.files(), b.files());
    assert!(conflict_copies(a).is_empty(), "{:?}", a.files().keys());
}

#[test]
fn a_50_mb_file_arrives_byte_identical_with_bounded_memory() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    const SIZE: usize = 50 << 20;
    write_random_file(&a.path("media/big.bin"), SIZE, 0x5eed);
    let want = sha256_file(&a.path("media/big.bin"));

    // Both transfers run in the CLI with a guest memory cap below the file size, so the
    // component cannot hold the file; the host's own peak is compared with an idle run.
    let idle = run_measured(host_cli(a.root()).args(["--memory-mib", "40", "status"]));
    let up = run_measured(host_cli(a.root()).args(["--memory-mib", "40", "sync"]));
    let down = run_measured(host_cli(b.root()).args(["--memory-mib", "40", "sync"]));

    assert_eq!(
        sha256_file(&b.path("media/big.bin")),
        want,
        "the 50 MB file arrived byte-identical"
    );
    assert_eq!(
        std::fs::metadata(b.path("media/big.bin")).unwrap().len(),
        SIZE as u64
    );
    eprintln!(
        "peak RSS: idle {} MiB, upload {} MiB, download {} MiB",
        idle >> 20,
        up >> 20,
        down >> 20
    );
    for (what, peak) in [("upload", up), ("download", down)] {
        assert!(
            peak < idle + (SIZE as u64) / 2,
            "the {what} peaked at {} MiB against {} MiB for an idle run: something holds the file in memory",
            peak >> 20,
            idle >> 20
        );
    }
}

/// Runs a command to completion and returns its peak resident set size in bytes (`wait4`).
fn run_measured(cmd: &mut Command) -> u64 {
    // Reaped below by wait4, which also gives the peak RSS; `Child::wait` would not.
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let stderr = child.stderr.unwrap();
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    let err = err.join().unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed: {err}"
    );
    usage.ru_maxrss as u64 * 1024
}

#[test]
fn a_revoked_device_reports_revoked_and_its_sync_fails_cleanly() {
    let (server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("x.md", "x\n");
    a.sync();
    b.sync();

    // Revoke B on the server with its own token (what another client or the web page would do).
    let token = std::fs::read_to_string(
        b.path(".verstak/plugin-data/verstak.sync/engine/device-token.json"),
    )
    .unwrap();
    let (status, body) = server.post("/api/client/revoke-current", Some(token.trim()), "");
    assert_eq!(status, 200, "{body}");

    b.write("y.md", "written after the revoke\n");
    let err = b.try_sync().unwrap_err();
    assert!(
        err.message.contains("sync-server:unauthorized (HTTP 401)"),
        "{err}"
    );
    let st = b.status();
    assert!(st.revoked && !st.connected, "{st:?}");
    assert_eq!(st.status_label, "revoked");
    let json = verstak_sync_host::dto::status_json(&st, None);
    assert_eq!(json["statusLabel"], "revoked");
    assert_eq!(json["revoked"], true);
    // Nothing local was touched, and the failure repeats cleanly after a restart.
    assert_eq!(b.read("x.md"), "x\n");
    assert_eq!(b.read("y.md"), "written after the revoke\n");
    assert!(b.try_sync().is_err());
    assert_eq!(b.status().status_label, "revoked");

    // A is unaffected.
    a.write("z.md", "z\n");
    a.sync();
    assert!(!a.exists("y.md"));
    assert_eq!(a.status().status_label, "connected");
}

#[test]
fn a_wrong_password_is_a_clean_error_and_stores_nothing() {
    let server = Server::start();
    server.add_user("ann", PASSWORD);
    let a = Device::new("alpha");

    let err = a
        .try_configure(&server.url(), "ann", "not the password", VAULT)
        .unwrap_err();
    assert_eq!(
        err.message,
        "pair: sync-server:unauthorized (HTTP 401): the username or password is wrong"
    );
    let st = a.status();
    assert!(!st.configured && !st.token_stored, "{st:?}");
    assert_eq!(st.server_url, "");
    assert_eq!(st.status_label, "disabled");
    let engine = a.path(".verstak/plugin-data/verstak.sync/engine");
    let stored: Vec<_> = std::fs::read_dir(&engine)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(stored.is_empty(), "nothing is stored: {stored:?}");

    // The same through the CLI: exit code 1 and the message.
    let out = host_cli(a.root())
        .args([
            "configure",
            "--server",
            &server.url(),
            "--username",
            "ann",
            "--password",
            "wrong again",
            "--vault-id",
            VAULT,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pair: sync-server:unauthorized (HTTP 401)"),
        "{stderr}"
    );
    assert!(!engine.join("device-token.json").exists());
}

#[test]
fn without_network_remote_sync_is_refused_before_any_request() {
    let (server, d) = setup(&["alpha"]);
    let a = &d[0];
    a.write("x.md", "x\n");
    let api_requests = || server.metric("verstak_http_requests_total", "route=\"/api/");
    let before = api_requests();
    assert!(before > 0, "pairing was counted");

    let dir = tempfile::tempdir().unwrap();
    let restricted = Runtime::load(
        &component(),
        &manifest_without(dir.path(), "network.remote"),
        Limits::default(),
    )
    .unwrap();
    let err = Session::new(&restricted, a.root()).sync_now().unwrap_err();
    assert_eq!(err.code, "not_permitted");
    assert_eq!(
        err.message,
        "plugin \"verstak.sync\" lacks required permission \"network.remote\""
    );
    assert_eq!(api_requests(), before, "the server saw no request");
    assert_eq!(a.read("x.md"), "x\n");

    // With the permission back, the same vault syncs.
    assert_eq!(a.sync().pushed, 1);
}

#[test]
fn remote_ops_with_escaping_paths_are_never_applied_outside_the_vault() {
    // The host refuses `..`, absolute paths and `.verstak/` for any call the component makes
    // (unit tests: host-shim/src/imports/files_tests.rs); here a hostile device pushes such
    // paths and the real engine + host must neither write them nor stall on them.
    let (server, d) = setup(&["alpha"]);
    let a = &d[0];
    let pair = format!(
        r#"{{"login":"ann","password":"{PASSWORD}","device_name":"evil","vault_id":"{VAULT}"}}"#
    );
    let (status, body) = server.post("/api/client/pair", None, &pair);
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    let op = |i: usize, path: &str| {
        let payload = serde_json::json!({"path": path, "content": "pwned\n"}).to_string();
        serde_json::json!({"op_id": format!("00000000-0000-4000-8000-00000000000{i}"), "entity_type": "file", "entity_id": path,
            "op_type": "create", "payload_json": payload, "client_sequence": 0, "created_at": "2026-11-22T00:00:00Z"})
    };
    let evil = [
        "../escape.md",
        "a/../../escape2.md",
        "/tmp/escape3.md",
        ".verstak/config.md",
        "ok/../../escape4.md",
    ];
    let mut ops: Vec<_> = evil.iter().enumerate().map(|(i, p)| op(i, p)).collect();
    ops.push(op(9, "fine.md"));
    let (status, body) = server.post(
        "/api/v1/sync/push",
        Some(&token),
        &serde_json::json!({"device_id": "x", "ops": ops}).to_string(),
    );
    assert_eq!(status, 200, "{body}");

    let summary = a.sync();
    assert_eq!(
        a.read("fine.md"),
        "pwned\n",
        "the valid op was applied: {summary:?}"
    );
    let parent = a.root().parent().unwrap();
    for name in ["escape.md", "escape2.md", "escape4.md"] {
        assert!(!parent.join(name).exists(), "{name} escaped the vault");
    }
    assert!(!Path::new("/tmp/escape3.md").exists());
    assert!(!a.exists(".verstak/config.md"));
    assert_eq!(
        a.files().into_keys().collect::<Vec<_>>(),
        vec!["fine.md".to_string()]
    );
    assert!(a.sync().pushed == 0, "the vault is converged, not stalled");
}

#[test]
fn the_mass_deletion_guard_holds_outgoing_deletes_until_confirmed() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    for i in 0..14 {
        a.write(&format!("docs/n{i:02}.md"), format!("note {i}\n"));
    }
    a.sync();
    b.sync();
    assert_eq!(b.files().len(), 14);

    // 12 of 14 deleted on A: more than 10 and more than half.
    for i in 0..12 {
        a.remove(&format!("docs/n{i:02}.md"));
    }
    a.write("docs/new.md", "a new note still goes\n");
    let held = a.sync();
    let guard = held.guard.as_ref().expect("the run reports the guard");
    assert!(matches!(guard.direction, Direction::Outgoing));
    assert_eq!((guard.deletions, guard.files), (12, 14));
    let st = a.status();
    let g = st
        .guard
        .as_ref()
        .expect("status shows the guard after a restart");
    assert_eq!((g.deletions, g.files), (12, 14));
    assert!(!st.last_warning.is_empty());

    b.sync();
    assert_eq!(
        b.files().len(),
        15,
        "B still has every file, and the new one"
    );
    assert_eq!(b.read("docs/new.md"), "a new note still goes\n");

    let confirmed = a.confirm_deletions(Direction::Outgoing);
    assert!(
        confirmed.guard.is_none() && a.status().guard.is_none(),
        "{confirmed:?}"
    );

    // On B the same deletes arrive as a mass deletion too: B's incoming guard holds them.
    let incoming = b.sync();
    let guard = incoming
        .guard
        .as_ref()
        .expect("B's run reports the incoming guard");
    assert!(matches!(guard.direction, Direction::Incoming));
    assert_eq!((guard.deletions, guard.files), (12, 15));
    assert_eq!(b.files().len(), 15, "nothing was deleted before B decided");
    b.confirm_deletions(Direction::Incoming);
    assert_eq!(
        b.files().into_keys().collect::<Vec<_>>(),
        ["docs/n12.md", "docs/n13.md", "docs/new.md"]
    );
    assert_eq!(b.trash().len(), 12, "the deletes went to B's trash");
    assert_eq!(a.files(), b.files());
}

/// Runs the CLI in `vault` with `args`: (exit code, stdout, stderr).
fn run_cli(vault: &Path, args: &[&str]) -> (i32, String, String) {
    let out = host_cli(vault).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_shows_and_resolves_held_deletions() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    for i in 0..14 {
        a.write(&format!("docs/n{i:02}.md"), format!("note {i}\n"));
    }
    a.sync();
    b.sync();

    let (code, out, err) = run_cli(a.root(), &["deletions"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "no deletions are held\n"),
        "{err}"
    );
    let (code, out, _) = run_cli(a.root(), &["deletions", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v, serde_json::json!({ "guard": null }));
    // Nothing held: nothing to decide, and no decision is recorded for a later guard.
    for action in ["confirm", "restore"] {
        let (code, out, err) = run_cli(a.root(), &["deletions", action]);
        assert_eq!((code, out.as_str()), (1, ""), "{err}");
        assert!(
            err.contains("error: nothing_held: the mass-deletion guard holds no deletions"),
            "{err}"
        );
    }

    // Outgoing: 12 of 14 deleted on A; restore brings them back from the server.
    for i in 0..12 {
        a.remove(&format!("docs/n{i:02}.md"));
    }
    let (code, _, err) = run_cli(a.root(), &["sync"]);
    assert_eq!(code, 1, "a run with nothing else to do fails");
    assert!(
        err.contains("error: mass_deletion_pending: mass deletion awaiting confirmation"),
        "{err}"
    );
    let (code, out, err) = run_cli(a.root(), &["deletions"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("held (outgoing): 12 file(s) deleted here, of 14 synced file(s)"),
        "{out}"
    );
    assert!(out.contains("`deletions confirm`"), "{out}");
    let (_, out, _) = run_cli(a.root(), &["deletions", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!({ "guard": { "direction": "outgoing", "deletions": 12, "files": 14 } })
    );
    let (code, out, err) = run_cli(a.root(), &["deletions", "restore"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("restored: kept 12 file(s) (outgoing)\nsynced: pushed "),
        "{out}"
    );
    assert_eq!(a.files().len(), 14, "the files are back");
    assert_eq!(a.read("docs/n03.md"), "note 3\n");
    assert!(a.status().guard.is_none());
    let (_, out, _) = run_cli(a.root(), &["deletions"]);
    assert_eq!(out, "no deletions are held\n");

    // Again, and this time confirm (as JSON): the deletes reach the server.
    for i in 0..12 {
        a.remove(&format!("docs/n{i:02}.md"));
    }
    a.write("docs/new.md", "a new note still goes\n");
    let (code, out, err) = run_cli(a.root(), &["sync"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("held 12 deletion(s) of 14 file(s): review them with `deletions`"),
        "{out}"
    );
    let (code, out, err) = run_cli(a.root(), &["deletions", "confirm", "--json"]);
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(summary["pushed"].as_u64().unwrap() >= 12, "{summary}");
    assert!(summary.get("guard").is_none(), "{summary}");
    assert!(a.status().guard.is_none());

    // Incoming on B: held until confirmed, then the files go to B's trash.
    let held = b.sync();
    assert!(held.guard.is_some(), "{held:?}");
    let (_, out, _) = run_cli(b.root(), &["deletions", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!({ "guard": { "direction": "incoming", "deletions": 12, "files": 14 } })
    );
    let (_, out, _) = run_cli(b.root(), &["deletions"]);
    assert!(
        out.starts_with("held (incoming): the server deletes 12 of the 14 file(s) here"),
        "{out}"
    );
    assert_eq!(b.files().len(), 14, "nothing was deleted before B decided");
    let (code, out, err) = run_cli(b.root(), &["deletions", "confirm"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("confirmed 12 incoming deletion(s)\nsynced: pushed 0, pulled "),
        "{out}"
    );
    assert_eq!(b.files(), a.files());
    assert_eq!(b.trash().len(), 12);
}

#[test]
fn a_trickled_blob_cannot_hang_a_sync_past_its_call_timeout() {
    let server = Arc::new(Mutex::new(Server::start()));
    server.lock().unwrap().add_user("ann", PASSWORD);
    let proxy = Proxy::start(server.clone(), Arc::default(), Arc::default());
    let (a, b) = (Device::new("alpha"), Device::new("beta"));
    a.configure(&server.lock().unwrap().url(), "ann", VAULT);
    b.configure(&proxy.url(), "ann", VAULT);
    let binary: Vec<u8> = (0..200_000u32)
        .map(|i| (i * 7 % 251) as u8 | 0x80)
        .collect();
    a.write("pic.bin", &binary);
    a.sync();

    // B downloads the blob through a proxy that answers one byte per second, never idle for
    // 30 s: only the request's total time limit can end the call.
    proxy.set_plan(Plan {
        faults: vec![(Trigger::BlobDownload, Fault::Trickle { every_ms: 1000 })],
    });
    let mut child = host_cli(b.root())
        .args(["--call-timeout", "6", "sync"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > guard {
            child.kill().unwrap();
            panic!("`sync` hung on a trickled blob");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The import's `network` error reaches the engine, which gives up (or, on a starved machine,
    // the call's deadline stops it): either way an error that names the time limit.
    assert!(
        stderr.contains("error: ") && stderr.contains("time limit"),
        "{stderr}"
    );
    assert!(!b.exists("pic.bin"));

    // An honest server again: the next sync brings the file.
    proxy.set_plan(Plan::default());
    b.sync();
    assert_eq!(std::fs::read(b.path("pic.bin")).unwrap(), binary);
}

#[test]
fn a_sync_killed_mid_upload_converges_on_rerun() {
    let (server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    for i in 0..3 {
        write_random_file(&a.path(&format!("big/part{i}.bin")), 24 << 20, 17 + i);
    }
    a.write("small.md", "small\n");
    let want = a.files();

    let mut child = host_cli(a.root())
        .arg("sync")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it while the server is receiving a blob body (`blobs/.upload-*` exists).
    let blobs = server.data().join("blobs");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut mid_upload = false;
    while Instant::now() < deadline {
        let uploading = std::fs::read_dir(&blobs)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().starts_with(".upload-"))
            })
            .unwrap_or(false);
        if uploading {
            mid_upload = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::park_timeout(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(
        mid_upload && status.code().is_none(),
        "the sync was killed during an upload (exit: {status:?})"
    );

    a.sync();
    b.sync();
    assert_eq!(a.files(), want, "A's files are untouched");
    assert_eq!(
        b.files(),
        want,
        "B has exactly A's files: no duplicates, no conflict copies"
    );
    assert_eq!(a.sync().pushed, 0);
    assert_eq!(a.status().unpushed_ops, 0);
}

#[test]
fn an_unreachable_server_is_a_clean_error_that_keeps_everything() {
    let (server, d) = setup(&["alpha"]);
    let a = &d[0];
    a.write("x.md", "x\n");
    a.sync();
    a.write("y.md", "not pushed yet\n");
    drop(server);

    let err = a.try_sync().unwrap_err();
    assert!(err.message.contains("connection failed"), "{err}");
    let st = a.status();
    assert_eq!(st.status_label, "error", "{st:?}");
    assert!(st.last_error.contains("connection failed"), "{st:?}");
    assert!(
        st.unpushed_ops >= 1,
        "the new file is still waiting: {st:?}"
    );
    assert_eq!(a.read("x.md"), "x\n");
    assert_eq!(a.read("y.md"), "not pushed yet\n");
}
