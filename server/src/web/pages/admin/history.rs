//! The history section (`templates/admin/history.html`): the `history:` settings of
//! `config.yml` as a form (re-authenticated), docs/history-retention.md.

use askama::Template;

use crate::config::HistoryCfg;
use crate::web::pages::layout::{Flash, Ui};

#[derive(Template)]
#[template(path = "admin/history.html")]
struct History<'a> {
    ui: &'a Ui<'a>,
    flash: Option<Flash>,
    /// (setting name, label, value) in the form's order.
    fields: Vec<(&'static str, &'a str, String)>,
}

/// The settings as the form's fields, in order.
pub(crate) fn fields(h: &HistoryCfg) -> Vec<(&'static str, String)> {
    vec![
        ("compact_min_backlog", h.compact_min_backlog.to_string()),
        ("keep_all_days", h.keep_all_days.to_string()),
        ("keep_daily_days", h.keep_daily_days.to_string()),
        ("tombstone_days", h.tombstone_days.to_string()),
        ("blob_grace_hours", h.blob_grace_hours.to_string()),
    ]
}

/// `flash` is a catalog key (`admin.historySaved`, `error.invalidHistory`).
pub(crate) fn render(ui: &Ui<'_>, flash: Option<&str>, h: &HistoryCfg) -> String {
    crate::web::pages::render(&History {
        ui,
        flash: flash.map(|k| ui.flash(k)),
        fields: fields(h)
            .into_iter()
            .map(|(name, value)| (name, ui.t(&format!("history.{name}")), value))
            .collect(),
    })
}
