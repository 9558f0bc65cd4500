//! `application/x-www-form-urlencoded` bodies for the web forms: bounded read, first value
//! of each field wins.

use axum::body::Body;
use axum::http::{HeaderMap, header};

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Default, Clone)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(bytes: &[u8]) -> Form {
        Form(form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The first value of `name`, or `""`.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// True when the `Content-Type` is `application/x-www-form-urlencoded`.
pub(crate) fn is_urlencoded(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// Reads a form body (limit `max_json_body`). Failure is 400 `"invalid form"`.
pub(crate) async fn read_form(
    st: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Form, ApiError> {
    let bytes = crate::http::read_body(headers, body, st.config.limits.max_json_body)
        .await
        .map_err(|_| ApiError::InvalidRequest("invalid form"))?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(ApiError::InvalidRequest("invalid form"));
    }
    Ok(Form::parse(&bytes))
}
