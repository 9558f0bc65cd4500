//! `server_users`: creating users (CLI `user add`) and the credential lookup of §6.3.

use super::sql::{Conn, OptionalExtension, params};

use super::StoreError;

/// What credential verification needs to know about a user.
#[derive(Debug, Clone)]
pub(crate) struct UserCreds {
    pub id: String,
    pub password_hash: String,
    pub confirmed: bool,
    pub blocked: bool,
}

/// Username match first, then the lowercased trimmed email (§6.3 step 1). An account without
/// an email is found by its username only (NULL equals nothing).
pub(crate) fn find_for_login(c: &Conn, login: &str) -> Result<Option<UserCreds>, StoreError> {
    let q = "SELECT id, password_hash, confirmed, blocked FROM server_users WHERE ";
    let map = |r: &super::sql::Row<'_>| {
        Ok(UserCreds {
            id: r.get(0)?,
            password_hash: r.get(1)?,
            confirmed: r.get::<_, i64>(2)? != 0,
            blocked: r.get::<_, i64>(3)? != 0,
        })
    };
    let by_name = c
        .prepare_cached(&format!("{q}username = ?1"))?
        .query_row(params![login], map)
        .optional()?;
    if by_name.is_some() {
        return Ok(by_name);
    }
    let email = login.trim().to_lowercase();
    Ok(c.prepare_cached(&format!("{q}email = ?1"))?
        .query_row(params![email], map)
        .optional()?)
}

/// The password hash of a user, if the row exists.
pub(crate) fn password_hash(c: &Conn, user_id: &str) -> Result<Option<String>, StoreError> {
    Ok(
        c.prepare_cached("SELECT password_hash FROM server_users WHERE id = ?1")?
            .query_row(params![user_id], |r| r.get(0))
            .optional()?,
    )
}

/// The username of a user, if the row exists.
pub(crate) fn username(c: &Conn, user_id: &str) -> Result<Option<String>, StoreError> {
    Ok(
        c.prepare_cached("SELECT username FROM server_users WHERE id = ?1")?
            .query_row(params![user_id], |r| r.get(0))
            .optional()?,
    )
}

/// Outcome of inserting a user.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CreateUser {
    Created,
    UsernameTaken,
    EmailTaken,
}

/// Inserts a user; the username is checked before the email. `email` is `None` for an
/// account without an address (schema 4).
pub(crate) fn create(
    c: &Conn,
    id: &str,
    username: &str,
    email: Option<&str>,
    password_hash: &str,
    confirmed: bool,
    now: &str,
) -> Result<CreateUser, StoreError> {
    let exists = |sql: &str, v: &str| -> Result<bool, StoreError> {
        Ok(c.query_row(sql, params![v], |_| Ok(()))
            .optional()?
            .is_some())
    };
    if exists("SELECT 1 FROM server_users WHERE username = ?1", username)? {
        return Ok(CreateUser::UsernameTaken);
    }
    if let Some(email) = email
        && exists("SELECT 1 FROM server_users WHERE email = ?1", email)?
    {
        return Ok(CreateUser::EmailTaken);
    }
    c.execute(
        "INSERT INTO server_users (id, username, email, password_hash, confirmed, blocked, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
        params![id, username, email, password_hash, confirmed as i64, now],
    )?;
    Ok(CreateUser::Created)
}

/// Sets `last_seen` on pair and login.
pub(crate) fn touch(c: &Conn, user_id: &str, now: &str) -> Result<(), StoreError> {
    c.prepare_cached("UPDATE server_users SET last_seen = ?2 WHERE id = ?1")?
        .execute(params![user_id, now])?;
    Ok(())
}

/// Number of users (metrics gauge).
pub(crate) fn count(c: &Conn) -> Result<i64, StoreError> {
    Ok(c.query_row("SELECT COUNT(*) FROM server_users", params![], |r| r.get(0))?)
}
