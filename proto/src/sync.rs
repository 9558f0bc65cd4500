//! Push and pull (spec §4.7, §4.8, §5): requests, ops, conflicts and responses.
//!
//! `payload_json` is a string holding JSON text (or `""`), never an embedded object; for `file`
//! and `folder` ops [`crate::payload`] builds and reads it. `entity_type` and `op_type` are
//! typed ([`EntityType`], [`OpType`]) and round-trip unknown strings unchanged; in
//! [`Conflict`] they stay plain strings, a report passed on to the user and never interpreted.
//! In [`PushResponse`], `accepted` and `conflicts` are `None` (JSON `null`) when empty; in
//! [`PullResponse`], `ops` is always an array.

use serde::{Deserialize, Serialize};

use crate::kinds::{EntityType, OpType};

/// One op as a client pushes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PushOp {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub op_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub entity_type: EntityType,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub entity_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub op_type: OpType,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub payload_json: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub client_sequence: i64,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub last_seen_server_seq: i64,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub created_at: String,
}

/// `POST /api/v1/sync/push` request. `device_id` is ignored for identity (length-checked only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PushRequest {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_id: String,
    /// Optional, ≤ 128 bytes; empty means "no key".
    #[serde(
        default,
        deserialize_with = "crate::nullable::zero",
        skip_serializing_if = "String::is_empty"
    )]
    pub idempotency_key: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub ops: Vec<PushOp>,
}

/// An informational conflict: an existing op from another device on the same entity (§5.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Conflict {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub entity_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub entity_type: String,
    /// The id of the existing (conflicting) op, not the pushed one.
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub op_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub op_type: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub server_sequence: i64,
}

/// `POST /api/v1/sync/push` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PushResponse {
    /// Op ids held durably as a result of the request, in request order; `None` when empty.
    #[serde(default)]
    pub accepted: Option<Vec<String>>,
    /// `None` when there are no conflicts.
    #[serde(default)]
    pub conflicts: Option<Vec<Conflict>>,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub count: i64,
}

impl PushResponse {
    /// Builds the response from the accepted ids and conflicts, mapping empty lists to `null`.
    pub fn new(accepted: Vec<String>, conflicts: Vec<Conflict>) -> Self {
        let count = accepted.len() as i64;
        Self {
            accepted: (!accepted.is_empty()).then_some(accepted),
            conflicts: (!conflicts.is_empty()).then_some(conflicts),
            count,
        }
    }

    /// The accepted ids, empty when `null`.
    pub fn accepted_ids(&self) -> &[String] {
        self.accepted.as_deref().unwrap_or(&[])
    }

    /// The conflicts, empty when `null`.
    pub fn conflict_list(&self) -> &[Conflict] {
        self.conflicts.as_deref().unwrap_or(&[])
    }
}

/// `POST /api/v1/sync/pull` request. Clients send at least `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PullRequest {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub since_sequence: i64,
    /// 0 or anything above the server's `max_pull_page` means "the server's maximum".
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub page_limit: i64,
}

/// One op as pull returns it. `device_id` is the authenticated device that pushed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PulledOp {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub op_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub server_sequence: i64,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub entity_type: EntityType,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub entity_id: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub op_type: OpType,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub payload_json: String,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub created_at: String,
}

/// `POST /api/v1/sync/pull` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PullResponse {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub has_more: bool,
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub ops: Vec<PulledOp>,
    /// The sequence of the last op returned, or the request's `since_sequence` when none.
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub page_last_sequence: i64,
    /// The scope's highest assigned sequence.
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub server_sequence: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_push_response_uses_nulls() {
        let r = PushResponse::new(vec![], vec![]);
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(s, r#"{"accepted":null,"conflicts":null,"count":0}"#);
        let back: PushResponse = serde_json::from_str(&s).unwrap();
        assert!(back.accepted_ids().is_empty());
    }

    #[test]
    fn pull_response_ops_is_always_an_array() {
        let r = PullResponse::default();
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(
            s,
            r#"{"has_more":false,"ops":[],"page_last_sequence":0,"server_sequence":0}"#
        );
        let back: PullResponse = serde_json::from_str(r#"{"ops":null}"#).unwrap();
        assert!(back.ops.is_empty());
    }

    #[test]
    fn push_request_omits_empty_key_and_reads_nulls() {
        let r = PushRequest {
            device_id: "d".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"device_id":"d","ops":[]}"#
        );
        let back: PushRequest =
            serde_json::from_str(r#"{"ops":[{"op_id":"a","client_sequence":null}],"x":1}"#)
                .unwrap();
        assert_eq!(back.ops[0].op_id, "a");
        assert_eq!(back.ops[0].client_sequence, 0);
    }
}
