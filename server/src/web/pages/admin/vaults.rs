//! The vaults section: every user's vaults (`templates/admin/vaults.html`) and one vault's
//! detail with its devices (`admin/vault.html`). Operation payloads are never shown.

use askama::Template;

use crate::store::admin::{DeviceRow, VaultRow};
use crate::web::escape::qenc;
use crate::web::pages::layout::Ui;

#[derive(Template)]
#[template(path = "admin/vaults.html")]
struct Vaults<'a> {
    ui: &'a Ui<'a>,
    rows: &'a [VaultRow],
}

/// The detail page link of a vault row.
fn detail_href(v: &VaultRow) -> String {
    format!(
        "/admin/vault/?user={}&vault={}",
        qenc(&v.user_id),
        qenc(&v.vault_id)
    )
}

pub(crate) fn list(ui: &Ui<'_>, rows: &[VaultRow]) -> String {
    crate::web::pages::render(&Vaults { ui, rows })
}

#[derive(Template)]
#[template(path = "admin/vault.html")]
struct Vault<'a> {
    ui: &'a Ui<'a>,
    user: &'a str,
    vault: &'a str,
    row: &'a VaultRow,
    devices: &'a [DeviceRow],
}

/// The vault `vault` of the user id `user`.
pub(crate) fn detail(
    ui: &Ui<'_>,
    user: &str,
    vault: &str,
    row: &VaultRow,
    devices: &[DeviceRow],
) -> String {
    crate::web::pages::render(&Vault {
        ui,
        user,
        vault,
        row,
        devices,
    })
}
