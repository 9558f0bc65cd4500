//! What the admin console and admin JSON API read and change (spec §6.11 to §6.14): user and
//! device lists with bound filters, block/confirm/edit, the user-deletion cascade, device
//! deletion. Statistics are in [`super::stats`].

use super::sql::{Conn, OptionalExtension, OwnedValue as Value, params};

use super::StoreError;

/// One row of the users list.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserRow {
    pub id: String,
    pub username: String,
    /// Empty when the account has no email (schema 4).
    pub email: String,
    pub confirmed: bool,
    pub blocked: bool,
    pub last_seen: String,
    pub created_at: String,
    pub devices: i64,
}

/// Filters of `/admin/users` and `/admin/api/users`.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserQuery {
    /// Substring of username or email (`q`); `username_only` restricts it to the username.
    pub q: String,
    pub username_only: bool,
    /// `active`, `blocked`, `unconfirmed` or empty.
    pub status: String,
    /// An `ORDER BY` clause built by the caller from a fixed list, never user text.
    pub order: String,
    pub page: i64,
    pub per_page: i64,
}

fn like(s: &str) -> String {
    let esc = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{esc}%")
}

/// Returns `(total, rows of the page)`.
pub(crate) fn users(c: &Conn, q: &UserQuery) -> Result<(i64, Vec<UserRow>), StoreError> {
    let mut wh = vec!["1=1".to_owned()];
    let mut args: Vec<Value> = Vec::new();
    if !q.q.is_empty() {
        args.push(Value::Text(like(&q.q)));
        if q.username_only {
            wh.push("u.username LIKE ?1 ESCAPE '\\'".into());
        } else {
            wh.push("(u.username LIKE ?1 ESCAPE '\\' OR u.email LIKE ?1 ESCAPE '\\')".into());
        }
    }
    match q.status.as_str() {
        "active" => wh.push("u.confirmed = 1 AND u.blocked = 0".into()),
        "blocked" => wh.push("u.blocked = 1".into()),
        "unconfirmed" => wh.push("u.confirmed = 0".into()),
        _ => {}
    }
    let wh = wh.join(" AND ");
    let total: i64 = c.query_row(
        &format!("SELECT COUNT(*) FROM server_users u WHERE {wh}"),
        super::sql::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let n = args.len();
    args.push(Value::Int(q.per_page));
    args.push(Value::Int((q.page - 1).max(0) * q.per_page));
    let sql = format!(
        "SELECT u.id, u.username, COALESCE(u.email, ''), u.confirmed, u.blocked, COALESCE(u.last_seen, ''),
                u.created_at,
                (SELECT COUNT(*) FROM server_user_devices ud WHERE ud.user_id = u.id) AS devices
         FROM server_users u WHERE {wh} ORDER BY {} LIMIT ?{} OFFSET ?{}",
        q.order,
        n + 1,
        n + 2
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map(super::sql::params_from_iter(args.iter()), |r| {
        Ok(UserRow {
            id: r.get(0)?,
            username: r.get(1)?,
            email: r.get(2)?,
            confirmed: r.get::<_, i64>(3)? != 0,
            blocked: r.get::<_, i64>(4)? != 0,
            last_seen: r.get(5)?,
            created_at: r.get(6)?,
            devices: r.get(7)?,
        })
    })?;
    Ok((total, rows.collect::<Result<_, _>>()?))
}

/// Toggles `blocked`; blocking deletes the user's sessions. `None` for an unknown id.
pub(crate) fn toggle_block(c: &Conn, id: &str) -> Result<Option<bool>, StoreError> {
    let cur: Option<i64> = c
        .query_row(
            "SELECT blocked FROM server_users WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(cur) = cur else { return Ok(None) };
    let new = cur == 0;
    c.execute(
        "UPDATE server_users SET blocked = ?2 WHERE id = ?1",
        params![id, new as i64],
    )?;
    if new {
        super::sessions::delete_for_user(c, id)?;
    }
    Ok(Some(new))
}

pub(crate) fn confirm(c: &Conn, id: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        "UPDATE server_users SET confirmed = 1 WHERE id = ?1",
        params![id],
    )? == 1)
}

/// Outcome of editing a user.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EditOutcome {
    Done,
    NotFound,
    UsernameTaken,
    EmailTaken,
}

/// Sets username and email (`None`: no address).
pub(crate) fn edit(
    c: &Conn,
    id: &str,
    username: &str,
    email: Option<&str>,
) -> Result<EditOutcome, StoreError> {
    let exists = |sql: &str, v: &str| -> Result<bool, StoreError> {
        Ok(c.query_row(sql, params![v, id], |_| Ok(()))
            .optional()?
            .is_some())
    };
    if c.query_row(
        "SELECT 1 FROM server_users WHERE id = ?1",
        params![id],
        |_| Ok(()),
    )
    .optional()?
    .is_none()
    {
        return Ok(EditOutcome::NotFound);
    }
    if exists(
        "SELECT 1 FROM server_users WHERE username = ?1 AND id <> ?2",
        username,
    )? {
        return Ok(EditOutcome::UsernameTaken);
    }
    if let Some(email) = email
        && exists(
            "SELECT 1 FROM server_users WHERE email = ?1 AND id <> ?2",
            email,
        )?
    {
        return Ok(EditOutcome::EmailTaken);
    }
    c.execute(
        "UPDATE server_users SET username = ?2, email = ?3 WHERE id = ?1",
        params![id, username, email],
    )?;
    Ok(EditOutcome::Done)
}

/// The cascade of §6.13 `DELETE /admin/api/users/{id}`, in one transaction. Blob files remain.
pub(crate) fn delete_user(c: &Conn, id: &str) -> Result<bool, StoreError> {
    c.execute(
        "DELETE FROM server_sessions WHERE scope = 'user' AND subject_id = ?1",
        params![id],
    )?;
    for table in [
        "server_email_tokens",
        "server_blob_refs",
        "server_blob_usage",
        "server_idempotency_keys",
        "server_tombstones",
        "server_ops",
        "server_scopes",
    ] {
        c.execute(
            &format!("DELETE FROM {table} WHERE user_id = ?1"),
            params![id],
        )?;
    }
    c.execute(
        "DELETE FROM server_devices WHERE user_id = ?1
            OR id IN (SELECT device_id FROM server_user_devices WHERE user_id = ?1)",
        params![id],
    )?;
    c.execute(
        "DELETE FROM server_user_devices WHERE user_id = ?1",
        params![id],
    )?;
    c.execute(
        "DELETE FROM server_audit_log WHERE user_id = ?1",
        params![id],
    )?;
    Ok(c.execute("DELETE FROM server_users WHERE id = ?1", params![id])? == 1)
}

/// The names a console result message mentions: a user's username, a device's name.
pub(crate) fn names(
    c: &Conn,
    user_id: &str,
    device_id: &str,
) -> Result<(Option<String>, Option<String>), StoreError> {
    let one = |sql: &str, id: &str| -> Result<Option<String>, StoreError> {
        Ok(c.query_row(sql, params![id], |r| r.get(0)).optional()?)
    };
    Ok((
        one("SELECT username FROM server_users WHERE id = ?1", user_id)?,
        one("SELECT name FROM server_devices WHERE id = ?1", device_id)?,
    ))
}

/// One row of the devices list.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeviceRow {
    pub id: String,
    pub name: String,
    #[allow(dead_code)]
    pub user_id: String,
    pub username: String,
    pub vault_id: String,
    pub client_version: String,
    pub token_prefix: String,
    pub token_suffix: String,
    pub created_at: String,
    pub last_seen: String,
    pub revoked_at: String,
}

impl DeviceRow {
    /// `prefix…suffix`, or just `…`.
    pub(crate) fn token_hint(&self) -> String {
        format!("{}\u{2026}{}", self.token_prefix, self.token_suffix)
    }
}

/// Filters of `/admin/devices`; empty means no filter.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeviceQuery {
    pub q: String,
    pub status: String,
    pub user: String,
    pub vault: String,
    pub version: String,
    /// Restricts to one `(user, vault)` pair (vault detail page).
    pub exact_scope: Option<(String, String)>,
    pub order: &'static str,
}

pub(crate) fn devices(c: &Conn, q: &DeviceQuery) -> Result<Vec<DeviceRow>, StoreError> {
    let mut wh = vec!["1=1".to_owned()];
    let mut args: Vec<Value> = Vec::new();
    let mut add = |cond: &str, v: Value, args: &mut Vec<Value>| {
        args.push(v);
        wh.push(cond.replace('?', &format!("?{}", args.len())));
    };
    for (val, col) in [
        (&q.q, "d.name"),
        (&q.user, "COALESCE(u.username, '')"),
        (&q.vault, "COALESCE(d.vault_id, '')"),
        (&q.version, "COALESCE(d.client_version, '')"),
    ] {
        if !val.is_empty() {
            add(
                &format!("{col} LIKE ? ESCAPE '\\'"),
                Value::Text(like(val)),
                &mut args,
            );
        }
    }
    if let Some((u, v)) = &q.exact_scope {
        add("d.user_id = ?", Value::Text(u.clone()), &mut args);
        add("d.vault_id = ?", Value::Text(v.clone()), &mut args);
    }
    match q.status.as_str() {
        "active" => wh.push("COALESCE(d.revoked_at, '') = ''".into()),
        "revoked" => wh.push("COALESCE(d.revoked_at, '') <> ''".into()),
        _ => {}
    }
    let sql = format!(
        "SELECT d.id, d.name, COALESCE(d.user_id, ''), COALESCE(u.username, ''),
                COALESCE(d.vault_id, ''), COALESCE(d.client_version, ''),
                COALESCE(d.token_prefix, ''), COALESCE(d.token_suffix, ''), d.created_at,
                COALESCE(d.last_seen, ''), COALESCE(d.revoked_at, '')
         FROM server_devices d LEFT JOIN server_users u ON u.id = d.user_id
         WHERE {} ORDER BY {} LIMIT 1000",
        wh.join(" AND "),
        q.order
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map(super::sql::params_from_iter(args.iter()), device_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn device_row(r: &super::sql::Row<'_>) -> super::sql::Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.get(0)?,
        name: r.get(1)?,
        user_id: r.get(2)?,
        username: r.get(3)?,
        vault_id: r.get(4)?,
        client_version: r.get(5)?,
        token_prefix: r.get(6)?,
        token_suffix: r.get(7)?,
        created_at: r.get(8)?,
        last_seen: r.get(9)?,
        revoked_at: r.get(10)?,
    })
}

/// The devices of one user (dashboard, `/api/v1/user/devices`), newest first; `q` filters on
/// name, vault id and client version.
pub(crate) fn user_devices(c: &Conn, user_id: &str, q: &str) -> Result<Vec<DeviceRow>, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT d.id, d.name, COALESCE(d.user_id, ''), '', COALESCE(d.vault_id, ''),
                COALESCE(d.client_version, ''), COALESCE(d.token_prefix, ''),
                COALESCE(d.token_suffix, ''), d.created_at, COALESCE(d.last_seen, ''),
                COALESCE(d.revoked_at, '')
         FROM server_user_devices ud JOIN server_devices d ON d.id = ud.device_id
         WHERE ud.user_id = ?1 AND (?2 = '' OR d.name LIKE ?3 ESCAPE '\\'
               OR COALESCE(d.vault_id, '') LIKE ?3 ESCAPE '\\'
               OR COALESCE(d.client_version, '') LIKE ?3 ESCAPE '\\')
         ORDER BY d.created_at DESC, d.id DESC",
    )?;
    let rows = st.query_map(params![user_id, q, like(q)], device_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes a device's link and row (ops are kept). `None` if unknown, `Some(false)` if the
/// device is not revoked and `must_be_revoked` is set.
pub(crate) fn delete_device(
    c: &Conn,
    id: &str,
    must_be_revoked: bool,
) -> Result<Option<bool>, StoreError> {
    let revoked: Option<String> = c
        .query_row(
            "SELECT COALESCE(revoked_at, '') FROM server_devices WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(revoked) = revoked else {
        c.execute(
            "DELETE FROM server_user_devices WHERE device_id = ?1",
            params![id],
        )?;
        return Ok(None);
    };
    if must_be_revoked && revoked.is_empty() {
        return Ok(Some(false));
    }
    c.execute(
        "DELETE FROM server_user_devices WHERE device_id = ?1",
        params![id],
    )?;
    c.execute("DELETE FROM server_devices WHERE id = ?1", params![id])?;
    Ok(Some(true))
}

/// One `(user, vault)` pair of `/admin/vaults`.
#[derive(Debug, Clone, Default)]
pub(crate) struct VaultRow {
    pub user_id: String,
    pub username: String,
    pub vault_id: String,
    pub devices: i64,
    pub active_devices: i64,
    pub ops: i64,
    pub last_sequence: i64,
    pub last_activity: String,
    pub blob_bytes: i64,
}

/// The distinct pairs among devices with both set, or one pair.
pub(crate) fn vaults(c: &Conn, only: Option<(&str, &str)>) -> Result<Vec<VaultRow>, StoreError> {
    let (u, v) = only.unwrap_or(("", ""));
    let mut st = c.prepare_cached(
        "SELECT d.user_id, COALESCE(u.username, ''), d.vault_id, COUNT(*),
                SUM(CASE WHEN COALESCE(d.revoked_at, '') = '' THEN 1 ELSE 0 END),
                (SELECT COUNT(*) FROM server_ops o WHERE o.user_id = d.user_id AND o.vault_id = d.vault_id),
                COALESCE((SELECT last_sequence FROM server_scopes s WHERE s.user_id = d.user_id AND s.vault_id = d.vault_id), 0),
                COALESCE((SELECT MAX(pushed_at) FROM server_ops o WHERE o.user_id = d.user_id AND o.vault_id = d.vault_id), MAX(COALESCE(d.last_seen, '')), ''),
                COALESCE((SELECT bytes FROM server_blob_usage b WHERE b.user_id = d.user_id AND b.vault_id = d.vault_id), 0)
         FROM server_devices d LEFT JOIN server_users u ON u.id = d.user_id
         WHERE COALESCE(d.user_id, '') <> '' AND COALESCE(d.vault_id, '') <> ''
           AND (?1 = '' OR (d.user_id = ?1 AND d.vault_id = ?2))
         GROUP BY d.user_id, d.vault_id, u.username ORDER BY 8 DESC, d.user_id, d.vault_id LIMIT 1000",
    )?;
    let rows = st.query_map(params![u, v], |r| {
        Ok(VaultRow {
            user_id: r.get(0)?,
            username: r.get(1)?,
            vault_id: r.get(2)?,
            devices: r.get(3)?,
            active_devices: r.get(4)?,
            ops: r.get(5)?,
            last_sequence: r.get(6)?,
            last_activity: r.get(7)?,
            blob_bytes: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One audit row, with the names of its user and device where they still exist.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditRow {
    pub event_type: String,
    pub user_id: String,
    pub username: String,
    pub device_id: String,
    pub device_name: String,
    pub ip: String,
    pub message: String,
    pub created_at: String,
}

/// Newest first; `event` and `user` (user id or username) are substring filters, `types`
/// restricts to event types.
pub(crate) fn audit(
    c: &Conn,
    event: &str,
    user: &str,
    types: Option<&[&str]>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let types_json = types
        .map(|t| serde_json::to_string(t).unwrap_or_default())
        .unwrap_or_default();
    // The JSON list of types, as rows: SQLite's `json_each`, PostgreSQL's own function.
    let types_in = if c.is_pg() {
        "SELECT json_array_elements_text(CAST(?5 AS json))"
    } else {
        "SELECT value FROM json_each(?5)"
    };
    let mut st = c.prepare_cached(&format!(
        "SELECT a.event_type, COALESCE(a.user_id, ''), COALESCE(u.username, ''),
                COALESCE(a.device_id, ''), COALESCE(d.name, ''), COALESCE(a.ip, ''),
                COALESCE(a.message, ''), a.created_at
         FROM server_audit_log a
         LEFT JOIN server_users u ON u.id = a.user_id
         LEFT JOIN server_devices d ON d.id = a.device_id
         WHERE (?1 = '' OR a.event_type LIKE ?2 ESCAPE '\\')
           AND (?3 = '' OR COALESCE(a.user_id, '') LIKE ?4 ESCAPE '\\'
                OR COALESCE(u.username, '') LIKE ?4 ESCAPE '\\')
           AND (?5 = '' OR a.event_type IN ({types_in}))
         ORDER BY a.id DESC LIMIT ?6",
    ))?;
    let rows = st.query_map(
        params![event, like(event), user, like(user), types_json, limit],
        |r| {
            Ok(AuditRow {
                event_type: r.get(0)?,
                user_id: r.get(1)?,
                username: r.get(2)?,
                device_id: r.get(3)?,
                device_name: r.get(4)?,
                ip: r.get(5)?,
                message: r.get(6)?,
                created_at: r.get(7)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
