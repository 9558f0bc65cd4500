//! `server_devices` and `server_user_devices`: enrolment, token lookup, `last_seen`, revocation.

use super::sql::{Conn, OptionalExtension, params};

use super::StoreError;

/// A device to insert at pair or register time (§4.1, §4.2).
#[derive(Debug, Clone)]
pub(crate) struct NewDevice {
    pub id: String,
    pub name: String,
    pub token_hash: String,
    pub token_prefix: String,
    pub token_suffix: String,
    pub user_id: String,
    pub vault_id: String,
    pub client_version: Option<String>,
    pub last_ip: Option<String>,
    /// Pair sets the user's `last_seen`; device register does not.
    pub touch_user: bool,
}

pub(crate) fn create(c: &Conn, d: &NewDevice, now: &str) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO server_devices (id, name, api_key, token_hash, token_prefix, token_suffix,
            legacy_api_key, user_id, vault_id, client_version, last_ip, last_seen, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11, ?11)",
    )?
    .execute(params![
        d.id,
        d.name,
        format!("disabled:{}", d.id),
        d.token_hash,
        d.token_prefix,
        d.token_suffix,
        d.user_id,
        d.vault_id,
        d.client_version,
        d.last_ip,
        now
    ])?;
    c.prepare_cached(
        "INSERT INTO server_user_devices (user_id, device_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?
    .execute(params![d.user_id, d.id])?;
    if d.touch_user {
        super::users::touch(c, &d.user_id, now)?;
    }
    Ok(())
}

/// A device row found by its token hash, joined with its user.
#[derive(Debug, Clone)]
pub(crate) struct DeviceRow {
    pub id: String,
    pub name: String,
    pub user_id: Option<String>,
    pub vault_id: Option<String>,
    pub client_version: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// `None` when the device has no user or the user row is missing.
    pub user: Option<UserState>,
}

#[derive(Debug, Clone)]
pub(crate) struct UserState {
    pub username: String,
    pub blocked: bool,
}

pub(crate) fn by_token_hash(c: &Conn, hash: &str) -> Result<Option<DeviceRow>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT d.id, d.name, d.user_id, d.vault_id, d.client_version, d.created_at, d.revoked_at,
                u.username, u.blocked
         FROM server_devices d LEFT JOIN server_users u ON u.id = d.user_id
         WHERE d.token_hash = ?1",
    )?
    .query_row(params![hash], |r| {
        let username: Option<String> = r.get(7)?;
        let blocked: Option<i64> = r.get(8)?;
        Ok(DeviceRow {
            id: r.get(0)?,
            name: r.get(1)?,
            user_id: r.get(2)?,
            vault_id: r.get(3)?,
            client_version: r.get(4)?,
            created_at: r.get(5)?,
            revoked_at: r.get(6)?,
            user: username.map(|username| UserState {
                username,
                blocked: blocked.unwrap_or(0) != 0,
            }),
        })
    })
    .optional()?)
}

pub(crate) fn touch(c: &Conn, id: &str, now: &str) -> Result<(), StoreError> {
    c.prepare_cached("UPDATE server_devices SET last_seen = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

/// Sets `revoked_at` (overwriting an earlier value) and drops device-scoped sessions.
pub(crate) fn revoke(c: &Conn, id: &str, now: &str) -> Result<(), StoreError> {
    c.prepare_cached("UPDATE server_devices SET revoked_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    c.prepare_cached("DELETE FROM server_sessions WHERE scope = 'device' AND subject_id = ?1")?
        .execute(params![id])?;
    Ok(())
}

/// The owner of a device: `None` if the device does not exist, `Some(None)` if it has no user.
pub(crate) fn owner(c: &Conn, id: &str) -> Result<Option<Option<String>>, StoreError> {
    Ok(
        c.prepare_cached("SELECT user_id FROM server_devices WHERE id = ?1")?
            .query_row(params![id], |r| r.get::<_, Option<String>>(0))
            .optional()?,
    )
}

/// `(active, revoked)` device counts (metrics gauge).
pub(crate) fn count_by_state(c: &Conn) -> Result<(i64, i64), StoreError> {
    Ok(c.query_row(
        "SELECT COALESCE(SUM(CASE WHEN COALESCE(revoked_at, '') = '' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN COALESCE(revoked_at, '') = '' THEN 0 ELSE 1 END), 0)
         FROM server_devices",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}
