//! Health bodies (spec §4.11): `/api/v1/health` and `/readyz` return [`HealthStatus`],
//! `/livez` returns [`LiveStatus`].

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HealthStatus {
    /// `ok`, or `degraded` when a check fails (then the status code is 503).
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub status: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub version: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub build_commit: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub uptime_seconds: i64,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub database_reachable: bool,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub blob_storage_writable: bool,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub schema_version: i64,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub server_time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LiveStatus {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub server_time: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub status: String,
}
