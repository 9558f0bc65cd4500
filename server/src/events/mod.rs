//! The live event stream (`docs/events.md`): `GET /api/v1/sync/events` tells a device, as
//! Server-Sent Events, when another device of its `(user, vault)` scope pushed.
//!
//! The pieces, in the order they act:
//! * `routes::events` authenticates like pull, reads the cursor, opens a [`Subscription`] in the
//!   [`EventHub`] (per-user and per-IP limits), then makes one database read
//!   (`store::events::stream_start`: the device's state again, the scope's latest sequence) and
//!   answers with an [`EventStream`] body.
//! * [`hub`]: the registry of open streams and one `watch` channel of [`news::News`] per scope
//!   that has a stream. The push handler calls [`EventHub::published`] after its writer job
//!   returned, that is after the commit (never before), and without any database work.
//!   Revocation, blocking and deletion call [`EventHub::close_device`] / [`EventHub::close_user`]
//!   after their own commits; shutdown calls [`EventHub::shutdown`].
//! * [`news`]: what one stream decides to announce (pure).
//! * [`stream`]: the response body: the first event, then news, heartbeats and the close event.
//! * [`relay`]: with PostgreSQL, what one server process publishes reaches the streams held by
//!   the others (`LISTEN`/`NOTIFY`).
//!
//! A stream subscribes before its opening read, and every change is published after its
//! commit, so whatever the read does not see reaches the subscription: no change falls between.

pub(crate) mod conn;
pub(crate) mod hub;
pub(crate) mod news;
pub(crate) mod relay;
pub(crate) mod stream;

pub(crate) use hub::{EventHub, Subscription};
pub(crate) use stream::EventStream;

use verstak_sync_proto::events as wire;

/// Why the server ends a stream (the `closed` event's `code` and `message`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseReason {
    DeviceRevoked,
    DeviceDeleted,
    UserDeleted,
    UserBlocked,
    ServerShutdown,
}

impl CloseReason {
    pub(crate) fn code(self) -> &'static str {
        match self {
            CloseReason::DeviceRevoked | CloseReason::DeviceDeleted | CloseReason::UserDeleted => {
                wire::CLOSE_DEVICE_REVOKED
            }
            CloseReason::UserBlocked => wire::CLOSE_USER_BLOCKED,
            CloseReason::ServerShutdown => wire::CLOSE_SERVER_SHUTDOWN,
        }
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            CloseReason::DeviceRevoked => "device revoked",
            CloseReason::DeviceDeleted => "device deleted",
            CloseReason::UserDeleted => "user deleted",
            CloseReason::UserBlocked => "user blocked",
            CloseReason::ServerShutdown => "server shutting down",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_have_stable_codes() {
        let table = [
            (
                CloseReason::DeviceRevoked,
                "device_revoked",
                "device revoked",
            ),
            (
                CloseReason::DeviceDeleted,
                "device_revoked",
                "device deleted",
            ),
            (CloseReason::UserDeleted, "device_revoked", "user deleted"),
            (CloseReason::UserBlocked, "user_blocked", "user blocked"),
            (
                CloseReason::ServerShutdown,
                "server_shutdown",
                "server shutting down",
            ),
        ];
        for (r, code, message) in table {
            assert_eq!((r.code(), r.message()), (code, message));
        }
    }
}
