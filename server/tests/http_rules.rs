//! Global HTTP conventions and limits (spec §2, §4.11, §4.12; checklist S1, H6, H7, H9 to H12,
//! H19-like, D13, D15).

mod common;

use common::*;
use serde_json::json;

#[test]
fn health_headers_paths_and_fallbacks() {
    let s = TestServer::start();
    // S1
    // On PostgreSQL the database is not a file in the data directory.
    assert!(
        (on_pg() || s.data().join("server.db").is_file())
            && (on_s3() || s.data().join("blobs").is_dir())
    );
    let r = s.get("/readyz", None);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        (v["status"].as_str(), v["schema_version"].as_i64()),
        (Some("ok"), Some(7))
    );
    assert_eq!(v["database_reachable"], true);
    assert_eq!(v["blob_storage_writable"], true);
    assert_eq!(s.get("/api/v1/health", None).json()["status"], "ok");
    assert_eq!(s.get("/livez", None).json()["status"], "ok");
    assert_eq!(s.req("HEAD", "/livez", &[], b"").status, 200);
    let p = s.post("/livez", None, &json!({}));
    p.assert_error(405, "method_not_allowed", "method not allowed");
    assert_eq!(p.header("allow"), Some("GET"));
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
    ] {
        assert!(r.header(h).is_some(), "{h} missing");
        assert!(p.header(h).is_some(), "{h} missing on errors");
    }
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(r.header("access-control-allow-origin").is_none());

    s.get("/api/does-not-exist", None)
        .assert_error(404, "not_found", "not found");
    let html = s.get("/nowhere", None);
    assert_eq!(html.status, 404);
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(html.text().contains("href=\"/\""));
    let redirect = s.req("POST", "/api/v1/blobs", &[], b"");
    assert_eq!(
        (redirect.status, redirect.header("location")),
        (301, Some("/api/v1/blobs/"))
    );
    let cleaned = s.get("/api//client/./me?x=1", None);
    assert_eq!(
        (cleaned.status, cleaned.header("location")),
        (301, Some("/api/client/me?x=1"))
    );
    assert!(cleaned.header("x-frame-options").is_some());
}

#[test]
fn body_decoding_rules_and_limits() {
    let cfg = "limits:\n  max_json_body: 700\n  max_push_operations: 1\n  max_payload_json: 32\n";
    let s = TestServer::start_with(Some(cfg), &[]);
    let (t, _) = s.user_device("a", "v");
    let auth = format!("Bearer {t}");
    let raw = |body: &str| {
        s.req(
            "POST",
            "/api/v1/sync/push",
            &[("Authorization", &auth)],
            body.as_bytes(),
        )
    };
    // H9: over the body limit, no Content-Type.
    let big = format!("{{\"device_id\":\"{}\"}}", "x".repeat(800));
    raw(&big).assert_error(413, "request_too_large", "request body is too large");
    // H10
    let two = json!({"ops":[op("a"), op("b")]}).to_string();
    raw(&two).assert_error(
        413,
        "too_many_operations",
        "too many operations in one push",
    );
    // H11: trailing JSON wins over the payload check.
    let long = json!({"ops":[{"op_id":"a","entity_type":"file","entity_id":"e","op_type":"create","payload_json":format!("\"{}\"", "p".repeat(40))}]}).to_string();
    raw(&format!("{long} {{}}")).assert_error(
        400,
        "trailing_json",
        "request must contain one JSON value",
    );
    // H12
    raw(&long).assert_error(413, "payload_too_large", "operation payload is too large");
    raw("{\"ops\":[]} x").assert_error(400, "invalid_json", "invalid JSON request");
    raw("{\"ops\":[],\"ops\":[]}").assert_error(400, "invalid_json", "invalid JSON request");
    raw("{\"ops\":[{\"op_id\":\"a\",\"client_sequence\":1.0}]}").assert_error(
        400,
        "invalid_json",
        "invalid JSON request",
    );
    raw("[]").assert_error(400, "invalid_json", "invalid JSON request");
    // null is {} and unknown fields are ignored; field names are exact.
    assert_eq!(raw("null").json()["count"], 0);
    assert_eq!(raw("{\"OPS\":[1],\"extra\":true}").json()["count"], 0);
    // Push validation messages.
    let blank = json!({"ops":[{"op_id":" ","entity_type":"file"}]}).to_string();
    raw(&blank).assert_error(400, "invalid_operation", "op_id is required");
    let long_dev = json!({"device_id": "d".repeat(129)}).to_string();
    raw(&long_dev).assert_error(400, "field_too_long", "device_id is too long");
    let get = s.get("/api/v1/sync/push", Some(&t));
    get.assert_error(405, "method_not_allowed", "method not allowed");
    assert_eq!(get.header("allow"), Some("POST"));
}

#[test]
fn rate_limits_share_the_peer_ip_and_audit_it() {
    let s = TestServer::start();
    // H6: different logins and forged X-Forwarded-For values share the peer's IP bucket
    // (10 failed pairings per 15 min).
    for i in 0..10 {
        let xff = format!("198.51.100.{i}");
        let body = json!({"login": format!("u{i}"), "password": "wrong-password", "vault_id": "v"})
            .to_string();
        let r = s.req(
            "POST",
            "/api/client/pair",
            &[("X-Forwarded-For", &xff)],
            body.as_bytes(),
        );
        r.assert_error(401, "unauthorized", "invalid credentials");
    }
    let body = json!({"login": "u9", "password": "x", "vault_id": "v"}).to_string();
    let r = s.req(
        "POST",
        "/api/client/pair",
        &[("X-Forwarded-For", "198.51.100.9")],
        body.as_bytes(),
    );
    r.assert_error(429, "rate_limited", "too many attempts");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    let ips = s.sql_col("SELECT DISTINCT ip FROM server_audit_log WHERE event_type IN ('device_auth_failed','rate_limit_exceeded')");
    assert_eq!(ips, vec!["127.0.0.1"]);
    // H8 (first half): 10 auth tests, then the 11th is limited.
    for _ in 0..10 {
        s.post(
            "/api/auth/test",
            None,
            &json!({"username":"nobody","password":"wrong-password"}),
        );
    }
    let r = s.post(
        "/api/auth/test",
        None,
        &json!({"username":"nobody","password":"wrong-password"}),
    );
    r.assert_error(429, "rate_limited", "too many attempts");
}

#[test]
fn trusted_proxy_client_ip_is_read_right_to_left() {
    let s = TestServer::start_with(None, &["--trusted-proxies", "127.0.0.1/32"]);
    // H7 / D15
    let body = json!({"login":"ghost","password":"wrong-password","vault_id":"v"}).to_string();
    s.req(
        "POST",
        "/api/client/pair",
        &[("X-Forwarded-For", "203.0.113.8, 127.0.0.1")],
        body.as_bytes(),
    );
    s.req(
        "POST",
        "/api/client/pair",
        &[("X-Forwarded-For", "1.2.3.4, 203.0.113.9")],
        body.as_bytes(),
    );
    let ips = s.sql_col(
        "SELECT ip FROM server_audit_log WHERE event_type = 'device_auth_failed' ORDER BY id",
    );
    assert_eq!(ips, vec!["203.0.113.8", "203.0.113.9"]);
}

#[test]
fn metrics_access_rules() {
    let s = TestServer::start();
    let (t, _) = s.user_device("a", "v");
    // Counters are per process: the push and the scrape go to the same node.
    s.push_on(0, &t, vec![op("m1")], None);
    let m = s.get_on(0, "/metrics", None);
    assert_eq!(m.status, 200);
    assert!(
        m.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = m.text();
    for needle in [
        "verstak_build_info{",
        "verstak_sync_ops_accepted_total 1",
        "verstak_users 1",
        "verstak_ready 1",
        "verstak_http_requests_total{route=\"/api/v1/sync/push\",method=\"POST\",status=\"200\"} 1",
    ] {
        assert!(text.contains(needle), "missing {needle}: {text}");
    }
    s.req("GET", "/metrics", &[("X-Forwarded-For", "1.2.3.4")], b"")
        .assert_error(403, "forbidden", "metrics are only available locally");
    let tok = TestServer::start_with(Some("metrics:\n  token: s3cret\n"), &[]);
    tok.get("/metrics", None)
        .assert_error(401, "unauthorized", "metrics token required");
    assert_eq!(tok.get("/metrics", Some("s3cret")).status, 200);
    let off = TestServer::start_with(Some("metrics:\n  enabled: false\n"), &[]);
    let r = off.get("/metrics", None);
    assert_eq!(r.status, 404);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    // Disabled metrics do not exist for any method.
    let r = off.req("DELETE", "/metrics", &[], b"");
    assert_eq!((r.status, r.header("allow")), (404, None));
    let r = s.req("DELETE", "/metrics", &[], b"");
    r.assert_error(405, "method_not_allowed", "method not allowed");
    assert_eq!(r.header("allow"), Some("GET"));
}

/// Routes whose check table puts a check before the method answer that check first, and a
/// refusal that is not a 405 carries no `Allow` header.
#[test]
fn checks_before_the_method_check_answer_first() {
    let s = TestServer::start();
    let r = s.req("PUT", "/api/v1/blobs/", &[], b"");
    r.assert_error(401, "unauthorized", "API key required");
    assert_eq!(r.header("allow"), None);
    let r = s.req("POST", "/admin/api/keys", &[], b"");
    assert_eq!(
        (r.status, r.header("location"), r.header("allow")),
        (302, Some("/admin/login"), None)
    );
    let r = s.req("PUT", "/static/nope.css", &[], b"");
    assert_eq!((r.status, r.header("allow")), (404, None));
    let r = s.req("PUT", "/static/app.css", &[], b"");
    r.assert_error(405, "method_not_allowed", "method not allowed");
    assert_eq!(r.header("allow"), Some("GET"));
}

/// The public form routes: GET (and HEAD) show the form, POST submits it after the form's
/// CSRF check, other methods get the 405. Closed registration answers its 404 for every
/// method, before the form's own checks.
#[test]
fn public_form_routes_split_by_method() {
    let s = TestServer::start();
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    for p in ["/login", "/register", "/forgot", "/admin/login"] {
        assert_eq!(s.get(p, None).status, 200, "{p}");
        assert_eq!(s.req("HEAD", p, &[], b"").status, 200, "{p}");
    }
    let r = s.get("/reset", None);
    assert_eq!((r.status, r.header("location")), (302, Some("/forgot")));
    for p in ["/login", "/register", "/forgot", "/reset", "/admin/login"] {
        let r = s.req("PUT", p, &[], b"");
        r.assert_error(405, "method_not_allowed", "method not allowed");
        assert_eq!(r.header("allow"), Some("GET, POST"), "{p}");
        let r = s.req("POST", p, &form, b"username=a&password=b");
        assert_eq!(r.status, 403, "{p}");
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
    }
    let off = TestServer::start_with(Some("web:\n  allow_registration: false\n"), &[]);
    for m in ["GET", "POST", "PUT"] {
        let r = off.req(m, "/register", &form, b"username=a");
        assert_eq!((r.status, r.header("allow")), (404, None), "{m}");
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
    }
}

#[test]
fn readiness_degrades_when_blob_storage_is_unwritable() {
    if skip_on_s3("makes the local blob folder unwritable (blobs.rs covers S3 failures)") {
        return;
    }
    let s = TestServer::start();
    // Replace blobs/ by a regular file: probes cannot create files inside it, even as root.
    std::fs::remove_dir_all(s.data().join("blobs")).unwrap();
    std::fs::write(s.data().join("blobs"), b"not a directory").unwrap();
    let r = s.get("/readyz", None);
    assert_eq!(r.status, 503);
    let v = r.json();
    assert_eq!(
        (v["status"].as_str(), v["blob_storage_writable"].as_bool()),
        (Some("degraded"), Some(false))
    );
    assert_eq!(v["database_reachable"], true);
    assert!(!r.text().contains(s.data().to_str().unwrap()));
    assert_eq!(s.get("/livez", None).status, 200);
}

#[test]
fn slow_request_headers_are_cut_off() {
    use std::io::{Read, Write};
    // H2: a client that never finishes its header block is disconnected (10 s header timeout).
    let s = TestServer::start();
    let mut c = std::net::TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    c.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut buf = Vec::new();
    let r = c.read_to_end(&mut buf);
    assert!(
        r.is_ok(),
        "the server closed the connection instead of letting the read time out: {r:?}"
    );
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
}

#[test]
fn random_bodies_never_cause_a_500() {
    // Seeded; replay a failure with SEED=<n>.
    let seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234);
    let mut x = seed;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let s = TestServer::start();
    let (t, _) = s.user_device("a", "v");
    let auth = format!("Bearer {t}");
    let pieces: [&[u8]; 16] = [
        b"{", b"}", b"[", b"]", b"\"ops\"", b":", b",", b"null", b"1.5", b"-9", b"\"op_id\"",
        b"\"\\u0000\"", b"\xff", b"{\"ops\":[{\"op_id\":\"a\",\"entity_type\":\"file\",\"entity_id\":\"e\",\"op_type\":\"c\",\"payload_json\":",
        b"\"{\\\"blob\\\":{\\\"sha256\\\":1}}\"", b"99999999999999999999",
    ];
    for round in 0..150 {
        let n = (next() % 12) as usize;
        let body: Vec<u8> = (0..n)
            .flat_map(|_| pieces[(next() % 16) as usize].to_vec())
            .collect();
        for path in [
            "/api/v1/sync/push",
            "/api/v1/sync/pull",
            "/api/client/pair",
            "/api/client/revoke-device",
        ] {
            let r = s.req("POST", path, &[("Authorization", &auth)], &body);
            assert!(
                (200..500).contains(&r.status) && r.status != 404,
                "seed {seed} round {round} {path} body {:?} -> {} {}",
                String::from_utf8_lossy(&body),
                r.status,
                r.text()
            );
            if r.status >= 400 {
                let v = r.json();
                assert!(v["code"].is_string() && v["error"].is_string());
            }
        }
    }
    assert_eq!(s.get("/livez", None).status, 200);
}

/// Issue 15 item 6: a redirect's `Location` is always a path on this origin, and `-0` is the
/// integer 0.
#[test]
fn redirects_stay_on_this_origin_and_negative_zero_decodes() {
    let s = TestServer::start();
    // Browsers read `\` as `/`: `/\evil.example` would be protocol-relative.
    let r = s.get("/a/../\\evil.example", None);
    assert_eq!(
        (r.status, r.header("location")),
        (301, Some("/%5Cevil.example"))
    );
    let r = s.get("/a/..//evil.example/", None);
    assert_eq!(
        (r.status, r.header("location")),
        (301, Some("/evil.example/"))
    );

    // `/locale` never copies a control character from `from` (browsers drop tabs, so
    // `/<tab>/evil.example` would become `//evil.example`).
    let mut b = common::web::Browser::new(&s);
    for (from, to) in [
        ("/\t/evil.example", "/%09/evil.example"),
        ("/\\evil.example", "/"),
        ("/login?next=a", "/login?next=a"),
    ] {
        let r = b.post_public("/locale", &[("locale", "en"), ("from", from)]);
        assert_eq!(
            (r.status, r.header("location")),
            (303, Some(to)),
            "{from:?}"
        );
    }

    let (t, _) = s.user_device("zero", "v");
    let auth = format!("Bearer {t}");
    let r = s.req(
        "POST",
        "/api/v1/sync/pull",
        &[("Authorization", &auth)],
        br#"{"since_sequence":-0}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["server_sequence"], 0);
    s.req(
        "POST",
        "/api/v1/sync/pull",
        &[("Authorization", &auth)],
        br#"{"since_sequence":-0.0}"#,
    )
    .assert_error(400, "invalid_json", "invalid JSON request");
}

/// Issue 16: rate limits live in the database, so the nodes behind one balancer count a
/// client's attempts together: ten failed pairings from one IP, alternating between two
/// nodes, use up the bucket on both.
#[test]
fn rate_limits_count_attempts_on_every_node_together() {
    let Some(s) = TestServer::start_nodes(2, None, &[]) else {
        return;
    };
    let body = json!({"login": "ghost", "password": "wrong-password", "vault_id": "v"}).to_string();
    let pair = |node: usize| s.req_on(node, "POST", "/api/client/pair", &[], body.as_bytes());
    for i in 0..10 {
        pair(i % 2).assert_error(401, "unauthorized", "invalid credentials");
    }
    for node in [0, 1] {
        let r = pair(node);
        r.assert_error(429, "rate_limited", "too many attempts");
        assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    }
}
