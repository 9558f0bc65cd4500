//! The vault and history pages (issue #13) against the real binary: a device pushes versions of
//! a note, the user's browser (cookie session) lists the vault, walks the folder tree, searches
//! by name, reads the timeline, downloads a version and restores one with the page's own form
//! (no JavaScript); another user gets 404 for every page of that vault.

mod common;

use common::web::{Browser, user_login};
use common::*;
use serde_json::{Value, json};

fn file_op(id: &str, path: &str, op_type: &str, content: &str, cseq: i64) -> Value {
    let payload = if op_type == "delete" {
        json!({"path": path})
    } else {
        json!({"path": path, "content": content})
    };
    json!({"op_id": id, "entity_type": "file", "entity_id": path, "op_type": op_type,
           "payload_json": payload.to_string(), "client_sequence": cseq,
           "created_at": "2026-12-06T00:00:00Z"})
}

/// Ann's vault `notes`: `Docs/n.md` in three versions, `top.md`, and `gone.md` deleted.
fn seeded() -> (TestServer, String) {
    let s = TestServer::start();
    let (token, _) = s.user_device("ann", "notes");
    let ops = vec![
        file_op("o1", "Docs/n.md", "create", "one\n", 1),
        file_op("o2", "Docs/n.md", "update", "two\n", 2),
        file_op("o3", "Docs/n.md", "update", "three\n", 3),
        file_op("o4", "top.md", "create", "top\n", 4),
        file_op("o5", "gone.md", "create", "bye\n", 5),
        file_op("o6", "gone.md", "delete", "", 6),
    ];
    let r = s.push(&token, ops, None);
    assert_eq!(r.status, 200, "{}", r.text());
    (s, token)
}

/// The `data-version` numbers of a timeline page, in order.
fn timeline(html: &str) -> Vec<i64> {
    html.split("<tr data-version=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect()
}

#[test]
fn browse_search_timeline_and_download_without_javascript() {
    let (s, _) = seeded();
    let mut b = user_login(&s, "ann", PW);

    let list = b.get("/vaults").text();
    assert!(
        list.contains("<a href=\"/vaults/notes\">notes</a>"),
        "{list}"
    );
    assert!(
        b.get("/dashboard")
            .text()
            .contains("href=\"/vaults/notes\"")
    );

    let root = b.get("/vaults/notes").text();
    assert!(
        root.contains("<a href=\"/vaults/notes?dir=Docs\">Docs/</a>"),
        "{root}"
    );
    assert!(root.contains("href=\"/vaults/notes/file?path=top.md\""));
    assert!(!root.contains("gone.md"), "a deleted file is not listed");
    assert!(
        !root.contains("n.md"),
        "files of sub-folders are inside them"
    );
    let docs = b.get("/vaults/notes?dir=Docs").text();
    assert!(
        docs.contains("href=\"/vaults/notes/file?path=Docs%2Fn.md\">n.md</a>"),
        "{docs}"
    );
    let found = b.get("/vaults/notes?q=N.MD").text();
    assert!(
        found.contains("Docs/n.md</a>") && !found.contains("top.md</a>"),
        "{found}"
    );

    let page = b.get("/vaults/notes/file?path=Docs%2Fn.md");
    assert_eq!(page.status, 200);
    let html = page.text();
    assert_eq!(timeline(&html), [3, 2, 1]);
    // Restore forms for the older versions only, each with the session's CSRF field.
    assert_eq!(html.matches("action=\"/vaults/notes/restore\"").count(), 2);
    assert!(html.contains(&format!("name=\"csrf_token\" value=\"{}\"", b.csrf())));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    // The wasm CSP only where the browser merge is served.
    let merge_built = b.get("/static/merge/merge_web_bg.wasm").status == 200;
    let csp = page.header("content-security-policy").unwrap();
    assert_eq!(csp.contains("'wasm-unsafe-eval'"), merge_built, "{csp}");
    let dash = b.get("/dashboard");
    assert!(
        !dash
            .header("content-security-policy")
            .unwrap()
            .contains("wasm")
    );

    let d = b.get("/vaults/notes/download?path=Docs%2Fn.md&version=1");
    assert_eq!((d.status, d.text().as_str()), (200, "one\n"));
    assert_eq!(d.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        d.header("content-disposition"),
        Some("attachment; filename=\"n.md\"; filename*=UTF-8''n.md")
    );
    assert_eq!(d.header("x-content-sha256").unwrap(), sha256_hex(b"one\n"));
    // A version of another path, a deletion and an unknown version are not content of this path.
    for q in [
        "path=Docs%2Fn.md&version=4",
        "path=gone.md&version=6",
        "path=Docs%2Fn.md&version=99",
        "path=Docs%2Fn.md&version=x",
    ] {
        assert_eq!(
            b.get(&format!("/vaults/notes/download?{q}")).status,
            404,
            "{q}"
        );
    }
    assert_eq!(b.get("/vaults/notes/file?path=nothing.md").status, 404);

    let deleted = b.get("/vaults/notes/deleted").text();
    assert!(
        deleted.contains("gone.md") && deleted.contains("value=\"5\""),
        "{deleted}"
    );
    assert!(!deleted.contains("top.md"));
}

#[test]
fn another_users_vault_is_404_and_pages_need_a_session() {
    let (s, _) = seeded();
    s.add_user("bob");
    let _ = s.pair("bob", "bobs");
    let mut bob = user_login(&s, "bob", PW);
    assert!(!bob.get("/vaults").text().contains("notes"));
    for p in [
        "/vaults/notes",
        "/vaults/notes/file?path=top.md",
        "/vaults/notes/download?path=top.md&version=4",
        "/vaults/notes/deleted",
        "/vaults/notes/conflicts",
        "/vaults/nope",
    ] {
        let r = bob.get(p);
        assert_eq!(r.status, 404, "{p}");
        // (The locale form echoes the request's own URL; the page shows nothing of the vault.)
        assert!(
            !r.text().contains("<table") && !r.text().contains("top\n"),
            "{p}"
        );
    }
    let csrf = bob.csrf();
    let r = bob.post_form(
        "/vaults/notes/restore",
        &[("csrf_token", &csrf), ("path", "top.md"), ("version", "4")],
    );
    assert_eq!(r.status, 404);

    let mut anon = Browser::new(&s);
    for p in ["/vaults", "/vaults/notes", "/vaults/notes/file?path=top.md"] {
        let r = anon.get(p);
        assert_eq!(
            (r.status, r.header("location")),
            (302, Some("/login")),
            "{p}"
        );
    }
}

#[test]
fn the_restore_form_appends_a_version_that_devices_pull() {
    let (s, token) = seeded();
    let mut b = user_login(&s, "ann", PW);
    let csrf = b.csrf();
    let r = b.post_form(
        "/vaults/notes/restore",
        &[
            ("csrf_token", &csrf),
            ("path", "Docs/n.md"),
            ("version", "1"),
            ("back", "file"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("/vaults/notes/file?path=Docs%2Fn.md")
    );
    let html = b.get("/vaults/notes/file?path=Docs%2Fn.md").text();
    assert!(
        html.contains("Docs/n.md (version 1 → 7) was restored as a new version."),
        "{html}"
    );
    assert_eq!(timeline(&html), [7, 3, 2, 1]);
    assert!(html.contains("web dashboard"));
    // The notice shows once.
    assert!(
        !b.get("/vaults/notes/file?path=Docs%2Fn.md")
            .text()
            .contains("was restored")
    );

    // A deleted file comes back from the deleted list, which the form returns to.
    let r = b.post_form(
        "/vaults/notes/restore",
        &[
            ("csrf_token", &csrf),
            ("path", "gone.md"),
            ("version", "5"),
            ("back", "deleted"),
        ],
    );
    assert_eq!(r.header("location"), Some("/vaults/notes/deleted"));
    let deleted = b.get("/vaults/notes/deleted").text();
    assert!(deleted.contains("was restored") && !deleted.contains("value=\"gone.md\""));

    // Devices receive both as ops of another device, with the old content byte for byte.
    let pulled = s.pull(&token, 6, 100).json();
    let ops = pulled["ops"].as_array().unwrap();
    let contents: Vec<(String, String)> = ops
        .iter()
        .map(|o| {
            let p: Value = serde_json::from_str(o["payload_json"].as_str().unwrap()).unwrap();
            (
                o["entity_id"].as_str().unwrap().to_owned(),
                p["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        contents,
        [
            ("Docs/n.md".to_owned(), "one\n".to_owned()),
            ("gone.md".to_owned(), "bye\n".to_owned())
        ]
    );

    // Without the CSRF field nothing is appended.
    let r = b.post_form(
        "/vaults/notes/restore",
        &[("path", "Docs/n.md"), ("version", "2")],
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        s.pull(&token, 8, 100).json()["ops"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}
