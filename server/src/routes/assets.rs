//! Static files compiled into the binary (spec §6.10): `/static/app.css`, `/static/app.js`,
//! `/static/logo.svg`, `/static/history.js` (the history pages' diff and merge views), and
//! `/static/merge/merge_web.js` + `merge_web_bg.wasm` (the browser build of the merge, embedded
//! by `build.rs` when `scripts/build-web-merge.sh` ran before the build; 404 otherwise).
//! `/static/` itself and unknown names get the HTML 404; no listing.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use super::not_allowed;
use crate::http::not_found_page;
use crate::state::AppState;

/// `(name, content type, bytes)` of `merge-web/pkg/` when it was there at build time.
const MERGE_WEB: &[(&str, &str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/merge_web.rs"));

/// A hash of the embedded merge files, appended to their URLs (`?v=`) so that a cached module
/// never meets the wasm of another build.
pub(crate) const MERGE_WEB_TAG: &str = include!(concat!(env!("OUT_DIR"), "/merge_web_tag.rs"));

/// True when this binary serves the browser merge (the pages then offer diff and merge).
pub(crate) fn merge_web_built() -> bool {
    !MERGE_WEB.is_empty()
}

const FILES: [(&str, &str, &str); 4] = [
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
        "history.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/history.js"),
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
        .route("/static/merge/", any(|| async { not_found_page() }))
        .route(
            "/static/merge/{name}",
            any(|Path(name): Path<String>| async move {
                match merge_file(&name) {
                    Some(_) => not_allowed("GET").into_response(),
                    None => not_found_page(),
                }
            })
            .get(serve_merge),
        )
}

fn merge_file(name: &str) -> Option<&'static (&'static str, &'static str, &'static [u8])> {
    MERGE_WEB.iter().find(|(n, _, _)| *n == name)
}

async fn serve_merge(Path(name): Path<String>) -> Response {
    let Some((_, ct, body)) = merge_file(&name) else {
        return not_found_page();
    };
    cached(ct, (StatusCode::OK, *body).into_response())
}

fn file(name: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    FILES.iter().find(|(n, _, _)| *n == name)
}

async fn serve(Path(name): Path<String>) -> Response {
    let Some((_, ct, body)) = file(&name) else {
        return not_found_page();
    };
    cached(ct, (StatusCode::OK, *body).into_response())
}

fn cached(ct: &'static str, mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}
