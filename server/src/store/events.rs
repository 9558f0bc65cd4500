//! The one read an event stream makes when it opens (`docs/events.md`): the device's state
//! again (it may have been revoked since authentication, before the stream subscribed), the
//! scope's latest sequence and the newest op after the client's cursor by another device.

use super::sql::{Conn, OptionalExtension, params};

use super::{Scope, StoreError, ops};

/// Whether the device may still hold a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceState {
    Active,
    Revoked,
    Blocked,
    /// The device row or its user is gone.
    Gone,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamStart {
    pub device: DeviceState,
    pub latest: i64,
    /// `(server_sequence, device_id)` of the newest op after `since` pushed by another device.
    pub foreign: Option<(i64, String)>,
}

pub(crate) fn stream_start(
    c: &Conn,
    scope: &Scope,
    device_id: &str,
    since: i64,
) -> Result<StreamStart, StoreError> {
    let row: Option<(Option<String>, Option<String>, Option<bool>)> = c
        .prepare_cached(
            "SELECT d.revoked_at, u.id, u.blocked FROM server_devices d
             LEFT JOIN server_users u ON u.id = d.user_id WHERE d.id = ?1",
        )?
        .query_row(params![device_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let device = match row {
        None | Some((_, None, _)) => DeviceState::Gone,
        Some((Some(r), _, _)) if !r.is_empty() => DeviceState::Revoked,
        Some((_, _, Some(true))) => DeviceState::Blocked,
        Some(_) => DeviceState::Active,
    };
    let latest = ops::last_sequence(c, scope)?;
    let foreign = c
        .prepare_cached(
            "SELECT server_sequence, device_id FROM server_ops
             WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence > ?3 AND device_id <> ?4
             ORDER BY server_sequence DESC LIMIT 1",
        )?
        .query_row(
            params![scope.user_id, scope.vault_id, since, device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(StreamStart {
        device,
        latest,
        foreign,
    })
}
