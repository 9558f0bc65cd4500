//! [`AppJson`]: a typed JSON request body with the errors of spec §2.5.
//!
//! The body is read with the `max_json_body` limit and a 30 s deadline (`http::read_body`:
//! 413 `request_too_large`), then decoded by the strict decoder `crate::json::decode`
//! (`invalid_json`, `trailing_json`). As the last extractor of a handler it is step
//! "Decode" of the route's check table; handlers that decode only on some paths call
//! [`AppJson::read`].

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;

use crate::error::ApiError;
use crate::json::{FromJson, decode};
use crate::state::AppState;

pub(crate) struct AppJson<T>(pub T);

impl<T: FromJson> AppJson<T> {
    /// Bounded read, then the §2.5 rules.
    pub(crate) async fn read(
        st: &AppState,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<T, ApiError> {
        let bytes = crate::http::read_body(headers, body, st.config.limits.max_json_body).await?;
        Ok(decode(&bytes)?)
    }
}

impl<T: FromJson + Send> FromRequest<AppState> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        Ok(AppJson(Self::read(st, &parts.headers, body).await?))
    }
}
