//! `POST /api/v1/blobs/bulk` (docs/api-extensions.md): several blobs in one request, on every
//! blob backend (the local folder always, S3 when `VERSTAK_TEST_BLOB_STORE` is set).

mod common;

#[allow(dead_code)]
#[path = "common/blobs.rs"]
mod backends;

use backends::{Backend, each};
use common::*;
use serde_json::json;

fn bulk(s: &TestServer, token: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Resp {
    s.post_multipart("/api/v1/blobs/bulk", token, parts)
}

fn blob(i: u32, len: u32) -> Vec<u8> {
    (0..len).map(|j| ((i * 31 + j) % 251) as u8).collect()
}

#[test]
fn bulk_upload_stores_every_part_in_order() {
    each(bulk_upload_stores_every_part_in_order_on);
}

fn bulk_upload_stores_every_part_in_order_on(b: &Backend) {
    let (s, store) = b.start(None, &[]);
    let (t, _) = s.user_device("a", "vault-a");
    // 20 parts: past the count from which the local folder syncs with one syncfs. One part
    // repeats an earlier one, and one blob was uploaded before on its own.
    let mut blobs: Vec<Vec<u8>> = (0..19).map(|i| blob(i, 1000 + i * 7)).collect();
    blobs.push(blobs[3].clone());
    assert_eq!(s.upload(&t, &blobs[5]).status, 200);
    let parts: Vec<(&str, Option<&str>, &[u8])> = blobs
        .iter()
        .map(|b| ("file", Some("x.bin"), b.as_slice()))
        .collect();
    let r = bulk(&s, &t, &parts);
    assert_eq!(r.status, 200, "{}", r.text());
    let want: Vec<_> = blobs
        .iter()
        .map(|b| json!({"sha256": sha256_hex(b), "size": b.len()}))
        .collect();
    assert_eq!(r.json(), json!({ "blobs": want }));
    for b in &blobs {
        let sha = sha256_hex(b);
        assert_eq!(store.read(&s, &sha).as_deref(), Some(b.as_slice()));
        let g = s.get(&format!("/api/v1/blobs/{sha}"), Some(&t));
        assert_eq!((g.status, &g.body), (200, b));
    }
    // Each blob is one ref of the scope; a push may name them now.
    let refs = s.sql_i64("SELECT COUNT(*) FROM server_blob_refs");
    assert_eq!(refs, 19);
    assert_eq!(store.temps(&s), 0);
}

#[test]
fn bulk_upload_refusals() {
    each(bulk_upload_refusals_on);
}

fn bulk_upload_refusals_on(b: &Backend) {
    let (s, store) = b.start(None, &[]);
    let (t, _) = s.user_device("a", "vault-a");
    let one = blob(1, 100);
    // No token: refused before anything is read.
    let (ct, body) = multipart(&[("file", Some("a"), &one)]);
    let r = s.req(
        "POST",
        "/api/v1/blobs/bulk",
        &[("Content-Type", &ct)],
        &body,
    );
    assert_eq!(r.status, 401);
    // Only POST.
    assert_eq!(s.get("/api/v1/blobs/bulk", Some(&t)).status, 405);
    // Not multipart, no parts, a part that is not a file.
    let auth = format!("Bearer {t}");
    let r = s.req(
        "POST",
        "/api/v1/blobs/bulk",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        b"{}",
    );
    r.assert_error(400, "invalid_multipart", "invalid multipart request");
    bulk(&s, &t, &[]).assert_error(400, "invalid_multipart", "file field is required");
    bulk(&s, &t, &[("file", Some("a"), &one), ("note", None, b"x")]).assert_error(
        400,
        "invalid_multipart",
        "every part of a bulk upload must be a file field",
    );
    // More parts than allowed.
    let tiny = [1u8];
    let many: Vec<(&str, Option<&str>, &[u8])> =
        (0..257).map(|_| ("file", Some("t"), &tiny[..])).collect();
    bulk(&s, &t, &many).assert_error(
        400,
        "invalid_multipart",
        "too many files in one bulk upload",
    );
    // Nothing of a refused request is stored.
    assert!(!store.exists(&s, &sha256_hex(&one)));
    assert_eq!(s.sql_i64("SELECT COUNT(*) FROM server_blob_refs"), 0);
    assert_eq!(store.temps(&s), 0);
}

#[test]
fn bulk_upload_stops_at_the_quota() {
    each(bulk_upload_stops_at_the_quota_on);
}

fn bulk_upload_stops_at_the_quota_on(b: &Backend) {
    let (s, store) = b.start(
        Some("limits:\n  max_blob_bytes: 8\n  max_vault_blob_bytes: 10\n"),
        &[],
    );
    let (t, _) = s.user_device("a", "vault-a");
    // The first fits, the second does not (6 + 6 > 10), the third is never looked at.
    let (a, b2, c) = (b"aaaaaa".to_vec(), b"bbbbbb".to_vec(), b"cc".to_vec());
    let r = bulk(
        &s,
        &t,
        &[
            ("file", Some("a"), &a),
            ("file", Some("b"), &b2),
            ("file", Some("c"), &c),
        ],
    );
    r.assert_error(413, "quota_exceeded", "blob quota exceeded");
    assert_eq!(
        store.read(&s, &sha256_hex(&a)).as_deref(),
        Some(a.as_slice())
    );
    assert!(!store.exists(&s, &sha256_hex(&b2)));
    assert!(!store.exists(&s, &sha256_hex(&c)));
    // A file over the blob limit is refused like a single upload.
    let big = vec![7u8; 9];
    bulk(&s, &t, &[("file", Some("big"), &big)]).assert_error(
        413,
        "blob_too_large",
        "blob is too large",
    );
    assert_eq!(store.temps(&s), 0);
}
