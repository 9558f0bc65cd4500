//! Accounts end to end (spec §6.4, §6.5, §6.7, §6.13, §6.14): the real binary over HTTP and a
//! real SMTP sink over TCP. Register → mail → confirm → pair; forgot → mail → reset → old
//! password refused; CSRF refusals; admin block → device refused; stats match what was pushed.

mod common;

use common::smtp::Sink;
use common::web::{Browser, admin_login, user_login};
use common::*;
use serde_json::json;

const ADMIN_PW: &str = "admin-pass-123";

fn start_with_admin() -> TestServer {
    TestServer::start_with(None, &["--admin-user", "root", "--admin-pass", ADMIN_PW])
}

/// Points the server's SMTP settings at `sink`, with links based on the server's own address.
fn configure_smtp(s: &TestServer, sink: &Sink) {
    let mut a = admin_login(s, "root", ADMIN_PW);
    let port = sink.port.to_string();
    let base = format!("http://{}", s.addr);
    let csrf = a.csrf();
    let r = a.post_form(
        "/admin/api/smtp",
        &[
            ("smtp_host", "127.0.0.1"),
            ("smtp_port", &port),
            ("smtp_security", "none"),
            ("smtp_from", "sync@example.test"),
            ("server_url", &base),
            ("csrf_token", &csrf),
        ],
    );
    assert_eq!(r.status, 302, "{}", r.text());
    assert_eq!(r.header("location"), Some("/admin/dashboard"));
}

/// The path and query of a link on this server.
fn local_path(s: &TestServer, link: &str) -> String {
    link.strip_prefix(&format!("http://{}", s.addr))
        .unwrap_or_else(|| panic!("foreign link {link}"))
        .to_owned()
}

fn pair_status(s: &TestServer, login: &str, pw: &str) -> Resp {
    s.post(
        "/api/client/pair",
        None,
        &json!({"login": login, "password": pw, "device_name": "d", "vault_id": "v"}),
    )
}

#[test]
fn register_mail_confirm_pair() {
    let s = start_with_admin();
    let sink = Sink::start();
    configure_smtp(&s, &sink);
    let r = s.req(
        "POST",
        "/api/v1/auth/register",
        &[
            ("Content-Type", "application/json"),
            ("Accept-Language", "ru-RU,ru;q=0.9"),
            ("Host", "evil.example"),
        ],
        json!({"username": "carol", "email": "  Carol@Example.Test ", "password": PW})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"status": "confirmation_sent"}));
    // Not confirmed yet: the state shows only after the right password.
    pair_status(&s, "carol", "wrong-password").assert_error(
        401,
        "unauthorized",
        "invalid credentials",
    );
    pair_status(&s, "carol", PW).assert_error(403, "forbidden", "email not confirmed");

    let mail = sink.wait(1);
    mail.assert_spec_headers();
    assert_eq!(mail.to, vec!["carol@example.test"]);
    assert_eq!(
        mail.subject(),
        "Verstak — подтверждение адреса электронной почты"
    );
    assert!(
        mail.body().starts_with("Здравствуйте, carol!"),
        "{}",
        mail.body()
    );
    let link = mail.link();
    assert!(
        link.starts_with(&format!("http://{}/api/v1/auth/confirm?token=", s.addr)),
        "{link}"
    );

    // GET never confirms: it shows a form that posts the token back with the public CSRF.
    let mut b = Browser::new(&s);
    let page = b.get(&local_path(&s, &link));
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    pair_status(&s, "carol", PW).assert_error(403, "forbidden", "email not confirmed");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert!(page.text().contains(&token));
    let r = b.post_form("/api/v1/auth/confirm", &[("token", &token)]);
    assert_eq!(r.status, 403, "form confirm without CSRF");
    let r = b.post_public("/api/v1/auth/confirm", &[("token", &token)]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/confirm/result"));
    assert_eq!(pair_status(&s, "carol", PW).status, 200);
    // Single use.
    s.post("/api/v1/auth/confirm", None, &json!({"token": token}))
        .assert_error(400, "invalid_request", "invalid or expired token");
}

/// Waits up to 5 s for a server log line containing `needle`.
fn wait_log(s: &TestServer, needle: &str) -> String {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
        match s.log.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no log line with {needle:?}");
}

/// Without SMTP a web sign-up is not told that a mail was sent: the account waits for an
/// admin (en and ru), one log line records it, and the admin dashboard links to the pending
/// accounts. With SMTP the page says to check the inbox.
#[test]
fn sign_up_without_smtp_waits_for_an_admin() {
    let s = start_with_admin();
    let mut g = Browser::new(&s);
    let r = g.post_public(
        "/register",
        &[
            ("username", "dave"),
            ("email", "dave@example.test"),
            ("password", PW),
            ("confirm", PW),
        ],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/register/result"))
    );
    let line = wait_log(&s, "sign-up without SMTP");
    assert!(line.contains("dave"), "{line}");
    let page = g.get("/register/result").text();
    assert!(
        page.contains("an administrator has to confirm the account"),
        "{page}"
    );
    assert!(!page.contains("Check your inbox"), "{page}");
    let r = g.post_public("/locale", &[("locale", "ru"), ("from", "/register/result")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let page = g.get("/register/result").text();
    assert!(
        page.contains("администратор подтвердит учётную запись"),
        "{page}"
    );
    pair_status(&s, "dave", PW).assert_error(403, "forbidden", "email not confirmed");

    let mut a = admin_login(&s, "root", ADMIN_PW);
    let dash = a.get("/admin/dashboard").text();
    assert!(dash.contains("data-pending=\"1\""), "{dash}");
    assert!(
        dash.contains("href=\"/admin/users?status=unconfirmed\""),
        "{dash}"
    );
    let list = a.get("/admin/users?status=unconfirmed").text();
    assert!(list.contains("dave@example.test"), "{list}");

    let sink = Sink::start();
    configure_smtp(&s, &sink);
    let page = Browser::new(&s).get("/register/result").text();
    assert!(page.contains("Check your inbox"), "{page}");
}

/// Every mail carries `MIME-Version: 1.0` (spec §6.5), the admin's SMTP test mail included.
#[test]
fn smtp_test_mail_carries_the_spec_headers() {
    let s = start_with_admin();
    let sink = Sink::start();
    let mut a = admin_login(&s, "root", ADMIN_PW);
    let port = sink.port.to_string();
    let body = json!({"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
        "smtp_from": "sync@example.test", "test_to": "ops@example.test"});
    let r = a.mutate(
        "POST",
        "/admin/api/smtp/test",
        "application/json",
        body.to_string().as_bytes(),
    );
    assert_eq!(r.json(), json!({"ok": true}), "{}", r.text());
    let mail = sink.wait(1);
    assert_eq!(mail.to, vec!["ops@example.test"]);
    mail.assert_spec_headers();
}

#[test]
fn forgot_mail_reset_refuses_old_password() {
    let s = start_with_admin();
    let sink = Sink::start();
    configure_smtp(&s, &sink);
    s.add_user("dave");
    let mut web = user_login(&s, "dave", PW);
    let r = s.post(
        "/api/v1/auth/forgot",
        None,
        &json!({"email": "DAVE@example.test"}),
    );
    assert_eq!(
        r.json(),
        json!({"status": "if email exists, reset link sent"})
    );
    let r = s.post(
        "/api/v1/auth/forgot",
        None,
        &json!({"email": "nobody@example.test"}),
    );
    assert_eq!(
        r.json(),
        json!({"status": "if email exists, reset link sent"})
    );
    let mail = sink.wait(1);
    mail.assert_spec_headers();
    assert_eq!(mail.subject(), "Verstak — password reset");
    let link = mail.link();
    assert!(
        link.starts_with(&format!("http://{}/reset?token=", s.addr)),
        "{link}"
    );
    let path = local_path(&s, &link);
    let token = link.split("token=").nth(1).unwrap().to_owned();

    let mut b = Browser::new(&s);
    let form = b.get(&path);
    assert_eq!(form.status, 200);
    assert!(form.text().contains("name=\"confirm\""));
    let r = b.post_public(
        "/reset",
        &[
            ("token", &token),
            ("password", "new-pass-999"),
            ("confirm", "other-pass-999"),
        ],
    );
    assert_eq!(r.status, 200);
    let r = b.post_public(
        "/reset",
        &[
            ("token", &token),
            ("password", "new-pass-999"),
            ("confirm", "new-pass-999"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/reset/done"));

    pair_status(&s, "dave", PW).assert_error(401, "unauthorized", "invalid credentials");
    assert_eq!(pair_status(&s, "dave", "new-pass-999").status, 200);
    // The token is spent, and the web session from before the reset is gone.
    let again = b.post_public(
        "/reset",
        &[
            ("token", &token),
            ("password", "x-pass-1234"),
            ("confirm", "x-pass-1234"),
        ],
    );
    assert_eq!(
        (again.status, again.header("location")),
        (302, Some("/forgot"))
    );
    let dash = web.get("/dashboard");
    assert_eq!(
        (dash.status, dash.header("location")),
        (302, Some("/login"))
    );
    s.post(
        "/api/v1/auth/reset",
        None,
        &json!({"token": token, "new_password": "x-pass-1234"}),
    )
    .assert_error(400, "invalid_request", "invalid or expired token");
}

#[test]
fn csrf_is_required_for_session_mutations_and_public_forms() {
    let s = start_with_admin();
    s.add_user("erin");
    let (_t, dev) = s.pair("erin", "vault-e");
    let mut u = user_login(&s, "erin", PW);
    let path = format!("/api/v1/user/devices/{dev}/revoke");
    let body = json!({"password": PW}).to_string();
    // Session cookie without the csrf_token cookie.
    let session = u.cookie("user_session").unwrap();
    let r = s.req(
        "POST",
        &path,
        &[("Cookie", &format!("user_session={session}"))],
        body.as_bytes(),
    );
    r.assert_error(403, "csrf_invalid", "CSRF token is required");
    let r = u.req(
        "POST",
        &path,
        &[("X-CSRF-Token", "forged")],
        body.as_bytes(),
    );
    r.assert_error(403, "csrf_invalid", "CSRF token is invalid");
    let csrf = u.csrf();
    let r = u.req(
        "POST",
        &path,
        &[("X-CSRF-Token", &csrf), ("Origin", "http://evil.example")],
        body.as_bytes(),
    );
    r.assert_error(403, "csrf_invalid", "request origin is not allowed");
    let r = u.mutate("POST", &path, "application/json", body.as_bytes());
    assert_eq!(r.json(), json!({"status": "revoked"}));
    let list = u.get("/api/v1/user/devices").json();
    assert_ne!(list[0]["revoked_at"], "");
    // Logout without the token is refused; the public forms need locale_csrf.
    u.post_form("/logout", &[])
        .assert_error(403, "csrf_invalid", "CSRF token is invalid");
    let mut g = Browser::new(&s);
    for p in [
        "/login",
        "/register",
        "/forgot",
        "/reset",
        "/admin/login",
        "/locale",
    ] {
        g.get("/login");
        assert_eq!(
            g.post_form(p, &[("username", "erin"), ("password", PW)])
                .status,
            403,
            "{p}"
        );
    }
    let r = u.post_form("/logout", &[("csrf_token", &csrf)]);
    assert_eq!((r.status, r.header("location")), (302, Some("/login")));
    assert_eq!(u.get("/dashboard").status, 302);
}

#[test]
fn admin_block_refuses_devices_and_stats_match() {
    let s = start_with_admin();
    let (ta, _) = s.user_device("frank", "vault-f");
    let (tb, _) = s.user_device("gina", "vault-g");
    assert_eq!(s.push(&ta, vec![op("op-1"), json!({"op_id":"op-2","entity_type":"file","entity_id":"b.md","op_type":"create","payload_json":"{}","created_at":"x"})], None).status, 200);
    assert_eq!(s.push(&tb, vec![op("op-1")], None).status, 200);
    assert_eq!(s.upload(&ta, b"blob bytes").status, 200);

    let mut a = admin_login(&s, "root", ADMIN_PW);
    let stats = a.get("/admin/api/stats");
    assert_eq!(stats.status, 200, "{}", stats.text());
    let v = stats.json();
    for (k, n) in [
        ("users", 2),
        ("active_users", 2),
        ("active_devices", 2),
        ("revoked_devices", 0),
        ("vaults", 2),
        ("operations", 3),
        ("operations_24h", 3),
        ("blobs", 1),
        ("blob_references", 1),
        ("orphan_blobs", 0),
    ] {
        assert_eq!(v[k], n, "{k}: {v}");
    }
    assert!(v["blob_bytes"].as_i64().unwrap() >= 10 && v["database_bytes"].as_i64().unwrap() > 0);
    assert_ne!(v["last_sync_activity"], "");
    assert_ne!(v["last_cleanup_at"], "", "startup retention counts");
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 20);

    // Block frank through the JSON API: CSRF first, then the toggle.
    let users = a.get("/admin/api/users?filter=frank").json();
    let id = users["users"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(users["users"][0]["confirmed"], 1);
    let path = format!("/admin/api/users/{id}/block");
    a.req("POST", &path, &[], b"")
        .assert_error(403, "csrf_invalid", "CSRF token is invalid");
    let r = a.mutate("POST", &path, "", b"");
    assert_eq!(r.json(), json!({"blocked": 1, "status": "ok"}));
    s.push(&ta, vec![op("op-3")], None)
        .assert_error(403, "forbidden", "user blocked");
    s.pull(&ta, 0, 10)
        .assert_error(403, "forbidden", "user blocked");
    assert_eq!(s.pull(&tb, 0, 10).status, 200, "other users are unaffected");
    pair_status(&s, "frank", PW).assert_error(403, "forbidden", "account blocked");
    let v = a.get("/admin/api/stats").json();
    assert_eq!(
        (v["blocked_users"].as_i64(), v["active_users"].as_i64()),
        (Some(1), Some(1))
    );
    // Unblock: the device works again.
    assert_eq!(a.mutate("POST", &path, "", b"").json()["blocked"], 0);
    assert_eq!(s.pull(&ta, 0, 10).status, 200);
    // The audit log has the admin's actions.
    let audit = a.get("/admin/audit?event=user_block");
    assert_eq!(audit.status, 200);
    assert_eq!(audit.text().matches("user_block_changed").count(), 2);
}

/// `POST /api/v1/user/devices/{id}/revoke` in its check order, as JSON and as the dashboard's
/// form post (which answers every password refusal with the same redirect).
#[test]
fn user_device_revoke_checks_json_and_form() {
    let s = start_with_admin();
    s.add_user("hugo");
    s.add_user("ida");
    let (_t, dev) = s.pair("hugo", "vault-h");
    let (_t2, other) = s.pair("ida", "vault-i");
    let mut u = user_login(&s, "hugo", PW);
    let path = |id: &str| format!("/api/v1/user/devices/{id}/revoke");
    let mut json = |p: &str, body: serde_json::Value| {
        u.mutate("POST", p, "application/json", body.to_string().as_bytes())
    };
    json("/api/v1/user/devices/a/b/revoke", json!({"password": PW})).assert_error(
        404,
        "not_found",
        "not found",
    );
    json(&path(&dev), json!({"password": ""})).assert_error(
        400,
        "invalid_request",
        "password required",
    );
    let r = json(&path(&dev), json!({"password": "p".repeat(100)}));
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("password_too_long"))
    );
    json(&path(&dev), json!({"password": "wrong-password"})).assert_error(
        403,
        "forbidden",
        "wrong password",
    );
    json(&path("no-such-device"), json!({"password": PW})).assert_error(
        404,
        "not_found",
        "device not found",
    );
    json(&path(&other), json!({"password": PW})).assert_error(
        403,
        "forbidden",
        "device does not belong to you",
    );

    let csrf = u.csrf();
    let denied = Some("/dashboard?error=error.invalidCredentials");
    for pw in ["", "wrong-password"] {
        let r = u.post_form(&path(&dev), &[("password", pw), ("csrf_token", &csrf)]);
        assert_eq!((r.status, r.header("location")), (303, denied), "{pw:?}");
    }
    let r = u.post_form(&path(&dev), &[("password", PW), ("csrf_token", &csrf)]);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/dashboard?flash=user.deviceRevoked"))
    );
    let list = u.get("/api/v1/user/devices").json();
    assert_ne!(list[0]["revoked_at"], "");
}

/// One `login` bucket per account (issue 15 item 4): ten failures by username use up the
/// account's attempts for its email too, on the JSON and the web login, from any client IP.
#[test]
fn login_by_email_shares_the_account_bucket_with_the_username() {
    let s = TestServer::start_with(None, &["--trusted-proxies", "127.0.0.1/32"]);
    s.add_user("erin");
    s.add_user("frank");
    let login = |ip: &str, login: &str, pw: &str| {
        let body = json!({"username": login, "password": pw}).to_string();
        s.req(
            "POST",
            "/api/v1/auth/login",
            &[("X-Forwarded-For", ip)],
            body.as_bytes(),
        )
    };
    // Each attempt from its own client IP, so only the account bucket can fill up.
    for i in 0..10 {
        login(&format!("198.51.100.{i}"), "erin", "wrong-password").assert_error(
            401,
            "unauthorized",
            "invalid credentials",
        );
    }
    let r = login("198.51.100.20", " Erin@Example.Test ", PW);
    r.assert_error(429, "rate_limited", "too many attempts");
    assert!(r.header("retry-after").is_some());

    let mut b = Browser::new(&s);
    let csrf = b.locale_csrf();
    let form = common::web::form_body(&[
        ("username", "erin@example.test"),
        ("password", PW),
        ("locale_csrf", &csrf),
    ]);
    let r = b.req(
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Forwarded-For", "198.51.100.21"),
        ],
        form.as_bytes(),
    );
    assert_eq!(r.status, 429, "{}", r.text());
    // Another account is not affected.
    assert_eq!(login("198.51.100.22", "frank@example.test", PW).status, 200);
}

/// Issue 15 item 9: `user add` without `--email` stores no address (not a made-up
/// `…@users.invalid` one). The user signs in and pairs; a forgot request for the account
/// sends nothing, the log says why, and the pages say that such accounts ask an admin; the
/// console shows "—" for the address.
#[test]
fn user_add_without_email_has_none_and_forgot_sends_nothing() {
    let s = start_with_admin();
    let sink = Sink::start();
    configure_smtp(&s, &sink);
    let (code, out, err) = user_add(s.data(), &["--username", "erin", "--password", PW]);
    assert_eq!(code, 0, "{out} {err}");
    let (code, out, err) = user_add(s.data(), &["--username", "finn", "--password", PW]);
    assert_eq!(code, 0, "two accounts without email: {out} {err}");
    let email = s.sql_opt("SELECT email FROM server_users WHERE username = 'erin'");
    assert_eq!(email, None);

    let mut web = user_login(&s, "erin", PW);
    assert_eq!(web.get("/dashboard").status, 200);
    assert_eq!(pair_status(&s, "erin", PW).status, 200);

    let mut g = Browser::new(&s);
    let form = g.get("/forgot").text();
    assert!(
        form.contains("An account without an email address cannot reset its password by mail"),
        "{form}"
    );
    let r = g.post_public("/forgot", &[("email", "erin")]);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/forgot/sent"))
    );
    wait_log(&s, "the account has no email address; no reset mail sent");
    let r = s.post("/api/v1/auth/forgot", None, &json!({"email": "erin"}));
    assert_eq!(
        r.json(),
        json!({"status": "if email exists, reset link sent"})
    );
    wait_log(&s, "the account has no email address; no reset mail sent");
    assert_eq!(sink.count(), 0, "no mail for an account without email");
    let sent = g.get("/forgot/sent").text();
    assert!(
        sent.contains("An account without an email address gets no mail"),
        "{sent}"
    );

    let mut a = admin_login(&s, "root", ADMIN_PW);
    let j = a.get("/admin/api/users?filter=erin").json();
    assert_eq!(j["users"][0]["email"], "");
    let list = a.get("/admin/users?q=erin").text();
    assert!(list.contains("data-no-email"), "{list}");
    assert!(!list.contains("users.invalid"), "{list}");
}
