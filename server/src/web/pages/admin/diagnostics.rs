//! The diagnostics section (`templates/admin/diagnostics.html`): the readiness report and
//! links to `/api/v1/health` and `/admin/diagnostics.json`.

use askama::Template;

use crate::web::pages::layout::Ui;
use verstak_sync_proto::HealthStatus;

#[derive(Template)]
#[template(path = "admin/diagnostics.html")]
struct Diagnostics<'a> {
    ui: &'a Ui<'a>,
    h: &'a HealthStatus,
}

pub(crate) fn render(ui: &Ui<'_>, h: &HealthStatus) -> String {
    crate::web::pages::render(&Diagnostics { ui, h })
}
