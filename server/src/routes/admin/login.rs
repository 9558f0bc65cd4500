//! Admin login and logout (spec §6.11): `GET /admin` (302 to the dashboard), `/admin/login`,
//! `POST /admin/logout`. Admins exist only in `config.yml`. `GET /admin/login` shows the form
//! ([`login_form`]); `POST` signs in ([`login`], after the public-form checks of [`PublicForm`]).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::any;

use crate::creds::verify_admin;
use crate::effects;
use crate::error::ApiError;
use crate::extract::{AdminSession as Admin, CsrfForm, PublicForm};
use crate::ratelimit::Action;
use crate::routes::only;
use crate::session::{self, Kind};
use crate::state::AppState;
use crate::web::ctx::WebCtx;
use crate::web::html::{self, Nav, rate_limited_page};
use crate::web::pages::{admin, layout::Ui};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin",
            any(|| async { html::redirect(StatusCode::FOUND, "/admin/dashboard") }),
        )
        .route(
            "/admin/login",
            only("GET, POST").get(login_form).post(login),
        )
        .route("/admin/logout", only("POST").post(logout))
}

fn login_page(cx: WebCtx, status: StatusCode, username: &str, flash_key: Option<&str>) -> Response {
    let ui = Ui::new(&cx, Nav::AdminGuest, "admin.login");
    let p = admin::login::render(&ui, flash_key, username);
    cx.finish(html::no_store(html::html(status, p)))
}

/// The form, or the dashboard when already signed in.
async fn login_form(State(st): State<AppState>, cx: WebCtx) -> Result<Response, ApiError> {
    if session::lookup(&st, &cx, Kind::Admin).await?.is_some() {
        return Ok(cx.finish(html::redirect(StatusCode::FOUND, "/admin/dashboard")));
    }
    Ok(login_page(cx, StatusCode::OK, "", None))
}

async fn login(
    State(st): State<AppState>,
    PublicForm { mut cx, form }: PublicForm,
) -> Result<Response, ApiError> {
    let (username, password) = (form.get("username"), form.get("password"));
    if let Err(e) = effects::rate_limit(&st, Action::Login, cx.ip, Some(username)).await {
        return Ok(rate_limited_page(cx, e));
    }
    if !verify_admin(&st, username, password).await? {
        return Ok(login_page(
            cx,
            StatusCode::UNAUTHORIZED,
            username,
            Some("error.invalidCredentials"),
        ));
    }
    session::start(&st, &mut cx, Kind::Admin, username).await?;
    Ok(cx.finish(html::redirect(StatusCode::SEE_OTHER, "/admin/dashboard")))
}

async fn logout(
    State(st): State<AppState>,
    Admin {
        mut cx, session: s, ..
    }: Admin,
    _: CsrfForm,
) -> Result<Response, ApiError> {
    session::end(&st, &s).await?;
    session::clear_cookies(&mut cx, Kind::Admin);
    Ok(cx.finish(html::redirect(StatusCode::SEE_OTHER, "/admin/login")))
}
