//! Static files compiled into the binary (spec §6.10): `/static/app.css`, `/static/app.js`,
//! `/static/logo.svg`. `/static/` itself and unknown names get the HTML 404; no listing.

use axum::Router;
use axum::extract::{Path, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::error::ApiError;
use crate::http::{is_get, not_found_page};
use crate::state::AppState;

const FILES: [(&str, &str, &str); 3] = [
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    ),
    (
        "logo.svg",
        "image/svg+xml",
        include_str!("../../static/logo.svg"),
    ),
];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/static/", any(|| async { not_found_page() }))
        .route("/static/{name}", any(serve))
}

async fn serve(Path(name): Path<String>, req: Request) -> Response {
    let Some((_, ct, body)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return not_found_page();
    };
    if !is_get(req.method()) {
        return ApiError::MethodNotAllowed {
            allow: "GET",
            post_required: false,
        }
        .into_response();
    }
    let mut r = (StatusCode::OK, *body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}
