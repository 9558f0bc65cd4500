//! Admin pages (spec §6.11), second part: vaults, vault detail (never op payloads), storage,
//! audit, settings and diagnostics.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::any;

use super::pages::{admin_page, admin_page_status};
use super::{admin, filter, server_stats};
use crate::error::ApiError;
use crate::mail;
use crate::routes::health::readiness;
use crate::routes::pages::allow;
use crate::state::AppState;
use crate::store::admin::{self as q, DeviceQuery};
use crate::web::pages::admin::{self as view, settings::SettingsView};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/vaults", any(vaults))
        .route("/admin/vault/", any(vault))
        .route("/admin/storage", any(storage))
        .route("/admin/audit", any(audit))
        .route("/admin/settings", any(settings))
        .route("/admin/diagnostics", any(diagnostics))
}

async fn vaults(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    allow(req.method(), "GET")?;
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
    let rows = st.db.read(|c| q::vaults(c, None)).await?;
    Ok(admin_page(a, "/admin/vaults", "admin.vaults", |ui| {
        view::vaults::list(ui, &rows)
    }))
}

async fn vault(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    allow(req.method(), "GET")?;
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
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

async fn storage(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    allow(req.method(), "GET")?;
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
    let s = server_stats(&st).await?;
    let flash = (a.query.get("flash") == "cleanup_done").then_some("admin.cleanupDone");
    Ok(admin_page(a, "/admin/storage", "admin.storage", |ui| {
        view::storage::render(ui, flash, &s)
    }))
}

async fn audit(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    allow(req.method(), "GET")?;
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
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

async fn settings(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    allow(req.method(), "GET")?;
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
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

async fn diagnostics(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    allow(req.method(), "GET")?;
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
    let h = readiness(&st).await;
    Ok(admin_page(
        a,
        "/admin/diagnostics",
        "admin.diagnostics",
        |ui| view::diagnostics::render(ui, &h),
    ))
}
