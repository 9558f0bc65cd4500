//! Account state in `server_users` and `server_email_tokens` (spec §6.1, §6.4, §6.5): email
//! tokens (stored only as `sha256_hex`), confirmation, password changes and the reset
//! transaction of §6.4.5. Sessions are in [`super::sessions`].

use super::sql::{Conn, OptionalExtension, params};

use super::StoreError;

/// `confirm` or `reset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Confirm,
    Reset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Confirm => "confirm",
            Purpose::Reset => "reset",
        }
    }
}

/// A user's public fields, as mail templates and pages need them.
#[derive(Debug, Clone)]
pub(crate) struct UserInfo {
    pub id: String,
    pub username: String,
    pub email: String,
}

pub(crate) fn issue_token(
    c: &Conn,
    hash: &str,
    user_id: &str,
    purpose: Purpose,
    expires_at: &str,
    now: &str,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO server_email_tokens (token_hash, user_id, purpose, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![hash, user_id, purpose.as_str(), expires_at, now])?;
    Ok(())
}

/// The user whose email is `email` (already lowercased and trimmed).
pub(crate) fn by_email(c: &Conn, email: &str) -> Result<Option<UserInfo>, StoreError> {
    Ok(
        c.prepare_cached("SELECT id, username, email FROM server_users WHERE email = ?1")?
            .query_row(params![email], user_info)
            .optional()?,
    )
}

/// True when `login` is the username of an account without an email address: a forgot
/// request typed its name, and no reset mail can go anywhere.
pub(crate) fn is_without_email(c: &Conn, login: &str) -> Result<bool, StoreError> {
    Ok(
        c.prepare_cached("SELECT 1 FROM server_users WHERE username = ?1 AND email IS NULL")?
            .query_row(params![login], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}

fn user_info(r: &super::sql::Row<'_>) -> super::sql::Result<UserInfo> {
    Ok(UserInfo {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
    })
}

/// What a token lookup found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenOutcome {
    /// No token of this purpose has the hash.
    Unknown,
    /// `now ≥ expires_at`; the token is kept for retention.
    Expired,
    /// The token was used; carries the user id.
    Done(String),
}

fn find_token(
    c: &Conn,
    hash: &str,
    purpose: Purpose,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT user_id, expires_at FROM server_email_tokens WHERE token_hash = ?1 AND purpose = ?2",
    )?
    .query_row(params![hash, purpose.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()?)
}

/// Classifies a token without using it: `Done(user_id)` means valid.
pub(crate) fn token_state(
    c: &Conn,
    hash: &str,
    purpose: Purpose,
    now: &str,
) -> Result<TokenOutcome, StoreError> {
    Ok(match find_token(c, hash, purpose)? {
        None => TokenOutcome::Unknown,
        Some((_, exp)) if now >= exp.as_str() => TokenOutcome::Expired,
        Some((uid, _)) => TokenOutcome::Done(uid),
    })
}

/// §6.4.2: confirms the user and deletes the token.
pub(crate) fn confirm(c: &Conn, hash: &str, now: &str) -> Result<TokenOutcome, StoreError> {
    let Some((user_id, expires)) = find_token(c, hash, Purpose::Confirm)? else {
        return Ok(TokenOutcome::Unknown);
    };
    if now >= expires.as_str() {
        return Ok(TokenOutcome::Expired);
    }
    c.execute(
        "UPDATE server_users SET confirmed = 1 WHERE id = ?1",
        params![user_id],
    )?;
    c.execute(
        "DELETE FROM server_email_tokens WHERE token_hash = ?1",
        params![hash],
    )?;
    Ok(TokenOutcome::Done(user_id))
}

/// §6.4.5 steps 5 and 6 and the effects, in the caller's (writer) transaction.
pub(crate) fn reset_password(
    c: &Conn,
    hash: &str,
    new_hash: &str,
    now: &str,
) -> Result<TokenOutcome, StoreError> {
    let Some((user_id, expires)) = find_token(c, hash, Purpose::Reset)? else {
        return Ok(TokenOutcome::Unknown);
    };
    if now >= expires.as_str() {
        return Ok(TokenOutcome::Expired);
    }
    let n = c.execute(
        "DELETE FROM server_email_tokens WHERE token_hash = ?1 AND purpose = 'reset'",
        params![hash],
    )?;
    if n != 1 {
        return Ok(TokenOutcome::Unknown);
    }
    set_password(c, &user_id, new_hash)?;
    c.execute(
        "DELETE FROM server_email_tokens WHERE user_id = ?1 AND purpose = 'reset'",
        params![user_id],
    )?;
    super::sessions::delete_for_user(c, &user_id)?;
    Ok(TokenOutcome::Done(user_id))
}

pub(crate) fn set_password(c: &Conn, user_id: &str, hash: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        "UPDATE server_users SET password_hash = ?2 WHERE id = ?1",
        params![user_id, hash],
    )? == 1)
}
