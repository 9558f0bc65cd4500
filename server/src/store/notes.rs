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

/// Whether the session has a note of `kind` (expired or not), on a read connection.
pub(crate) fn waiting(c: &Conn, token_hash: &str, kind: &str) -> Result<bool, StoreError> {
    Ok(
        c.prepare_cached("SELECT 1 FROM server_session_notes WHERE token_hash = ?1 AND kind = ?2")?
            .exists(params![token_hash, kind])?,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_taken_once_and_not_after_it_expired() {
        let (_d, c) = crate::store::tests::db();
        assert!(!waiting(&c, "h", "notice").unwrap());
        leave(&c, "h", "notice", "one", "2026-01-01T00:01:00Z").unwrap();
        leave(&c, "h", "notice", "two", "2026-01-01T00:01:00Z").unwrap();
        assert!(waiting(&c, "h", "notice").unwrap());
        assert_eq!(
            take(&c, "other", "notice", "2026-01-01T00:00:00Z").unwrap(),
            None
        );
        assert_eq!(
            take(&c, "h", "notice", "2026-01-01T00:00:00Z")
                .unwrap()
                .as_deref(),
            Some("two")
        );
        assert_eq!(
            take(&c, "h", "notice", "2026-01-01T00:00:00Z").unwrap(),
            None
        );
        leave(&c, "h", "secret", "s", "2026-01-01T00:01:00Z").unwrap();
        assert_eq!(
            take(&c, "h", "secret", "2026-01-01T00:02:00Z").unwrap(),
            None
        );
        prune(&c, "2026-01-01T00:02:00Z").unwrap();
        assert!(!waiting(&c, "h", "secret").unwrap());
    }
}
