//! Static files compiled into the binary (spec §6.10): `/static/app.css`, `/static/app.js`,
//! `/static/logo.svg`. `/static/` itself and unknown names get the HTML 404; no listing.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use super::not_allowed;
use crate::http::not_found_page;
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
        // An unknown name is 404 whatever the method; a known one serves only GET.
        .route(
            "/static/{name}",
            any(|Path(name): Path<String>| async move {
                match file(&name) {
                    Some(_) => not_allowed("GET").into_response(),
                    None => not_found_page(),
                }
            })
            .get(serve),
        )
}

fn file(name: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    FILES.iter().find(|(n, _, _)| *n == name)
}

async fn serve(Path(name): Path<String>) -> Response {
    let Some((_, ct, body)) = file(&name) else {
        return not_found_page();
    };
    let mut r = (StatusCode::OK, *body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}
