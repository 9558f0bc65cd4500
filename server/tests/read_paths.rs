//! No writes on read paths (issue 17): a blob download and a pull commit nothing; their marks
//! (`last_accessed`, each device's pull progress) are written in batches, at the latest when
//! the server shuts down.

mod common;

use common::*;
use std::time::Duration;

fn one<T: std::str::FromStr<Err: std::fmt::Debug>>(s: &TestServer, sql: &str) -> T {
    s.sql_str(sql).parse().unwrap()
}

#[test]
fn downloads_and_pulls_commit_nothing_until_the_batch_is_written() {
    let mut s = TestServer::start();
    let (token, device) = s.user_device("ann", "v");
    let bytes = b"blob bytes for the read path";
    assert_eq!(s.upload(&token, bytes).status, 200);
    let sha = sha256_hex(bytes);
    assert_eq!(s.push(&token, vec![op("a")], None).status, 200);
    let created: String = one(&s, "SELECT created_at FROM server_blob_refs");
    std::thread::sleep(Duration::from_millis(1100));
    let (other, other_id) = s.pair("ann", "v");
    let frames = |s: &TestServer| -> u64 {
        std::fs::metadata(s.data().join("server.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0)
    };
    let wal = frames(&s);
    for _ in 0..20 {
        let r = s.get(&format!("/api/v1/blobs/{sha}"), Some(&other));
        assert_eq!((r.status, r.body.as_slice()), (200, &bytes[..]));
        assert_eq!(s.pull(&other, 1, 0).status, 200);
    }
    // Nothing was committed: the WAL did not grow (SQLite's; PostgreSQL keeps no file here)
    // and the ref still has its upload time.
    assert!(on_pg() || frames(&s) <= wal, "the WAL grew");
    let accessed: String = one(&s, "SELECT last_accessed FROM server_blob_refs");
    assert_eq!(accessed, created);

    s.sigterm();
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0));
    let accessed: String = one(&s, "SELECT last_accessed FROM server_blob_refs");
    assert!(accessed > created, "{accessed} vs {created}");
    let pulled: i64 = one(
        &s,
        &format!("SELECT pulled_sequence FROM server_device_sync WHERE device_id = '{other_id}'"),
    );
    assert_eq!(pulled, 1);
    let pushed: i64 = one(
        &s,
        &format!("SELECT last_push_sequence FROM server_device_sync WHERE device_id = '{device}'"),
    );
    assert_eq!(pushed, 1);
}
