//! `server_console_settings` (schema 6): what the admin console last saved, one row per
//! section (`web`, `history`), so every server process of one database applies the same
//! settings (`crate::console_settings`). `revision` is a random id per save: a process knows a
//! row is news when its revision is not the one it applied last.

use super::StoreError;
use super::sql::{Conn, params};

/// One saved section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Saved {
    pub(crate) section: String,
    /// The section's values as a JSON object.
    pub(crate) body: String,
    pub(crate) revision: String,
}

/// Stores `body` as the section's latest save.
pub(crate) fn put(c: &Conn, s: &Saved, now: &str) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO server_console_settings (section, body, revision, saved_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(section) DO UPDATE SET body = excluded.body, revision = excluded.revision,
             saved_at = excluded.saved_at",
    )?
    .execute(params![s.section, s.body, s.revision, now])?;
    Ok(())
}

/// Every saved section, by name.
pub(crate) fn all(c: &Conn) -> Result<Vec<Saved>, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT section, body, revision FROM server_console_settings ORDER BY section",
    )?;
    let rows = st.query_map(params![], |r| {
        Ok(Saved {
            section: r.get(0)?,
            body: r.get(1)?,
            revision: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
