//! The user dashboard (`templates/dashboard.html`, spec §6.10): a filter, the user's vaults
//! with their active device counts, and the devices (name and id, vault, client version, first
//! and last seen); each active device has a revoke dialog that names it (name, id, vault) and
//! posts `password` and `csrf_token` to `/api/v1/user/devices/<id>/revoke`.

use askama::Template;

use super::layout::{Flash, Ui};
use crate::store::admin::DeviceRow;
use crate::web::escape::qenc;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard<'a> {
    ui: &'a Ui<'a>,
    flashes: Vec<Flash>,
    q: &'a str,
    vaults: Vec<Vault<'a>>,
    devices: Vec<Device<'a>>,
}

struct Vault<'a> {
    id: &'a str,
    /// The vault's files and history (`/vaults/{id}`).
    url: String,
    /// Devices of this vault that are not revoked.
    active: usize,
}

struct Device<'a> {
    /// The device id (`dev_…`), shown under the name and in the revoke dialog, so devices with
    /// the same name tell apart.
    id: &'a str,
    name: &'a str,
    vault_id: &'a str,
    client_version: &'a str,
    created: String,
    last_seen: String,
    /// The revoke form's action; `None` for a revoked device.
    revoke_url: Option<String>,
}

/// The distinct non-empty vault ids of `rows`, sorted, with their active device counts.
fn vaults(rows: &[DeviceRow]) -> Vec<Vault<'_>> {
    let mut ids: Vec<&str> = rows
        .iter()
        .map(|d| d.vault_id.as_str())
        .filter(|v| !v.is_empty())
        .collect();
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .map(|id| Vault {
            id,
            url: super::vaults::vault_url(id, ""),
            active: rows
                .iter()
                .filter(|d| d.vault_id == id && d.revoked_at.is_empty())
                .count(),
        })
        .collect()
}

/// The page. `flash_keys` are the accepted `?flash=`/`?error=` keys, `q` the filter as
/// applied; the revoke forms carry the session CSRF token of `ui.nav`.
pub(crate) fn render(ui: &Ui<'_>, flash_keys: &[&str], q: &str, rows: &[DeviceRow]) -> String {
    let devices = rows
        .iter()
        .map(|d| Device {
            id: &d.id,
            name: &d.name,
            vault_id: &d.vault_id,
            client_version: &d.client_version,
            created: ui.date(&d.created_at),
            last_seen: ui.date(&d.last_seen),
            revoke_url: d
                .revoked_at
                .is_empty()
                .then(|| format!("/api/v1/user/devices/{}/revoke", qenc(&d.id))),
        })
        .collect();
    super::render(&Dashboard {
        ui,
        flashes: flash_keys.iter().map(|k| ui.flash(k)).collect(),
        q,
        vaults: vaults(rows),
        devices,
    })
}
