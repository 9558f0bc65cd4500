//! Web-session extractors (spec §6.6, §6.7) and the page context.
//!
//! * `WebCtx` itself is an extractor (cookies, locale, HTTPS, client IP); it never rejects.
//! * [`UserSession`] / [`AdminSession`]: the context plus a live session of that kind, else
//!   the 302 to its login page. Both leave the `Session` in the request extensions.
//! * [`Csrf`], [`CsrfForm`], [`CsrfBody`]: §6.7 against that session. [`Csrf`] reads only the
//!   `X-CSRF-Token` header; the other two read the body first (the token may be a form field)
//!   and hand it on.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use std::convert::Infallible;

use crate::error::ApiError;
use crate::session::{self, Kind, Session};
use crate::state::AppState;
use crate::web::ctx::WebCtx;
use crate::web::error::WebError;
use crate::web::form::{Form, is_urlencoded, read_form};
use crate::web::notice::Notice;

impl FromRequestParts<AppState> for WebCtx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Infallible> {
        Ok(WebCtx::new(st, parts))
    }
}

/// Looks up the session of `kind` and leaves it in the extensions for the CSRF extractors.
async fn live(st: &AppState, parts: &mut Parts, kind: Kind) -> Result<(WebCtx, Session), WebError> {
    let cx = WebCtx::new(st, parts);
    let session = session::lookup(st, &cx, kind)
        .await?
        .ok_or(WebError::LoginRequired(kind.login()))?;
    parts.extensions.insert(session.clone());
    Ok((cx, session))
}

/// A signed-in user: the page context and the `user_session` session.
pub(crate) struct UserSession {
    pub cx: WebCtx,
    pub session: Session,
}

impl FromRequestParts<AppState> for UserSession {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, WebError> {
        let (cx, session) = live(st, parts, Kind::User).await?;
        Ok(UserSession { cx, session })
    }
}

/// An admin request: context, session, the CSRF cookie value (for forms) and the query string.
pub(crate) struct AdminSession {
    pub cx: WebCtx,
    pub session: Session,
    pub csrf: String,
    pub query: Form,
    /// What the session's last console action did, taken by the next page GET (shown once).
    pub notice: Option<Notice>,
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, WebError> {
        // The console shows what any server process saved last, even a moment ago.
        crate::console_settings::look_for_news(st).await;
        let (cx, session) = live(st, parts, Kind::Admin).await?;
        let csrf = cx.cookie("csrf_token").unwrap_or("").to_owned();
        let query = Form::parse(parts.uri.query().unwrap_or("").as_bytes());
        // Only a page shows the notice; a JSON read of the admin API leaves it waiting.
        let path = parts.uri.path();
        let page = parts.method == axum::http::Method::GET
            && !path.starts_with("/admin/api/")
            && !path.ends_with(".json");
        let notice = match page {
            true => crate::web::notice::take(st, &session.token_hash).await,
            false => None,
        };
        Ok(AdminSession {
            cx,
            session,
            csrf,
            query,
            notice,
        })
    }
}

/// The session an earlier extractor of the same handler left behind.
fn session_of(ext: &axum::http::Extensions) -> Result<Session, ApiError> {
    ext.get::<Session>().cloned().ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "CSRF extractor used without a session extractor before it"
        ))
    })
}

/// §6.7 with the token from the `X-CSRF-Token` header (JSON and `fetch` mutations).
pub(crate) struct Csrf;

impl FromRequestParts<AppState> for Csrf {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let s = session_of(&parts.extensions)?;
        session::check_csrf(&WebCtx::new(st, parts), &s, None)?;
        Ok(Csrf)
    }
}

/// A form body (bounded; unreadable is 400 `invalid form`), then §6.7 with the header or the
/// form's `csrf_token` field.
pub(crate) struct CsrfForm(pub Form);

impl FromRequest<AppState> for CsrfForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let s = session_of(&parts.extensions)?;
        let form = read_form(st, &parts.headers, body).await?;
        session::check_csrf(&WebCtx::new(st, &parts), &s, Some(&form))?;
        Ok(CsrfForm(form))
    }
}

/// A body that is either a form or JSON (bounded read, §2.5 errors), then §6.7. `form` is the
/// parsed body when it is `application/x-www-form-urlencoded`.
pub(crate) struct CsrfBody {
    pub bytes: Vec<u8>,
    pub form: Option<Form>,
}

impl FromRequest<AppState> for CsrfBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let s = session_of(&parts.extensions)?;
        let as_form = is_urlencoded(&parts.headers);
        let bytes =
            crate::http::read_body(&parts.headers, body, st.config.limits.max_json_body).await?;
        let form = as_form.then(|| Form::parse(&bytes));
        session::check_csrf(&WebCtx::new(st, &parts), &s, form.as_ref())?;
        Ok(CsrfBody { bytes, form })
    }
}
