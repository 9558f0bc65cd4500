//! [`PublicForm`]: the body of a public (signed-out) form POST with its CSRF check (§6.8),
//! for `/register`, `/login`, `/forgot`, `/reset` and `/admin/login`.
//!
//! Its two checks are the head of each of those spec tables: an unreadable form is the
//! 400 page `error.badRequest`, then a missing or wrong `locale_csrf` (cookie, origin, field)
//! is the 403 page `error.csrf`. On success the handler gets the page context back with the
//! form, so it renders its answers with the same context.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;

use crate::state::AppState;
use crate::web::ctx::WebCtx;
use crate::web::form::{Form, read_form};
use crate::web::html::error_page;

pub(crate) struct PublicForm {
    pub cx: WebCtx,
    pub form: Form,
}

impl FromRequest<AppState> for PublicForm {
    type Rejection = Response;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        let cx = WebCtx::new(st, &parts);
        let form = match read_form(st, &parts.headers, body).await {
            Ok(f) => f,
            Err(_) => return Err(error_page(cx, StatusCode::BAD_REQUEST, "error.badRequest")),
        };
        if !cx.public_csrf_ok(form.get("locale_csrf")) {
            return Err(error_page(cx, StatusCode::FORBIDDEN, "error.csrf"));
        }
        Ok(PublicForm { cx, form })
    }
}
