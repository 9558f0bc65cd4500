//! The signed-in user's device API (spec §6.10): `GET /api/v1/user/devices` and
//! `POST /api/v1/user/devices/{id}/revoke`, authenticated by the `user_session` cookie.
//! The revoke route accepts the dashboard's form post as well as JSON.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;
use std::net::IpAddr;
use verstak_sync_proto::limits::fixed;

use crate::creds::bcrypt_matches;
use crate::effects;
use crate::error::ApiError;
use crate::extract::{CsrfBody, UserSession};
use crate::json::{DecodeError, Fields, FromJson, decode};
use crate::ratelimit::Action;
use crate::reply::json_response;
use crate::routes::device::revoke_and_audit;
use crate::state::AppState;
use crate::store::{admin, devices, users};
use crate::web::ctx::WebCtx;
use crate::web::html;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/user/devices", super::only("GET").get(list))
        .route(
            "/api/v1/user/devices/{*rest}",
            super::only("POST").post(revoke),
        )
}

#[derive(Serialize)]
struct DeviceJson {
    client_version: String,
    created_at: String,
    id: String,
    last_seen: String,
    name: String,
    revoked_at: String,
}

async fn list(
    State(st): State<AppState>,
    UserSession { session: s, .. }: UserSession,
) -> Result<Response, ApiError> {
    let rows = st
        .db
        .read(move |c| admin::user_devices(c, &s.subject, ""))
        .await?;
    let out: Option<Vec<DeviceJson>> = (!rows.is_empty()).then(|| {
        rows.into_iter()
            .map(|d| DeviceJson {
                client_version: d.client_version,
                created_at: d.created_at,
                id: d.id,
                last_seen: d.last_seen,
                name: d.name,
                revoked_at: d.revoked_at,
            })
            .collect()
    });
    Ok(json_response(StatusCode::OK, &out))
}

struct Password(String);
impl FromJson for Password {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Password(f.string("password")?))
    }
}

/// Session, body and CSRF (a dashboard form or JSON), the device id from the path (404),
/// the password (form or JSON), then the rate limit, password and ownership checks.
async fn revoke(
    State(st): State<AppState>,
    UserSession { cx, session: s }: UserSession,
    uri: Uri,
    CsrfBody { bytes, form }: CsrfBody,
) -> Result<Response, ApiError> {
    let id = device_id(uri.path())
        .ok_or(ApiError::NotFound("not found"))?
        .to_owned();
    let password = match &form {
        Some(f) => f.get("password").to_owned(),
        None => decode::<Password>(&bytes)?.0,
    };
    if let Err(denial) = check_password(&st, cx.ip, &s.subject, password).await? {
        return match form {
            Some(_) => Ok(denial.page(cx)),
            None => Err(denial.into()),
        };
    }
    check_owner(&st, &id, &s.subject).await?;
    revoke_and_audit(
        &st,
        &id,
        Some(s.subject.clone()),
        cx.ip.to_string(),
        "device revoked from web dashboard",
    )
    .await?;
    if form.is_some() {
        return Ok(cx.finish(html::redirect(
            StatusCode::SEE_OTHER,
            "/dashboard?flash=user.deviceRevoked",
        )));
    }
    Ok(json_response(StatusCode::OK, &json!({"status": "revoked"})))
}

/// The `{id}` of `/api/v1/user/devices/{id}/revoke`: non-empty, one path segment.
fn device_id(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v1/user/devices/")
        .and_then(|r| r.strip_suffix("/revoke"))
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// Why the password step refused a revoke. The dashboard form gets a page for each
/// ([`Denial::page`]), JSON its API error.
#[derive(Debug)]
enum Denial {
    NoPassword,
    RateLimited(ApiError),
    TooLong,
    WrongPassword,
}

impl Denial {
    fn page(self, cx: WebCtx) -> Response {
        match self {
            Denial::RateLimited(e) => html::rate_limited_page(cx, e),
            _ => cx.finish(html::redirect(
                StatusCode::SEE_OTHER,
                "/dashboard?error=error.invalidCredentials",
            )),
        }
    }
}

impl From<Denial> for ApiError {
    fn from(d: Denial) -> ApiError {
        match d {
            Denial::NoPassword => ApiError::InvalidRequest("password required"),
            Denial::RateLimited(e) => e,
            Denial::TooLong => ApiError::PasswordTooLong,
            Denial::WrongPassword => ApiError::Forbidden("wrong password"),
        }
    }
}

/// Present, within the rate limit (per IP and user), not too long, and the user's password.
async fn check_password(
    st: &AppState,
    ip: IpAddr,
    user_id: &str,
    password: String,
) -> Result<Result<(), Denial>, ApiError> {
    if password.is_empty() {
        return Ok(Err(Denial::NoPassword));
    }
    if let Err(e) = effects::rate_limit(st, Action::AuthTest, ip, Some(user_id)).await {
        return Ok(Err(Denial::RateLimited(e)));
    }
    let uid = user_id.to_owned();
    let hash = st
        .db
        .read(move |c| users::password_hash(c, &uid))
        .await?
        .unwrap_or_default();
    if password.len() > fixed::PASSWORD_MAX {
        return Ok(Err(Denial::TooLong));
    }
    if !bcrypt_matches(password, hash).await? {
        return Ok(Err(Denial::WrongPassword));
    }
    Ok(Ok(()))
}

/// The device exists (else 404) and belongs to the user (else 403).
async fn check_owner(st: &AppState, id: &str, user_id: &str) -> Result<(), ApiError> {
    let target = id.to_owned();
    match st.db.read(move |c| devices::owner(c, &target)).await? {
        None => Err(ApiError::NotFound("device not found")),
        Some(o) if o.as_deref() != Some(user_id) => {
            Err(ApiError::Forbidden("device does not belong to you"))
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_one_segment() {
        let id = device_id;
        assert_eq!(id("/api/v1/user/devices/d1/revoke"), Some("d1"));
        assert_eq!(id("/api/v1/user/devices//revoke"), None);
        assert_eq!(id("/api/v1/user/devices/a/b/revoke"), None);
        assert_eq!(id("/api/v1/user/devices/d1"), None);
        assert_eq!(id("/api/v1/user/devices/d1/revoke/"), None);
    }

    #[test]
    fn denials_answer_json_with_the_spec_errors() {
        let json = |d: Denial| {
            let e = ApiError::from(d);
            (e.code(), e.to_string())
        };
        assert_eq!(
            json(Denial::NoPassword),
            ("invalid_request", "password required".into())
        );
        assert_eq!(json(Denial::TooLong).0, ApiError::PasswordTooLong.code());
        assert_eq!(
            json(Denial::WrongPassword),
            ("forbidden", "wrong password".into())
        );
        let limited = ApiError::RateLimited { retry_after: 7 };
        let code = limited.code();
        assert_eq!(json(Denial::RateLimited(limited)).0, code);
    }
}
