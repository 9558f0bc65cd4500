//! User web pages (spec §6.8, §6.10). [`forms`]: register, login, forgot, reset, locale and
//! the message pages; [`dashboard`]: home, dashboard, logout. Every route is a method router
//! (`crate::routes::only`: 405 with `Allow`); handlers take the page context (`WebCtx`) or a
//! user session as extractors, then check the public-form CSRF for POSTs.

pub(crate) mod dashboard;
pub(crate) mod forms;

use axum::Router;
use axum::http::Method;

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(forms::router())
        .merge(dashboard::router())
}

/// 405 unless `m` is one of `allowed` (GET implies HEAD). Still used by the admin pages.
pub(crate) fn allow(m: &Method, allowed: &'static str) -> Result<(), ApiError> {
    let ok = allowed
        .split(", ")
        .any(|a| a == m.as_str() || (a == "GET" && m == Method::HEAD));
    if ok {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed {
            allow: allowed,
            post_required: false,
        })
    }
}
