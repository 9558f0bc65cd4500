//! The home page, the user dashboard and logout (spec §6.10).

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use crate::error::ApiError;
use crate::extract::{CsrfForm, UserSession};
use crate::routes::health::readiness;
use crate::routes::only;
use crate::session::{self, Kind};
use crate::state::AppState;
use crate::store::admin;
use crate::web::ctx::WebCtx;
use crate::web::form::Form;
use crate::web::html::{self, Nav, esc, flash, hidden, qenc};
use crate::web::i18n;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", only("GET").get(home))
        .route("/dashboard", only("GET").get(dashboard))
        .route("/logout", only("POST").post(logout))
}

async fn home(State(st): State<AppState>, cx: WebCtx) -> Result<Response, ApiError> {
    let h = readiness(&st).await;
    let ready = h.status == "ok";
    let user = if ready {
        session::lookup(&st, &cx, Kind::User).await.ok().flatten()
    } else {
        None
    };
    let csrf = cx.cookie("csrf_token").unwrap_or("").to_owned();
    let nav = if user.is_some() {
        Nav::User(&csrf)
    } else {
        Nav::Guest
    };
    let body = if ready {
        format!(
            "<h1>Verstak Sync</h1><p>{}</p><div class=\"card\"><p>{}: <span class=\"badge\">{}</span></p>\
             <p>{}: {} ({})</p></div>",
            esc(cx.t("home.intro")),
            esc(cx.t("home.status")),
            esc(cx.t("home.ready")),
            esc(cx.t("home.version")),
            esc(crate::VERSION),
            esc(crate::COMMIT)
        )
    } else {
        format!(
            "<h1>Verstak Sync</h1><p class=\"flash error\">{}</p>",
            esc(cx.t("home.unavailable"))
        )
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let p = html::page(&cx, nav, "Verstak Sync", &body);
    let r = html::html(status, p);
    Ok(cx.finish(if user.is_some() { html::no_store(r) } else { r }))
}

async fn dashboard(
    State(st): State<AppState>,
    UserSession { cx, session: s }: UserSession,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = Form::parse(uri.query().unwrap_or("").as_bytes());
    let q: String = query.get("q").trim().chars().take(160).collect();
    let (uid, qq) = (s.subject.clone(), q.clone());
    let rows = st
        .db
        .read(move |c| admin::user_devices(c, &uid, &qq))
        .await?;
    let csrf = cx.cookie("csrf_token").unwrap_or("").to_owned();
    let mut body = format!("<h1>{}</h1>", esc(cx.t("dashboard.title")));
    for (param, allowed) in [
        ("flash", "user.deviceRevoked"),
        ("error", "error.invalidCredentials"),
    ] {
        if query.get(param) == allowed && i18n::has(allowed) {
            body.push_str(&flash(&cx, allowed));
        }
    }
    body.push_str(&format!(
        "<form class=\"filters\" method=\"get\" action=\"/dashboard\"><label>{}<input type=\"search\" name=\"q\" value=\"{}\"></label>\
         <button type=\"submit\">{}</button></form>",
        esc(cx.t("form.filter")),
        esc(&q),
        esc(cx.t("form.search"))
    ));
    let mut vaults: Vec<&str> = rows
        .iter()
        .map(|d| d.vault_id.as_str())
        .filter(|v| !v.is_empty())
        .collect();
    vaults.sort();
    vaults.dedup();
    if !vaults.is_empty() {
        body.push_str(&format!(
            "<div class=\"card\"><h2>{}</h2><ul class=\"vaults\">",
            esc(cx.t("dashboard.vaults"))
        ));
        for v in &vaults {
            let n = rows
                .iter()
                .filter(|d| d.vault_id == *v && d.revoked_at.is_empty())
                .count();
            body.push_str(&format!(
                "<li><strong>{}</strong> <span class=\"muted\">({n})</span></li>",
                esc(v)
            ));
        }
        body.push_str("</ul></div>");
    }
    if rows.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(cx.t("dashboard.empty"))
        ));
    } else {
        body.push_str(&format!(
            "<table class=\"devices\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
            esc(cx.t("device.name")),
            esc(cx.t("device.vault")),
            esc(cx.t("device.version")),
            esc(cx.t("device.created")),
            esc(cx.t("device.lastSeen")),
            esc(cx.t("admin.status"))
        ));
        for (i, d) in rows.iter().enumerate() {
            let (badge, action) = if d.revoked_at.is_empty() {
                let dlg = format!("revoke-dialog-{i}");
                (
                    format!(
                        "<span class=\"badge\">{}</span>",
                        esc(cx.t("device.active"))
                    ),
                    format!(
                        "<button type=\"button\" data-dialog-open=\"{dlg}\">{revoke}</button>\
                         <dialog id=\"{dlg}\"><form method=\"post\" action=\"/api/v1/user/devices/{id}/revoke\">\
                         <p>{hint}</p>{csrf}<label>{pwl}<input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\
                         <menu><button type=\"button\" data-dialog-close>{cancel}</button><button type=\"submit\" class=\"danger\">{revoke}</button></menu>\
                         </form></dialog>",
                        revoke = esc(cx.t("device.revoke")),
                        id = qenc(&d.id),
                        hint = esc(cx.t("device.revokeConfirm")),
                        csrf = hidden("csrf_token", &csrf),
                        pwl = esc(cx.t("form.password")),
                        cancel = esc(cx.t("form.cancel")),
                    ),
                )
            } else {
                (
                    format!(
                        "<span class=\"badge off\">{}</span>",
                        esc(cx.t("device.revoked"))
                    ),
                    String::new(),
                )
            };
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{badge}</td><td>{action}</td></tr>",
                esc(&d.name),
                esc(&d.vault_id),
                esc(&d.client_version),
                esc(&cx.date(&d.created_at)),
                esc(&cx.date(&d.last_seen))
            ));
        }
        body.push_str("</tbody></table>");
    }
    let p = html::page(&cx, Nav::User(&csrf), &esc(cx.t("dashboard.title")), &body);
    Ok(cx.finish(html::no_store(html::html(StatusCode::OK, p))))
}

async fn logout(
    State(st): State<AppState>,
    UserSession { mut cx, session: s }: UserSession,
    _: CsrfForm,
) -> Result<Response, ApiError> {
    session::end(&st, &s).await?;
    session::clear_cookies(&mut cx, Kind::User);
    Ok(cx.finish(html::redirect(StatusCode::FOUND, "/login")))
}
