//! `server_blobs` and `server_blob_refs` (spec §4.9, §4.10, §5.10): per-scope ownership,
//! logical quotas, and attaching a verified upload.

use super::sql::{Conn, OptionalExtension, params};

use super::{Scope, StoreError};

/// The size recorded by this scope's ref to `sha256`, if it has one.
pub(crate) fn ref_size(c: &Conn, s: &Scope, sha256: &str) -> Result<Option<i64>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT size FROM server_blob_refs WHERE user_id = ?1 AND vault_id = ?2 AND sha256 = ?3",
    )?
    .query_row(params![s.user_id, s.vault_id, sha256], |r| r.get(0))
    .optional()?)
}

pub(crate) fn touch_ref(c: &Conn, s: &Scope, sha256: &str, now: &str) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE server_blob_refs SET last_accessed = ?4 WHERE user_id = ?1 AND vault_id = ?2 AND sha256 = ?3",
    )?
    .execute(params![s.user_id, s.vault_id, sha256, now])?;
    Ok(())
}

/// Outcome of [`attach`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Attach {
    /// The scope already had this blob; the upload is idempotent.
    Existing,
    /// A new ref was inserted.
    Added,
    QuotaExceeded,
}

/// Quota limits for one attach.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quota {
    pub vault_max: i64,
    pub user_max: i64,
}

/// Attaches a blob to a scope inside the writer transaction (§4.9 "Attaching").
///
/// `place` puts the verified temp file at its final path and says whether this call created
/// the file; if a later insert fails, such a file is removed again by `unplace`.
pub(crate) fn attach(
    c: &Conn,
    s: &Scope,
    (sha256, size): (&str, i64),
    quota: Quota,
    place: impl FnOnce() -> std::io::Result<bool>,
    unplace: impl FnOnce(),
    now: &str,
) -> Result<Attach, StoreError> {
    super::lock_user(c, &s.user_id)?;
    super::lock_blob(c, sha256)?;
    if ref_size(c, s, sha256)?.is_some() {
        touch_ref(c, s, sha256, now)?;
        // The file normally exists; this restores it if it was lost (say, a crash between the
        // commit and the directory fsync of the first upload, which was then never answered).
        place()?;
        return Ok(Attach::Existing);
    }
    // The totals kept by triggers (schema::BLOB_USAGE): one row per vault of the user.
    let (vault_used, user_used): (i64, i64) = c
        .prepare_cached(
            "SELECT COALESCE(SUM(CASE WHEN vault_id = ?2 THEN bytes END), 0), COALESCE(SUM(bytes), 0)
             FROM server_blob_usage WHERE user_id = ?1",
        )?
        .query_row(params![s.user_id, s.vault_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if vault_used.saturating_add(size) > quota.vault_max
        || user_used.saturating_add(size) > quota.user_max
    {
        return Ok(Attach::QuotaExceeded);
    }
    let newly_placed = place()?;
    let inserted = (|| -> Result<(), StoreError> {
        c.execute(
            "INSERT INTO server_blobs (sha256, size, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![sha256, size, now],
        )?;
        c.execute(
            "INSERT INTO server_blob_refs (user_id, vault_id, sha256, size, created_at, last_accessed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![s.user_id, s.vault_id, sha256, size, now],
        )?;
        Ok(())
    })();
    if let Err(e) = inserted {
        if newly_placed {
            unplace();
        }
        return Err(e);
    }
    Ok(Attach::Added)
}

/// `(distinct blobs, referenced bytes)` for the metrics gauges.
pub(crate) fn totals(c: &Conn) -> Result<(i64, i64), StoreError> {
    let blobs = c.query_row("SELECT COUNT(*) FROM server_blobs", params![], |r| r.get(0))?;
    let bytes = c.query_row(
        "SELECT COALESCE(SUM(bytes), 0) FROM server_blob_usage",
        params![],
        |r| r.get(0),
    )?;
    Ok((blobs, bytes))
}
