//! The signed-in user's device API (spec §6.10): `GET /api/v1/user/devices` and
//! `POST /api/v1/user/devices/{id}/revoke`, authenticated by the `user_session` cookie.
//! The revoke route accepts the dashboard's form post as well as JSON.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;
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
use crate::web::html::{self, error_page};

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
    let id = uri
        .path()
        .strip_prefix("/api/v1/user/devices/")
        .and_then(|r| r.strip_suffix("/revoke"))
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or(ApiError::NotFound("not found"))?
        .to_owned();
    let password = match &form {
        Some(f) => f.get("password").to_owned(),
        None => decode::<Password>(&bytes)?.0,
    };
    let denied = || {
        html::redirect(
            StatusCode::SEE_OTHER,
            "/dashboard?error=error.invalidCredentials",
        )
    };
    if password.is_empty() {
        return match form {
            Some(_) => Ok(cx.finish(denied())),
            None => Err(ApiError::InvalidRequest("password required")),
        };
    }
    if let Err(e) = effects::rate_limit(&st, Action::AuthTest, cx.ip, Some(&s.subject)).await {
        return match form {
            Some(_) => Ok(error_page(
                cx,
                StatusCode::TOO_MANY_REQUESTS,
                "error.rateLimited",
            )),
            None => Err(e),
        };
    }
    let uid = s.subject.clone();
    let hash = st
        .db
        .read(move |c| users::password_hash(c, &uid))
        .await?
        .unwrap_or_default();
    let too_long = password.len() > fixed::PASSWORD_MAX;
    if too_long || !bcrypt_matches(password, hash).await? {
        return match (form, too_long) {
            (Some(_), _) => Ok(cx.finish(denied())),
            (None, true) => Err(ApiError::PasswordTooLong),
            (None, false) => Err(ApiError::Forbidden("wrong password")),
        };
    }
    let target = id.clone();
    let owner = st.db.read(move |c| devices::owner(c, &target)).await?;
    match owner {
        None => return Err(ApiError::NotFound("device not found")),
        Some(o) if o.as_deref() != Some(s.subject.as_str()) => {
            return Err(ApiError::Forbidden("device does not belong to you"));
        }
        Some(_) => {}
    }
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
