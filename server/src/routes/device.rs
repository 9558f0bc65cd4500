//! The calling device (spec §4.4 to §4.6): `GET /api/client/me`,
//! `POST /api/client/revoke-current`, `POST /api/client/revoke-device`.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::any;
use verstak_sync_proto::limits::fixed;
use verstak_sync_proto::{MeResponse, RevokeDeviceRequest, StatusResponse, paths};

use super::{decode_body, require_post};
use crate::auth::authenticate;
use crate::creds::bcrypt_matches;
use crate::error::ApiError;
use crate::http::{client_ip, is_get, json_response, peer};
use crate::ratelimit::Action;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::{devices, users};
use crate::util::time;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::ME, any(me))
        .route(paths::REVOKE_CURRENT, any(revoke_current))
        .route(paths::REVOKE_DEVICE, any(revoke_device))
}

async fn me(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    if !is_get(req.method()) {
        return Err(ApiError::MethodNotAllowed {
            allow: "GET",
            post_required: false,
        });
    }
    let dev = authenticate(&st, req.headers(), req.uri()).await?;
    let Some(user) = dev.row.user.clone().filter(|_| dev.user_id().is_some()) else {
        return Err(ApiError::Unauthorized("invalid token"));
    };
    let scope = dev.scope()?;
    let r = dev.row;
    Ok(json_response(
        StatusCode::OK,
        &MeResponse {
            client_version: r.client_version.unwrap_or_default(),
            created_at: r.created_at,
            device_id: r.id,
            device_name: r.name,
            last_seen: dev.now,
            revoked_at: String::new(),
            user_id: scope.user_id,
            username: user.username,
            vault_id: scope.vault_id,
        },
    ))
}

async fn revoke(
    st: &AppState,
    device_id: &str,
    by: Option<String>,
    ip: String,
    message: &str,
) -> Result<(), ApiError> {
    let now = time::now_rfc3339();
    let id = device_id.to_owned();
    st.db.write(move |c| devices::revoke(c, &id, &now)).await?;
    st.audit(AuditEntry {
        event_type: "device_revoked",
        user_id: by,
        device_id: Some(device_id.to_owned()),
        ip: Some(ip),
        message: message.into(),
    })
    .await;
    Ok(())
}

async fn revoke_current(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    require_post(req.method(), true)?;
    let dev = authenticate(&st, req.headers(), req.uri()).await?;
    let ip = client_ip(
        peer(req.extensions()).ip(),
        req.headers(),
        &st.config.trusted_proxies,
    );
    revoke(
        &st,
        &dev.row.id,
        dev.user_id().map(str::to_owned),
        ip.to_string(),
        "device revoked by user",
    )
    .await?;
    Ok(json_response(
        StatusCode::OK,
        &StatusResponse::new("revoked"),
    ))
}

async fn revoke_device(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    require_post(&parts.method, true)?;
    let dev = authenticate(&st, &parts.headers, &parts.uri).await?;
    let user_id = dev
        .user_id()
        .ok_or(ApiError::Forbidden("device is not associated with a user"))?
        .to_owned();
    let r: RevokeDeviceRequest = decode_body(&st, &parts.headers, body).await?;
    if r.device_id.is_empty() || r.password.is_empty() {
        return Err(ApiError::InvalidRequest("device_id and password required"));
    }
    let ip = client_ip(
        peer(&parts.extensions).ip(),
        &parts.headers,
        &st.config.trusted_proxies,
    );
    st.rate(Action::AuthTest, ip, Some(&user_id)).await?;
    if r.password.len() > fixed::PASSWORD_MAX {
        return Err(ApiError::PasswordTooLong);
    }
    let uid = user_id.clone();
    let hash = st.db.read(move |c| users::password_hash(c, &uid)).await?;
    let hash = hash.ok_or(ApiError::Forbidden("access denied"))?;
    if !bcrypt_matches(r.password.clone(), hash).await? {
        return Err(ApiError::Forbidden("wrong password"));
    }
    let target = r.device_id.clone();
    let owner = st.db.read(move |c| devices::owner(c, &target)).await?;
    let owner = owner
        .flatten()
        .filter(|o| !o.is_empty())
        .ok_or(ApiError::NotFound("device not found"))?;
    if owner != user_id {
        return Err(ApiError::Forbidden("device does not belong to you"));
    }
    revoke(
        &st,
        &r.device_id,
        Some(user_id),
        ip.to_string(),
        "device revoked via API",
    )
    .await?;
    Ok(json_response(
        StatusCode::OK,
        &StatusResponse::new("revoked"),
    ))
}
