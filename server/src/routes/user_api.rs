//! The signed-in user's device API (spec §6.10): `GET /api/v1/user/devices` and
//! `POST /api/v1/user/devices/{id}/revoke`, authenticated by the `user_session` cookie.
//! The revoke route accepts the dashboard's form post as well as JSON.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use serde::Serialize;
use serde_json::json;
use verstak_sync_proto::limits::fixed;

use crate::creds::bcrypt_matches;
use crate::error::ApiError;
use crate::http::{is_get, json_response};
use crate::json::{DecodeError, Fields, FromJson, decode};
use crate::ratelimit::Action;
use crate::session::{self, Kind};
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::{admin, devices, users};
use crate::util::time;
use crate::web::ctx::WebCtx;
use crate::web::form::{Form, is_urlencoded};
use crate::web::html::{self, error_page};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/user/devices", any(list))
        .route("/api/v1/user/devices/{*rest}", any(revoke))
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

async fn list(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, _) = req.into_parts();
    if !is_get(&parts.method) {
        return Err(ApiError::MethodNotAllowed {
            allow: "GET",
            post_required: false,
        });
    }
    let cx = WebCtx::new(&st, &parts);
    let s = session::current(&st, &cx, Kind::User).await?;
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

async fn revoke(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        return Err(ApiError::MethodNotAllowed {
            allow: "POST",
            post_required: false,
        });
    }
    let cx = WebCtx::new(&st, &parts);
    let s = session::current(&st, &cx, Kind::User).await?;
    let as_form = is_urlencoded(&parts.headers);
    let bytes =
        crate::http::read_body(&parts.headers, body, st.config.limits.max_json_body).await?;
    let form = as_form.then(|| Form::parse(&bytes));
    session::check_csrf(&cx, &s, form.as_ref())?;
    let id = parts
        .uri
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
    if let Err(e) = st.rate(Action::AuthTest, cx.ip, Some(&s.subject)).await {
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
    let (did, now) = (id.clone(), time::now_rfc3339());
    st.db.write(move |c| devices::revoke(c, &did, &now)).await?;
    st.audit(AuditEntry {
        event_type: "device_revoked",
        user_id: Some(s.subject.clone()),
        device_id: Some(id),
        ip: Some(cx.ip.to_string()),
        message: "device revoked from web dashboard".into(),
    })
    .await;
    if form.is_some() {
        return Ok(cx.finish(html::redirect(
            StatusCode::SEE_OTHER,
            "/dashboard?flash=user.deviceRevoked",
        )));
    }
    Ok(json_response(StatusCode::OK, &json!({"status": "revoked"})))
}
