//! `WebError`: what a cookie-authenticated route can answer. Either an [`ApiError`] (its JSON
//! body, unchanged) or the **302** to the login page that a missing or invalid web session gets
//! (§6.6), on HTML and JSON routes alike.
//!
//! The session extractors (`crate::extract::session`) reject with it; handlers that look a
//! session up by hand return it. Rendering lives here so the base error type stays HTML-free.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

#[derive(Debug)]
pub(crate) enum WebError {
    Api(ApiError),
    /// No valid session: redirect to this login page.
    LoginRequired(&'static str),
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        WebError::Api(e)
    }
}

impl From<crate::store::StoreError> for WebError {
    fn from(e: crate::store::StoreError) -> Self {
        WebError::Api(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Api(e) => e.into_response(),
            WebError::LoginRequired(to) => super::html::redirect(StatusCode::FOUND, to),
        }
    }
}
