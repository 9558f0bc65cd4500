//! Admin pages (spec §6.11), second part: vaults, vault detail (never op payloads), storage,
//! audit, settings and diagnostics.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::pages::{admin_page, admin_page_status, audit_table, stats_cards};
use super::{Admin, filter, server_stats};
use crate::error::ApiError;
use crate::mail;
use crate::routes::health::readiness;
use crate::routes::only;
use crate::state::AppState;
use crate::store::admin::{self as q, DeviceQuery};
use crate::web::html::{esc, flash, hidden, qenc};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/vaults", only("GET").get(vaults))
        .route("/admin/vault/", only("GET").get(vault))
        .route("/admin/storage", only("GET").get(storage))
        .route("/admin/audit", only("GET").get(audit))
        .route("/admin/settings", only("GET").get(settings))
        .route("/admin/diagnostics", only("GET").get(diagnostics))
}

fn vault_table(a: &super::Admin, rows: &[q::VaultRow]) -> String {
    let t = |k| esc(a.cx.t(k));
    let mut s = format!(
        "<table class=\"vaults\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t("device.user"),
        t("device.vault"),
        t("admin.devicesCount"),
        t("admin.ops"),
        t("admin.blobBytes"),
        t("admin.lastActivity")
    );
    for v in rows {
        s.push_str(&format!(
            "<tr><td>{}</td><td><a href=\"/admin/vault/?user={}&amp;vault={}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&v.username), qenc(&v.user_id), qenc(&v.vault_id), esc(&v.vault_id), v.devices, v.ops, v.blob_bytes,
            esc(&a.cx.date(&v.last_activity))
        ));
    }
    s.push_str("</tbody></table>");
    s
}

async fn vaults(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let rows = st.db.read(|c| q::vaults(c, None)).await?;
    let body = vault_table(&a, &rows);
    Ok(admin_page(a, "/admin/vaults", "admin.vaults", &body))
}

async fn vault(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let (user, vault) = (
        a.query.get("user").to_owned(),
        a.query.get("vault").to_owned(),
    );
    if user.is_empty() || vault.is_empty() {
        let body = flash(&a.cx, "error.badRequest");
        return Ok(admin_page_status(
            a,
            StatusCode::BAD_REQUEST,
            "/admin/vaults",
            "admin.vault",
            &body,
        ));
    }
    let (u2, v2) = (user.clone(), vault.clone());
    let (row, devices) = st
        .db
        .read(move |c| {
            let row = q::vaults(c, Some((&u2, &v2)))?
                .into_iter()
                .next()
                .unwrap_or_default();
            let dq = DeviceQuery {
                exact_scope: Some((u2.clone(), v2.clone())),
                order: "d.created_at DESC",
                ..Default::default()
            };
            Ok((row, q::devices(c, &dq)?))
        })
        .await?;
    let t = |k| esc(a.cx.t(k));
    let mut body = format!(
        "<div class=\"card\"><p>{}: {}</p><p>{}: {}</p><dl>\
         <dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>\
         <dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl></div>",
        t("device.user"),
        esc(&user),
        t("device.vault"),
        esc(&vault),
        t("admin.devicesCount"),
        row.devices,
        t("admin.activeDevices"),
        row.active_devices,
        t("admin.revokedDevices"),
        row.devices - row.active_devices,
        t("admin.ops"),
        row.ops,
        t("admin.lastSequence"),
        row.last_sequence,
        t("admin.lastActivity"),
        esc(&a.cx.date(&row.last_activity)),
        t("admin.blobBytes"),
        row.blob_bytes,
    );
    body.push_str("<table class=\"devices\"><tbody>");
    for d in &devices {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.name),
            esc(&d.client_version),
            esc(&a.cx.date(&d.last_seen)),
            esc(&a.cx.date(&d.revoked_at))
        ));
    }
    body.push_str("</tbody></table>");
    Ok(admin_page(a, "/admin/vaults", "admin.vault", &body))
}

async fn storage(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let s = server_stats(&st).await?;
    let mut body = String::new();
    if a.query.get("flash") == "cleanup_done" {
        body.push_str(&flash(&a.cx, "admin.cleanupDone"));
    }
    body.push_str(&stats_cards(&a, &s));
    body.push_str(&format!(
        "<form method=\"post\" action=\"/admin/action\" class=\"stack\">{}{}<label>{}<input type=\"password\" name=\"password\"></label>\
         <button type=\"submit\">{}</button></form>",
        hidden("csrf_token", &a.csrf),
        hidden("action", "cleanup"),
        esc(a.cx.t("admin.yourPassword")),
        esc(a.cx.t("admin.cleanup"))
    ));
    Ok(admin_page(a, "/admin/storage", "admin.storage", &body))
}

async fn audit(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let (event, user) = (filter(&a.query, "event"), filter(&a.query, "user"));
    let severity = a.query.get("severity").to_owned();
    let (e2, u2) = (event.clone(), user.clone());
    const ERRORS: &[&str] = &["device_auth_failed", "smtp_test_failed"];
    const WARNINGS: &[&str] = &[
        "device_revoked",
        "device_deleted",
        "rate_limit_exceeded",
        "user_block_changed",
        "user_deleted",
        "user_password_reset",
    ];
    let types: Option<&'static [&'static str]> = match severity.as_str() {
        "error" => Some(ERRORS),
        "warning" => Some(WARNINGS),
        _ => None,
    };
    let rows = st
        .db
        .read(move |c| q::audit(c, &e2, &u2, types, 500))
        .await?;
    let mut body = format!(
        "<form class=\"filters\" method=\"get\" action=\"/admin/audit\"><label>{}<input name=\"event\" value=\"{}\"></label>\
         <label>{}<input name=\"user\" value=\"{}\"></label><label>severity<select name=\"severity\">\
         <option value=\"\"></option><option value=\"error\"{}>error</option><option value=\"warning\"{}>warning</option></select></label>\
         <button type=\"submit\">{}</button></form>",
        esc(a.cx.t("admin.event")),
        esc(&event),
        esc(a.cx.t("device.user")),
        esc(&user),
        if severity == "error" { " selected" } else { "" },
        if severity == "warning" {
            " selected"
        } else {
            ""
        },
        esc(a.cx.t("form.search"))
    );
    body.push_str(&audit_table(&a, &rows));
    Ok(admin_page(a, "/admin/audit", "admin.audit", &body))
}

async fn settings(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let smtp = mail::settings(&st).await?;
    let web = a.cx.web.clone();
    let t = |k| esc(a.cx.t(k));
    let mut body = String::new();
    let fl = a.query.get("flash");
    for (v, key) in [
        ("settings_saved", "admin.settingsSaved"),
        ("smtp_saved", "admin.smtpSaved"),
        ("smtp_test_passed", "admin.smtpTestPassed"),
        ("smtp_test_failed", "admin.smtpTestFailed"),
    ] {
        if fl == v {
            body.push_str(&flash(&a.cx, key));
        }
    }
    let field = |label: &str, name: &str, kind: &str, value: &str| {
        format!(
            "<label>{label}<input type=\"{kind}\" name=\"{name}\" value=\"{}\"></label>",
            esc(value)
        )
    };
    let csrf = hidden("csrf_token", &a.csrf);
    let pw = format!(
        "<label>{}<input type=\"password\" name=\"password\"></label>",
        t("admin.yourPassword")
    );
    let sel = |v: &str, cur: &str| if v == cur { " selected" } else { "" };
    body.push_str(&format!(
        "<div class=\"card\"><h2>{}</h2><form class=\"stack\" method=\"post\" action=\"/admin/action\">{csrf}{}\
         <label>{}<select name=\"default_locale\"><option value=\"en\"{}>English</option><option value=\"ru\"{}>Русский</option></select></label>\
         {}{}<label class=\"check\"><input type=\"checkbox\" name=\"allow_registration\"{}> {}</label>{pw}<button type=\"submit\">{}</button></form>\
         <p>{}: {}</p></div>",
        t("admin.general"), hidden("action", "web-settings"), t("admin.defaultLocale"),
        sel("en", &web.default_locale), sel("ru", &web.default_locale),
        field(&t("admin.publicUrl"), "public_url", "url", &web.public_url),
        field(&t("admin.serverName"), "server_name", "text", &web.server_name),
        if web.allow_registration { " checked" } else { "" }, t("admin.allowRegistration"), t("admin.save"),
        t("admin.trustedProxies"),
        esc(&st.config.trusted_proxies.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")),
    ));
    body.push_str(&format!(
        "<div class=\"card\"><h2>{}</h2><form class=\"stack\" method=\"post\" action=\"/admin/action\">{csrf}{}{}{}{}\
         <label>smtp_pass<input type=\"password\" name=\"smtp_pass\" value=\"\" autocomplete=\"new-password\"></label>\
         <label>smtp_security<select name=\"smtp_security\"><option value=\"none\"{}>none</option><option value=\"starttls\"{}>starttls</option><option value=\"tls\"{}>tls</option></select></label>\
         {}{}{pw}<button type=\"submit\">{}</button></form></div>",
        t("admin.smtp"), hidden("action", "smtp"),
        field("smtp_host", "smtp_host", "text", &smtp.host),
        field("smtp_port", "smtp_port", "text", &smtp.port),
        field("smtp_user", "smtp_user", "text", &smtp.user),
        sel("none", &smtp.security), sel("starttls", &smtp.security), sel("tls", &smtp.security),
        field("smtp_from", "smtp_from", "email", &smtp.from),
        field("server_url", "server_url", "url", &smtp.server_url),
        t("admin.save"),
    ));
    body.push_str(&format!(
        "<div class=\"card\"><h2>{}</h2><form class=\"stack\" method=\"post\" action=\"/admin/action\">{csrf}{}{}{pw}<button type=\"submit\">{}</button></form></div>",
        t("admin.smtpTest"), hidden("action", "smtp-test"), field(&t("admin.smtpTestTo"), "test_to", "email", ""), t("admin.smtpTest"),
    ));
    let l = &st.config.limits;
    body.push_str(&format!(
        "<div class=\"card\"><h2>{}</h2><dl><dt>max_json_body</dt><dd>{}</dd><dt>max_push_operations</dt><dd>{}</dd>\
         <dt>max_payload_json</dt><dd>{}</dd><dt>max_pull_page</dt><dd>{}</dd><dt>max_blob_bytes</dt><dd>{}</dd>\
         <dt>max_vault_blob_bytes</dt><dd>{}</dd><dt>max_user_blob_bytes</dt><dd>{}</dd></dl></div>",
        t("admin.limits"), l.max_json_body, l.max_push_operations, l.max_payload_json, l.max_pull_page,
        l.max_blob_bytes, l.max_vault_blob_bytes, l.max_user_blob_bytes
    ));
    Ok(admin_page(a, "/admin/settings", "admin.settings", &body))
}

async fn diagnostics(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let h = readiness(&st).await;
    let body = format!(
        "<div class=\"card\"><dl><dt>status</dt><dd>{}</dd><dt>version</dt><dd>{} ({})</dd><dt>uptime_seconds</dt><dd>{}</dd>\
         <dt>database_reachable</dt><dd>{}</dd><dt>blob_storage_writable</dt><dd>{}</dd><dt>schema_version</dt><dd>{}</dd></dl>\
         <p><a href=\"/api/v1/health\">/api/v1/health</a> · <a href=\"/admin/diagnostics.json\">/admin/diagnostics.json</a></p></div>",
        esc(&h.status),
        esc(&h.version),
        esc(&h.build_commit),
        h.uptime_seconds,
        h.database_reachable,
        h.blob_storage_writable,
        h.schema_version
    );
    Ok(admin_page(
        a,
        "/admin/diagnostics",
        "admin.diagnostics",
        &body,
    ))
}
