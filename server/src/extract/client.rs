//! Client-side extractors: the client IP (§2.8) and device authentication (§3).
//!
//! The work is done by `crate::auth` (`identify` = steps 1–6, `touch` = step 7); these types
//! only decide which steps run before the handler.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::IpAddr;

use crate::auth::{self, Device};
use crate::error::ApiError;
use crate::http::{client_ip, peer};
use crate::state::AppState;
use crate::store::Scope;

/// The client IP: `X-Forwarded-For` read right to left behind a trusted proxy, else the peer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Infallible> {
        let peer = peer(&parts.extensions).ip();
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &st.config.trusted_proxies,
        )))
    }
}

/// §3 steps 1 to 7: a valid, unrevoked token of an unblocked user; `last_seen` is written.
pub(crate) struct DeviceAuth(pub Device);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        Ok(DeviceAuth(
            auth::authenticate(st, &parts.headers, &parts.uri).await?,
        ))
    }
}

/// §3 steps 1 to 6 only. The handler owes step 7: `auth::touch`, or `devices::touch` inside a
/// writer job it runs anyway (push does, to commit once instead of twice).
pub(crate) struct UntouchedDevice(pub Device);

impl FromRequestParts<AppState> for UntouchedDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        Ok(UntouchedDevice(
            auth::identify(st, &parts.headers, &parts.uri).await?,
        ))
    }
}

/// [`DeviceAuth`] narrowed to the device's sync scope; a device without a user is 403.
pub(crate) struct ScopedDevice {
    pub scope: Scope,
    /// The authenticated device's id.
    pub device_id: String,
}

impl FromRequestParts<AppState> for ScopedDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let DeviceAuth(device) = DeviceAuth::from_request_parts(parts, st).await?;
        let scope = device.scope()?;
        Ok(ScopedDevice {
            scope,
            device_id: device.row.id.clone(),
        })
    }
}
