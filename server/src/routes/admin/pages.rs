//! The console's pages (spec §6.11), one handler per sidebar section: dashboard, users and
//! create-user, devices, vaults and vault detail (never op payloads), storage, audit,
//! settings and diagnostics. Each gathers its data and renders the page from
//! `web::pages::admin` through [`admin_page`]. Filters are trimmed to 160 characters and
//! always passed to SQL as bound parameters; sort orders come from a fixed list.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::ops::{self, Actor, Refusal, Via, server_stats};
use super::query::{filter, paging};
use crate::error::ApiError;
use crate::extract::{AdminSession as Admin, CsrfForm};
use crate::mail;
use crate::routes::health::readiness;
use crate::routes::only;
use crate::state::AppState;
use crate::store::admin::{self as q, DeviceQuery, UserQuery};
use crate::store::stats;
use crate::web::html::{self, Nav};
use crate::web::notice::Notice;
use crate::web::pages::admin::{
    self as view, devices::DeviceFilter, settings::SettingsView, storage::StorageView,
    users::UserFilter,
};
use crate::web::pages::layout::Ui;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/dashboard", only("GET").get(dashboard))
        .route("/admin/users", only("GET").get(users))
        .route(
            "/admin/create-user",
            only("GET, POST").get(create_form_page).post(create),
        )
        .route("/admin/devices", only("GET").get(devices))
        .route("/admin/vaults", only("GET").get(vaults))
        .route("/admin/vault/", only("GET").get(vault))
        .route("/admin/storage", only("GET").get(storage))
        .route("/admin/audit", only("GET").get(audit))
        .route("/admin/settings", only("GET").get(settings))
        .route("/admin/diagnostics", only("GET").get(diagnostics))
}

/// An admin page with the sidebar section marked; always `no-store`. `render` builds the page
/// (`web::pages::admin`) from the [`Ui`] made here.
pub(crate) fn admin_page(
    a: Admin,
    section: &str,
    title_key: &str,
    render: impl FnOnce(&Ui<'_>) -> String,
) -> Response {
    admin_page_status(a, StatusCode::OK, section, title_key, render)
}

pub(crate) fn admin_page_status(
    a: Admin,
    status: StatusCode,
    section: &str,
    title_key: &str,
    render: impl FnOnce(&Ui<'_>) -> String,
) -> Response {
    let mut ui = Ui::new(&a.cx, Nav::Admin(&a.csrf, section), title_key);
    ui.notice = a.notice.as_ref().map(|n| n.text(a.cx.loc));
    let p = render(&ui);
    a.cx.finish(html::no_store(html::html(status, p)))
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
    Ok(admin_page(a, "/admin/dashboard", "admin.dashboard", |ui| {
        view::dashboard::render(ui, &warn, &stats, &health, &recent)
    }))
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
    let f = UserFilter {
        q: &uq.q,
        status: &status,
        sort: &sort,
        page,
        per_page,
    };
    Ok(admin_page(a, "/admin/users", "admin.users", |ui| {
        view::users::render(ui, &f, total, &rows)
    }))
}

/// The create-user page with the values typed so far and an optional flash key.
fn create_page(a: Admin, username: &str, email: &str, flash_key: Option<&str>) -> Response {
    admin_page(a, "/admin/users", "admin.createUser", |ui| {
        view::users::create_form(ui, flash_key, username, email)
    })
}

async fn create_form_page(a: Admin) -> Response {
    create_page(a, "", "", None)
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
    let actor = Actor::of(&a);
    match ops::create_user(&st, &actor, Via::Console, a.cx.loc, username, email_raw, pw).await? {
        Ok(_) => {
            let notice = Notice::new("done.userCreated", username);
            crate::web::notice::leave(&st, &a.session.token_hash, notice).await?;
            Ok(a.cx.finish(html::redirect(StatusCode::SEE_OTHER, "/admin/users")))
        }
        Err(why) => Ok(create_page(
            a,
            username,
            email_raw,
            Some(refusal_flash(why).1),
        )),
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
    let f = DeviceFilter {
        q: &dq.q,
        user: &dq.user,
        vault: &dq.vault,
        version: &dq.version,
        status: &status,
        sort: &sort,
    };
    Ok(admin_page(a, "/admin/devices", "admin.devices", |ui| {
        view::devices::render(ui, &f, &rows)
    }))
}

async fn vaults(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let rows = st.db.read(|c| q::vaults(c, None)).await?;
    Ok(admin_page(a, "/admin/vaults", "admin.vaults", |ui| {
        view::vaults::list(ui, &rows)
    }))
}

async fn vault(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let (user, vault) = (
        a.query.get("user").to_owned(),
        a.query.get("vault").to_owned(),
    );
    if user.is_empty() || vault.is_empty() {
        return Ok(admin_page_status(
            a,
            StatusCode::BAD_REQUEST,
            "/admin/vaults",
            "admin.vault",
            |ui| view::notice(ui, "error.badRequest"),
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
    Ok(admin_page(a, "/admin/vaults", "admin.vault", |ui| {
        view::vaults::detail(ui, &user, &vault, &row, &devices)
    }))
}

async fn storage(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let s = server_stats(&st).await?;
    let usage = st.db.read(|c| stats::usage_by_user(c, 100)).await?;
    let wal = st.db.sqlite_path().map(|p| p.with_extension("db-wal"));
    let wal_bytes = tokio::task::spawn_blocking(move || {
        wal.and_then(|w| std::fs::metadata(w).ok())
            .map(|m| m.len() as i64)
            .unwrap_or(0)
    })
    .await
    .map_err(ApiError::internal)?;
    let flash = (a.query.get("flash") == "cleanup_done").then_some("admin.cleanupDone");
    let r = &st.config.retention;
    let v = StorageView {
        flash,
        stats: &s,
        wal_bytes,
        user_quota: st.config.limits.max_user_blob_bytes,
        usage: &usage,
        keep_secs: [
            r.audit_days * 86_400,
            r.idempotency_hours * 3600,
            r.temp_upload_hours * 3600,
        ],
    };
    Ok(admin_page(a, "/admin/storage", "admin.storage", |ui| {
        view::storage::render(ui, &v)
    }))
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
    Ok(admin_page(a, "/admin/audit", "admin.audit", |ui| {
        view::audit::render(ui, &event, &user, &severity, &rows)
    }))
}

async fn settings(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let smtp = mail::settings(&st).await?;
    let web = a.cx.web.clone();
    let fl = a.query.get("flash");
    let flash = [
        ("settings_saved", "admin.settingsSaved"),
        ("smtp_saved", "admin.smtpSaved"),
        ("smtp_test_passed", "admin.smtpTestPassed"),
        ("smtp_test_failed", "admin.smtpTestFailed"),
    ]
    .into_iter()
    .find(|&(v, _)| fl == v)
    .map(|(_, key)| key);
    let proxies = st
        .config
        .trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let v = SettingsView {
        flash,
        web: &web,
        trusted_proxies: &proxies,
        smtp: &smtp,
        limits: &st.config.limits,
    };
    Ok(admin_page(a, "/admin/settings", "admin.settings", |ui| {
        view::settings::render(ui, &v)
    }))
}

async fn diagnostics(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let h = readiness(&st).await;
    Ok(admin_page(
        a,
        "/admin/diagnostics",
        "admin.diagnostics",
        |ui| view::diagnostics::render(ui, &h),
    ))
}

/// The console's answer to a refused input: status and flash key.
pub(crate) fn refusal_flash(why: Refusal) -> (StatusCode, &'static str) {
    match why {
        Refusal::Missing => (StatusCode::BAD_REQUEST, "error.allFieldsRequired"),
        Refusal::InvalidUsername => (StatusCode::BAD_REQUEST, "error.invalidUsername"),
        Refusal::InvalidEmail => (StatusCode::BAD_REQUEST, "error.invalidEmail"),
        Refusal::Password(_) => (StatusCode::BAD_REQUEST, "error.passwordInvalid"),
        Refusal::NotFound => (StatusCode::NOT_FOUND, "error.notFound"),
        Refusal::UsernameTaken | Refusal::EmailTaken => {
            (StatusCode::CONFLICT, "error.accountTaken")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_flash_pages() {
        let table = [
            (Refusal::Missing, 400, "error.allFieldsRequired"),
            (Refusal::InvalidUsername, 400, "error.invalidUsername"),
            (Refusal::InvalidEmail, 400, "error.invalidEmail"),
            (Refusal::Password(true), 400, "error.passwordInvalid"),
            (Refusal::NotFound, 404, "error.notFound"),
            (Refusal::UsernameTaken, 409, "error.accountTaken"),
            (Refusal::EmailTaken, 409, "error.accountTaken"),
        ];
        for (why, status, key) in table {
            let (s, k) = refusal_flash(why);
            assert_eq!((s.as_u16(), k), (status, key));
            assert!(crate::web::i18n::has(key), "{key}");
        }
    }
}
