//! Blob upload and download (spec §4.9, §4.10, §5.10; checklist H14 to H17).

mod common;

use common::*;

#[test]
fn upload_download_range_and_conditional() {
    let s = TestServer::start();
    let (t, _) = s.user_device("a", "vault-a");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let sha = sha256_hex(&data);
    let r = s.upload(&t, &data);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"sha256": sha, "size": data.len()})
    );
    assert!(blob_path(s.data(), &sha).is_file());
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&blob_path(s.data(), &sha)), 0o640);
    assert_eq!(mode(blob_path(s.data(), &sha).parent().unwrap()), 0o750);
    if !on_pg() {
        assert_eq!(mode(&s.data().join("server.db")) & 0o007, 0);
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
    // No temp files are left behind.
    let temps = std::fs::read_dir(s.data().join("blobs"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".upload-")
        });
    assert_eq!(temps.count(), 0);
}

#[test]
fn isolation_revocation_and_hash_checks() {
    let s = TestServer::start();
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
    let s = TestServer::start();
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
    assert!(!blob_path(s.data(), &sha256_hex(b"x")).exists());
}

#[test]
fn size_limits_and_quotas() {
    let s = TestServer::start_with(
        Some("limits:\n  max_blob_bytes: 8\n  max_vault_blob_bytes: 8\n"),
        &[],
    );
    let (t, _) = s.user_device("a", "v");
    s.upload(&t, b"123456789")
        .assert_error(413, "blob_too_large", "blob is too large");
    assert!(!blob_path(s.data(), &sha256_hex(b"123456789")).exists());
    assert_eq!(s.upload(&t, b"12345678").status, 200);
    s.upload(&t, b"abcdefgh")
        .assert_error(413, "quota_exceeded", "blob quota exceeded");
    assert!(!blob_path(s.data(), &sha256_hex(b"abcdefgh")).exists());
    // Another vault of the same user has its own vault quota.
    let (t2, _) = s.pair("a", "v2");
    assert_eq!(s.upload(&t2, b"abcdefgh").status, 200);
}

#[test]
fn uploading_again_restores_a_lost_blob_file() {
    // A crash after the commit but before the directory fsync can lose the renamed file while
    // its reference survives; the client, never answered, uploads again.
    let s = TestServer::start();
    let (t, _) = s.user_device("a", "vault-a");
    let data = b"blob whose file goes missing".to_vec();
    let sha = sha256_hex(&data);
    assert_eq!(s.upload(&t, &data).status, 200);
    std::fs::remove_file(blob_path(s.data(), &sha)).unwrap();
    let again = s.upload(&t, &data);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(std::fs::read(blob_path(s.data(), &sha)).unwrap(), data);
    let g = s.get(&format!("/api/v1/blobs/{sha}"), Some(&t));
    assert_eq!((g.status, g.body), (200, data));
    let leftovers = std::fs::read_dir(s.data().join("blobs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".upload-"))
        .count();
    assert_eq!(leftovers, 0);
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
