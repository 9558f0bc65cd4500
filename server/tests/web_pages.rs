//! Web pages, locale and the admin console (spec §6.8, §6.10 to §6.13; checklist W1–W30,
//! S2, S15, D4, D5, D10, H22, H23), against the real binary over HTTP.

mod common;

use common::web::{Browser, admin_login, user_login};
use common::*;
use serde_json::json;

const ADMIN_PW: &str = "admin-pass-123";
const INVALID_USERNAME: &str =
    "invalid username: use only letters, digits, '.', '_' and '-' (at most 320 bytes)";

/// Renames a user in the database, bypassing the username rule the way an account created
/// before it (or adopted from reference data) does.
fn rename_user(s: &TestServer, from: &str, to: &str) {
    let n = s.sql_exec(&format!(
        "UPDATE server_users SET username = {} WHERE username = {}",
        q(to),
        q(from)
    ));
    assert_eq!(n, 1);
}

fn start() -> TestServer {
    TestServer::start_with(None, &["--admin-user", "root", "--admin-pass", ADMIN_PW])
}

fn no_inline(html: &str, what: &str) {
    for bad in [
        "<style",
        " style=",
        " onclick=",
        " onchange=",
        "window.confirm",
    ] {
        assert!(!html.contains(bad), "{what} contains {bad}");
    }
    assert!(!html.contains("<script>"), "{what} has an inline script");
}

#[test]
fn pages_locale_headers_and_guest_header() {
    let s = start();
    let r = s.req(
        "GET",
        "/login",
        &[
            ("Cookie", "verstak_locale=en"),
            ("Accept-Language", "ru-RU"),
        ],
        b"",
    );
    assert!(r.text().contains("<html lang=\"en\""), "W1");
    for (h, v) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
    ] {
        assert_eq!(r.header(h), Some(v), "W21 {h}");
    }
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(
        r.header("set-cookie")
            .unwrap()
            .starts_with("verstak_locale_csrf=")
    );
    let home = s.req("GET", "/", &[("Accept-Language", "ru-RU")], b"");
    assert_eq!(home.status, 200);
    let t = home.text();
    assert!(
        t.contains("<html lang=\"ru\"")
            && t.contains("/static/app.css")
            && t.contains("Verstak Sync"),
        "W6"
    );
    let form = t.find("action=\"/locale\"").unwrap();
    assert!(
        form < t.find("href=\"/login\"").unwrap() && t.contains("href=\"/register\""),
        "W7 guest"
    );
    for loc in ["ru", "en"] {
        for p in ["/", "/login", "/register", "/forgot", "/admin/login"] {
            let r = s.req(
                "GET",
                p,
                &[("Cookie", &format!("verstak_locale={loc}"))],
                b"",
            );
            assert_eq!(r.status, 200, "{p}");
            assert!(
                r.text().contains(&format!("<html lang=\"{loc}\"")),
                "W11 {p} {loc}"
            );
            no_inline(&r.text(), p);
        }
    }
    for (cookie, accept, want) in [
        ("system", "ru-RU,ru;q=0.9", "ru"),
        ("de", "ru-RU", "en"),
        ("system", "", "en"),
    ] {
        let mut h = vec![("Cookie", format!("verstak_locale={cookie}"))];
        if !accept.is_empty() {
            h.push(("Accept-Language", accept.to_owned()));
        }
        let hh: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert!(
            s.req("GET", "/login", &hh, b"")
                .text()
                .contains(&format!("lang=\"{want}\"")),
            "W30 {cookie}"
        );
    }
    // W13: the confirm page escapes the token.
    let r = s.req(
        "GET",
        "/api/v1/auth/confirm?token=%3Cscript%3E",
        &[("Cookie", "verstak_locale=ru")],
        b"",
    );
    assert_eq!(r.status, 200);
    assert!(r.text().contains("lang=\"ru\"") && !r.text().contains("<script>"));
    // W17–W19: the locale switch.
    let c = "verstak_locale_csrf=T";
    let ct = ("Content-Type", "application/x-www-form-urlencoded");
    let r = s.req(
        "POST",
        "/locale",
        &[("Cookie", c), ct],
        b"locale=ru&from=/login&locale_csrf=T",
    );
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    let first = r.header("set-cookie").unwrap();
    assert!(
        first.starts_with("verstak_locale=ru")
            && first.contains("HttpOnly")
            && first.contains("SameSite=Lax")
    );
    let r = s.req(
        "POST",
        "/locale",
        &[("Cookie", c), ct],
        b"locale=ru&from=%2Freset%3Ftoken%3Dopaque-token&locale_csrf=T",
    );
    assert_eq!(r.header("location"), Some("/reset?token=opaque-token"));
    let r = s.req(
        "POST",
        "/locale",
        &[("Cookie", c), ct],
        b"locale=ru&from=//evil.example&locale_csrf=T",
    );
    assert_eq!(r.header("location"), Some("/"));
    assert_eq!(
        s.req("POST", "/locale", &[ct], b"locale=ru&locale_csrf=T")
            .status,
        403
    );
    assert_eq!(
        s.req(
            "POST",
            "/locale",
            &[("Cookie", c), ct],
            b"locale=ru&locale_csrf=U"
        )
        .status,
        403
    );
    assert_eq!(
        s.req("GET", "/locale", &[], b"").header("allow"),
        Some("POST")
    );
    // Static files and the HTML 404s.
    let js = s.get("/static/app.js", None);
    assert_eq!(js.status, 200);
    assert!(
        js.text().contains("showModal()") && !js.text().contains("window.confirm"),
        "W5"
    );
    assert!(js.header("content-type").unwrap().contains("javascript"));
    assert_eq!(
        s.get("/static/app.css", None).header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(s.get("/static/", None).status, 404);
    assert_eq!(s.get("/static/nope.js", None).status, 404);
    assert_eq!(s.get("/static", None).status, 301);
    let r = s.get("/admin", None);
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("/admin/dashboard")),
        "W22"
    );
    let r = s.get("/admin/diagnostics.json", None);
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("/admin/login")),
        "W23"
    );
}

#[test]
fn user_session_pages_and_escaping() {
    let s = start();
    let evil = "<img src=x onerror=alert(1)>";
    let r = s.post(
        "/api/v1/auth/register",
        None,
        &json!({"username": evil, "email": "evil@example.test", "password": PW}),
    );
    r.assert_error(400, "invalid_request", INVALID_USERNAME);
    let r = s.post(
        "/api/v1/auth/register",
        None,
        &json!({"username": "evil", "email": "evil@example.test", "password": PW}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Names from before the username rule (adopted data) still exist: give the account one.
    rename_user(&s, "evil", evil);
    let mut a = admin_login(&s, "root", ADMIN_PW);
    let id = a.get("/admin/api/users").json()["users"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let csrf = a.csrf();
    let r = a.post_form(
        "/admin/action",
        &[
            ("action", "confirm-user"),
            ("id", &id),
            ("password", ADMIN_PW),
            ("csrf_token", &csrf),
        ],
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/admin/users")),
        "W28"
    );
    let mut u = user_login(&s, "evil@example.test", PW);
    let r = s.post("/api/client/pair", None, &json!({"login": "evil@example.test", "password": PW, "device_name": evil, "vault_id": "vault-a"}));
    assert_eq!(r.status, 200);
    let (tok, _) = (r.json()["device_token"].as_str().unwrap().to_owned(), ());
    let op = json!({"op_id": "o1", "entity_type": "file", "entity_id": "a.md", "op_type": "create",
                    "payload_json": "{\"secret\":\"payload\"}", "created_at": "x"});
    assert_eq!(s.push(&tok, vec![op], None).status, 200);
    let d = u.get("/dashboard");
    assert_eq!(d.status, 200);
    assert_eq!(d.header("cache-control"), Some("no-store"));
    let t = d.text();
    assert!(
        !t.contains(evil) && t.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "S15 dashboard"
    );
    assert!(
        !t.contains("href=\"/login\"")
            && !t.contains("href=\"/register\"")
            && t.contains("href=\"/dashboard\"")
    );
    assert_eq!(t.matches("action=\"/logout\"").count(), 1, "W7 user");
    no_inline(&t, "/dashboard");
    assert!(
        u.get("/dashboard?q=nomatch").text().contains("No devices"),
        "W26 filter"
    );
    let r = u.get("/login");
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("/dashboard")),
        "W8"
    );
    // W15: sessions never cross scopes.
    let us = u.cookie("user_session").unwrap();
    let r = s.req(
        "GET",
        "/admin/dashboard",
        &[("Cookie", &format!("admin_session={us}"))],
        b"",
    );
    assert_eq!(r.status, 302);
    let adm = a.cookie("admin_session").unwrap();
    let r = s.req(
        "GET",
        "/dashboard",
        &[("Cookie", &format!("user_session={adm}"))],
        b"",
    );
    assert_eq!(r.status, 302);
    let list = u.get("/api/v1/user/devices");
    assert_eq!(list.json()[0]["name"], evil);
    // Admin pages escape too, and never show payloads (W16).
    for p in ["/admin/users", "/admin/devices"] {
        let t = a.get(p).text();
        assert!(!t.contains(evil) && t.contains("&lt;img"), "S15 {p}");
    }
    let v = a.get(&format!("/admin/vault/?user={id}&vault=vault-a"));
    assert_eq!(v.status, 200);
    assert!(
        !v.text().contains("payload") && !v.text().contains("secret"),
        "W16"
    );
    assert!(
        v.text()
            .contains("href=\"/admin/vaults\" aria-current=\"page\"")
    );
    assert_eq!(a.get("/admin/vault/?user=x").status, 400);
}

#[test]
fn admin_console_pages_actions_and_api() {
    let s = start();
    // S2: wrong password and unknown admin are both 401.
    for (u, p) in [("root", "wrong-password"), ("ghost", ADMIN_PW)] {
        let mut b = Browser::new(&s);
        assert_eq!(
            b.post_public("/admin/login", &[("username", u), ("password", p)])
                .status,
            401
        );
    }
    let cfg = std::fs::read_to_string(s.data().join("config.yml")).unwrap();
    assert!(cfg.contains("$2b$10$"));
    for n in ["alice", "alina", "bob"] {
        s.add_user(n);
    }
    s.add_user("blocked-user");
    let mut a = admin_login(&s, "root", ADMIN_PW);
    assert_eq!(a.get("/admin/login").status, 302, "W8 admin");
    for loc in ["en", "ru"] {
        a.jar.retain(|(k, _)| k != "verstak_locale");
        a.jar.push(("verstak_locale".into(), loc.into()));
        for sec in [
            "dashboard",
            "users",
            "devices",
            "vaults",
            "storage",
            "audit",
            "settings",
            "diagnostics",
        ] {
            let r = a.get(&format!("/admin/{sec}"));
            assert_eq!(r.status, 200, "{sec}");
            let t = r.text();
            assert!(
                t.contains(&format!("href=\"/admin/{sec}\" aria-current=\"page\"")),
                "W12 {sec}"
            );
            assert!(t.contains(&format!("lang=\"{loc}\"")));
            assert_eq!(t.matches("action=\"/admin/logout\"").count(), 1);
            no_inline(&t, sec);
        }
    }
    a.jar.retain(|(k, _)| k != "verstak_locale");
    let settings = a.get("/admin/settings").text();
    for f in [
        "smtp_host",
        "smtp_port",
        "smtp_user",
        "smtp_pass",
        "smtp_security",
        "smtp_from",
        "server_url",
    ] {
        assert!(settings.contains(&format!("name=\"{f}\"")), "W25 {f}");
    }
    let csrf = a.csrf();
    let r = a.post_form(
        "/admin/action",
        &[
            ("action", "smtp"),
            ("smtp_host", "mail.example.test"),
            ("smtp_port", "25"),
            ("smtp_from", "a@example.test"),
            ("smtp_security", "none"),
            ("password", ADMIN_PW),
            ("csrf_token", &csrf),
        ],
    );
    assert_eq!(
        r.header("location"),
        Some("/admin/settings?flash=smtp_saved")
    );
    assert!(
        a.get("/admin/settings")
            .text()
            .contains("value=\"mail.example.test\"")
    );
    let r = a.post_form(
        "/admin/action",
        &[
            ("action", "smtp"),
            ("password", "nope-nope"),
            ("csrf_token", &csrf),
        ],
    );
    assert_eq!(r.status, 403, "re-authentication");
    let r = a.post_form(
        "/admin/action",
        &[("action", "cleanup"), ("csrf_token", &csrf)],
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        a.post_form(
            "/admin/action",
            &[("action", "what"), ("csrf_token", &csrf)]
        )
        .status,
        400
    );

    // W24: filtering and paging.
    let blocked = a.get("/admin/api/users?filter=blocked").json()["users"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        a.mutate(
            "POST",
            &format!("/admin/api/users/{blocked}/block"),
            "",
            b""
        )
        .json()["blocked"],
        1
    );
    let r = a.get("/admin/users?q=ali&per_page=1&sort=username").text();
    assert!(
        r.contains("<span data-total>2</span>")
            && r.contains("<span data-pages>2</span>")
            && r.contains(">alice<")
    );
    let r = a.get("/admin/users?status=blocked").text();
    assert!(r.contains("<span data-total>1</span>") && r.contains("blocked-user"));
    assert!(
        !a.get("/admin/audit?event=' OR 1=1 --")
            .text()
            .contains("<td>user_created</td>"),
        "W27"
    );
    let j = a
        .get("/admin/api/users?sort=username&order=asc&per_page=2")
        .json();
    assert_eq!(
        (j["total"].as_i64(), j["users"][0]["username"].as_str()),
        (Some(4), Some("alice"))
    );
    assert!(a.get("/admin/api/users?filter=zzz").json()["users"].is_null());

    // D4/D5 through the admin API.
    let create = |a: &mut Browser, body: serde_json::Value| {
        a.mutate(
            "POST",
            "/admin/api/users/create",
            "application/json",
            body.to_string().as_bytes(),
        )
    };
    create(
        &mut a,
        json!({"username": "alice", "email": "x@example.test", "password": PW}),
    )
    .assert_error(409, "username_taken", "username already taken");
    create(
        &mut a,
        json!({"username": "new", "email": "alice@example.test", "password": PW}),
    )
    .assert_error(409, "email_taken", "email already taken");
    create(
        &mut a,
        json!({"username": "new", "email": "n@example.test", "password": "x".repeat(73)}),
    )
    .assert_error(400, "password_too_long", "PASSWORD_TOO_LONG");
    let nid = create(
        &mut a,
        json!({"username": "new", "email": "n@example.test", "password": PW}),
    )
    .json()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // W29: reset password, the one-time secret, and the user's session ends.
    let mut u = user_login(&s, "new", PW);
    let r = a.post_form(
        "/admin/action",
        &[
            ("action", "reset-user-password"),
            ("id", &nid),
            ("password", ADMIN_PW),
            ("csrf_token", &csrf),
        ],
    );
    assert_eq!(r.header("location"), Some("/admin/password-result"));
    assert_eq!(u.get("/dashboard").status, 302);
    let page = a.get("/admin/password-result");
    assert_eq!(page.header("cache-control"), Some("no-store, max-age=0"));
    assert!(
        page.text()
            .contains("data-one-time-secret-url=\"/admin/password-result/secret\"")
    );
    let sec = a.mutate("POST", "/admin/password-result/secret", "", b"");
    assert_eq!(sec.header("cache-control"), Some("no-store, max-age=0"));
    let pw = sec.json()["password"].as_str().unwrap().to_owned();
    assert_eq!(pw.len(), 32);
    a.mutate("POST", "/admin/password-result/secret", "", b"")
        .assert_error(
            410,
            "one_time_secret_expired",
            "one-time password is no longer available",
        );
    user_login(&s, "new", &pw);

    // H22 and H23: key deletion needs CSRF; deleting a user cascades but keeps blob files.
    let r = a.req("DELETE", "/admin/api/keys/missing", &[], b"");
    r.assert_error(403, "csrf_invalid", "CSRF token is invalid");
    assert_eq!(
        a.mutate("DELETE", "/admin/api/keys/missing", "", b"")
            .json(),
        json!({"status": "deleted"})
    );
    let (tok, _) = s.pair("alice", "vault-a");
    assert_eq!(s.push(&tok, vec![op("op-1")], None).status, 200);
    let blob = b"alice blob";
    assert_eq!(s.upload(&tok, blob).status, 200);
    let keys = a.get("/admin/api/keys").text();
    assert!(
        !keys.contains(&tok) && !keys.contains("api_key") && keys.contains('\u{2026}'),
        "H18"
    );
    let aid = a.get("/admin/api/users?filter=alice").json()["users"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        a.mutate("DELETE", &format!("/admin/api/users/{aid}"), "", b"")
            .json(),
        json!({"status": "deleted"})
    );
    s.pull(&tok, 0, 10)
        .assert_error(401, "unauthorized", "invalid API key");
    assert!(on_s3() || blob_path(s.data(), &sha256_hex(blob)).exists());
    let st = a.get("/admin/api/stats").json();
    assert_eq!(
        (
            st["operations"].as_i64(),
            st["blob_references"].as_i64(),
            st["orphan_blobs"].as_i64()
        ),
        (Some(0), Some(0), Some(1))
    );
    let diag = a.get("/admin/diagnostics.json").text();
    assert!(
        !diag.contains(&s.data().display().to_string()) && diag.contains("registration_allowed"),
        "W23"
    );
    assert_eq!(
        a.req("PUT", "/admin/api/users/x", &[], b"").header("allow"),
        Some("POST, DELETE")
    );
    a.mutate(
        "POST",
        &format!("/admin/api/users/{nid}/frobnicate"),
        "",
        b"",
    )
    .assert_error(404, "not_found", "unknown action");
}

#[test]
fn registration_toggle_persists_across_restart() {
    let s = start();
    let mut a = admin_login(&s, "root", ADMIN_PW);
    let csrf = a.csrf();
    let r = a.post_form(
        "/admin/action",
        &[
            ("action", "web-settings"),
            ("default_locale", "ru"),
            ("public_url", "ftp://x"),
            ("server_name", "S"),
            ("password", ADMIN_PW),
            ("csrf_token", &csrf),
        ],
    );
    assert_eq!(r.status, 400, "error.invalidPublicURL");
    let r = a.post_form(
        "/admin/action",
        &[
            ("action", "web-settings"),
            ("default_locale", "ru"),
            ("public_url", ""),
            ("server_name", "Test Sync"),
            ("password", ADMIN_PW),
            ("csrf_token", &csrf),
        ],
    );
    assert_eq!(
        r.header("location"),
        Some("/admin/settings?flash=settings_saved")
    );
    let cfg = std::fs::read_to_string(s.data().join("config.yml")).unwrap();
    assert!(cfg.contains("allow_registration: false"), "{cfg}");
    // Restart on the same data directory (and so the same database on PostgreSQL).
    drop(a);
    let mut s = s;
    s.sigterm();
    assert_eq!(s.wait_exit(std::time::Duration::from_secs(30)), Some(0));
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    let s2 = TestServer::start_in(dir, &[]);
    assert_eq!(s2.get("/register", None).status, 404, "D10");
    s2.post(
        "/api/v1/auth/register",
        None,
        &json!({"username": "u", "email": "u@example.test", "password": PW}),
    )
    .assert_error(403, "registration_disabled", "registration is disabled");
    assert!(
        s2.get("/login", None).text().contains("lang=\"ru\"")
            && s2.get("/login", None).text().contains("Test Sync")
    );
    assert!(!s2.get("/", None).text().contains("href=\"/register\""));
}

#[test]
fn json_account_api_checks() {
    let s = start();
    let reg = |body: serde_json::Value| s.post("/api/v1/auth/register", None, &body);
    for e in [
        "victim@example.test\r\nBcc: attacker@example.test",
        "Display Name <victim@example.test>",
        "not-an-email",
    ] {
        reg(json!({"username": "v", "email": e, "password": PW})).assert_error(
            400,
            "invalid_request",
            "invalid email",
        );
    }
    reg(json!({"username": "v", "email": "", "password": PW})).assert_error(
        400,
        "invalid_request",
        "username, email and password required",
    );
    reg(json!({"username": "v", "email": "v@example.test", "password": "short"})).assert_error(
        400,
        "invalid_request",
        "PASSWORD_TOO_SHORT",
    );
    reg(json!({"username": "v2", "email": "v2@example.test", "password": "y".repeat(73)}))
        .assert_error(400, "password_too_long", "PASSWORD_TOO_LONG");
    assert_eq!(
        reg(json!({"username": "v3", "email": "v3@example.test", "password": "y".repeat(72)}))
            .status,
        200,
        "D5 72 bytes"
    );
    s.add_user("alice");
    reg(json!({"username": "alice", "email": "new@example.test", "password": PW})).assert_error(
        409,
        "username_taken",
        "username already taken",
    );
    let r = s.get("/api/v1/auth/register", None);
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    assert_eq!(
        s.req("PUT", "/api/v1/auth/confirm", &[], b"")
            .header("allow"),
        Some("GET, POST")
    );
    s.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "alice", "password": "z".repeat(73)}),
    )
    .assert_error(400, "password_too_long", "PASSWORD_TOO_LONG");
    s.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "v3@example.test", "password": "y".repeat(72)}),
    )
    .assert_error(403, "forbidden", "email not confirmed");
    let r = s.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": "alice", "password": PW}),
    );
    let v = r.json();
    assert_eq!(v["token"].as_str().unwrap().len(), 64);
    assert!(r.header("set-cookie").is_none());
    let list = s.req(
        "GET",
        "/api/v1/user/devices",
        &[(
            "Cookie",
            &format!("user_session={}", v["token"].as_str().unwrap()),
        )],
        b"",
    );
    assert_eq!(list.text(), "null\n");
    assert_eq!(s.get("/api/v1/user/devices", None).status, 302);
    s.post(
        "/api/v1/auth/reset",
        None,
        &json!({"token": "nope", "new_password": PW}),
    )
    .assert_error(400, "invalid_request", "invalid or expired token");
    s.post("/api/v1/auth/forgot", None, &json!({}))
        .assert_error(400, "invalid_request", "email required");
    // The form variant of confirm without the JSON content type is CSRF-checked.
    assert_eq!(
        s.req("POST", "/api/v1/auth/confirm", &[], br#"{"token":"x"}"#)
            .status,
        403
    );
}

/// Every `POST /admin/action` action through the console form: its redirect or flash status,
/// re-authentication for all but `edit-user`, and the SMTP test's audit row.
#[test]
fn console_actions_answer_through_the_form() {
    let s = start();
    let (token, dev) = s.user_device("ann", "vault-a");
    s.add_user("cat");
    let mut a = admin_login(&s, "root", ADMIN_PW);
    let csrf = a.csrf();
    let id_of = |a: &mut common::web::Browser<'_>, name: &str| {
        a.get(&format!("/admin/api/users?filter={name}")).json()["users"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (ann, cat) = (id_of(&mut a, "ann"), id_of(&mut a, "cat"));
    let mut act = |fields: &[(&str, &str)], pw: bool| {
        let mut all = fields.to_vec();
        all.push(("csrf_token", &csrf));
        if pw {
            all.push(("password", ADMIN_PW));
        }
        let r = a.post_form("/admin/action", &all);
        (r.status, r.header("location").map(str::to_owned))
    };
    let see = |to: &str| (303, Some(to.to_owned()));
    let flash = |status: u16| (status, None);

    // Re-authentication: every action but edit-user; an unknown action is 400 without it.
    for name in [
        "web-settings",
        "toggle-user",
        "confirm-user",
        "reset-user-password",
        "delete-user",
        "revoke-device",
        "delete-device",
        "smtp",
        "smtp-test",
        "cleanup",
    ] {
        assert_eq!(
            act(&[("action", name), ("id", &ann)], false),
            flash(403),
            "{name}"
        );
    }
    assert_eq!(act(&[("action", "Cleanup")], true), flash(400));
    assert_eq!(act(&[], true), flash(400));

    assert_eq!(
        act(&[("action", "toggle-user"), ("id", &ann)], true),
        see("/admin/users")
    );
    s.pull(&token, 0, 10)
        .assert_error(403, "forbidden", "user blocked");
    assert_eq!(
        act(&[("action", "toggle-user"), ("id", &ann)], true),
        see("/admin/users")
    );
    assert_eq!(s.pull(&token, 0, 10).status, 200);
    assert_eq!(
        act(&[("action", "toggle-user"), ("id", "nobody")], true),
        flash(404)
    );

    let edit = |id: &str, u: &str, e: &str| {
        [
            ("action", "edit-user"),
            ("id", id),
            ("username", u),
            ("email", e),
        ]
        .map(|(k, v)| (k, v.to_owned()))
    };
    let mut edit_user = |id: &str, u: &str, e: &str| {
        let f = edit(id, u, e);
        let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        act(&fields, false)
    };
    assert_eq!(edit_user("", "ann2", "ann2@example.test"), flash(400));
    assert_eq!(edit_user(&ann, "", "ann2@example.test"), flash(400));
    assert_eq!(edit_user(&ann, "ann2", "not-an-email"), flash(400));
    assert_eq!(edit_user("nobody", "ann2", "ann2@example.test"), flash(404));
    assert_eq!(edit_user(&ann, "cat", "ann2@example.test"), flash(409));
    assert_eq!(
        edit_user(&ann, "ann2", "ann2@example.test"),
        see("/admin/users")
    );

    assert_eq!(
        act(&[("action", "confirm-user"), ("id", &cat)], true),
        see("/admin/users")
    );
    assert_eq!(
        act(&[("action", "confirm-user"), ("id", "nobody")], true),
        flash(404)
    );
    assert_eq!(
        act(&[("action", "reset-user-password"), ("id", "nobody")], true),
        flash(404)
    );

    assert_eq!(
        act(&[("action", "delete-device"), ("id", &dev)], true),
        flash(409)
    );
    assert_eq!(
        act(&[("action", "revoke-device"), ("id", &dev)], true),
        see("/admin/devices")
    );
    s.pull(&token, 0, 10)
        .assert_error(401, "unauthorized", "device revoked");
    assert_eq!(
        act(&[("action", "delete-device"), ("id", &dev)], true),
        see("/admin/devices")
    );
    assert_eq!(
        act(&[("action", "delete-device"), ("id", &dev)], true),
        flash(404)
    );

    assert_eq!(
        act(&[("action", "delete-user"), ("id", &cat)], true),
        see("/admin/users")
    );
    assert_eq!(
        act(
            &[("action", "smtp-test"), ("test_to", "x@example.test")],
            true
        ),
        see("/admin/settings?flash=smtp_test_failed")
    );
    assert_eq!(
        act(&[("action", "cleanup")], true),
        see("/admin/storage?flash=cleanup_done")
    );
    for event in [
        "user_block_changed",
        "user_updated",
        "user_confirmed",
        "device_revoked",
        "device_deleted",
        "user_deleted",
        "smtp_test_failed",
        "retention_cleanup",
    ] {
        let audit = a.get(&format!("/admin/audit?event={event}")).text();
        assert!(audit.contains(event), "{event}");
    }
    let audit = a.get("/admin/audit?event=smtp_test_failed").text();
    assert!(audit.contains("SMTP test by admin root"));
}

/// Issue 15 item 10: new usernames are letters, digits, `.`, `_` and `-`, and every refusal
/// says so; older names outside that set still sign in, pair and survive an admin edit. The
/// register form asks for the password twice, as a new password.
#[test]
fn usernames_follow_the_rule_and_old_names_keep_working() {
    let s = start();
    s.post(
        "/api/v1/auth/register",
        None,
        &json!({"username": "Bad Name!", "email": "b@example.test", "password": PW}),
    )
    .assert_error(400, "invalid_request", INVALID_USERNAME);

    let mut g = Browser::new(&s);
    let form = g.get("/register").text();
    assert_eq!(
        form.matches("autocomplete=\"new-password\"").count(),
        2,
        "{form}"
    );
    assert!(form.contains("name=\"confirm\"") && !form.contains("current-password"));
    let post = |g: &mut Browser, user: &str, confirm: &str| {
        g.get("/register");
        g.post_public(
            "/register",
            &[
                ("username", user),
                ("email", "n@example.test"),
                ("password", PW),
                ("confirm", confirm),
            ],
        )
    };
    let r = post(&mut g, "Bad Name!", PW);
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains(
            "A username may contain only letters, digits, dots (.), underscores (_) and hyphens (-)."
        ),
        "{}",
        r.text()
    );
    let r = post(&mut g, "new.user", "another-pw-1");
    assert!(
        r.text().contains("The passwords do not match."),
        "{}",
        r.text()
    );
    let r = post(&mut g, "new.user", "");
    assert!(r.text().contains("Fill in all fields."), "{}", r.text());
    let r = post(&mut g, "new.user", PW);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/register/result"))
    );

    let mut a = admin_login(&s, "root", ADMIN_PW);
    let csrf = a.csrf();
    let r = a.post_form(
        "/admin/create-user",
        &[
            ("username", "a b"),
            ("email", "ab@example.test"),
            ("password", PW),
            ("csrf_token", &csrf),
        ],
    );
    assert!(
        r.text().contains("A username may contain only letters"),
        "{}",
        r.text()
    );

    s.add_user("old");
    rename_user(&s, "old", "Old Name!");
    assert_eq!(s.pair("Old Name!", "v").0.len(), 64);
    let mut u = user_login(&s, "Old Name!", PW);
    assert_eq!(u.get("/dashboard").status, 200);
    let users = a.get("/admin/api/users?q=Old").json();
    let id = users["users"][0]["id"].as_str().unwrap().to_owned();
    let edit = |name: &str| json!({"username": name, "email": "old-new@example.test"});
    let path = format!("/admin/api/users/{id}/edit");
    let r = a.mutate(
        "POST",
        &path,
        "application/json",
        edit("Old Name!").to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = a.mutate(
        "POST",
        &path,
        "application/json",
        edit("Other Name!").to_string().as_bytes(),
    );
    r.assert_error(400, "invalid_request", INVALID_USERNAME);
}

/// Issue 15 item 8: every 429 page carries `Retry-After` and says in words, in the page's
/// language, how long to wait: the public forms and the dashboard's revoke form alike.
#[test]
fn rate_limited_pages_say_how_long_to_wait() {
    let s = start();
    s.add_user("jo");
    let (_t, dev) = s.pair("jo", "v");
    let mut u = user_login(&s, "jo", PW);
    let mut g = Browser::new(&s);
    for _ in 0..9 {
        let r = g.post_public(
            "/login",
            &[("username", "jo"), ("password", "wrong-password")],
        );
        assert_eq!(r.status, 401);
    }
    let check = |r: &Resp, text: &str| {
        assert_eq!(r.status, 429, "{}", r.text());
        let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((540..=600).contains(&retry), "{retry}");
        assert!(r.text().contains(text), "{}", r.text());
    };
    let r = g.post_public("/login", &[("username", "jo"), ("password", PW)]);
    check(&r, "Too many attempts. Try again in 10 minutes.");
    let csrf = g.locale_csrf();
    let body =
        common::web::form_body(&[("username", "jo"), ("password", PW), ("locale_csrf", &csrf)]);
    let r = g.req(
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept-Language", "ru"),
        ],
        body.as_bytes(),
    );
    check(
        &r,
        "Слишком много попыток. Повторите попытку через 10 минут.",
    );

    // The revoke form's limit (auth-test, per user): ten wrong passwords, then the page.
    let csrf = u.csrf();
    let path = format!("/api/v1/user/devices/{dev}/revoke");
    for _ in 0..10 {
        let r = u.post_form(
            &path,
            &[("password", "wrong-password"), ("csrf_token", &csrf)],
        );
        assert_eq!(r.status, 303);
    }
    let r = u.post_form(&path, &[("password", PW), ("csrf_token", &csrf)]);
    check(&r, "Try again in 10 minutes.");
}
