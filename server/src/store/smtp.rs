//! `server_smtp_config` (spec §6.5): SMTP settings as key/value rows.

use super::sql::{Conn, params};
use std::collections::HashMap;

use super::StoreError;

/// The keys of §6.5, in form order.
pub(crate) const KEYS: [&str; 7] = [
    "smtp_host",
    "smtp_port",
    "smtp_user",
    "smtp_pass",
    "smtp_security",
    "smtp_from",
    "server_url",
];

pub(crate) fn load(c: &Conn) -> Result<HashMap<String, String>, StoreError> {
    let mut st = c.prepare_cached("SELECT key, value FROM server_smtp_config")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn set(c: &Conn, key: &str, value: &str) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO server_smtp_config (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}
