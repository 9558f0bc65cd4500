//! JSON replies (spec §2.3): one JSON value followed by `\n`, `Content-Type: application/json`.
//!
//! A leaf module: [`crate::error`] writes its `{code, error}` bodies with it and the handlers
//! their success bodies, so the error type needs nothing from the HTTP or web layers.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

/// Serialises `v` as one JSON value followed by `\n` (§2.3).
pub(crate) fn json_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec(v).expect("wire types always serialise");
    out.push(b'\n');
    out
}

pub(crate) fn json_response<T: Serialize>(status: StatusCode, v: &T) -> Response {
    raw_json(status, json_bytes(v))
}

pub(crate) fn raw_json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
