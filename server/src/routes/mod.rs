//! Client routes (spec §4). Each module exposes `router()`; [`crate::app`] merges them.
//!
//! * [`enroll`]: pair, device register, auth test (§4.1 to §4.3).
//! * [`device`]: me, revoke-current, revoke-device (§4.4 to §4.6).
//! * [`sync`]: push and pull (§4.7, §4.8).
//! * [`blobs`] with [`download`]: upload and download (§4.9, §4.10).
//! * [`health`]: health, readiness, liveness, metrics (§4.11, §4.12).
//! * [`account`]: the account JSON API (§6.4); [`user_api`]: the user's devices (§6.10);
//!   [`pages`]: the user web pages (§6.8, §6.10); [`admin`]: console and admin API (§6.11–§6.14).
//!
//! Handlers check their own methods (so the 405 body and `Allow` header follow the spec) and
//! run the checks of their spec table in order.

pub(crate) mod account;
pub(crate) mod admin;
pub(crate) mod blobs;
pub(crate) mod device;
pub(crate) mod download;
pub(crate) mod enroll;
pub(crate) mod health;
pub(crate) mod pages;
pub(crate) mod sync;
pub(crate) mod user_api;

use axum::body::Body;
use axum::http::{HeaderMap, Method};

use crate::error::ApiError;
use crate::json::{FromJson, decode};
use crate::state::AppState;

/// 405 unless the method is POST. `post_required` picks the legacy message.
pub(crate) fn require_post(m: &Method, post_required: bool) -> Result<(), ApiError> {
    if m == Method::POST {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed {
            allow: "POST",
            post_required,
        })
    }
}

/// "Decode" in the check tables: bounded read, then the §2.5 rules.
pub(crate) async fn decode_body<T: FromJson>(
    st: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    let bytes = crate::http::read_body(headers, body, st.config.limits.max_json_body).await?;
    Ok(decode(&bytes)?)
}
