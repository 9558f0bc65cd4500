//! Client routes (spec §4). Each module exposes `router()`; [`crate::app`] merges them.
//!
//! * [`enroll`]: pair, device register, auth test (§4.1 to §4.3).
//! * [`device`]: me, revoke-current, revoke-device (§4.4 to §4.6).
//! * [`sync`]: push and pull (§4.7, §4.8); [`events`]: the live event stream (an addition,
//!   `docs/events.md`).
//! * [`blobs`] with [`download`]: upload and download (§4.9, §4.10); [`blob_batch`]: many
//!   small blobs in one download (an addition, `docs/api-extensions.md`).
//! * [`health`]: health, readiness, liveness, metrics (§4.11, §4.12); [`assets`]: the static
//!   files (§6.10).
//! * [`history`]: version history for devices and the web user (an addition, issue 13).
//! * [`account`]: the account JSON API (§6.4); [`user_api`]: the user's devices (§6.10);
//!   [`pages`]: the user web pages (§6.8, §6.10); [`admin`]: console and admin API (§6.11–§6.14).
//!
//! Every route is a method router built on [`only`] (or [`legacy_post`]): the methods it lists
//! go to their handlers, every other method gets the spec's 405 with its `Allow` header. The
//! few routes whose table puts a check before the method check start from `any(…)` with a
//! handler that runs that check and then refuses. Handlers take extractors
//! (`crate::extract`) in the order of their spec table.

pub(crate) mod account;
pub(crate) mod admin;
pub(crate) mod assets;
pub(crate) mod blob_batch;
pub(crate) mod blobs;
mod bulk_upload;
pub(crate) mod device;
pub(crate) mod download;
pub(crate) mod enroll;
pub(crate) mod events;
pub(crate) mod health;
pub(crate) mod history;
pub(crate) mod pages;
pub(crate) mod part_headers;
pub(crate) mod sync;
pub(crate) mod user_api;

use axum::routing::{MethodRouter, any};

use crate::error::ApiError;

/// The 405 for a route that serves `allow` (e.g. `"GET, POST"`; GET implies HEAD).
pub(crate) fn not_allowed(allow: &'static str) -> ApiError {
    ApiError::MethodNotAllowed {
        allow,
        post_required: false,
    }
}

/// A method router that answers every method with the 405 for `allow`; chain the served
/// methods onto it: `only("GET, POST").get(show).post(submit)`.
///
/// It starts from `any` rather than `get(..).fallback(..)` so axum adds no `Allow` header of
/// its own: the 405 body sets the spec's, and a refusal that answers something else (a login
/// redirect, a 404 page) must carry none.
pub(crate) fn only<S: Clone + Send + Sync + 'static>(allow: &'static str) -> MethodRouter<S> {
    any(move || async move { not_allowed(allow) })
}

/// [`only`] `POST` with the legacy message `"POST required"` of the five enrolment and device
/// routes (§4.1 to §4.6).
pub(crate) fn legacy_post<S: Clone + Send + Sync + 'static>() -> MethodRouter<S> {
    any(|| async {
        ApiError::MethodNotAllowed {
            allow: "POST",
            post_required: true,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;

    async fn call(app: &Router, method: &str) -> (StatusCode, Option<String>, String) {
        let req = Request::builder()
            .method(method)
            .uri("/x")
            .body(Body::empty())
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        let allow = resp
            .headers()
            .get(header::ALLOW)
            .map(|v| v.to_str().unwrap().to_owned());
        let status = resp.status();
        let body = to_bytes(resp.into_body(), 1 << 16).await.unwrap();
        (status, allow, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn unlisted_methods_get_the_spec_405() {
        let app = Router::new().route("/x", only("GET, POST").get(|| async { "got" }));
        assert_eq!(
            call(&app, "GET").await,
            (StatusCode::OK, None, "got".into())
        );
        assert_eq!(
            call(&app, "HEAD").await,
            (StatusCode::OK, None, String::new())
        );
        let refused = (
            StatusCode::METHOD_NOT_ALLOWED,
            Some("GET, POST".to_owned()),
            "{\"code\":\"method_not_allowed\",\"error\":\"method not allowed\"}\n".to_owned(),
        );
        assert_eq!(call(&app, "PUT").await, refused);
        assert_eq!(call(&app, "DELETE").await, refused);
    }

    #[tokio::test]
    async fn legacy_routes_say_post_required() {
        let app = Router::new().route("/x", legacy_post().post(|| async { "posted" }));
        assert_eq!(call(&app, "POST").await.2, "posted");
        let (status, allow, body) = call(&app, "GET").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(allow.as_deref(), Some("POST"));
        assert!(body.contains("\"POST required\""), "{body}");
    }

    #[tokio::test]
    async fn a_refusal_that_is_not_a_405_carries_no_allow_header() {
        let app = Router::new().route(
            "/x",
            any(|| async { StatusCode::NOT_FOUND }).get(|| async { "got" }),
        );
        assert_eq!(
            call(&app, "POST").await,
            (StatusCode::NOT_FOUND, None, String::new())
        );
    }
}
