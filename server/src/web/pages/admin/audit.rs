//! The audit section (`templates/admin/audit.html`): filters by event, user and severity, and
//! the matching events.

use askama::Template;

use crate::store::admin::AuditRow;
use crate::web::pages::layout::Ui;

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct Audit<'a> {
    ui: &'a Ui<'a>,
    event: &'a str,
    user: &'a str,
    severity: &'a str,
    rows: &'a [AuditRow],
}

/// The filters as applied, then the rows.
pub(crate) fn render(
    ui: &Ui<'_>,
    event: &str,
    user: &str,
    severity: &str,
    rows: &[AuditRow],
) -> String {
    crate::web::pages::render(&Audit {
        ui,
        event,
        user,
        severity,
        rows,
    })
}
