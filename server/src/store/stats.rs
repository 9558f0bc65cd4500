//! `ServerStats` counts from the database (spec §6.14). File-system figures (database and
//! blob bytes, temp uploads) and `last_cleanup_at` are added by the caller.

use super::sql::{Conn, params};
use serde::Serialize;

use super::StoreError;

/// §6.14, keys in spec order.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct ServerStats {
    pub users: i64,
    pub active_users: i64,
    pub blocked_users: i64,
    pub unconfirmed_users: i64,
    pub active_devices: i64,
    pub revoked_devices: i64,
    pub vaults: i64,
    pub operations: i64,
    pub operations_24h: i64,
    pub blobs: i64,
    pub blob_references: i64,
    pub orphan_blobs: i64,
    pub temp_uploads: i64,
    pub expired_sessions: i64,
    pub expired_email_tokens: i64,
    pub audit_events: i64,
    pub database_bytes: i64,
    pub blob_bytes: i64,
    pub last_sync_activity: String,
    pub last_cleanup_at: String,
}

/// Fills every database-derived field. `day_ago` is `now − 24 h`.
pub(crate) fn collect(c: &Conn, now: &str, day_ago: &str) -> Result<ServerStats, StoreError> {
    let one =
        |sql: &str| -> Result<i64, StoreError> { Ok(c.query_row(sql, params![], |r| r.get(0))?) };
    let (users, active_users, blocked_users, unconfirmed_users) = c.query_row(
        "SELECT COUNT(*),
                COALESCE(SUM(CASE WHEN confirmed = 1 AND blocked = 0 THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN blocked = 1 THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN confirmed = 0 THEN 1 ELSE 0 END), 0)
         FROM server_users",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let (active_devices, revoked_devices) = super::devices::count_by_state(c)?;
    Ok(ServerStats {
        users,
        active_users,
        blocked_users,
        unconfirmed_users,
        active_devices,
        revoked_devices,
        vaults: one(
            "SELECT COUNT(*) FROM (SELECT DISTINCT user_id, vault_id FROM server_devices
              WHERE COALESCE(user_id, '') <> '' AND COALESCE(vault_id, '') <> '') AS pairs",
        )?,
        operations: one("SELECT COUNT(*) FROM server_ops")?,
        operations_24h: c.query_row(
            "SELECT COUNT(*) FROM server_ops WHERE pushed_at >= ?1",
            params![day_ago],
            |r| r.get(0),
        )?,
        blobs: one("SELECT COUNT(*) FROM server_blobs")?,
        blob_references: one("SELECT COUNT(*) FROM server_blob_refs")?,
        orphan_blobs: one("SELECT COUNT(*) FROM server_blobs b
              WHERE NOT EXISTS (SELECT 1 FROM server_blob_refs r WHERE r.sha256 = b.sha256)")?,
        expired_sessions: c.query_row(
            "SELECT COUNT(*) FROM server_sessions WHERE expires_at <= ?1",
            params![now],
            |r| r.get(0),
        )?,
        expired_email_tokens: c.query_row(
            "SELECT COUNT(*) FROM server_email_tokens WHERE expires_at <= ?1",
            params![now],
            |r| r.get(0),
        )?,
        audit_events: one("SELECT COUNT(*) FROM server_audit_log")?,
        last_sync_activity: one_text(c, "SELECT COALESCE(MAX(last_seen), '') FROM server_devices")?,
        last_cleanup_at: one_text(
            c,
            "SELECT COALESCE(MAX(created_at), '') FROM server_audit_log WHERE event_type = 'retention_cleanup'",
        )?,
        ..Default::default()
    })
}

fn one_text(c: &Conn, sql: &str) -> Result<String, StoreError> {
    Ok(c.query_row(sql, params![], |r| r.get(0))?)
}

/// One user's stored file bytes (the storage page's per-user usage).
#[derive(Debug, Clone, Default)]
pub(crate) struct UserUsage {
    pub user_id: String,
    pub username: String,
    pub bytes: i64,
}

/// The users with stored files, most bytes first (at most `limit`), from the per-scope totals
/// in `server_blob_usage`.
pub(crate) fn usage_by_user(c: &Conn, limit: i64) -> Result<Vec<UserUsage>, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT b.user_id, COALESCE(u.username, ''), SUM(b.bytes) AS used
         FROM server_blob_usage b LEFT JOIN server_users u ON u.id = b.user_id
         GROUP BY b.user_id, u.username HAVING SUM(b.bytes) > 0 ORDER BY used DESC, b.user_id LIMIT ?1",
    )?;
    let rows = st.query_map(params![limit], |r| {
        Ok(UserUsage {
            user_id: r.get(0)?,
            username: r.get(1)?,
            bytes: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
