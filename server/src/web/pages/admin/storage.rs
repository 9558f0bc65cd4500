//! The storage section (`templates/admin/storage.html`): the stats cards and the retention
//! cleanup form (re-authenticated).

use askama::Template;

use super::StatCard;
use crate::store::stats::ServerStats;
use crate::web::pages::layout::{Flash, Ui};

#[derive(Template)]
#[template(path = "admin/storage.html")]
struct Storage<'a> {
    ui: &'a Ui<'a>,
    flash: Option<Flash>,
    cards: Vec<StatCard>,
}

/// `flash` is a catalog key (`admin.cleanupDone` after a cleanup).
pub(crate) fn render(ui: &Ui<'_>, flash: Option<&str>, stats: &ServerStats) -> String {
    crate::web::pages::render(&Storage {
        ui,
        flash: flash.map(|k| ui.flash(k)),
        cards: super::stat_cards(ui, stats),
    })
}
