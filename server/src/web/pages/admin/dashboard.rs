//! The console dashboard (`templates/admin/dashboard.html`): warnings, accounts waiting for
//! confirmation, the stats cards, the readiness summary and the five latest audit events.

use askama::Template;

use super::StatCard;
use crate::store::admin::AuditRow;
use crate::store::stats::ServerStats;
use crate::web::pages::layout::Ui;
use verstak_sync_proto::HealthStatus;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct Dashboard<'a> {
    ui: &'a Ui<'a>,
    warnings: &'a [&'a str],
    /// Unconfirmed accounts: shown with a link to the users list filtered to them.
    pending: i64,
    cards: Vec<StatCard>,
    /// The readiness report as a sentence, and whether it is healthy.
    healthy: bool,
    health: String,
    recent: &'a [AuditRow],
}

/// `warnings` are catalog keys (`admin.warning…`), also used as `data-warning`.
pub(crate) fn render(
    ui: &Ui<'_>,
    warnings: &[&str],
    stats: &ServerStats,
    health: &HealthStatus,
    recent: &[AuditRow],
) -> String {
    let (healthy, health) = super::health_sentence(ui, health);
    crate::web::pages::render(&Dashboard {
        ui,
        warnings,
        pending: stats.unconfirmed_users,
        cards: super::stat_cards(ui, stats),
        healthy,
        health,
        recent,
    })
}
