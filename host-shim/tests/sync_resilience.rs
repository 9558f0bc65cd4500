//! Issue 14 items 1–4 through the real component, host and server: identical content after a
//! re-pair makes no conflict copy; a remote op this file system cannot hold is set aside
//! without stalling the vault; the desktop's folder trash and folder rename are applied.

mod common;

use common::device::{Device, PASSWORD, VAULT, conflict_copies, setup};
use common::server::Server;

/// A device that pushes raw ops the way the Go desktop does (its own pairing and token).
struct Desktop {
    token: String,
    next: usize,
}

impl Desktop {
    fn pair(server: &Server, vault: &str) -> Desktop {
        let pair = format!(
            r#"{{"login":"ann","password":"{PASSWORD}","device_name":"desktop","vault_id":"{vault}"}}"#
        );
        let (status, body) = server.post("/api/client/pair", None, &pair);
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        Desktop {
            token: v["device_token"].as_str().unwrap().to_string(),
            next: 0,
        }
    }

    /// Pushes one op with a JSON payload.
    fn push(
        &mut self,
        server: &Server,
        entity: &str,
        op: &str,
        id: &str,
        payload: serde_json::Value,
    ) {
        self.next += 1;
        let op = serde_json::json!({
            "op_id": format!("00000000-0000-4000-8000-{:012}", self.next),
            "entity_type": entity, "entity_id": id, "op_type": op,
            "payload_json": payload.to_string(), "client_sequence": 0,
            "created_at": "2026-11-22T00:00:00Z"});
        let body = serde_json::json!({"device_id": "x", "ops": [op]}).to_string();
        let (status, body) = server.post("/api/v1/sync/push", Some(&self.token), &body);
        assert_eq!(status, 200, "{body}");
    }

    fn write(&mut self, server: &Server, path: &str, content: &str) {
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(content.as_bytes()));
        let payload = serde_json::json!({"path": path, "contentHash": hash, "content": content});
        self.push(server, "file", "create", path, payload);
    }
}

#[test]
fn re_pairing_the_same_vault_makes_no_conflict_copies() {
    let server = Server::start();
    server.add_user("ann", PASSWORD);
    let a = Device::new("alpha");
    a.configure(&server.url(), "ann", "r");
    a.write("n.md", "v1\n");
    a.write("pics/p.bin", b"\0one".as_slice());
    a.sync();
    a.write("n.md", "v2\n");
    a.write("pics/p.bin", b"\0two".as_slice());
    a.sync();
    a.session().reset_key().unwrap();
    a.configure(&server.url(), "ann", "r");
    let s = a.sync();
    assert!(s.kept_both.is_empty(), "{:?}", s.kept_both);
    assert_eq!(conflict_copies(&a), Vec::<String>::new());
    assert_eq!(a.read("n.md"), "v2\n");
    assert_eq!(a.sync().pushed, 0, "converged");

    // Another device joining sees one file, no copies.
    let b = Device::new("beta");
    b.configure(&server.url(), "ann", "r");
    b.sync();
    assert_eq!(b.files(), a.files());
}

#[test]
fn a_remote_name_this_file_system_cannot_hold_is_set_aside_without_stalling() {
    let (server, d) = setup(&["alpha"]);
    let a = &d[0];
    let mut desk = Desktop::pair(&server, VAULT);
    // 200 Cyrillic letters: 403 bytes with ".md", over Linux's 255-byte name limit.
    let long = format!("{}.md", "я".repeat(200));
    assert_eq!(long.len(), 403);
    desk.write(&server, &long, "long\n");
    for bad in ["two\nlines.md", "cr\r.md", "evil\u{202E}gpj.exe"] {
        desk.write(&server, bad, "x\n");
    }
    desk.write(&server, "fine.md", "fine\n");

    let s = a.sync();
    assert_eq!(a.read("fine.md"), "fine\n", "{s:?}");
    assert_eq!(a.files().len(), 1, "{:?}", a.files());
    let warning = a.status().last_warning;
    assert!(warning.contains("set aside"), "{warning}");
    assert!(!a.root().read_dir().unwrap().any(|e| {
        let name = e.unwrap().file_name();
        name.to_string_lossy().contains(['\n', '\r', '\u{202E}'])
    }));

    // Later syncs work: local edits are pushed, remote ones applied, no pull_apply_failed.
    a.write("mine.md", "mine\n");
    assert_eq!(a.sync().pushed, 1);
    desk.write(&server, "later.md", "later\n");
    a.sync();
    assert_eq!(a.read("later.md"), "later\n");
    let warning = a.status().last_warning;
    assert!(
        warning.contains("set aside"),
        "retried, still aside: {warning}"
    );
    let state = stored_state(a);
    assert!(
        state.contains("File name too long"),
        "the file system's own answer is kept: {state}"
    );
}

/// The engine's stored documents (its private storage), concatenated.
fn stored_state(d: &Device) -> String {
    let dir = d.path(".verstak/plugin-data/verstak.sync");
    let mut out = String::new();
    let mut stack = vec![dir];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap().map(Result::unwrap) {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out
}

#[test]
fn a_desktop_folder_trash_deletes_the_folder_but_keeps_an_unsynced_edit() {
    let (server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("Old stuff/a.md", "a\n");
    a.write("Old stuff/b.md", "b\n");
    a.write("Trashed/x.md", "x\n");
    a.sync();
    b.sync();
    a.write("Old stuff/b.md", "b\nedited\n");
    let mut desk = Desktop::pair(&server, VAULT);
    for path in ["Old stuff", "Trashed"] {
        let payload = serde_json::json!({"folderId": path, "path": path});
        desk.push(&server, "workspace-folder", "trash", "9f1c-uuid", payload);
    }

    a.sync();
    assert_eq!(a.read("Old stuff/b.md"), "b\nedited\n", "the edit survives");
    assert!(!a.exists("Old stuff/a.md") && !a.exists("Trashed"));
    b.sync();
    assert!(!b.exists("Trashed"), "{:?}", b.files());
    assert_eq!(b.read("Old stuff/b.md"), "b\nedited\n");
    assert!(!b.exists("Old stuff/a.md"));
    assert_eq!(a.files(), b.files());
}

#[test]
fn a_desktop_workspace_rename_carries_an_unpushed_edit_to_the_new_path() {
    let (server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("Main/Notes/n1.md", "one\n");
    a.write("Main/n2.md", "two\n");
    a.sync();
    b.sync();
    a.write("Main/Notes/n1.md", "one\nedited\n");
    let mut desk = Desktop::pair(&server, VAULT);
    let payload = serde_json::json!({"workspaceId": "w1", "path": "Main renamed",
        "previousPath": "Main", "name": "Main renamed"});
    desk.push(&server, "workspace", "rename", "w1", payload);

    let s = a.sync();
    assert_eq!(s.pushed, 1, "{s:?}");
    assert!(!a.exists("Main"));
    assert_eq!(a.read("Main renamed/Notes/n1.md"), "one\nedited\n");
    b.sync();
    assert!(!b.exists("Main"), "nothing was pushed under the old path");
    assert_eq!(b.read("Main renamed/Notes/n1.md"), "one\nedited\n");
    assert_eq!(a.files(), b.files());
    assert_eq!(conflict_copies(b), Vec::<String>::new());
}

#[test]
fn a_lost_engine_state_and_a_restored_one_make_no_conflict_copies() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    let state =
        |dev: &Device| dev.path(".verstak/plugin-data/verstak.sync/engine/engine-state.json");
    a.write("n.md", "v1\n");
    a.write("p.bin", b"\0one".as_slice());
    a.sync();
    b.sync();
    let backup = std::fs::read(state(b)).unwrap();
    a.write("n.md", "v2\n");
    a.write("p.bin", b"\0two".as_slice());
    a.sync();
    b.sync();
    b.write("n.md", "v3\n");
    b.write("p.bin", b"\0three".as_slice());
    b.sync();

    // A's state is lost: its own old versions are recognized, B's newer ones taken.
    std::fs::remove_file(state(a)).unwrap();
    let s = a.sync();
    assert!(s.kept_both.is_empty(), "{:?}", s.kept_both);
    assert_eq!(a.read("n.md"), "v3\n");

    // B's state goes back to the backup (its files stay as they are).
    std::fs::write(state(b), backup).unwrap();
    let s = b.sync();
    assert!(s.kept_both.is_empty(), "{:?}", s.kept_both);
    a.sync();
    for dev in [a, b] {
        assert_eq!(conflict_copies(dev), Vec::<String>::new(), "{}", dev.name);
        assert_eq!(dev.read("n.md"), "v3\n");
    }
    assert_eq!(a.files(), b.files());
}
