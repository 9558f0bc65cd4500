//! The user dashboard tells devices apart: each row shows the device's name and id, its vault,
//! client version and last seen, and each revoke dialog names the device it revokes.

mod common;

use common::web::user_login;
use common::*;
use serde_json::json;

/// Pairs a device for `login` with an explicit name and client version; returns its id.
fn pair(s: &TestServer, login: &str, name: &str, version: &str, vault: &str) -> String {
    let r = s.post(
        "/api/client/pair",
        None,
        &json!({"login": login, "password": PW, "device_name": name,
                "client_version": version, "vault_id": vault}),
    );
    assert_eq!(r.status, 200, "pair failed: {}", r.text());
    r.json()["device_id"].as_str().unwrap().to_owned()
}

/// The `<td>` cells of the table row whose first cell carries `id`.
fn row_cells(page: &str, id: &str) -> Vec<String> {
    let row = page
        .split("<tr>")
        .find(|r| r.contains(&format!("<code class=\"muted\">{id}</code>")))
        .unwrap_or_else(|| panic!("no row for {id}"));
    let row = row.split("</tr>").next().unwrap();
    row.split("<td>")
        .skip(1)
        .map(|c| c.split("</td>").next().unwrap().to_string())
        .collect()
}

#[test]
fn dashboard_rows_and_revoke_dialogs_name_each_device() {
    let s = TestServer::start();
    s.add_user("fay");
    // Two devices with the same name: only the id tells them apart.
    let a = pair(&s, "fay", "laptop · notes", "verstak-sync/9.8.7", "vault-f");
    let b = pair(&s, "fay", "laptop · notes", "verstak-sync/1.2.3", "vault-f");
    assert_ne!(a, b);
    let mut u = user_login(&s, "fay", PW);
    let page = u.get("/dashboard");
    assert_eq!(page.status, 200);
    let t = page.text();

    for (id, version) in [(&a, "verstak-sync/9.8.7"), (&b, "verstak-sync/1.2.3")] {
        let cells = row_cells(&t, id);
        assert_eq!(
            cells[0],
            format!("laptop · notes<br><code class=\"muted\">{id}</code>")
        );
        assert_eq!(cells[1], "vault-f");
        assert_eq!(cells[2], version);
        assert!(!cells[3].trim().is_empty(), "created: {cells:?}");
        assert!(!cells[4].trim().is_empty(), "last seen: {cells:?}");
        // The revoke dialog posting to this device's URL names it.
        let action = format!("action=\"/api/v1/user/devices/{id}/revoke\"");
        let dialog = t
            .split("<dialog")
            .find(|d| d.contains(&action))
            .unwrap_or_else(|| panic!("no revoke dialog for {id}"));
        assert!(
            dialog.contains(&format!(
                "<strong>laptop · notes</strong> · <code>{id}</code> · vault-f"
            )),
            "{dialog}"
        );
    }
}
