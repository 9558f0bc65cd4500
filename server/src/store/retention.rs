//! Retention (spec §6.16): expired sessions and email tokens, old idempotency records, old audit
//! rows. Never touches ops, scopes, tombstones, blobs or refs. The temp-upload sweep lives in
//! `blobstore`.

use super::sql::{Conn, params};
use std::time::Duration;

use super::StoreError;
use crate::util::time;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Retention {
    pub idempotency_hours: i64,
    pub audit_days: i64,
}

pub(crate) fn run(c: &Conn, r: Retention) -> Result<(), StoreError> {
    let now = time::now_rfc3339();
    c.execute(
        "DELETE FROM server_sessions WHERE expires_at <= ?1",
        params![now],
    )?;
    c.execute(
        "DELETE FROM server_email_tokens WHERE expires_at <= ?1",
        params![now],
    )?;
    let idem = time::rfc3339_ago(Duration::from_secs(
        r.idempotency_hours.max(0) as u64 * 3600,
    ));
    c.execute(
        "DELETE FROM server_idempotency_keys WHERE created_at < ?1",
        params![idem],
    )?;
    let audit = time::rfc3339_ago(Duration::from_secs(r.audit_days.max(0) as u64 * 86_400));
    c.execute(
        "DELETE FROM server_audit_log WHERE created_at < ?1",
        params![audit],
    )?;
    super::notes::prune(c, &now)?;
    if c.is_pg() {
        crate::ratelimit::prune_shared(c, time::unix_millis())?;
    }
    Ok(())
}
