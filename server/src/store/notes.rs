//! Short-lived notes for one web session, in the database so that every server process sees
//! them (a browser's next request may reach another node): the console's result message, shown
//! once by the next page, and an admin's one-time secret (a reset password), fetched once.
//! A note is keyed by the session token's hash and a kind; taking it deletes it.

use super::StoreError;
use super::sql::{Conn, OptionalExtension, params};

/// Leaves (or replaces) the session's note of `kind` until `expires_at`.
pub(crate) fn leave(
    c: &Conn,
    token_hash: &str,
    kind: &str,
    body: &str,
    expires_at: &str,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO server_session_notes (token_hash, kind, body, expires_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (token_hash, kind) DO UPDATE SET body = excluded.body,
            expires_at = excluded.expires_at",
        params![token_hash, kind, body, expires_at],
    )?;
    Ok(())
}

/// Takes the session's note of `kind`, if one is there and not expired at `now`.
pub(crate) fn take(
    c: &Conn,
    token_hash: &str,
    kind: &str,
    now: &str,
) -> Result<Option<String>, StoreError> {
    let note: Option<(String, String)> = c
        .query_row(
            "DELETE FROM server_session_notes WHERE token_hash = ?1 AND kind = ?2
             RETURNING body, expires_at",
            params![token_hash, kind],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(note.and_then(|(body, exp)| (exp.as_str() > now).then_some(body)))
}

/// Drops expired notes (retention).
pub(crate) fn prune(c: &Conn, now: &str) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM server_session_notes WHERE expires_at <= ?1",
        params![now],
    )?;
    Ok(())
}
