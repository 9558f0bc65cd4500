//! The live event stream (`docs/events.md`): `GET /api/v1/sync/events`, Server-Sent Events that
//! tell a device when another device of its `(user, vault)` scope pushed.
//!
//! An addition to the reference wire API: nothing else changes. The stream carries
//! * [`SEQUENCE`] events, `id:` the scope's server sequence and `data:` a [`SequenceEvent`];
//! * a `: ping` comment line every heartbeat;
//! * at most one [`CLOSED`] event, `data:` a [`ClosedEvent`], after which the stream ends.
//!
//! The client resumes with its cursor as the `Last-Event-ID` header ([`LAST_EVENT_ID`]) or the
//! [`SINCE_PARAM`] query parameter.

use serde::{Deserialize, Serialize};

/// The route (GET, device bearer auth as for pull).
pub const EVENTS: &str = "/api/v1/sync/events";
/// The request header carrying the client's cursor (the last `id:` it saw).
pub const LAST_EVENT_ID: &str = "last-event-id";
/// The query parameter carrying the client's cursor, when it cannot set [`LAST_EVENT_ID`].
pub const SINCE_PARAM: &str = "since";

/// `event:` of a change notice.
pub const SEQUENCE: &str = "sequence";
/// `event:` of the last message before the server ends the stream.
pub const CLOSED: &str = "closed";

/// 429 `code` when the user or the client IP holds as many streams as allowed.
pub const TOO_MANY_STREAMS: &str = "too_many_streams";

/// [`ClosedEvent::code`]: the device's token will never work again (revoked, or the device
/// or its user deleted). Stop; do not reconnect.
pub const CLOSE_DEVICE_REVOKED: &str = "device_revoked";
/// [`ClosedEvent::code`]: the user was blocked; the token is suspended until unblocked.
pub const CLOSE_USER_BLOCKED: &str = "user_blocked";
/// [`ClosedEvent::code`]: the server is shutting down; reconnect with back-off.
pub const CLOSE_SERVER_SHUTDOWN: &str = "server_shutdown";

/// `data:` of a [`SEQUENCE`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SequenceEvent {
    /// The scope's latest server sequence (the same number as the event's `id:`).
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub server_sequence: i64,
    /// The device whose push this is; empty when the server no longer knows which device
    /// pushed (it coalesced more pushes than it remembers).
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub device_id: String,
}

/// `data:` of a [`CLOSED`] event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ClosedEvent {
    /// A stable machine code: one of the `CLOSE_*` constants.
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub code: String,
    /// A human message.
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_bodies_have_the_documented_shape() {
        let s = SequenceEvent {
            server_sequence: 7,
            device_id: "d1".into(),
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"server_sequence":7,"device_id":"d1"}"#
        );
        let c: ClosedEvent =
            serde_json::from_str(r#"{"code":"device_revoked","message":null,"x":1}"#).unwrap();
        assert_eq!(c.code, CLOSE_DEVICE_REVOKED);
        assert_eq!(c.message, "");
    }
}
