//! The admin console reads like a product (issue 15 item 11), against the real binary over
//! HTTP: human labels and units, health as a sentence, names in the audit log, a storage page
//! of its own, questions only before harmful actions, and a result message after each action.

mod common;

use common::web::{Browser, admin_login};
use common::*;

const ADMIN_PW: &str = "admin-pass-123";

fn start() -> TestServer {
    TestServer::start_with(None, &["--admin-user", "root", "--admin-pass", ADMIN_PW])
}

fn id_of(a: &mut Browser<'_>, name: &str) -> String {
    a.get(&format!("/admin/api/users?filter={name}")).json()["users"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn pages_use_labels_units_sentences_and_names() {
    let s = start();
    let (tok, dev) = s.user_device("alice", "vault-a");
    assert_eq!(s.upload(&tok, &[7u8; 3000]).status, 200);
    let mut a = admin_login(&s, "root", ADMIN_PW);
    let alice = id_of(&mut a, "alice");

    let dash = a.get("/admin/dashboard").text();
    assert!(
        dash.contains("Healthy: database and blob store reachable"),
        "{dash}"
    );
    assert!(!dash.contains("DB true") && !dash.contains("blobs true"));
    let bytes = |page: &str, key: &str| {
        let at = page.find(&format!("data-stat=\"{key}\"")).unwrap();
        let v = &page[at..];
        let v = &v[v.find("class=\"value\">").unwrap() + 14..];
        v[..v.find('<').unwrap()].to_owned()
    };
    let db = bytes(&dash, "database_bytes");
    assert!(db.ends_with(" KiB") || db.ends_with(" MiB"), "{db}");

    let settings = a.get("/admin/settings").text();
    for label in [
        "SMTP server",
        "Port",
        "Sender address",
        "Connection security",
        "None (unencrypted)",
    ] {
        assert!(settings.contains(label), "{label}");
    }
    assert!(!settings.contains("<label>smtp_host"), "raw keys as labels");
    for limit in [
        "<dt>Largest file</dt><dd>256 MiB</dd>",
        "<dt>Files per user</dt><dd>8 GiB</dd>",
        "<dt>Largest JSON request</dt><dd>2 MiB</dd>",
        "<dt>Operations per push</dt><dd>100</dd>",
    ] {
        assert!(settings.contains(limit), "{limit}");
    }

    let diag = a.get("/admin/diagnostics").text();
    assert!(diag.contains("Healthy: database and blob store reachable"));
    assert!(
        diag.contains("<dt>Database</dt><dd>reachable</dd>"),
        "{diag}"
    );
    assert!(!diag.contains("database_reachable</dt>"));

    // The audit log names the user and the device; the ids stay in the tooltip.
    let audit = a.get("/admin/audit?event=device_paired").text();
    assert!(
        audit.contains(&format!("<span title=\"{alice}\">alice</span>")),
        "{audit}"
    );
    assert!(
        audit.contains(&format!("<span title=\"{dev}\">")),
        "{audit}"
    );
    let by_name = a.get("/admin/audit?user=alic").text();
    assert!(by_name.contains("device_paired"), "user filter by name");

    // Storage has its own content: no stats cards, but the blob store, the database and
    // alice's usage against the 8 GiB quota.
    let storage = a.get("/admin/storage").text();
    assert!(!storage.contains("data-stat="), "repeats the dashboard");
    for part in ["blobs", "database", "usage", "retention"] {
        assert!(
            storage.contains(&format!("data-section=\"{part}\"")),
            "{part}"
        );
    }
    assert!(
        storage.contains(&format!(
            "<td class=\"long\" title=\"{alice}\">alice</td><td>2.9 KiB</td><td>8 GiB</td>"
        )),
        "{storage}"
    );
    assert!(storage.contains("<dd data-last-cleanup>"));
    assert!(
        storage.contains("<dt>Audit events kept for</dt><dd>90 days</dd>"),
        "{storage}"
    );
    assert!(storage.contains("<dt>Unfinished uploads kept for</dt><dd>1 day</dd>"));

    a.jar.push(("verstak_locale".into(), "ru".into()));
    let ru = a.get("/admin/settings").text();
    assert!(ru.contains("SMTP-сервер") && ru.contains("256 МиБ"), "{ru}");
    let ru = a.get("/admin/dashboard").text();
    assert!(ru.contains("Работает: база данных и хранилище файлов доступны"));
}

#[test]
fn harmless_actions_ask_nothing_and_every_action_says_what_it_did() {
    let s = start();
    let (_, dev) = s.user_device("bob", "vault-b");
    let mut g = Browser::new(&s);
    let r = g.post_public(
        "/register",
        &[
            ("username", "cat"),
            ("email", "cat@example.test"),
            ("password", PW),
            ("confirm", PW),
        ],
    );
    assert_eq!(r.status, 303);
    let mut a = admin_login(&s, "root", ADMIN_PW);
    let (bob, cat) = (id_of(&mut a, "bob"), id_of(&mut a, "cat"));

    // Only the unconfirmed account offers "Confirm email", and it asks no question; delete
    // asks in red, naming the user.
    let list = a.get("/admin/users").text();
    assert_eq!(list.matches("value=\"confirm-user\"").count(), 1, "{list}");
    assert!(list.contains("value=\"confirm-user\">Confirm email</button>"));
    assert!(list.contains(
        "value=\"delete-user\" class=\"danger\" data-confirm=\"Delete bob with all their devices"
    ));
    assert!(!list.contains("data-confirm=\"Are you sure?\""));

    let csrf = a.csrf();
    let mut act = |name: &str, id: &str| {
        let r = a.post_form(
            "/admin/action",
            &[
                ("action", name),
                ("id", id),
                ("password", ADMIN_PW),
                ("csrf_token", &csrf),
            ],
        );
        assert_eq!(r.status, 303, "{name}");
        let to = r.header("location").unwrap().to_owned();
        let first = a.get(&to).text();
        let again = a.get(&to).text();
        assert!(!again.contains("data-notice"), "{name}: shown once");
        (to, first)
    };
    let (to, page) = act("confirm-user", &cat);
    assert_eq!(to, "/admin/users");
    assert!(
        page.contains(
            "<p class=\"flash ok\" role=\"status\" data-notice>Email of cat confirmed.</p>"
        ),
        "{page}"
    );
    let (_, page) = act("toggle-user", &bob);
    assert!(page.contains("User bob blocked."));
    assert!(page.contains("data-status=\"blocked\""));
    let (_, page) = act("toggle-user", &bob);
    assert!(page.contains("User bob unblocked."));
    let (to, page) = act("reset-user-password", &bob);
    assert_eq!(to, "/admin/password-result");
    assert!(page.contains("Password of bob reset."));
    let (_, page) = act("delete-user", &cat);
    assert!(page.contains("User cat deleted."));

    let (to, page) = act("revoke-device", &dev);
    assert_eq!(to, "/admin/devices");
    assert!(page.contains("revoked."), "{page}");
    let (_, page) = act("delete-device", &dev);
    assert!(page.contains("deleted."), "{page}");

    // A JSON read of the admin API in between leaves the message for the page.
    let r = a.post_form(
        "/admin/action",
        &[
            ("action", "toggle-user"),
            ("id", &bob),
            ("password", ADMIN_PW),
            ("csrf_token", &csrf),
        ],
    );
    assert_eq!(r.status, 303);
    assert_eq!(a.get("/admin/api/stats").status, 200);
    assert!(a.get("/admin/users").text().contains("User bob blocked."));

    // In Russian too, and a notice never leaks to another admin session.
    let mut other = admin_login(&s, "root", ADMIN_PW);
    a.jar.push(("verstak_locale".into(), "ru".into()));
    let r = a.post_form(
        "/admin/action",
        &[
            ("action", "edit-user"),
            ("id", &bob),
            ("username", "bob"),
            ("email", ""),
            ("csrf_token", &csrf),
        ],
    );
    assert_eq!(r.header("location"), Some("/admin/users"));
    assert!(!other.get("/admin/users").text().contains("data-notice"));
    let page = a.get("/admin/users").text();
    assert!(page.contains("Пользователь bob сохранён."), "{page}");
    assert!(
        page.contains("data-no-email"),
        "the console may clear an email"
    );
}
