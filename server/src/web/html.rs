//! HTML responses (spec §6.10): the `text/html` response, `no-store`, redirects, and the
//! generic pages (error, rate limited, message) that handlers outside the page modules ask
//! for. The escaper and query encoding the templates use are in [`super::escape`].
//!
//! The markup itself lives in [`super::pages`] (askama templates); this module only wraps
//! rendered pages into responses. No inline style or script: the CSP allows only
//! `/static/app.css` and `/static/app.js`.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::ctx::WebCtx;
use super::i18n;
use super::pages::{self, layout::Ui};
use crate::error::ApiError;

pub(crate) use super::pages::layout::Nav;

/// An HTML response.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// Adds `Cache-Control: no-store`.
pub(crate) fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A redirect with `status` (302 or 303) to a local `location`.
pub(crate) fn redirect(status: StatusCode, location: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// An error page with a message key and a back link to `/`.
pub(crate) fn error_page(cx: WebCtx, status: StatusCode, key: &str) -> Response {
    let ui = Ui::new(&cx, Nav::Guest, "error.title");
    let p = pages::message::error(&ui, key);
    cx.finish(no_store(html(status, p)))
}

/// The 429 page of a refused rate-limit check, with its `Retry-After` (at least 1 s) and the
/// same wait in words ("Try again in 15 minutes.").
pub(crate) fn rate_limited_page(cx: WebCtx, e: ApiError) -> Response {
    let retry = match e {
        ApiError::RateLimited { retry_after } => retry_after,
        _ => 1,
    }
    .max(1);
    let ui = Ui::new(&cx, Nav::Guest, "error.title");
    let wait = i18n::retry_in(cx.loc, retry);
    let p = pages::message::error_with(&ui, "error.rateLimited", &wait);
    let mut r = cx.finish(no_store(html(StatusCode::TOO_MANY_REQUESTS, p)));
    r.headers_mut().insert(header::RETRY_AFTER, retry.into());
    r
}

/// A simple message page (`/register/result` and friends).
pub(crate) fn message_page(cx: WebCtx, title_key: &str, msg_key: &str, nav: Nav<'_>) -> Response {
    let ui = Ui::new(&cx, nav, title_key);
    let p = pages::message::message(&ui, msg_key);
    cx.finish(html(StatusCode::OK, p))
}
