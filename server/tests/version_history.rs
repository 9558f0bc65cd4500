//! Version history (issue 13) against the real binary: the device routes under
//! `/api/v1/history/` and the web user's under `/api/v1/user/vaults/{vault}/`, their tenant
//! isolation, restores that every device pulls as a new op, and saves of merged text.

mod common;

use common::sse;
use common::web::{Browser, enc, user_login};
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

fn file_op(id: &str, op_type: &str, path: &str, payload: Value) -> Value {
    json!({"op_id": id, "entity_type": "file", "entity_id": path, "op_type": op_type,
           "payload_json": payload.to_string(), "client_sequence": 0,
           "created_at": "2026-12-06T00:00:00Z"})
}

fn text(path: &str, content: &str) -> Value {
    json!({"path": path, "content": content})
}

fn push_ok(s: &TestServer, token: &str, op: Value) {
    let r = s.push(token, vec![op], None);
    assert_eq!(r.status, 200, "{}", r.text());
}

fn versions(s: &TestServer, token: &str, path: &str) -> Resp {
    s.get(
        &format!("/api/v1/history/versions?path={}", enc(path)),
        Some(token),
    )
}

fn content(s: &TestServer, token: &str, path: &str, v: i64) -> Resp {
    s.get(
        &format!("/api/v1/history/content?path={}&version={v}", enc(path)),
        Some(token),
    )
}

/// `(version, kind, size, sha256)` of each listed version.
fn summary(v: &Value) -> Vec<(i64, String, Option<i64>, String)> {
    v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["kind"].as_str().unwrap().to_owned(),
                v["size"].as_i64(),
                v["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The ops of a full pull after `since`.
fn pulled(s: &TestServer, token: &str, since: i64) -> Vec<Value> {
    let r = s.pull(token, since, 0);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["ops"].as_array().unwrap().clone()
}

#[test]
fn device_history_lists_serves_and_restores_text_and_blobs() {
    let s = TestServer::start();
    let (a, dev_a) = s.user_device("ann", "v");
    let (b, _) = s.pair("ann", "v");
    for (i, (op, c)) in [("create", "one"), ("update", "two"), ("update", "three")]
        .iter()
        .enumerate()
    {
        push_ok(
            &s,
            &a,
            file_op(&format!("n{i}"), op, "Notes/n.md", text("Notes/n.md", c)),
        );
    }
    push_ok(
        &s,
        &a,
        file_op("n3", "delete", "Notes/n.md", json!({"path": "Notes/n.md"})),
    );

    // B lists four versions and the deletion, newest first, with A's id and name.
    let r = versions(&s, &b, "Notes/n.md");
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["path"], "Notes/n.md");
    let sha = |s: &str| sha256_hex(s.as_bytes());
    assert_eq!(
        summary(&v),
        vec![
            (4, "deleted".into(), None, String::new()),
            (3, "text".into(), Some(5), sha("three")),
            (2, "text".into(), Some(3), sha("two")),
            (1, "text".into(), Some(3), sha("one")),
        ]
    );
    for x in v["versions"].as_array().unwrap() {
        assert_eq!(x["device_id"], dev_a.as_str());
        assert_eq!(x["device"], "t");
        assert_eq!(x["deleted"], x["kind"] == "deleted");
        assert!(x["time"].as_str().unwrap().ends_with('Z'));
    }
    let limited = s.get("/api/v1/history/versions?path=Notes/n.md&limit=2", Some(&b));
    assert_eq!(summary(&limited.json()).len(), 2);

    // Version 1's bytes, as text.
    let r = content(&s, &b, "Notes/n.md", 1);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"one");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("x-content-sha256"), Some(sha("one").as_str()));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .contains("filename=\"n.md\"")
    );
    content(&s, &b, "Notes/n.md", 4).assert_error(404, "not_found", "version not found");
    content(&s, &b, "Notes/n.md", 99).assert_error(404, "not_found", "version not found");
    versions(&s, &b, "nothing.md").assert_error(404, "not_found", "no version of this path");

    // Deleted: the note, with its deletion and its last version.
    let d = s.get("/api/v1/history/deleted", Some(&b)).json();
    assert_eq!(d["files"].as_array().unwrap().len(), 1);
    assert_eq!(d["files"][0]["path"], "Notes/n.md");
    assert_eq!(d["files"][0]["deletion"]["version"], 4);
    assert_eq!(d["files"][0]["last"]["version"], 3);

    // Restoring version 1 of the deleted note makes it live again: a create with the old
    // content, pulled by both devices from their cursor as another device's op.
    let r = s.post(
        "/api/v1/history/restore",
        Some(&b),
        &json!({"path": "Notes/n.md", "version": 1}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let restored = r.json();
    assert_eq!(restored["version"], 5);
    assert_eq!(restored["path"], "Notes/n.md");
    for token in [&a, &b] {
        let ops = pulled(&s, token, 4);
        assert_eq!(ops.len(), 1);
        let op = &ops[0];
        assert_eq!(op["server_sequence"], 5);
        assert_eq!(op["op_id"], restored["op_id"]);
        assert_eq!(op["op_type"], "create");
        assert_eq!(op["device_id"], "restore");
        let payload: Value = serde_json::from_str(op["payload_json"].as_str().unwrap()).unwrap();
        assert_eq!(payload["content"], "one");
        assert_eq!(payload["contentHash"], sha("one"));
    }
    assert!(
        s.get("/api/v1/history/deleted", Some(&b)).json()["files"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(content(&s, &a, "Notes/n.md", 5).body, b"one");

    // A binary file: its blob version is served byte for byte and restored as an update.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let bsha = sha256_hex(&bytes);
    assert_eq!(s.upload(&a, &bytes).status, 200);
    let blob = json!({"path": "p.bin", "contentHash": bsha, "blob": {"sha256": bsha, "size": bytes.len()}});
    push_ok(&s, &a, file_op("b1", "create", "p.bin", blob));
    push_ok(
        &s,
        &a,
        file_op("b2", "update", "p.bin", text("p.bin", "now text")),
    );
    let r = content(&s, &b, "p.bin", 6);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, bytes);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("x-content-sha256"), Some(bsha.as_str()));
    let r = s.post(
        "/api/v1/history/restore",
        Some(&a),
        &json!({"path": "p.bin", "version": 6}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["version"], 8);
    let ops = pulled(&s, &b, 7);
    assert_eq!(ops[0]["op_type"], "update");
    let payload: Value = serde_json::from_str(ops[0]["payload_json"].as_str().unwrap()).unwrap();
    assert_eq!(
        payload["blob"],
        json!({"sha256": bsha, "size": bytes.len()})
    );
    assert_eq!(content(&s, &b, "p.bin", 8).body, bytes);
    // A version that is not one of the path's: 404, nothing appended.
    s.post(
        "/api/v1/history/restore",
        Some(&a),
        &json!({"path": "p.bin", "version": 5}),
    )
    .assert_error(404, "not_found", "version not found");
    assert_eq!(pulled(&s, &a, 8).len(), 0);
}

/// Every device route and every web route, for `path` and `vault`.
fn device_routes(s: &TestServer, token: &str, path: &str) -> Vec<(String, Resp)> {
    vec![
        ("versions".into(), versions(s, token, path)),
        ("content".into(), content(s, token, path, 1)),
        (
            "restore".into(),
            s.post(
                "/api/v1/history/restore",
                Some(token),
                &json!({"path": path, "version": 1}),
            ),
        ),
    ]
}

fn web_routes(b: &mut Browser, vault: &str, path: &str) -> Vec<(String, Resp)> {
    let base = format!("/api/v1/user/vaults/{vault}");
    let p = enc(path);
    let mut out = Vec::new();
    for route in [
        "files".to_owned(),
        format!("history/versions?path={p}"),
        "history/deleted".to_owned(),
        format!("history/content?path={p}&version=1"),
        "conflicts".to_owned(),
    ] {
        out.push((route.clone(), b.get(&format!("{base}/{route}"))));
    }
    let restore = json!({"path": path, "version": 1}).to_string();
    out.push((
        "restore".into(),
        b.mutate(
            "POST",
            &format!("{base}/history/restore"),
            "application/json",
            restore.as_bytes(),
        ),
    ));
    let save = json!({"path": path, "content": "x"}).to_string();
    out.push((
        "save".into(),
        b.mutate(
            "POST",
            &format!("{base}/history/save"),
            "application/json",
            save.as_bytes(),
        ),
    ));
    out
}

#[test]
fn other_users_and_other_vaults_get_404_everywhere() {
    let s = TestServer::start();
    let (a, _) = s.user_device("ann", "v");
    push_ok(
        &s,
        &a,
        file_op("1", "create", "secret.md", text("secret.md", "s")),
    );
    let (bob, _) = s.user_device("bob", "v");
    let (ann_w, _) = s.pair("ann", "w");
    for token in [&bob, &ann_w] {
        for (route, r) in device_routes(&s, token, "secret.md") {
            assert_eq!(r.status, 404, "{route}: {}", r.text());
            assert_eq!(r.json()["code"], "not_found", "{route}");
        }
        let d = s.get("/api/v1/history/deleted", Some(token)).json();
        assert!(d["files"].as_array().unwrap().is_empty());
    }
    // Without a token: 401.
    assert_eq!(
        s.get("/api/v1/history/versions?path=secret.md", None)
            .status,
        401
    );

    // Bob's browser: ann's only vault "x" and bob's own "v" (no such file) are 404.
    let (ann_x, _) = s.pair("ann", "x");
    push_ok(
        &s,
        &ann_x,
        file_op("2", "create", "secret.md", text("secret.md", "s")),
    );
    let mut web = user_login(&s, "bob", PW);
    let list = web.get("/api/v1/user/vaults").json();
    let ids: Vec<&str> = list["vaults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vault_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["v"]);
    for (route, r) in web_routes(&mut web, "x", "secret.md") {
        assert_eq!(r.status, 404, "x/{route}: {}", r.text());
        assert_eq!(r.json()["code"], "not_found", "{route}");
    }
    // In bob's own vault "v" ann's file does not exist (a save creates bob's own file).
    for (route, r) in web_routes(&mut web, "v", "secret.md") {
        if ["files", "history/deleted", "conflicts", "save"].contains(&route.as_str()) {
            assert_eq!(r.status, 200, "{route}");
        } else {
            assert_eq!(r.status, 404, "v/{route}: {}", r.text());
        }
    }
    // Ann's browser does not see vault "nope" either, and sees her own.
    let mut ann = user_login(&s, "ann", PW);
    for (route, r) in web_routes(&mut ann, "nope", "secret.md") {
        assert_eq!(r.status, 404, "nope/{route}: {}", r.text());
    }
    let files = ann.get("/api/v1/user/vaults/x/files").json();
    assert_eq!(files["files"][0]["path"], "secret.md");
}

#[test]
fn web_restore_and_save_need_csrf_and_append_ops() {
    let s = TestServer::start();
    let (a, _) = s.user_device("ann", "v");
    push_ok(
        &s,
        &a,
        file_op("1", "create", "a.md", text("a.md", "base\n")),
    );
    push_ok(
        &s,
        &a,
        file_op("2", "update", "a.md", text("a.md", "base\ntheirs\n")),
    );
    let copy = "a (conflict laptop 2026-12-06 0230).md";
    push_ok(
        &s,
        &a,
        file_op("3", "create", copy, text(copy, "base\nmine\n")),
    );
    let mut web = user_login(&s, "ann", PW);
    let base = "/api/v1/user/vaults/v";

    // Without the CSRF token: 403, nothing appended.
    let body = json!({"path": "a.md", "version": 1}).to_string();
    for route in ["history/restore", "history/save"] {
        let r = web.req(
            "POST",
            &format!("{base}/{route}"),
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 403, "{route}: {}", r.text());
        assert_eq!(r.json()["code"], "csrf_invalid");
    }
    assert_eq!(pulled(&s, &a, 3).len(), 0);

    // Listing: the live files and the conflict with its original and base.
    let files = web.get(&format!("{base}/files")).json();
    let paths: Vec<&str> = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec![copy, "a.md"]);
    let c = web.get(&format!("{base}/conflicts")).json();
    assert_eq!(c["conflicts"][0]["path"], copy);
    assert_eq!(c["conflicts"][0]["original_path"], "a.md");
    assert_eq!(c["conflicts"][0]["original"]["version"], 2);
    assert_eq!(c["conflicts"][0]["base"]["version"], 1);
    let v1 = web.get(&format!("{base}/history/content?path=a.md&version=1"));
    assert_eq!(v1.body, b"base\n");

    // Restore from the browser (a form post with the CSRF field): an update by "web",
    // announced on the device's live event stream like any other device's push.
    let auth = format!("Bearer {a}");
    let mut events = sse::open(
        &s.addr,
        "/api/v1/sync/events",
        &[("Authorization", auth.as_str()), ("Last-Event-ID", "3")],
    )
    .unwrap_or_else(|r| panic!("stream refused: {}", r.text()));
    let t = web.csrf();
    let r = web.post_form(
        &format!("{base}/history/restore"),
        &[("path", "a.md"), ("version", "1"), ("csrf_token", &t)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["version"], 4);
    let ops = pulled(&s, &a, 3);
    assert_eq!(
        (ops[0]["op_type"].as_str(), ops[0]["device_id"].as_str()),
        (Some("update"), Some("web"))
    );
    let f = events
        .next_event(Duration::from_secs(10))
        .expect("a sequence event");
    assert_eq!(f.json(), json!({"server_sequence": 4, "device_id": "web"}));

    // A save against a stale version: 409, nothing appended.
    let save = |expected: i64| {
        json!({"path": "a.md", "content": "base\ntheirs\nmine\n", "expected_version": expected,
               "remove": [copy]})
        .to_string()
    };
    let r = web.mutate(
        "POST",
        &format!("{base}/history/save"),
        "application/json",
        save(2).as_bytes(),
    );
    r.assert_error(
        409,
        "version_conflict",
        "the file has a newer version than the one edited",
    );
    assert_eq!(pulled(&s, &a, 4).len(), 0);

    // The merge saved against the current version: the text and the copy's deletion.
    let r = web.mutate(
        "POST",
        &format!("{base}/history/save"),
        "application/json",
        save(4).as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["version"], 5);
    let ops = pulled(&s, &a, 4);
    let got: Vec<(&str, &str)> = ops
        .iter()
        .map(|o| {
            (
                o["entity_id"].as_str().unwrap(),
                o["op_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, vec![("a.md", "update"), (copy, "delete")]);
    let files = web.get(&format!("{base}/files")).json();
    assert_eq!(files["files"].as_array().unwrap().len(), 1);
    assert!(
        web.get(&format!("{base}/conflicts")).json()["conflicts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The copy stays restorable from the deleted list.
    let d = web.get(&format!("{base}/history/deleted")).json();
    assert_eq!(d["files"][0]["path"], copy);
    let list = web.get("/api/v1/user/vaults").json();
    assert_eq!(list["vaults"][0]["files"], 1);
    assert_eq!(list["vaults"][0]["last_sequence"], 6);
}

const THIN_NOW: &str = "history:\n  compact_min_backlog: 0\n  keep_all_days: 0\n  keep_daily_days: 0\n  tombstone_days: 0\n  blob_grace_hours: 0\n";

#[test]
fn retention_thinned_versions_are_not_listed() {
    let mut s = TestServer::start_with(Some(THIN_NOW), &[]);
    let (a, _) = s.user_device("ann", "v");
    for (i, c) in ["one", "two", "three"].iter().enumerate() {
        let op = if i == 0 { "create" } else { "update" };
        push_ok(
            &s,
            &a,
            file_op(&format!("n{i}"), op, "n.md", text("n.md", c)),
        );
    }
    assert_eq!(summary(&versions(&s, &a, "n.md").json()).len(), 3);
    assert_eq!(s.pull(&a, 3, 0).status, 200);
    // Startup runs retention once the pull mark is written at shutdown.
    s.sigterm();
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0));
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    let s = TestServer::start_in(dir, &[]);
    let v = summary(&versions(&s, &a, "n.md").json());
    assert_eq!(v.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3]);
    content(&s, &a, "n.md", 1).assert_error(404, "not_found", "version not found");
}
