//! The history retention settings in the console: `GET /admin/history` (the
//! page), `POST /admin/history` (the form: CSRF, the admin's password again, then
//! [`save`]) and `GET`/`POST /admin/api/history` (JSON, CSRF header). Saving stores the
//! settings for every server process (`crate::console_settings`), applies them at once and
//! writes an audit row.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::ops::Actor;
use super::pages::{admin_page, admin_page_status};
use crate::config::HistoryCfg;
use crate::console_settings::{self, Section};
use crate::creds::verify_admin;
use crate::error::ApiError;
use crate::extract::{AdminSession as Admin, AppJson, Csrf, CsrfForm};
use crate::json::{DecodeError, Fields, FromJson};
use crate::reply::json_response;
use crate::routes::only;
use crate::state::AppState;
use crate::web::html;
use crate::web::pages::admin::history as view;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/history", only("GET, POST").get(page).post(form))
        .route(
            "/admin/api/history",
            only("GET, POST").get(get_json).post(post_json),
        )
}

async fn page(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let flash = (a.query.get("flash") == "history_saved").then_some("admin.historySaved");
    let h = st.history();
    Ok(admin_page(a, "/admin/history", "admin.history", |ui| {
        view::render(ui, flash, &h)
    }))
}

/// The settings from named values; `None` when one is missing or not a whole number.
fn parse(get: impl Fn(&str) -> Option<String>) -> Option<HistoryCfg> {
    let num = |k: &str| get(k)?.trim().parse::<i64>().ok();
    Some(HistoryCfg {
        compact_min_backlog: num("compact_min_backlog")?,
        keep_all_days: num("keep_all_days")?,
        keep_daily_days: num("keep_daily_days")?,
        tombstone_days: num("tombstone_days")?,
        blob_grace_hours: num("blob_grace_hours")?,
    })
}

async fn form(
    State(st): State<AppState>,
    a: Admin,
    CsrfForm(f): CsrfForm,
) -> Result<Response, ApiError> {
    if !verify_admin(&st, &a.session.subject, f.get("password")).await? {
        return Ok(refuse(
            &st,
            a,
            StatusCode::FORBIDDEN,
            "error.invalidCredentials",
        ));
    }
    let input = parse(|k| Some(f.get(k).to_owned()));
    match save(&st, &Actor::of(&a), input).await? {
        Ok(_) => Ok(a.cx.finish(html::redirect(
            StatusCode::SEE_OTHER,
            "/admin/history?flash=history_saved",
        ))),
        Err(_) => Ok(refuse(
            &st,
            a,
            StatusCode::BAD_REQUEST,
            "error.invalidHistory",
        )),
    }
}

/// The page again (with the settings in force) and the refusal's flash.
fn refuse(st: &AppState, a: Admin, status: StatusCode, key: &str) -> Response {
    let h = st.history();
    admin_page_status(a, status, "/admin/history", "admin.history", |ui| {
        view::render(ui, Some(key), &h)
    })
}

fn as_json(h: &HistoryCfg) -> serde_json::Value {
    json!({
        "compact_min_backlog": h.compact_min_backlog,
        "keep_all_days": h.keep_all_days,
        "keep_daily_days": h.keep_daily_days,
        "tombstone_days": h.tombstone_days,
        "blob_grace_hours": h.blob_grace_hours,
    })
}

async fn get_json(State(st): State<AppState>, _a: Admin) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, &as_json(&st.history())))
}

/// The JSON body: all five settings as integers (strict decoding, §2.5).
#[derive(serde::Deserialize)]
struct HistoryReq {
    compact_min_backlog: Option<i64>,
    keep_all_days: Option<i64>,
    keep_daily_days: Option<i64>,
    tombstone_days: Option<i64>,
    blob_grace_hours: Option<i64>,
}

impl FromJson for HistoryReq {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        f.deserialize()
    }
}

/// All five settings; 400 `invalid_request` when one is missing, negative or inconsistent.
async fn post_json(
    State(st): State<AppState>,
    a: Admin,
    _csrf: Csrf,
    AppJson(r): AppJson<HistoryReq>,
) -> Result<Response, ApiError> {
    let input = (|| {
        Some(HistoryCfg {
            compact_min_backlog: r.compact_min_backlog?,
            keep_all_days: r.keep_all_days?,
            keep_daily_days: r.keep_daily_days?,
            tombstone_days: r.tombstone_days?,
            blob_grace_hours: r.blob_grace_hours?,
        })
    })();
    match save(&st, &Actor::of(&a), input).await? {
        Ok(h) => Ok(json_response(StatusCode::OK, &as_json(&h))),
        Err(_) => Err(ApiError::InvalidRequest(
            "history settings must be whole numbers of 0 or more, keep_daily_days >= keep_all_days",
        )),
    }
}

/// The admin op: validates, saves for every server process (`crate::console_settings`: the
/// database, `history:` of `config.yml`, in force at once), audits it.
/// `Err` names the first invalid field (nothing is saved).
pub(crate) async fn save(
    st: &AppState,
    actor: &Actor,
    input: Option<HistoryCfg>,
) -> Result<Result<HistoryCfg, &'static str>, ApiError> {
    let h = match input.map(HistoryCfg::validated) {
        Some(Ok(h)) => h,
        Some(Err(field)) => return Ok(Err(field)),
        None => return Ok(Err("number")),
    };
    console_settings::save(st, Section::History(h))
        .await
        .map_err(ApiError::internal)?;
    let msg = format!(
        "history settings saved by admin {}: keep all {} d, daily {} d, tombstones {} d, blob grace {} h, compact after {} ops",
        actor.name,
        h.keep_all_days,
        h.keep_daily_days,
        h.tombstone_days,
        h.blob_grace_hours,
        h.compact_min_backlog
    );
    actor
        .audit(st, "history_settings_updated", None, None, msg)
        .await;
    Ok(Ok(h))
}
