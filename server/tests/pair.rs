//! Enrolment, device auth, me and revocation (spec §3, §4.1 to §4.6; checklist S5, S11 to S13,
//! D6, D9-like checks, D12, D16).

mod common;

use common::*;
use serde_json::json;

#[test]
fn pair_me_and_auth_test() {
    let s = TestServer::start();
    s.add_user("alice");
    let r = s.post(
        "/api/client/pair",
        None,
        &json!({"login":"alice","password":PW,"device_name":"laptop","client_version":"verstak-desktop/v2","vault_id":" vault-a "}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().ends_with("}\n"));
    let v = r.json();
    let token = v["device_token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert!(v["device_id"].as_str().unwrap().starts_with("dev_"));
    assert_eq!(v["initial_sync_cursor"], 0);
    assert_eq!(v["user_id"].as_str().unwrap().len(), 24);

    let me = s.get("/api/client/me", Some(token));
    assert_eq!(me.status, 200);
    let m = me.json();
    assert_eq!(m["device_name"], "laptop");
    assert_eq!(m["username"], "alice");
    assert_eq!(m["vault_id"], "vault-a");
    assert_eq!(m["revoked_at"], "");
    assert_eq!(m["client_version"], "verstak-desktop/v2");
    assert_eq!(m["device_id"], v["device_id"]);

    // The key may also come without the Bearer prefix, or from ?api_key=.
    assert_eq!(
        s.req("GET", "/api/client/me", &[("Authorization", token)], b"")
            .status,
        200
    );
    assert_eq!(
        s.get(&format!("/api/client/me?api_key={token}"), None)
            .status,
        200
    );
    s.get("/api/client/me", None)
        .assert_error(401, "unauthorized", "API key required");
    s.get("/api/client/me", Some("nope"))
        .assert_error(401, "unauthorized", "invalid API key");
    s.post("/api/client/me", Some(token), &json!({}))
        .assert_error(405, "method_not_allowed", "method not allowed");

    let ok = s.post(
        "/api/auth/test",
        None,
        &json!({"username":"alice","password":PW}),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json(), json!({"status":"ok"}));
    // Login by email works too.
    assert_eq!(
        s.post(
            "/api/auth/test",
            None,
            &json!({"username":"Alice@Example.test","password":PW})
        )
        .status,
        200
    );
    s.post(
        "/api/auth/test",
        None,
        &json!({"username":"alice","password":"wrong-password"}),
    )
    .assert_error(401, "unauthorized", "invalid credentials");
    s.post(
        "/api/auth/test",
        None,
        &json!({"username":"ghost","password":PW}),
    )
    .assert_error(401, "unauthorized", "invalid credentials");
    s.post("/api/auth/test", None, &json!({"username":"alice"}))
        .assert_error(400, "invalid_request", "username and password required");
    s.post(
        "/api/auth/test",
        None,
        &json!({"username":"alice","password":"x".repeat(73)}),
    )
    .assert_error(400, "password_too_long", "PASSWORD_TOO_LONG");
}

#[test]
fn pair_validation_in_order() {
    let s = TestServer::start();
    s.add_user("a");
    let pair = |body: serde_json::Value| s.post("/api/client/pair", None, &body);
    let r = s.get("/api/client/pair", None);
    r.assert_error(405, "method_not_allowed", "POST required");
    assert_eq!(r.header("allow"), Some("POST"));
    pair(json!({"login":"a"})).assert_error(400, "invalid_request", "login and password required");
    pair(json!({"login":"a","password":PW})).assert_error(
        400,
        "invalid_request",
        "vault_id required",
    );
    pair(json!({"login":"a","password":PW,"vault_id":"legacy:user-a"})).assert_error(
        400,
        "invalid_request",
        "vault_id uses reserved prefix",
    );
    // The account's rate limit (10 per 15 min) is consumed by every attempt past check 3.
    let r = pair(json!({"login":"a","password":PW,"vault_id":"v","device_name":"n".repeat(129)}));
    r.assert_error(400, "invalid_request", "device name is too long");
    let r = pair(json!({"login":"a","password":"p".repeat(73),"vault_id":"v"}));
    r.assert_error(400, "password_too_long", "PASSWORD_TOO_LONG");
    for _ in 0..6 {
        assert_eq!(
            pair(json!({"login":"a","password":PW,"vault_id":"v"})).status,
            200
        );
    }
    let r = s.post(
        "/api/client/pair",
        None,
        &json!({"login":"a","password":PW,"vault_id":"v"}),
    );
    r.assert_error(429, "rate_limited", "too many attempts");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
}

#[test]
fn device_register_legacy_route() {
    let s = TestServer::start();
    s.add_user("a");
    let reg = |body: serde_json::Value| s.post("/api/v1/device/register", None, &body);
    reg(json!({"username":"a","password":PW})).assert_error(
        400,
        "invalid_request",
        "name required",
    );
    reg(json!({"name":"n"})).assert_error(401, "unauthorized", "username and password required");
    reg(json!({"name":"n","username":"a","password":PW})).assert_error(
        400,
        "invalid_request",
        "vault_id required",
    );
    reg(json!({"name":"n","username":"a","password":PW,"vault_id":"legacy:user-a"})).assert_error(
        400,
        "invalid_request",
        "vault_id uses reserved prefix",
    );
    let r = reg(json!({"name":"n","username":"a","password":PW,"vault_id":"v"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v.as_object().unwrap().len(), 2);
    let me = s.get("/api/client/me", v["device_token"].as_str());
    assert_eq!(me.json()["vault_id"], "v");
}

#[test]
fn revoke_current_and_other_device() {
    let s = TestServer::start();
    s.add_user("alice");
    s.add_user("bob");
    let (t1, _d1) = s.pair("alice", "vault-a");
    let (t2, d2) = s.pair("alice", "vault-b");
    let (tb, db) = s.pair("bob", "vault-a");

    let rd =
        |tok: &str, body: serde_json::Value| s.post("/api/client/revoke-device", Some(tok), &body);
    rd(&t1, json!({"device_id": d2})).assert_error(
        400,
        "invalid_request",
        "device_id and password required",
    );
    rd(&t1, json!({"device_id": d2, "password": "wrong-password"})).assert_error(
        403,
        "forbidden",
        "wrong password",
    );
    rd(&t1, json!({"device_id": "dev_missing", "password": PW})).assert_error(
        404,
        "not_found",
        "device not found",
    );
    rd(&t1, json!({"device_id": db, "password": PW})).assert_error(
        403,
        "forbidden",
        "device does not belong to you",
    );
    let ok = rd(&t1, json!({"device_id": d2, "password": PW}));
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json(), json!({"status":"revoked"}));
    s.pull(&t2, 0, 0)
        .assert_error(401, "unauthorized", "device revoked");
    s.get("/api/client/me", Some(&t2))
        .assert_error(401, "unauthorized", "device revoked");

    // S5: revoke-current, then push and pull fail at once.
    let r = s.post("/api/client/revoke-current", Some(&tb), &json!({}));
    assert_eq!(r.json(), json!({"status":"revoked"}));
    s.post(
        "/api/v1/sync/push",
        Some(&tb),
        &json!({"device_id":"x","ops":[]}),
    )
    .assert_error(401, "unauthorized", "device revoked");
    s.post("/api/v1/sync/pull", Some(&tb), &json!({}))
        .assert_error(401, "unauthorized", "device revoked");
    // The other device of alice still works.
    assert_eq!(s.pull(&t1, 0, 0).status, 200);
}

#[test]
fn unconfirmed_and_blocked_accounts_after_password() {
    let s = TestServer::start();
    s.add_user("c");
    s.add_user("d");
    s.sql_exec("UPDATE server_users SET confirmed = 0 WHERE username = 'c'");
    s.sql_exec("UPDATE server_users SET blocked = 1 WHERE username = 'd'");
    let at = |u: &str, p: &str| s.post("/api/auth/test", None, &json!({"username":u,"password":p}));
    at("c", "wrong-password").assert_error(401, "unauthorized", "invalid credentials");
    at("c", PW).assert_error(403, "forbidden", "email not confirmed");
    at("d", "wrong-password").assert_error(401, "unauthorized", "invalid credentials");
    at("d", PW).assert_error(403, "forbidden", "account blocked");
    let r = s.post(
        "/api/client/pair",
        None,
        &json!({"login":"d","password":PW,"vault_id":"v"}),
    );
    r.assert_error(403, "forbidden", "account blocked");
    let audited = s.sql_i64("SELECT COUNT(*) FROM server_audit_log WHERE event_type = 'device_auth_failed' AND message = 'pair: user blocked'");
    assert_eq!(audited, 1);

    // A blocked user's device tokens are suspended, and restored on unblock.
    s.sql_exec("UPDATE server_users SET blocked = 0 WHERE username = 'd'");
    let (t, _) = s.pair("d", "v");
    s.sql_exec("UPDATE server_users SET blocked = 1 WHERE username = 'd'");
    s.pull(&t, 0, 0)
        .assert_error(403, "forbidden", "user blocked");
    s.sql_exec("UPDATE server_users SET blocked = 0 WHERE username = 'd'");
    assert_eq!(s.pull(&t, 0, 0).status, 200);
    // The token is stored only as its SHA-256.
    let stored = s.sql_i64(&format!(
        "SELECT COUNT(*) FROM server_devices WHERE token_hash = {}",
        q(&sha256_hex(t.as_bytes()))
    ));
    assert_eq!(stored, 1);
}

#[test]
fn devices_without_a_user_or_with_a_deleted_user() {
    let s = TestServer::start();
    let (t, d) = s.user_device("gone", "v");
    // An adopted device with no user (D9).
    let orphan = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    s.sql_exec(&format!(
        "INSERT INTO server_devices (id, name, api_key, token_hash, user_id, vault_id, created_at)
         VALUES ('dev_nouser', 'old', 'disabled:dev_nouser', {}, NULL, NULL, '2026-01-01T00:00:00Z')",
        q(&sha256_hex(orphan.as_bytes()))
    ));
    s.post(
        "/api/client/revoke-device",
        Some(orphan),
        &json!({"device_id": d, "password": PW}),
    )
    .assert_error(403, "forbidden", "device is not associated with a user");
    s.get("/api/client/me", Some(orphan))
        .assert_error(401, "unauthorized", "invalid token");
    s.pull(orphan, 0, 0)
        .assert_error(403, "forbidden", "device is not associated with a user");
    let auth = format!("Bearer {orphan}");
    s.req(
        "GET",
        &format!("/api/v1/blobs/{}", "a".repeat(64)),
        &[("Authorization", &auth)],
        b"",
    )
    .assert_error(403, "forbidden", "device is not associated with a user");
    assert_eq!(
        s.post("/api/client/revoke-current", Some(orphan), &json!({}))
            .status,
        200
    );
    // A device whose user row was deleted is an invalid key, not a 500.
    s.sql_exec("DELETE FROM server_users WHERE username = 'gone'");
    s.pull(&t, 0, 0)
        .assert_error(401, "unauthorized", "invalid API key");
}

/// Issue 15 item 8: per client IP only failed pairings count (10 per 15 min), so a household
/// behind one NAT pairs as many devices as it owns; each account is capped at 10 pairing
/// attempts per 15 min, and a refusal by that cap does not use up the IP's quota. Every 429
/// says how long to wait.
#[test]
fn pairing_limits_count_failures_per_ip_and_cap_each_account() {
    let s = TestServer::start();
    for u in ["ann", "ben", "cat"] {
        s.add_user(u);
    }
    let pair = |login: &str, pw: &str| {
        s.post(
            "/api/client/pair",
            None,
            &json!({"login": login, "password": pw, "vault_id": "v"}),
        )
    };
    // One household, one IP: ann pairs ten devices, ben two (the old limit was 5 in all).
    for _ in 0..10 {
        assert_eq!(pair("ann", PW).status, 200);
    }
    // ann's eleventh attempt meets her account cap, by username or by email.
    let r = pair("ann", PW);
    r.assert_error(429, "rate_limited", "too many attempts");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    pair("ann@example.test", PW).assert_error(429, "rate_limited", "too many attempts");
    // Refusals by ann's cap used none of the IP's quota: nine failures still fit.
    for _ in 0..20 {
        assert_eq!(pair("ann", PW).status, 429);
    }
    assert_eq!(pair("ben", PW).status, 200);
    assert_eq!(pair("ben", PW).status, 200);
    for i in 0..10 {
        pair(&format!("nobody{i}"), "wrong-password").assert_error(
            401,
            "unauthorized",
            "invalid credentials",
        );
    }
    // Ten failures from this IP: now even cat's right password waits for the window.
    let r = pair("cat", PW);
    r.assert_error(429, "rate_limited", "too many attempts");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // Another client IP is not affected (behind a trusted proxy, the forwarded one).
    let s = TestServer::start_with(None, &["--trusted-proxies", "127.0.0.1/32"]);
    s.add_user("dan");
    let from = |ip: &str, login: &str, pw: &str| {
        let body = json!({"login": login, "password": pw, "vault_id": "v"}).to_string();
        s.req(
            "POST",
            "/api/client/pair",
            &[("X-Forwarded-For", ip)],
            body.as_bytes(),
        )
    };
    for i in 0..10 {
        assert_eq!(
            from("198.51.100.1", &format!("x{i}"), "wrong-password").status,
            401
        );
    }
    assert_eq!(from("198.51.100.1", "dan", PW).status, 429);
    assert_eq!(from("198.51.100.2", "dan", PW).status, 200);
    // The legacy enrolment path follows the same rules, in its own buckets.
    let reg = |ip: &str, user: &str, pw: &str| {
        let body =
            json!({"name": "n", "username": user, "password": pw, "vault_id": "v"}).to_string();
        s.req(
            "POST",
            "/api/v1/device/register",
            &[("X-Forwarded-For", ip)],
            body.as_bytes(),
        )
    };
    for _ in 0..3 {
        assert_eq!(reg("198.51.100.1", "dan", PW).status, 200);
    }
    for i in 0..10 {
        assert_eq!(
            reg("198.51.100.3", &format!("x{i}"), "wrong-password").status,
            401
        );
    }
    let r = reg("198.51.100.3", "dan", PW);
    r.assert_error(429, "rate_limited", "too many attempts");
    assert!(r.header("retry-after").is_some());
}
