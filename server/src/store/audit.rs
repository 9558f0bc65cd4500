//! `server_audit_log` (spec §6.15): one row per security-relevant event. Messages never hold secrets.

use super::sql::{Conn, params};

use super::StoreError;

/// One audit entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditEntry {
    pub event_type: &'static str,
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    pub ip: Option<String>,
    pub message: String,
}

pub(crate) fn insert(c: &Conn, e: &AuditEntry, now: &str) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO server_audit_log (event_type, user_id, device_id, ip, message, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        e.event_type,
        e.user_id,
        e.device_id,
        e.ip,
        e.message,
        now
    ])?;
    Ok(())
}
