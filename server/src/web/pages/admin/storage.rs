//! The storage section (`templates/admin/storage.html`): what the server keeps on disk, not
//! the dashboard's cards. The blob store (size, files, references, orphans, unfinished
//! uploads), the database (file and write-ahead log sizes, operations, audit events), each
//! user's stored bytes against the per-user quota, and retention (last run, what waits for
//! it, the re-authenticated "run now" form).

use askama::Template;

use crate::store::stats::{ServerStats, UserUsage};
use crate::web::pages::layout::{Flash, Ui};

/// One user's usage as shown: name (id in the tooltip), bytes, share of the quota.
pub(crate) struct UsageRow<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub used: String,
    /// Per mille of the quota, for the `<meter>` (0 to 1000).
    pub permille: i64,
    pub share: String,
}

#[derive(Template)]
#[template(path = "admin/storage.html")]
struct Storage<'a> {
    ui: &'a Ui<'a>,
    flash: Option<Flash>,
    s: &'a ServerStats,
    wal_bytes: i64,
    quota: String,
    usage: Vec<UsageRow<'a>>,
    /// `(label key, seconds)` of each retention period.
    keep: [(&'static str, i64); 3],
}

/// The page data: the §6.14 figures, the WAL size, the per-user quota and usage.
pub(crate) struct StorageView<'a> {
    pub flash: Option<&'a str>,
    pub stats: &'a ServerStats,
    pub wal_bytes: i64,
    pub user_quota: i64,
    pub usage: &'a [UserUsage],
    /// Retention periods in seconds: audit events, idempotency records, unfinished uploads.
    pub keep_secs: [i64; 3],
}

/// `used` of `quota` as a percentage with one decimal (`0.1 %`, ru `0,1 %`).
fn share(ui: &Ui<'_>, used: i64, quota: i64) -> (i64, String) {
    if quota <= 0 {
        return (0, String::new());
    }
    let permille = (used.saturating_mul(1000) / quota).clamp(0, 1000);
    let tenths = (used as f64 * 1000.0 / quota as f64).round() as i64;
    let dot = if ui.loc == crate::web::i18n::Locale::Ru {
        ","
    } else {
        "."
    };
    // A little usage is "< 0.1 %", never "0.0 %".
    let text = if tenths == 0 && used > 0 {
        format!("< 0{dot}1 %")
    } else {
        format!("{}{dot}{} %", ui.count(&(tenths / 10)), tenths % 10)
    };
    (permille, text)
}

pub(crate) fn render(ui: &Ui<'_>, v: &StorageView<'_>) -> String {
    let usage = v
        .usage
        .iter()
        .map(|u| {
            let (permille, share) = share(ui, u.bytes, v.user_quota);
            UsageRow {
                user_id: &u.user_id,
                name: if u.username.is_empty() {
                    &u.user_id
                } else {
                    &u.username
                },
                used: ui.bytes(&u.bytes),
                permille,
                share,
            }
        })
        .collect();
    crate::web::pages::render(&Storage {
        ui,
        flash: v.flash.map(|k| ui.flash(k)),
        s: v.stats,
        wal_bytes: v.wal_bytes,
        quota: ui.bytes(&v.user_quota),
        usage,
        keep: [
            ("storage.keepAudit", v.keep_secs[0]),
            ("storage.keepIdempotency", v.keep_secs[1]),
            ("storage.keepUploads", v.keep_secs[2]),
        ],
    })
}
