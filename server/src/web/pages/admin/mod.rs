//! The admin console pages (spec §6.11), one module per sidebar section, plus the pieces
//! several of them share: the stats cards of §6.14 and the audit table
//! (`templates/admin/parts.html`), and [`notice`], a page that is only a flash (failed
//! actions, a bad vault query).
//!
//! Every page extends `templates/admin/console.html`, which draws the sidebar from
//! `Ui::nav` (`Nav::Admin(csrf, section)`) and the page title as `<h1>`. The login page is
//! the exception: it has no session, so it extends the plain layout.

pub(crate) mod audit;
pub(crate) mod dashboard;
pub(crate) mod devices;
pub(crate) mod diagnostics;
pub(crate) mod history;
pub(crate) mod login;
pub(crate) mod password;
pub(crate) mod settings;
pub(crate) mod storage;
pub(crate) mod users;
pub(crate) mod vaults;

use askama::Template;

use super::layout::{Flash, Ui};
use crate::store::stats::ServerStats;
use verstak_sync_proto::HealthStatus;

/// One stats card: `data-stat` key, the value as shown, and its label.
pub(crate) struct StatCard {
    pub key: &'static str,
    pub value: String,
    pub label: &'static str,
}

/// The §6.14 figures in spec order: counts with digit groups, the two sizes in binary units,
/// the two timestamps as local dates.
pub(crate) fn stat_cards(ui: &Ui<'_>, s: &ServerStats) -> Vec<StatCard> {
    let n = |key: &'static str, v: i64| (key, ui.count(&v));
    let b = |key: &'static str, v: i64| (key, ui.bytes(&v));
    let figures = [
        n("users", s.users),
        n("active_users", s.active_users),
        n("blocked_users", s.blocked_users),
        n("unconfirmed_users", s.unconfirmed_users),
        n("active_devices", s.active_devices),
        n("revoked_devices", s.revoked_devices),
        n("vaults", s.vaults),
        n("operations", s.operations),
        n("operations_24h", s.operations_24h),
        n("blobs", s.blobs),
        n("blob_references", s.blob_references),
        n("orphan_blobs", s.orphan_blobs),
        n("temp_uploads", s.temp_uploads),
        n("expired_sessions", s.expired_sessions),
        n("expired_email_tokens", s.expired_email_tokens),
        n("audit_events", s.audit_events),
        b("database_bytes", s.database_bytes),
        b("blob_bytes", s.blob_bytes),
        ("last_sync_activity", ui.date(&s.last_sync_activity)),
        ("last_cleanup_at", ui.date(&s.last_cleanup_at)),
    ];
    figures
        .into_iter()
        .map(|(key, value)| StatCard {
            key,
            value,
            label: ui.t(&format!("stats.{key}")),
        })
        .collect()
}

/// The readiness report as a sentence: "Healthy: database and blob store reachable", or
/// "Degraded: " and what is wrong. `true` when healthy.
pub(crate) fn health_sentence(ui: &Ui<'_>, h: &HealthStatus) -> (bool, String) {
    let mut wrong = Vec::new();
    if !h.database_reachable {
        wrong.push(ui.t("health.dbDown"));
    }
    if !h.blob_storage_writable {
        wrong.push(ui.t("health.blobsDown"));
    }
    if h.status == "ok" && wrong.is_empty() {
        return (true, ui.t("health.ok").to_owned());
    }
    if wrong.is_empty() {
        wrong.push(h.status.as_str());
    }
    let problems = wrong.join("; ");
    (
        false,
        ui.t("health.degraded").replace("{problems}", &problems),
    )
}

#[derive(Template)]
#[template(path = "admin/notice.html")]
struct Notice<'a> {
    ui: &'a Ui<'a>,
    flash: Flash,
}

/// An admin page whose body is only the flash for `key`.
pub(crate) fn notice(ui: &Ui<'_>, key: &str) -> String {
    super::render(&Notice {
        ui,
        flash: ui.flash(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Locale;
    use crate::web::pages::layout::Nav;

    /// An English admin page's context at `page`.
    fn ui(page: &'static str) -> Ui<'static> {
        Ui {
            loc: Locale::En,
            title: "",
            server_name: "",
            allow_registration: false,
            locale_csrf: "",
            here: "/",
            nav: Nav::Admin("", page),
            notice: None,
        }
    }

    #[test]
    fn stat_cards_follow_the_serialized_fields_in_order() {
        let ui = ui("/admin/storage");
        let s = ServerStats {
            users: 7,
            ..Default::default()
        };
        let json = serde_json::to_string(&s).unwrap();
        let keys: Vec<&str> = stat_cards(&ui, &s).iter().map(|c| c.key).collect();
        // serde writes struct fields in declaration order, which is the spec's order.
        let mut at = 0;
        for k in &keys {
            let i = json[at..].find(&format!("\"{k}\":")).map(|i| i + at);
            assert!(i.is_some(), "{k} missing or out of order in {json}");
            at = i.unwrap();
        }
        assert_eq!(keys.len(), json.matches("\":").count());
        let cards = stat_cards(&ui, &s);
        assert_eq!((cards[0].value.as_str(), cards[0].label), ("7", "Users"));
        assert!(cards.iter().all(|c| c.label != "Translation unavailable"));
        let s = ServerStats {
            operations: 1_234_567,
            blob_bytes: 3 * 512 * 1024 * 1024,
            ..Default::default()
        };
        let cards = stat_cards(&ui, &s);
        let value = |k: &str| cards.iter().find(|c| c.key == k).unwrap().value.clone();
        assert_eq!(value("operations"), "1,234,567");
        assert_eq!(value("blob_bytes"), "1.5 GiB");
    }

    #[test]
    fn health_reads_as_a_sentence() {
        let ui = ui("/admin/dashboard");
        let mut h = HealthStatus {
            status: "ok".into(),
            database_reachable: true,
            blob_storage_writable: true,
            ..Default::default()
        };
        assert_eq!(
            health_sentence(&ui, &h),
            (true, "Healthy: database and blob store reachable".into())
        );
        h.status = "degraded".into();
        h.blob_storage_writable = false;
        assert_eq!(
            health_sentence(&ui, &h),
            (
                false,
                "Degraded: the blob store is not writable (is the disk full?)".into()
            )
        );
    }
}
