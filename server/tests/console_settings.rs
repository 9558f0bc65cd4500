//! Settings the admin console saves are the database's, not one process's: every node of a
//! deployment applies them (at once for the console and registration, within moments for the
//! rest), and a node that missed a save takes it when it starts, under its flags. A
//! `config.yml` edited by hand after the last save still wins at the next start.

mod common;

use common::TestServer;
use common::web::admin_login;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PW: &str = "admin-pass-123";
const ADMIN: [&str; 4] = ["--admin-user", "root", "--admin-pass", PW];

fn history(keep_all: i64) -> Value {
    json!({"compact_min_backlog": 50, "keep_all_days": keep_all, "keep_daily_days": 100,
           "tombstone_days": 10, "blob_grace_hours": 48})
}

/// Saves the history settings through the console's JSON API.
fn save_history(s: &TestServer, keep_all: i64) {
    let mut a = admin_login(s, "root", PW);
    let body = history(keep_all).to_string();
    let r = a.mutate(
        "POST",
        "/admin/api/history",
        "application/json",
        body.as_bytes(),
    );
    assert_eq!((r.status, r.json()), (200, history(keep_all)));
}

/// The history settings in force, as the console shows them.
fn shown_history(s: &TestServer) -> Value {
    admin_login(s, "root", PW).get("/admin/api/history").json()
}

/// Stops every node and starts the deployment again on the same data (and database).
fn restart(mut s: TestServer, args: &[&str]) -> TestServer {
    s.sigterm();
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0));
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    TestServer::start_in(dir, args)
}

fn config_yml(s: &TestServer) -> String {
    std::fs::read_to_string(s.data().join("config.yml")).unwrap()
}

#[test]
fn a_save_on_one_node_is_in_force_on_every_node() {
    let Some(s) = TestServer::start_nodes(2, None, &ADMIN) else {
        return;
    };
    let mut a = admin_login(&s, "root", PW);
    let csrf = a.csrf();
    let r = a.post_form(
        "/admin/action",
        &[
            ("action", "web-settings"),
            ("default_locale", "ru"),
            ("public_url", "https://sync.example"),
            ("server_name", "Family Sync"),
            ("password", PW),
            ("csrf_token", &csrf),
        ],
    );
    assert_eq!(
        r.header("location"),
        Some("/admin/settings?flash=settings_saved")
    );
    save_history(&s, 21);
    for node in 0..2 {
        // Registration and the console look for news themselves: in force at once.
        assert_eq!(s.get_on(node, "/register", None).status, 404, "node {node}");
        let r = s.req_on(
            node,
            "POST",
            "/api/v1/auth/register",
            &[("Content-Type", "application/json")],
            json!({"username": "u", "email": "u@example.test", "password": common::PW})
                .to_string()
                .as_bytes(),
        );
        r.assert_error(403, "registration_disabled", "registration is disabled");
        // Every other page takes the other node's news from its notification.
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let login = s.get_on(node, "/login", None).text();
            if login.contains("Family Sync") && login.contains("lang=\"ru\"") {
                break;
            }
            assert!(Instant::now() < end, "node {node} still shows {login}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // The console alternates between the nodes: each shows the save.
    for _ in 0..2 {
        assert_eq!(shown_history(&s), history(21));
    }
}

#[test]
fn a_node_that_missed_a_save_takes_it_at_start_under_its_flags() {
    let before = "history:\n  keep_all_days: 7\nextra: kept\n";
    let s = TestServer::start_with(Some(before), &ADMIN);
    save_history(&s, 14);
    let saved = config_yml(&s);
    assert!(
        saved.contains("keep_all_days: 14") && saved.contains("console_revisions:"),
        "{saved}"
    );

    // A node whose config.yml never saw the save (here: the file as it was before) takes it.
    let write = |s: &TestServer, text: &str| {
        std::fs::write(s.data().join("config.yml"), text).unwrap();
    };
    let keep_admin = saved
        .lines()
        .skip_while(|l| !l.starts_with("admin:"))
        .take_while(|l| l.starts_with("admin:") || l.starts_with(' ') || l.starts_with('-'))
        .collect::<Vec<_>>()
        .join("\n");
    let stale = format!("{before}{keep_admin}\n");
    write(&s, &stale);
    let s = restart(s, &[]);
    assert_eq!(shown_history(&s), history(14));
    let cfg = config_yml(&s);
    assert!(
        cfg.contains("keep_all_days: 14") && cfg.contains("extra: kept"),
        "{cfg}"
    );

    // A flag still comes first, and the file still takes the save.
    write(&s, &stale);
    let s = restart(s, &["--history-keep-all-days", "30"]);
    assert_eq!(shown_history(&s)["keep_all_days"], 30);
    assert!(config_yml(&s).contains("keep_all_days: 14"));

    // A hand edit after the save keeps the save's revision: the file wins.
    let edited = config_yml(&s).replace("keep_all_days: 14", "keep_all_days: 3");
    write(&s, &edited);
    let s = restart(s, &[]);
    assert_eq!(shown_history(&s)["keep_all_days"], 3);
}
