//! The diagnostics section (`templates/admin/diagnostics.html`): the readiness report (a
//! sentence, then each check with a label) and
//! links to `/api/v1/health` and `/admin/diagnostics.json`.

use askama::Template;

use crate::web::pages::layout::Ui;
use verstak_sync_proto::HealthStatus;

#[derive(Template)]
#[template(path = "admin/diagnostics.html")]
struct Diagnostics<'a> {
    ui: &'a Ui<'a>,
    h: &'a HealthStatus,
    healthy: bool,
    sentence: String,
}

pub(crate) fn render(ui: &Ui<'_>, h: &HealthStatus) -> String {
    let (healthy, sentence) = super::health_sentence(ui, h);
    crate::web::pages::render(&Diagnostics {
        ui,
        h,
        healthy,
        sentence,
    })
}
