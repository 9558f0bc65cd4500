//! Batch blob download, `POST /api/v1/blob-batch` (an addition, `docs/api-extensions.md`), on
//! every blob backend (the local folder, and an S3 bucket when `VERSTAK_TEST_BLOB_STORE` is
//! set): frames in request order, the scope rule of the single download, the caps, bad input.

mod common;

#[allow(dead_code)]
#[path = "common/blobs.rs"]
mod backends;

use backends::{Backend, each};
use common::*;
use serde_json::json;
use std::time::Duration;
use verstak_sync_proto::blob_batch::parse_frames;

const PATH: &str = "/api/v1/blob-batch";

fn batch(s: &TestServer, token: &str, hashes: &[&str]) -> Resp {
    s.post(PATH, Some(token), &json!({ "sha256": hashes }))
}

/// The frames of an answer as (hash, bytes) pairs.
fn frames(r: &Resp) -> Vec<(String, Option<Vec<u8>>)> {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    let len = r.body.len().to_string();
    assert_eq!(r.header("content-length"), Some(len.as_str()));
    parse_frames(&r.body)
        .expect("well-formed frames")
        .into_iter()
        .map(|f| (f.sha256.to_string(), f.bytes.map(<[u8]>::to_vec)))
        .collect()
}

#[test]
fn frames_come_in_request_order_and_only_for_the_scope() {
    each(frames_come_in_request_order_and_only_for_the_scope_on);
}

fn frames_come_in_request_order_and_only_for_the_scope_on(b: &Backend) {
    let (mut s, store) = b.start(None, &[]);
    let (t, _) = s.user_device("a", "vault-a");
    let (other_user, _) = s.user_device("b", "vault-a");
    let (other_vault, _) = s.pair("a", "vault-other");
    let one: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
    let two = b"second blob".to_vec();
    let empty: Vec<u8> = vec![];
    let theirs = b"another user's blob".to_vec();
    let elsewhere = b"another vault's blob".to_vec();
    for (token, bytes) in [
        (&t, &one),
        (&t, &two),
        (&t, &empty),
        (&other_user, &theirs),
        (&other_vault, &elsewhere),
    ] {
        assert_eq!(s.upload(token, bytes).status, 200);
    }
    let (h1, h2, h0) = (sha256_hex(&one), sha256_hex(&two), sha256_hex(&empty));
    let (ht, he) = (sha256_hex(&theirs), sha256_hex(&elsewhere));
    let never = sha256_hex(b"never uploaded");
    let created = s.sql_str(&format!(
        "SELECT last_accessed FROM server_blob_refs WHERE sha256 = '{h2}'"
    ));
    std::thread::sleep(Duration::from_millis(1100));

    // The exact bytes of a small answer.
    let r = batch(&s, &t, &[&h2, &never]);
    let want = format!("{h2} 11\nsecond blob{never} -\n");
    assert_eq!(r.text(), want);

    let r = batch(&s, &t, &[&h1, &ht, &h2, &h0, &he, &h1, &never]);
    let got = frames(&r);
    let want = vec![
        (h1.clone(), Some(one.clone())),
        // Another user's and another vault's blobs exist but are not this scope's.
        (ht.clone(), None),
        (h2.clone(), Some(two.clone())),
        (h0.clone(), Some(vec![])),
        (he.clone(), None),
        (h1.clone(), Some(one.clone())),
        (never.clone(), None),
    ];
    assert_eq!(got, want);

    // A blob whose bytes are gone from the store is marked, the others still come.
    store.remove(&s, &h2);
    let got = frames(&batch(&s, &t, &[&h2, &h1]));
    assert_eq!(
        got,
        vec![(h2.clone(), None), (h1.clone(), Some(one.clone()))]
    );
    // So is one stored with the wrong size (the single download answers 500 for it).
    store.plant(&s, &h2, b"damaged");
    let got = frames(&batch(&s, &t, &[&h2]));
    assert_eq!(got, vec![(h2.clone(), None)]);

    // Each blob sent is counted as downloaded.
    let sent: u64 = (0..s.nodes())
        .map(|i| {
            metric(
                &s.get_on(i, "/metrics", None).text(),
                "verstak_blob_download_bytes_total",
            )
        })
        .sum();
    assert_eq!(sent, (2 * two.len() + 3 * one.len()) as u64);

    // The downloads' access times are written in a batch, at the latest at shutdown.
    s.sigterm();
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0));
    let accessed = s.sql_str(&format!(
        "SELECT last_accessed FROM server_blob_refs WHERE sha256 = '{h2}'"
    ));
    assert!(accessed > created, "{accessed} vs {created}");
}

/// The value of an unlabelled counter in a `/metrics` page.
fn metric(page: &str, name: &str) -> u64 {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in {page}"))
}

#[test]
fn caps_and_bad_input_are_refused() {
    each(caps_and_bad_input_are_refused_on);
}

fn caps_and_bad_input_are_refused_on(b: &Backend) {
    let (s, _store) = b.start(None, &[]);
    let (t, _) = s.user_device("a", "v");
    let big: Vec<u8> = (0..4 * 1024 * 1024 + 1u32)
        .map(|i| (i % 241) as u8)
        .collect();
    let hb = sha256_hex(&big);
    assert_eq!(s.upload(&t, &big).status, 200);

    // One big blob fits; the same twice would be 8 MiB + 2 bytes in one answer.
    let got = frames(&batch(&s, &t, &[&hb]));
    assert_eq!(got, vec![(hb.clone(), Some(big.clone()))]);
    batch(&s, &t, &[&hb, &hb]).assert_error(
        413,
        "blob_batch_too_large",
        "the blobs of a batch may total at most 8 MiB (8388608 bytes)",
    );
    // Hashes without a ref are not counted.
    let never = sha256_hex(b"never");
    assert_eq!(batch(&s, &t, &[&hb, &never, &never]).status, 200);
    let many: Vec<&str> = std::iter::repeat_n(never.as_str(), 1001).collect();
    batch(&s, &t, &many).assert_error(
        413,
        "blob_batch_too_large",
        "a batch may name at most 1000 blobs",
    );
    assert_eq!(batch(&s, &t, &many[..1000]).status, 200);

    batch(&s, &t, &[]).assert_error(400, "invalid_request", "sha256 must name at least one blob");
    s.post(PATH, Some(&t), &json!({})).assert_error(
        400,
        "invalid_request",
        "sha256 must name at least one blob",
    );
    let upper = hb.to_uppercase();
    for bad in [upper.as_str(), "abc", ""] {
        batch(&s, &t, &[&hb, bad]).assert_error(400, "invalid_blob_hash", "invalid SHA-256");
    }
    s.post(PATH, Some(&t), &json!({"sha256": "abc"}))
        .assert_error(400, "invalid_json", "invalid JSON request");
    let auth = format!("Bearer {t}");
    s.req("POST", PATH, &[("Authorization", &auth)], b"{")
        .assert_error(400, "invalid_json", "invalid JSON request");

    // The method check comes first, then authentication.
    let get = s.get(PATH, Some(&t));
    get.assert_error(405, "method_not_allowed", "method not allowed");
    assert_eq!(get.header("allow"), Some("POST"));
    s.post(PATH, None, &json!({ "sha256": [&hb] }))
        .assert_error(401, "unauthorized", "API key required");
    batch(&s, "nope", &[&hb]).assert_error(401, "unauthorized", "invalid API key");
    s.post(
        "/api/client/revoke-current",
        Some(&t),
        &serde_json::json!({}),
    );
    batch(&s, &t, &[&hb]).assert_error(401, "unauthorized", "device revoked");
}
