//! The settings section (`templates/admin/settings.html`): the web settings form, the SMTP
//! form (the stored password is never shown; fields keep their spec names, labels are text),
//! the SMTP test form and the limits in force in human units.

use askama::Template;

use crate::mail::SmtpSettings;
use crate::state::WebSettings;
use crate::web::pages::layout::{Choice, Flash, Ui};
use verstak_sync_proto::Limits;

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct Settings<'a> {
    ui: &'a Ui<'a>,
    flash: Option<Flash>,
    web: &'a WebSettings,
    locales: Vec<Choice<'a>>,
    trusted_proxies: &'a str,
    smtp: &'a SmtpSettings,
    security: Vec<Choice<'a>>,
    /// `(label, value as shown)`: sizes in binary units, counts with digit groups.
    limits: Vec<(&'static str, String)>,
}

/// The page data as stored; `flash` is a catalog key, `trusted_proxies` the joined list.
pub(crate) struct SettingsView<'a> {
    pub flash: Option<&'a str>,
    pub web: &'a WebSettings,
    pub trusted_proxies: &'a str,
    pub smtp: &'a SmtpSettings,
    pub limits: &'a Limits,
}

pub(crate) fn render(ui: &Ui<'_>, v: &SettingsView<'_>) -> String {
    let l = v.limits;
    crate::web::pages::render(&Settings {
        ui,
        flash: v.flash.map(|k| ui.flash(k)),
        web: v.web,
        locales: Choice::list(
            &v.web.default_locale,
            &[("en", "English"), ("ru", "Русский")],
        ),
        trusted_proxies: v.trusted_proxies,
        smtp: v.smtp,
        security: Choice::list(
            &v.smtp.security,
            &[
                ("none", ui.t("smtp.securityNone")),
                ("starttls", ui.t("smtp.securityStarttls")),
                ("tls", ui.t("smtp.securityTls")),
            ],
        ),
        limits: [
            ("max_json_body", ui.bytes(&l.max_json_body)),
            ("max_push_operations", ui.count(&l.max_push_operations)),
            ("max_payload_json", ui.bytes(&l.max_payload_json)),
            ("max_pull_page", ui.count(&l.max_pull_page)),
            ("max_blob_bytes", ui.bytes(&l.max_blob_bytes)),
            ("max_vault_blob_bytes", ui.bytes(&l.max_vault_blob_bytes)),
            ("max_user_blob_bytes", ui.bytes(&l.max_user_blob_bytes)),
        ]
        .into_iter()
        .map(|(key, shown)| (ui.t(&format!("limit.{key}")), shown))
        .collect(),
    })
}
