//! Admin pages (spec §6.11): dashboard, users, create-user and devices. Filters are trimmed
//! to 160 characters and always passed to SQL as bound parameters; sort orders come from a
//! fixed list.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::action::refusal_flash;
use super::ops::{self, Actor, Via};
use super::{Admin, filter, paging, server_stats};
use crate::error::ApiError;
use crate::extract::CsrfForm;
use crate::json::JVal;
use crate::mail;
use crate::routes::health::readiness;
use crate::routes::only;
use crate::state::AppState;
use crate::store::admin::{self as q, DeviceQuery, UserQuery};
use crate::web::html::{self, Nav, esc, flash, hidden, input, qenc};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/dashboard", only("GET").get(dashboard))
        .route("/admin/users", only("GET").get(users))
        .route(
            "/admin/create-user",
            only("GET, POST").get(create_page).post(create),
        )
        .route("/admin/devices", only("GET").get(devices))
}

/// Renders an admin page with the sidebar section marked; always `no-store`.
pub(crate) fn admin_page(a: Admin, section: &str, title_key: &str, body: &str) -> Response {
    admin_page_status(a, StatusCode::OK, section, title_key, body)
}

pub(crate) fn admin_page_status(
    a: Admin,
    status: StatusCode,
    section: &str,
    title_key: &str,
    body: &str,
) -> Response {
    let title = esc(a.cx.t(title_key));
    let p = html::page(
        &a.cx,
        Nav::Admin(&a.csrf, section),
        &title,
        &format!("<h1>{title}</h1>{body}"),
    );
    a.cx.finish(html::no_store(html::html(status, p)))
}

/// The stats cards of §6.14 (numbers and the two timestamps).
pub(crate) fn stats_cards(a: &Admin, s: &crate::store::stats::ServerStats) -> String {
    // JVal keeps the spec's key order (serde_json's map would sort it).
    let bytes = serde_json::to_vec(s).unwrap_or_default();
    let mut out = String::from("<div class=\"cards\">");
    if let Ok(JVal::Obj(fields)) = serde_json::from_slice::<JVal>(&bytes) {
        for (k, val) in fields {
            let shown = match val {
                JVal::Str(t) => a.cx.date(&t),
                JVal::Int(n) => n.to_string(),
                _ => String::new(),
            };
            out.push_str(&format!(
                "<div class=\"card\" data-stat=\"{k}\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
                esc(&shown),
                esc(a.cx.t(&format!("stats.{k}")))
            ));
        }
    }
    out.push_str("</div>");
    out
}

/// An audit table.
pub(crate) fn audit_table(a: &Admin, rows: &[q::AuditRow]) -> String {
    let t = |k| esc(a.cx.t(k));
    let mut s = format!(
        "<table class=\"audit\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t("admin.time"),
        t("admin.event"),
        t("device.user"),
        t("device.name"),
        t("admin.ip"),
        t("admin.message")
    );
    for r in rows {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.cx.date(&r.created_at)),
            esc(&r.event_type),
            esc(&r.user_id),
            esc(&r.device_id),
            esc(&r.ip),
            esc(&r.message)
        ));
    }
    s.push_str("</tbody></table>");
    s
}

async fn dashboard(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let stats = server_stats(&st).await?;
    let health = readiness(&st).await;
    let smtp = mail::settings(&st).await?;
    let recent = st.db.read(|c| q::audit(c, "", "", None, 5)).await?;
    let mut warn = Vec::new();
    if health.status != "ok" {
        warn.push("admin.warningReadiness");
    }
    if !smtp.configured() {
        warn.push("admin.warningSMTP");
    }
    if stats.operations > 100_000 {
        warn.push("admin.warningOperations");
    }
    if smtp.configured() && mail::link_base(&smtp, &a.cx.web.public_url).is_empty() {
        warn.push("admin.warningLinkBase");
    }
    let mut body: String = warn
        .iter()
        .map(|k| {
            format!(
                "<p class=\"warning\" data-warning=\"{k}\">{}</p>",
                esc(a.cx.t(k))
            )
        })
        .collect();
    body.push_str(&stats_cards(&a, &stats));
    body.push_str(&format!(
        "<div class=\"card\"><h2>{}</h2><p>{} · DB {} · blobs {}</p></div>",
        esc(a.cx.t("admin.health")),
        esc(&health.status),
        health.database_reachable,
        health.blob_storage_writable
    ));
    body.push_str(&format!(
        "<h2>{}</h2>{}",
        esc(a.cx.t("admin.recentAudit")),
        audit_table(&a, &recent)
    ));
    Ok(admin_page(a, "/admin/dashboard", "admin.dashboard", &body))
}

fn select(name: &str, cur: &str, opts: &[(&str, String)]) -> String {
    let mut s = format!("<select name=\"{name}\">");
    for (v, label) in opts {
        let sel = if *v == cur { " selected" } else { "" };
        s.push_str(&format!(
            "<option value=\"{v}\"{sel}>{}</option>",
            esc(label)
        ));
    }
    s.push_str("</select>");
    s
}

fn reauth_field(a: &Admin) -> String {
    format!(
        "<label>{}<input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>",
        esc(a.cx.t("admin.yourPassword"))
    )
}

async fn users(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let (page, per_page) = paging(&a.query, 25);
    let status = a.query.get("status").to_owned();
    let sort = a.query.get("sort").to_owned();
    let uq = UserQuery {
        q: filter(&a.query, "q"),
        username_only: false,
        status: status.clone(),
        order: match sort.as_str() {
            "username" => "u.username ASC",
            "last_seen" => "COALESCE(u.last_seen, '') DESC, u.created_at DESC",
            _ => "u.created_at DESC, u.rowid DESC",
        }
        .to_owned(),
        page,
        per_page,
    };
    let qq = uq.clone();
    let (total, rows) = st.db.read(move |c| q::users(c, &qq)).await?;
    let t = |k: &str| a.cx.t(k).to_owned();
    let mut body = format!(
        "<p><a href=\"/admin/create-user\">{}</a></p><form class=\"filters\" method=\"get\" action=\"/admin/users\">\
         <label>{}<input type=\"search\" name=\"q\" value=\"{}\"></label><label>{}{}</label><label>{}{}</label>\
         <button type=\"submit\">{}</button></form>",
        esc(&t("admin.createUser")),
        esc(&t("form.filter")),
        esc(&uq.q),
        esc(&t("admin.status")),
        select(
            "status",
            &status,
            &[
                ("", t("admin.statusAll")),
                ("active", t("admin.statusActive")),
                ("blocked", t("admin.statusBlocked")),
                ("unconfirmed", t("admin.statusUnconfirmed"))
            ]
        ),
        esc(&t("admin.sort")),
        select(
            "sort",
            &sort,
            &[
                ("created", t("admin.created")),
                ("username", t("form.username")),
                ("last_seen", t("admin.lastSeen"))
            ]
        ),
        esc(&t("form.search")),
    );
    body.push_str(&format!(
        "<p class=\"muted\">{}: <span data-total>{total}</span></p><table class=\"users\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
        esc(&t("admin.total")), esc(&t("admin.id")), esc(&t("form.username")), esc(&t("form.email")), esc(&t("admin.confirmed")),
        esc(&t("admin.blocked")), esc(&t("admin.devicesCount")), esc(&t("admin.created")), esc(&t("admin.lastSeen"))
    ));
    let yn = |b: bool| esc(&t(if b { "admin.yes" } else { "admin.no" }));
    for u in &rows {
        let id = esc(&u.id);
        body.push_str(&format!(
            "<tr><td><code>{id}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><button type=\"button\" data-dialog-open=\"user-dialog-{id}\">{}</button>\
             <dialog id=\"user-dialog-{id}\"><h2>{}</h2>\
             <form method=\"post\" action=\"/admin/action\">{}{}{}{}{}<button type=\"submit\">{}</button></form>\
             <form method=\"post\" action=\"/admin/action\" data-confirm=\"{}\">{}{}{}\
             <menu><button type=\"submit\" name=\"action\" value=\"toggle-user\">{}</button>\
             <button type=\"submit\" name=\"action\" value=\"confirm-user\">{}</button>\
             <button type=\"submit\" name=\"action\" value=\"reset-user-password\">{}</button>\
             <button type=\"submit\" name=\"action\" value=\"delete-user\" class=\"danger\">{}</button></menu></form>\
             <menu><button type=\"button\" data-dialog-close>{}</button></menu></dialog></td></tr>",
            esc(&u.username), esc(&u.email), yn(u.confirmed), yn(u.blocked), u.devices,
            esc(&a.cx.date(&u.created_at)), esc(&a.cx.date(&u.last_seen)),
            esc(&t("admin.manage")), esc(&u.username),
            hidden("csrf_token", &a.csrf), hidden("action", "edit-user"), hidden("id", &u.id),
            input(&a.cx, "form.username", "username", "text", &u.username),
            input(&a.cx, "form.email", "email", "email", &u.email),
            esc(&t("admin.editUser")),
            esc(&t("confirm.dialogTitle")),
            hidden("csrf_token", &a.csrf), hidden("id", &u.id), reauth_field(&a),
            esc(&t("admin.toggleUser")), esc(&t("admin.confirmUser")), esc(&t("admin.resetPassword")),
            esc(&t("admin.deleteUser")), esc(&t("admin.close")),
        ));
    }
    body.push_str("</tbody></table>");
    let pages = ((total + per_page - 1) / per_page).max(1);
    let link = |p: i64| {
        format!(
            "/admin/users?q={}&amp;status={}&amp;sort={}&amp;per_page={per_page}&amp;page={p}",
            qenc(&uq.q),
            qenc(&status),
            qenc(&sort)
        )
    };
    body.push_str(&format!(
        "<div class=\"pager\"><span>{} {page} / <span data-pages>{pages}</span></span>",
        esc(&t("admin.page"))
    ));
    if page > 1 {
        body.push_str(&format!(
            "<a href=\"{}\">{}</a>",
            link(page - 1),
            esc(&t("admin.prev"))
        ));
    }
    if page < pages {
        body.push_str(&format!(
            "<a href=\"{}\">{}</a>",
            link(page + 1),
            esc(&t("admin.next"))
        ));
    }
    body.push_str("</div>");
    Ok(admin_page(a, "/admin/users", "admin.users", &body))
}

fn create_form(a: &Admin, username: &str, email: &str, flash_key: Option<&str>) -> String {
    format!(
        "{}<form class=\"stack\" method=\"post\" action=\"/admin/create-user\">{}{}{}{}<button type=\"submit\">{}</button></form>",
        flash_key.map(|k| flash(&a.cx, k)).unwrap_or_default(),
        hidden("csrf_token", &a.csrf),
        input(&a.cx, "form.username", "username", "text", username),
        input(&a.cx, "form.email", "email", "email", email),
        input(&a.cx, "form.password", "password", "password", ""),
        esc(a.cx.t("admin.createUser"))
    )
}

async fn create_page(a: Admin) -> Response {
    let f = create_form(&a, "", "", None);
    admin_page(a, "/admin/users", "admin.createUser", &f)
}

async fn create(
    State(st): State<AppState>,
    a: Admin,
    CsrfForm(form): CsrfForm,
) -> Result<Response, ApiError> {
    let (username, email_raw, pw) = (
        form.get("username").trim(),
        form.get("email").trim(),
        form.get("password"),
    );
    let again = |a: Admin, key: &str| {
        let f = create_form(&a, username, email_raw, Some(key));
        admin_page(a, "/admin/users", "admin.createUser", &f)
    };
    let actor = Actor::of(&a);
    match ops::create_user(&st, &actor, Via::Console, a.cx.loc, username, email_raw, pw).await? {
        Ok(_) => {
            Ok(a.cx.finish(html::redirect(StatusCode::SEE_OTHER, "/admin/users")))
        }
        Err(why) => Ok(again(a, refusal_flash(why).1)),
    }
}

async fn devices(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let status = a.query.get("status").to_owned();
    let sort = a.query.get("sort").to_owned();
    let dq = DeviceQuery {
        q: filter(&a.query, "q"),
        status: status.clone(),
        user: filter(&a.query, "user"),
        vault: filter(&a.query, "vault"),
        version: filter(&a.query, "version"),
        exact_scope: None,
        order: match sort.as_str() {
            "name" => "d.name ASC",
            "last_seen" => "COALESCE(d.last_seen, '') DESC",
            _ => "d.created_at DESC, d.rowid DESC",
        },
    };
    let dq2 = dq.clone();
    let rows = st.db.read(move |c| q::devices(c, &dq2)).await?;
    let t = |k: &str| a.cx.t(k).to_owned();
    let mut body = format!(
        "<form class=\"filters\" method=\"get\" action=\"/admin/devices\"><label>{}<input type=\"search\" name=\"q\" value=\"{}\"></label>\
         <label>{}<input name=\"user\" value=\"{}\"></label><label>{}<input name=\"vault\" value=\"{}\"></label>\
         <label>{}<input name=\"version\" value=\"{}\"></label><label>{}{}</label><label>{}{}</label><button type=\"submit\">{}</button></form>",
        esc(&t("device.name")),
        esc(&dq.q),
        esc(&t("device.user")),
        esc(&dq.user),
        esc(&t("device.vault")),
        esc(&dq.vault),
        esc(&t("device.version")),
        esc(&dq.version),
        esc(&t("admin.status")),
        select(
            "status",
            &status,
            &[
                ("", t("admin.statusAll")),
                ("active", t("admin.statusActive")),
                ("revoked", t("admin.statusRevoked"))
            ]
        ),
        esc(&t("admin.sort")),
        select(
            "sort",
            &sort,
            &[
                ("created", t("admin.created")),
                ("name", t("device.name")),
                ("last_seen", t("admin.lastSeen"))
            ]
        ),
        esc(&t("form.search")),
    );
    body.push_str(&format!(
        "<table class=\"devices\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
        esc(&t("device.name")), esc(&t("device.user")), esc(&t("device.vault")), esc(&t("device.version")), esc(&t("device.token")),
        esc(&t("device.created")), esc(&t("device.lastSeen")), esc(&t("device.revoked"))
    ));
    for (i, d) in rows.iter().enumerate() {
        let dlg = format!("device-dialog-{i}");
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>\
             <td><button type=\"button\" data-dialog-open=\"{dlg}\">{}</button><dialog id=\"{dlg}\"><h2>{}</h2>\
             <form method=\"post\" action=\"/admin/action\" data-confirm=\"{}\">{}{}{}<menu>\
             <button type=\"submit\" name=\"action\" value=\"revoke-device\">{}</button>\
             <button type=\"submit\" name=\"action\" value=\"delete-device\" class=\"danger\">{}</button></menu></form>\
             <menu><button type=\"button\" data-dialog-close>{}</button></menu></dialog></td></tr>",
            esc(&d.name), esc(&d.username), esc(&d.vault_id), esc(&d.client_version), esc(&d.token_hint()),
            esc(&a.cx.date(&d.created_at)), esc(&a.cx.date(&d.last_seen)), esc(&a.cx.date(&d.revoked_at)),
            esc(&t("admin.manage")), esc(&d.name), esc(&t("confirm.dialogTitle")),
            hidden("csrf_token", &a.csrf), hidden("id", &d.id), reauth_field(&a),
            esc(&t("admin.revokeDevice")), esc(&t("admin.deleteDevice")), esc(&t("admin.close")),
        ));
    }
    body.push_str("</tbody></table>");
    Ok(admin_page(a, "/admin/devices", "admin.devices", &body))
}
