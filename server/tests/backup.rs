//! `verstak-sync-server backup` (online backup): taken while the server serves, then a new
//! server started on the copy sees the same users, ops, blobs and admins.

mod common;

use common::web::admin_login;
use common::*;
use std::process::Command;

#[test]
fn online_backup_restores_into_a_working_server() {
    if skip_on_pg("`backup` copies server.db; PostgreSQL is backed up with pg_dump") {
        return;
    }
    let s = TestServer::start_with(
        None,
        &["--admin-user", "root", "--admin-pass", "admin-pass-123"],
    );
    let (t, _) = s.user_device("alice", "vault-a");
    assert_eq!(s.push(&t, vec![op("op-1"), op("op-2")], None).status, 200);
    let blob = b"backup me";
    assert_eq!(s.upload(&t, blob).status, 200);
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("bk");
    let run = |dest: &std::path::Path| {
        Command::new(BIN)
            .args(["backup", "--data"])
            .arg(s.data())
            .arg("--out")
            .arg(dest)
            .output()
            .unwrap()
    };
    // The server keeps serving (and writing) while the backup runs.
    let o = run(&dest);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 blob files"));
    assert_eq!(s.push(&t, vec![op("op-3")], None).status, 200);
    // A second backup into the same directory refuses to overwrite it.
    assert_eq!(run(&dest).status.code(), Some(1));
    drop(s);

    let dir = tempfile::tempdir().unwrap();
    for entry in ["server.db", "config.yml"] {
        std::fs::copy(dest.join(entry), dir.path().join(entry)).unwrap();
    }
    let sha = sha256_hex(blob);
    let to = blob_path(dir.path(), &sha);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(blob_path(&dest, &sha), &to).unwrap();
    let r = TestServer::start_in(dir, &[]);
    let pulled = r.pull(&t, 0, 10).json();
    let ids: Vec<&str> = pulled["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["op_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["op-1", "op-2"], "op-3 came after the backup");
    let got = r.get(&format!("/api/v1/blobs/{sha}"), Some(&t));
    assert_eq!((got.status, got.body.as_slice()), (200, &blob[..]));
    let mut a = admin_login(&r, "root", "admin-pass-123");
    assert_eq!(a.get("/admin/api/stats").json()["operations"], 2);
}
