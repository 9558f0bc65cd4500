//! Enrolment and device routes (spec §4.1 to §4.6): pair, device register, auth test, me, revoke.

use serde::{Deserialize, Serialize};

/// `POST /api/client/pair` request (§4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PairRequest {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub login: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub password: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_name: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub client_version: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub vault_id: String,
}

/// `POST /api/client/pair` response (§4.1). `initial_sync_cursor` is always 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PairResponse {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_token: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub initial_sync_cursor: i64,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub server_time: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub user_id: String,
}

/// `POST /api/v1/device/register` request (§4.2), the older enrolment path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RegisterDeviceRequest {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub username: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub password: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub vault_id: String,
}

/// `POST /api/v1/device/register` response (§4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RegisterDeviceResponse {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_token: String,
}

/// `POST /api/auth/test` request (§4.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuthTestRequest {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub username: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub password: String,
}

/// `{"status": …}`: auth test (`ok`), revoke (`revoked`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StatusResponse {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub status: String,
}

impl StatusResponse {
    pub fn new(status: impl Into<String>) -> Self {
        Self {
            status: status.into(),
        }
    }
}

/// `GET /api/client/me` response (§4.4). Every value is a string; NULL becomes `""`.
/// `vault_id` is an addition over the reference server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MeResponse {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub client_version: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub created_at: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_name: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub last_seen: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub revoked_at: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub user_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub username: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub vault_id: String,
}

/// `POST /api/client/revoke-device` request (§4.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RevokeDeviceRequest {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub password: String,
}
