//! The devices section (`templates/admin/devices.html`): filters, the list with token hints
//! (never whole tokens), and a manage dialog per device.

use askama::Template;

use crate::store::admin::DeviceRow;
use crate::web::pages::layout::{Choice, Ui};

/// The filters as applied (each trimmed to 160 characters).
pub(crate) struct DeviceFilter<'a> {
    pub q: &'a str,
    pub user: &'a str,
    pub vault: &'a str,
    pub version: &'a str,
    pub status: &'a str,
    pub sort: &'a str,
}

#[derive(Template)]
#[template(path = "admin/devices.html")]
struct Devices<'a> {
    ui: &'a Ui<'a>,
    f: &'a DeviceFilter<'a>,
    status: Vec<Choice<'a>>,
    sort: Vec<Choice<'a>>,
    rows: &'a [DeviceRow],
}

pub(crate) fn render(ui: &Ui<'_>, f: &DeviceFilter<'_>, rows: &[DeviceRow]) -> String {
    let t = |k| ui.t(k);
    crate::web::pages::render(&Devices {
        ui,
        f,
        status: Choice::list(
            f.status,
            &[
                ("", t("admin.statusAll")),
                ("active", t("admin.statusActive")),
                ("revoked", t("admin.statusRevoked")),
            ],
        ),
        sort: Choice::list(
            f.sort,
            &[
                ("created", t("admin.created")),
                ("name", t("device.name")),
                ("last_seen", t("admin.lastSeen")),
            ],
        ),
        rows,
    })
}
