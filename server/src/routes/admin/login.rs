//! Admin login and logout (spec §6.11): `GET /admin` (302 to the dashboard), `/admin/login`,
//! `POST /admin/logout`. Admins exist only in `config.yml`.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::any;

use super::Admin;

use crate::creds::verify_admin;
use crate::effects;
use crate::error::ApiError;
use crate::extract::CsrfForm;
use crate::ratelimit::Action;
use crate::routes::only;
use crate::session::{self, Kind};
use crate::state::AppState;
use crate::web::ctx::WebCtx;
use crate::web::form::read_form;
use crate::web::html::{self, Nav, error_page};
use crate::web::pages::{admin, layout::Ui};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin",
            any(|| async { html::redirect(StatusCode::FOUND, "/admin/dashboard") }),
        )
        .route("/admin/login", only("GET, POST").get(login).post(login))
        .route("/admin/logout", only("POST").post(logout))
}

fn login_page(cx: WebCtx, status: StatusCode, username: &str, flash_key: Option<&str>) -> Response {
    let ui = Ui::new(&cx, Nav::AdminGuest, "admin.login");
    let p = admin::login::render(&ui, flash_key, username);
    cx.finish(html::no_store(html::html(status, p)))
}

/// `GET` shows the form (or goes to the dashboard when signed in), `POST` signs in.
async fn login(
    State(st): State<AppState>,
    mut cx: WebCtx,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        if session::lookup(&st, &cx, Kind::Admin).await?.is_some() {
            return Ok(cx.finish(html::redirect(StatusCode::FOUND, "/admin/dashboard")));
        }
        return Ok(login_page(cx, StatusCode::OK, "", None));
    }
    let form = match read_form(&st, &parts.headers, body).await {
        Ok(f) => f,
        Err(_) => return Ok(error_page(cx, StatusCode::BAD_REQUEST, "error.badRequest")),
    };
    if !cx.public_csrf_ok(form.get("locale_csrf")) {
        return Ok(error_page(cx, StatusCode::FORBIDDEN, "error.csrf"));
    }
    let (username, password) = (form.get("username"), form.get("password"));
    if let Err(e) = effects::rate_limit(&st, Action::Login, cx.ip, Some(username)).await {
        let retry = match e {
            ApiError::RateLimited { retry_after } => retry_after,
            _ => 1,
        };
        let mut r = error_page(cx, StatusCode::TOO_MANY_REQUESTS, "error.rateLimited");
        r.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, retry.max(1).into());
        return Ok(r);
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
