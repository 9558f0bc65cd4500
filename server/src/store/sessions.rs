//! `server_sessions` (spec §6.6): web sessions of scope `user` or `admin`, stored only as the
//! `sha256_hex` of the session token and of its CSRF token. The lifetime is fixed at creation.

use super::sql::{Conn, OptionalExtension, params};

use super::StoreError;

/// A live session found by its token hash.
#[derive(Debug, Clone)]
pub(crate) struct SessionRow {
    pub subject_id: String,
    pub csrf_hash: String,
}

pub(crate) fn create(
    c: &Conn,
    token_hash: &str,
    csrf_hash: &str,
    scope: &str,
    subject: &str,
    expires_at: &str,
    now: &str,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO server_sessions (token_hash, csrf_hash, scope, subject_id, expires_at, created_at, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![token_hash, csrf_hash, scope, subject, expires_at, now])?;
    Ok(())
}

/// Finds a session of `scope`, deleting it when expired and touching `last_seen` otherwise.
/// A `user` session whose user row is gone counts as missing.
pub(crate) fn lookup(
    c: &Conn,
    token_hash: &str,
    scope: &str,
    now: &str,
) -> Result<Option<SessionRow>, StoreError> {
    let row: Option<(String, String, String)> = c
        .prepare_cached(
            "SELECT subject_id, csrf_hash, expires_at FROM server_sessions
             WHERE token_hash = ?1 AND scope = ?2",
        )?
        .query_row(params![token_hash, scope], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((subject_id, csrf_hash, expires)) = row else {
        return Ok(None);
    };
    if expires.as_str() <= now {
        delete(c, token_hash)?;
        return Ok(None);
    }
    if scope == "user" {
        let live: Option<i64> = c
            .prepare_cached("SELECT blocked FROM server_users WHERE id = ?1")?
            .query_row(params![subject_id], |r| r.get(0))
            .optional()?;
        if live != Some(0) {
            return Ok(None);
        }
    }
    c.prepare_cached("UPDATE server_sessions SET last_seen = ?2 WHERE token_hash = ?1")?
        .execute(params![token_hash, now])?;
    Ok(Some(SessionRow {
        subject_id,
        csrf_hash,
    }))
}

pub(crate) fn delete(c: &Conn, token_hash: &str) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM server_sessions WHERE token_hash = ?1")?
        .execute(params![token_hash])?;
    Ok(())
}

/// Deletes every web session of a user (block, password reset, deletion).
pub(crate) fn delete_for_user(c: &Conn, user_id: &str) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM server_sessions WHERE scope = 'user' AND subject_id = ?1")?
        .execute(params![user_id])?;
    Ok(())
}
