//! Blob upload and download (spec §4.9, §4.10, §5.10; checklist H14 to H17), on every blob
//! backend: the local folder always, and an S3 bucket when `VERSTAK_TEST_BLOB_STORE` is set
//! (`scripts/garage.sh`; see `common/blobs.rs`).

mod common;

#[path = "common/blobs.rs"]
mod backends;

use backends::{Backend, each};
use common::*;

#[test]
fn upload_download_range_and_conditional() {
    each(upload_download_range_and_conditional_on);
}

fn upload_download_range_and_conditional_on(b: &Backend) {
    let (s, store) = b.start(None, &[]);
    let (t, _) = s.user_device("a", "vault-a");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let sha = sha256_hex(&data);
    let r = s.upload(&t, &data);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"sha256": sha, "size": data.len()})
    );
    assert_eq!(store.read(&s, &sha).as_deref(), Some(data.as_slice()));
    if store.is_local() {
        assert!(blob_path(s.data(), &sha).is_file());
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&blob_path(s.data(), &sha)), 0o640);
        assert_eq!(mode(blob_path(s.data(), &sha).parent().unwrap()), 0o750);
        // On PostgreSQL the database is not a file in the data directory.
        if !on_pg() {
            assert_eq!(mode(&s.data().join("server.db")) & 0o007, 0);
        }
    }

    let path = format!("/api/v1/blobs/{sha}");
    let g = s.get(&path, Some(&t));
    assert_eq!(g.status, 200);
    assert_eq!(g.body, data);
    assert_eq!(g.header("content-type"), Some("application/octet-stream"));
    assert_eq!(g.header("content-length"), Some("100000"));
    assert_eq!(g.header("accept-ranges"), Some("bytes"));
    let etag = format!("\"{sha}\"");
    assert_eq!(g.header("etag"), Some(etag.as_str()));
    assert_eq!(
        g.header("content-disposition"),
        Some(format!("attachment; filename=\"{sha}\"").as_str())
    );
    let lm = g.header("last-modified").unwrap().to_owned();

    let auth = format!("Bearer {t}");
    let with = |h: (&str, &str)| s.req("GET", &path, &[("Authorization", &auth), h], b"");
    let part = with(("Range", "bytes=10-19"));
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &data[10..20]);
    assert_eq!(part.header("content-range"), Some("bytes 10-19/100000"));
    let tail = with(("Range", "bytes=-5"));
    assert_eq!((tail.status, tail.body.as_slice()), (206, &data[99_995..]));
    let bad = with(("Range", "bytes=200000-"));
    assert_eq!(bad.status, 416);
    assert_eq!(bad.header("content-range"), Some("bytes */100000"));
    assert_eq!(with(("Range", "bytes=0-1,5-6")).status, 200);
    assert_eq!(with(("If-None-Match", &etag)).status, 304);
    assert_eq!(with(("If-Modified-Since", &lm)).status, 304);
    assert_eq!(
        with(("If-Unmodified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")).status,
        412
    );
    let ir = s.req(
        "GET",
        &path,
        &[
            ("Authorization", &auth),
            ("Range", "bytes=0-0"),
            ("If-Range", "\"other\""),
        ],
        b"",
    );
    assert_eq!(ir.status, 200);
    let head = s.req("HEAD", &path, &[("Authorization", &auth)], b"");
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("100000"))
    );
    assert!(head.body.is_empty());

    // H16: the same bytes again in the same scope: same answer, counted once.
    assert_eq!(s.upload(&t, &data).json()["sha256"], sha.as_str());
    let n = s.sql_i64("SELECT COUNT(*) FROM server_blob_refs");
    assert_eq!(n, 1);
    assert_eq!(store.names(&s), std::slice::from_ref(&sha));
    // No temp files are left behind.
    assert_eq!(store.temps(&s), 0);
}

#[test]
fn isolation_revocation_and_hash_checks() {
    each(isolation_revocation_and_hash_checks_on);
}

fn isolation_revocation_and_hash_checks_on(b: &Backend) {
    let (s, _store) = b.start(None, &[]);
    let (ta, _) = s.user_device("a", "vault-a");
    let (tb, _) = s.user_device("b", "vault-b");
    let (ta2, _) = s.pair("a", "vault-other");
    let sha = s.upload(&ta, b"private blob").json()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/blobs/{sha}");
    s.get(&path, Some(&tb))
        .assert_error(404, "blob_not_found", "blob not found");
    s.get(&path, Some(&ta2))
        .assert_error(404, "blob_not_found", "blob not found");
    s.get(
        &path
            .to_uppercase()
            .replace("/API/V1/BLOBS/", "/api/v1/blobs/"),
        Some(&ta),
    )
    .assert_error(400, "invalid_blob_hash", "invalid SHA-256");
    s.get("/api/v1/blobs/", Some(&ta))
        .assert_error(400, "invalid_blob_hash", "invalid SHA-256");
    s.get(&format!("{path}/extra"), Some(&ta)).assert_error(
        400,
        "invalid_blob_hash",
        "invalid SHA-256",
    );
    // Authentication comes before the method check on blob routes.
    s.req("PUT", "/api/v1/blobs/", &[], b"")
        .assert_error(401, "unauthorized", "API key required");
    let auth = format!("Bearer {ta}");
    let put = s.req("PUT", "/api/v1/blobs/", &[("Authorization", &auth)], b"");
    put.assert_error(405, "method_not_allowed", "method not allowed");
    assert_eq!(put.header("allow"), Some("GET, POST"));
    // H17: revocation applies to blobs at once.
    s.post(
        "/api/client/revoke-current",
        Some(&ta),
        &serde_json::json!({}),
    );
    s.get(&path, Some(&ta))
        .assert_error(401, "unauthorized", "device revoked");
}

#[test]
fn multipart_errors() {
    each(multipart_errors_on);
}

fn multipart_errors_on(b: &Backend) {
    let (s, store) = b.start(None, &[]);
    let (t, _) = s.user_device("a", "v");
    let auth = format!("Bearer {t}");
    let send = |ct: &str, body: &[u8]| {
        s.req(
            "POST",
            "/api/v1/blobs/",
            &[("Authorization", &auth), ("Content-Type", ct)],
            body,
        )
    };
    send("application/json", b"{}").assert_error(
        400,
        "invalid_multipart",
        "invalid multipart request",
    );
    let (ct, body) = multipart(&[]);
    send(&ct, &body).assert_error(400, "invalid_multipart", "file field is required");
    let (ct, body) = multipart(&[("other", Some("a.bin"), b"x")]);
    send(&ct, &body).assert_error(
        400,
        "invalid_multipart",
        "exactly one file field is required",
    );
    let (ct, body) = multipart(&[("file", None, b"x")]);
    send(&ct, &body).assert_error(
        400,
        "invalid_multipart",
        "exactly one file field is required",
    );
    let (ct, body) = multipart(&[("file", Some("a.bin"), b"x"), ("file", Some("b.bin"), b"y")]);
    send(&ct, &body).assert_error(
        400,
        "invalid_multipart",
        "exactly one file field is required",
    );
    assert!(!store.exists(&s, &sha256_hex(b"x")));
    assert!(store.names(&s).is_empty());
    assert_eq!(store.temps(&s), 0);
}

#[test]
fn size_limits_and_quotas() {
    each(size_limits_and_quotas_on);
}

fn size_limits_and_quotas_on(b: &Backend) {
    let (s, store) = b.start(
        Some("limits:\n  max_blob_bytes: 8\n  max_vault_blob_bytes: 8\n"),
        &[],
    );
    let (t, _) = s.user_device("a", "v");
    s.upload(&t, b"123456789")
        .assert_error(413, "blob_too_large", "blob is too large");
    assert!(!store.exists(&s, &sha256_hex(b"123456789")));
    assert_eq!(s.upload(&t, b"12345678").status, 200);
    s.upload(&t, b"abcdefgh")
        .assert_error(413, "quota_exceeded", "blob quota exceeded");
    assert!(!store.exists(&s, &sha256_hex(b"abcdefgh")));
    assert_eq!(store.names(&s), [sha256_hex(b"12345678")]);
    // Another vault of the same user has its own vault quota.
    let (t2, _) = s.pair("a", "v2");
    assert_eq!(s.upload(&t2, b"abcdefgh").status, 200);
    assert_eq!(store.temps(&s), 0);
}

#[test]
fn uploading_again_restores_a_lost_blob_file() {
    each(uploading_again_restores_a_lost_blob_file_on);
}

fn uploading_again_restores_a_lost_blob_file_on(b: &Backend) {
    // A crash after the commit but before the directory fsync can lose the renamed file while
    // its reference survives; the client, never answered, uploads again.
    let (s, store) = b.start(None, &[]);
    let (t, _) = s.user_device("a", "vault-a");
    let data = b"blob whose file goes missing".to_vec();
    let sha = sha256_hex(&data);
    assert_eq!(s.upload(&t, &data).status, 200);
    store.remove(&s, &sha);
    s.get(&format!("/api/v1/blobs/{sha}"), Some(&t))
        .assert_error(404, "blob_not_found", "blob not found");
    let again = s.upload(&t, &data);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(store.read(&s, &sha).unwrap(), data);
    let g = s.get(&format!("/api/v1/blobs/{sha}"), Some(&t));
    assert_eq!((g.status, g.body), (200, data));
    assert_eq!(store.temps(&s), 0);
}

/// Issue 15 item 1: a part header is bounded (a few KiB). A client that streams a huge one
/// gets 400 `invalid_multipart` (broken framing, §4.9 check 4) while it is still sending:
/// the server neither waits for the header to end nor holds it in memory.
#[test]
fn a_huge_part_header_is_refused_before_the_body_ends() {
    use std::io::{Read, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    const HEADER: u64 = 256 * 1024 * 1024;
    let s = TestServer::start();
    let (t, _) = s.user_device("a", "v");
    let mut conn = std::net::TcpStream::connect(&s.addr).unwrap();
    let start = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\nX-Pad: ";
    let head = format!(
        "POST /api/v1/blobs/ HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {t}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n\r\n{start}",
        s.addr,
        start.len() as u64 + HEADER + 100,
    );
    conn.write_all(head.as_bytes()).unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let mut w = conn.try_clone().unwrap();
    let counter = sent.clone();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'p'; 64 * 1024];
        while counter.load(Ordering::SeqCst) < HEADER {
            if w.write_all(&chunk).is_err() {
                break;
            }
            counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        }
    });
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let answered_after = loop {
        let n = conn
            .read(&mut buf)
            .expect("an answer while the header is still streaming");
        assert!(n > 0, "the server closed without an answer");
        raw.extend_from_slice(&buf[..n]);
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            if raw.len() >= split + 4 + len {
                break sent.load(Ordering::SeqCst);
            }
        }
    };
    let _ = conn.shutdown(std::net::Shutdown::Both);
    writer.join().unwrap();
    assert!(
        answered_after < 16 * 1024 * 1024,
        "answered only after {answered_after} header bytes"
    );
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(body).unwrap(),
        serde_json::json!({"code": "invalid_multipart", "error": "invalid multipart request"})
    );
    // Headers of ordinary size still work, and so does the server.
    let (ct, mut body) = multipart(&[("file", Some("a.bin"), b"x")]);
    let pad = format!("X-Pad: {}\r\n", "p".repeat(4000));
    let at = body.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 2;
    body.splice(at..at, pad.into_bytes());
    let auth = format!("Bearer {t}");
    let r = s.req(
        "POST",
        "/api/v1/blobs/",
        &[("Authorization", &auth), ("Content-Type", &ct)],
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Stops the server gracefully and starts it again on the same data and blob store: startup
/// runs retention, blob garbage collection included.
fn restart(mut s: TestServer, store: &backends::Store) -> TestServer {
    // A request first: the SIGTERM handler is installed once serving begins, just after the
    // ready line, and a signal before it would end the process without a clean shutdown.
    assert_eq!(s.get("/livez", None).status, 200);
    s.sigterm();
    assert_eq!(s.wait_exit(std::time::Duration::from_secs(30)), Some(0));
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    let flags = store.flags();
    let args: Vec<&str> = flags.iter().map(String::as_str).collect();
    TestServer::start_in(dir, &args)
}

#[test]
fn a_broken_upload_leaves_nothing_under_the_final_name() {
    each(a_broken_upload_leaves_nothing_under_the_final_name_on);
}

fn a_broken_upload_leaves_nothing_under_the_final_name_on(b: &Backend) {
    use std::io::{Read, Write};
    let (s, store) = b.start(None, &[]);
    let (t, _) = s.user_device("a", "v");
    // The client promises more than it sends and goes away: the bytes received so far are
    // never stored under any blob name, and the temp file goes too.
    let data = vec![7u8; 300_000];
    let (ct, body) = multipart(&[("file", Some("a.bin"), &data)]);
    let mut conn = std::net::TcpStream::connect(&s.addr).unwrap();
    let head = format!(
        "POST /api/v1/blobs/ HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {t}\r\n\
         Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        s.addr,
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(&body[..200_000]).unwrap();
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 400 "),
        "{text}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.temps(&s) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(store.temps(&s), 0);
    assert!(store.names(&s).is_empty(), "{:?}", store.names(&s));
    // The same bytes sent whole are stored.
    assert_eq!(s.upload(&t, &data).status, 200);
    assert_eq!(store.names(&s), [sha256_hex(&data)]);
}

#[test]
fn a_corrupt_stored_blob_is_unavailable_until_an_upload_repairs_it() {
    each(a_corrupt_stored_blob_is_unavailable_until_an_upload_repairs_it_on);
}

fn a_corrupt_stored_blob_is_unavailable_until_an_upload_repairs_it_on(b: &Backend) {
    let (s, store) = b.start(None, &[]);
    let (t, _) = s.user_device("a", "v");
    let data = b"the verified bytes".to_vec();
    let sha = sha256_hex(&data);
    assert_eq!(s.upload(&t, &data).status, 200);
    store.plant(&s, &sha, b"short");
    let path = format!("/api/v1/blobs/{sha}");
    s.get(&path, Some(&t))
        .assert_error(500, "blob_unavailable", "blob is unavailable");
    assert_eq!(s.upload(&t, &data).status, 200);
    assert_eq!(store.read(&s, &sha).unwrap(), data);
    let g = s.get(&path, Some(&t));
    assert_eq!((g.status, g.body), (200, data));
}

#[test]
fn a_large_blob_is_stored_in_parts_and_read_by_ranges() {
    each(a_large_blob_is_stored_in_parts_and_read_by_ranges_on);
}

fn a_large_blob_is_stored_in_parts_and_read_by_ranges_on(b: &Backend) {
    // Above the S3 part size (8 MiB): three parts, the last one short.
    let (s, store) = b.start(None, &[]);
    let (t, _) = s.user_device("a", "v");
    let mut x = 0x2545_f491_u32;
    let data: Vec<u8> = (0..17 * 1024 * 1024 + 123)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let sha = sha256_hex(&data);
    let r = s.upload(&t, &data);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["sha256"], sha.as_str());
    assert_eq!(sha256_hex(&store.read(&s, &sha).unwrap()), sha);
    let path = format!("/api/v1/blobs/{sha}");
    let g = s.get(&path, Some(&t));
    assert_eq!(g.status, 200);
    assert_eq!(sha256_hex(&g.body), sha);
    let auth = format!("Bearer {t}");
    let part = 8 * 1024 * 1024;
    let range = format!("bytes={}-{}", part - 10, part + 9);
    let r = s.req(
        "GET",
        &path,
        &[("Authorization", &auth), ("Range", &range)],
        b"",
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &data[part - 10..part + 10]);
    let tail = s.req(
        "GET",
        &path,
        &[("Authorization", &auth), ("Range", "bytes=-7")],
        b"",
    );
    assert_eq!(
        (tail.status, tail.body.as_slice()),
        (206, &data[data.len() - 7..])
    );
}

#[test]
fn garbage_collection_removes_a_blob_after_its_grace_period() {
    each(garbage_collection_removes_a_blob_after_its_grace_period_on);
}

fn garbage_collection_removes_a_blob_after_its_grace_period_on(b: &Backend) {
    let (s, store) = b.start(Some("history:\n  blob_grace_hours: 1\n"), &[]);
    let (t, _) = s.user_device("a", "v");
    let (old, fresh) = (
        b"unreferenced for long".to_vec(),
        b"just unreferenced".to_vec(),
    );
    let (old_sha, fresh_sha) = (sha256_hex(&old), sha256_hex(&fresh));
    assert_eq!(s.upload(&t, &old).status, 200);
    assert_eq!(s.upload(&t, &fresh).status, 200);
    s.sigterm();
    let mut s = s;
    assert_eq!(s.wait_exit(std::time::Duration::from_secs(30)), Some(0));
    // Both lose their refs; one of them long before the grace period.
    s.sql_exec("DELETE FROM server_blob_refs");
    s.sql_exec(&format!(
        "UPDATE server_blobs SET orphaned_at = '2000-01-01T00:00:00Z' WHERE sha256 = {}",
        q(&old_sha)
    ));
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    let flags = store.flags();
    let args: Vec<&str> = flags.iter().map(String::as_str).collect();
    let s = TestServer::start_in(dir, &args);
    assert!(!store.exists(&s, &old_sha));
    assert_eq!(store.read(&s, &fresh_sha).unwrap(), fresh);
    let left = s.sql_col("SELECT sha256 FROM server_blobs");
    assert_eq!(left, std::slice::from_ref(&fresh_sha));
    // Still held within its grace period across another restart.
    let s = restart(s, &store);
    assert!(store.exists(&s, &fresh_sha));
}

/// The server's log lines so far.
fn log_lines(s: &TestServer) -> Vec<String> {
    s.log.try_iter().collect()
}

#[test]
fn an_unusable_bucket_stops_startup_with_a_clear_message() {
    let Some(Backend::S3 { bucket, prefix }) = backends::s3() else {
        eprintln!("skipped: VERSTAK_TEST_BLOB_STORE is not set (scripts/garage.sh)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .args(["--port", "0", "--data"])
        .arg(dir.path())
        .args(["--blob-store", &format!("s3://{bucket}/{prefix}")])
        .env("AWS_SECRET_ACCESS_KEY", "not-the-secret-0123456789")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "the blob store s3://{bucket}/{prefix} does not accept writes"
        )),
        "{err}"
    );
    assert!(!err.contains("not-the-secret-0123456789"), "{err}");
}

#[test]
fn an_s3_failure_is_an_internal_error_without_detail() {
    let Some(b) = backends::s3() else {
        eprintln!("skipped: VERSTAK_TEST_BLOB_STORE is not set (scripts/garage.sh)");
        return;
    };
    // A key of its own, so that taking its rights away touches no other test.
    let name = format!("deny-{}", std::process::id());
    let Some(info) = backends::garage(&["key", "create", &name]) else {
        eprintln!("skipped: GARAGE_DIR is not set (scripts/garage.sh)");
        return;
    };
    let field = |label: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap()
            .trim()
            .to_owned()
    };
    let (id, secret) = (field("Key ID:"), field("Secret key:"));
    let Backend::S3 { bucket, .. } = &b else {
        unreachable!()
    };
    let rights = [
        "--read",
        "--write",
        "--owner",
        bucket.as_str(),
        "--key",
        &name,
    ];
    backends::garage(&[&["bucket", "allow"][..], &rights].concat());
    let (s, store) = b.start_env(
        None,
        &[],
        &[
            ("AWS_ACCESS_KEY_ID", &id),
            ("AWS_SECRET_ACCESS_KEY", &secret),
        ],
    );
    let (t, _) = s.user_device("a", "v");
    let kept = b"stored while the key may write".to_vec();
    let sha = sha256_hex(&kept);
    assert_eq!(s.upload(&t, &kept).status, 200);
    let path = format!("/api/v1/blobs/{sha}");
    assert_eq!(s.get(&path, Some(&t)).status, 200);

    backends::garage(&[&["bucket", "deny"][..], &rights].concat());
    let internal = serde_json::json!({"code": "internal_error", "error": "internal error"});
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let g = loop {
        let g = s.get(&path, Some(&t));
        if g.status != 200 || std::time::Instant::now() > deadline {
            break g;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!((g.status, g.json()), (500, internal.clone()));
    let up = s.upload(&t, b"refused by the store");
    assert_eq!((up.status, up.json()), (500, internal));
    assert!(!store.exists(&s, &sha256_hex(b"refused by the store")));
    let h = s.get("/readyz", None);
    assert_eq!(h.status, 503, "{}", h.text());
    assert_eq!(h.json()["blob_storage_writable"], false);
    // The cause is in the log; the secret is nowhere in it.
    let log = log_lines(&s).join("\n");
    assert!(
        log.contains("S3 request failed") || log.contains("reading a blob"),
        "{log}"
    );
    assert!(!log.contains(&secret));

    // Rights back: the same server works again without a restart.
    backends::garage(&[&["bucket", "allow"][..], &rights].concat());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.get(&path, Some(&t)).status != 200 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(s.get(&path, Some(&t)).body, kept);
    drop(s);
    backends::garage(&["key", "delete", "--yes", &name]);
}
