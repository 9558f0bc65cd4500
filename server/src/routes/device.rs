//! The calling device (spec §4.4 to §4.6): `GET /api/client/me`,
//! `POST /api/client/revoke-current`, `POST /api/client/revoke-device`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use verstak_sync_proto::limits::fixed;
use verstak_sync_proto::{MeResponse, RevokeDeviceRequest, StatusResponse, paths};

use super::{legacy_post, only};
use crate::creds::bcrypt_matches;
use crate::effects;
use crate::error::ApiError;
use crate::events::CloseReason;
use crate::extract::{AppJson, ClientIp, DeviceAuth, ScopedDevice};
use crate::ratelimit::Action;
use crate::reply::json_response;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::{devices, users};
use crate::util::time;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::ME, only("GET").get(me))
        .route(paths::REVOKE_CURRENT, legacy_post().post(revoke_current))
        .route(paths::REVOKE_DEVICE, legacy_post().post(revoke_device))
}

async fn me(DeviceAuth(dev): DeviceAuth) -> Result<Response, ApiError> {
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

/// Revokes a device and writes the `device_revoked` audit row (also the user API's revoke).
pub(crate) async fn revoke_and_audit(
    st: &AppState,
    device_id: &str,
    by: Option<String>,
    ip: String,
    message: &str,
) -> Result<(), ApiError> {
    let now = time::now_rfc3339();
    let id = device_id.to_owned();
    st.db.write(move |c| devices::revoke(c, &id, &now)).await?;
    st.events
        .close_device(device_id, CloseReason::DeviceRevoked);
    effects::audit(
        st,
        AuditEntry {
            event_type: "device_revoked",
            user_id: by,
            device_id: Some(device_id.to_owned()),
            ip: Some(ip),
            message: message.into(),
        },
    )
    .await;
    Ok(())
}

async fn revoke_current(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    DeviceAuth(dev): DeviceAuth,
) -> Result<Response, ApiError> {
    revoke_and_audit(
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

/// Authenticate, a device bound to a user (403), decode, then the handler's checks.
async fn revoke_device(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    ScopedDevice { scope, .. }: ScopedDevice,
    AppJson(r): AppJson<RevokeDeviceRequest>,
) -> Result<Response, ApiError> {
    let user_id = scope.user_id;
    if r.device_id.is_empty() || r.password.is_empty() {
        return Err(ApiError::InvalidRequest("device_id and password required"));
    }
    effects::rate_limit(&st, Action::AuthTest, ip, Some(&user_id)).await?;
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
    revoke_and_audit(
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
