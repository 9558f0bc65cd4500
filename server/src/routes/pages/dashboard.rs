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
use crate::web::html::{self, Nav};
use crate::web::i18n;
use crate::web::pages::{self, layout::Ui};

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
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let ui = Ui::new(&cx, nav, "app.title");
    let p = pages::home::render(&ui, ready, crate::VERSION, crate::COMMIT);
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
    let flashes: Vec<&str> = [
        ("flash", "user.deviceRevoked"),
        ("error", "error.invalidCredentials"),
    ]
    .into_iter()
    .filter(|&(param, allowed)| query.get(param) == allowed && i18n::has(allowed))
    .map(|(_, key)| key)
    .collect();
    let ui = Ui::new(&cx, Nav::User(&csrf), "dashboard.title");
    let p = pages::dashboard::render(&ui, &flashes, &q, &rows);
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
