//! Settings the admin console saves, shared by every server process of one database: the web
//! settings (§6.12 `web-settings`) and history retention (`docs/history-retention.md`).
//!
//! A save goes to the database first (`store::settings`). Each process then applies it to its
//! running state and to its own `config.yml` (spec §1.6: the console saves the file), noting
//! the save's revision under `console_revisions:`. The saving process applies it at once and
//! tells the others (`events::relay`, PostgreSQL `NOTIFY`). On PostgreSQL, admin requests and
//! registration checks look for news first as well, so a balancer that sends the next request
//! to another process still sees what was just saved.
//!
//! At startup, a section whose stored revision is not the one `config.yml` notes is written
//! into the file before the configuration is resolved, so flags and environment variables keep
//! their precedence over it. A file edited by hand after the last save keeps its revision, and
//! its values win.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};

use crate::config::{ConfigFile, HistoryCfg};
use crate::state::{AppState, WebSettings};
use crate::store::Db;
use crate::store::settings::{self, Saved};
use crate::web::i18n::Locale;

/// The web settings as the console saves them: `server_name` as typed (empty means the
/// default name), `public_url` normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WebValues {
    pub(crate) default_locale: String,
    pub(crate) allow_registration: bool,
    pub(crate) server_name: String,
    pub(crate) public_url: String,
}

/// One section of the console's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Section {
    Web(WebValues),
    History(HistoryCfg),
}

const WEB: &str = "web";
const HISTORY: &str = "history";

impl Section {
    fn name(&self) -> &'static str {
        match self {
            Section::Web(_) => WEB,
            Section::History(_) => HISTORY,
        }
    }

    fn body(&self) -> Value {
        match self {
            Section::Web(w) => json!({
                "default_locale": w.default_locale,
                "allow_registration": w.allow_registration,
                "server_name": w.server_name,
                "public_url": w.public_url,
            }),
            Section::History(h) => json!({
                "compact_min_backlog": h.compact_min_backlog,
                "keep_all_days": h.keep_all_days,
                "keep_daily_days": h.keep_daily_days,
                "tombstone_days": h.tombstone_days,
                "blob_grace_hours": h.blob_grace_hours,
            }),
        }
    }

    /// A stored section, checked as the console checks its input; `Ok(None)` for a section
    /// this server does not know (saved by a newer one).
    fn decode(name: &str, body: &str) -> Result<Option<Section>> {
        let v: Value = serde_json::from_str(body).context("not JSON")?;
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("{k} missing"))
        };
        let int = |k: &str| {
            v.get(k)
                .and_then(Value::as_i64)
                .ok_or_else(|| anyhow!("{k} missing"))
        };
        Ok(Some(match name {
            WEB => Section::Web(WebValues {
                default_locale: Locale::from_code(&text("default_locale")?)
                    .code()
                    .to_owned(),
                allow_registration: v
                    .get("allow_registration")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| anyhow!("allow_registration missing"))?,
                server_name: text("server_name")?,
                public_url: crate::config::normalize_public_url(&text("public_url")?)?,
            }),
            HISTORY => Section::History(
                HistoryCfg {
                    compact_min_backlog: int("compact_min_backlog")?,
                    keep_all_days: int("keep_all_days")?,
                    keep_daily_days: int("keep_daily_days")?,
                    tombstone_days: int("tombstone_days")?,
                    blob_grace_hours: int("blob_grace_hours")?,
                }
                .validated()
                .map_err(|field| anyhow!("{field} out of range"))?,
            ),
            _ => return Ok(None),
        }))
    }

    /// Writes the section and its revision into `config.yml` (and saves it).
    fn write_to(&self, file: &mut ConfigFile, revision: &str) -> Result<()> {
        file.set_console_revision(self.name(), revision)?;
        match self {
            Section::Web(w) => file.set_web(
                &w.default_locale,
                w.allow_registration,
                &w.server_name,
                &w.public_url,
            ),
            Section::History(h) => file.set_history(h),
        }
    }

    /// Puts the section into force in this process.
    fn apply_to(&self, st: &AppState) {
        match self {
            Section::Web(w) => {
                let shown_name = if w.server_name.is_empty() {
                    crate::config::DEFAULT_SERVER_NAME.to_owned()
                } else {
                    w.server_name.clone()
                };
                *st.web.write().unwrap_or_else(|p| p.into_inner()) = WebSettings {
                    default_locale: w.default_locale.clone(),
                    allow_registration: w.allow_registration,
                    server_name: shown_name,
                    public_url: w.public_url.clone(),
                };
            }
            Section::History(h) => *st.history.write().unwrap_or_else(|p| p.into_inner()) = *h,
        }
    }
}

/// A stored row decoded; `None` (logged) for a section that is unknown or invalid, which is
/// then passed by until it is saved again.
fn decoded(row: &Saved) -> Option<Section> {
    match Section::decode(&row.section, &row.body) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(section = %row.section, error = %format!("{e:#}"), "ignoring stored console settings");
            None
        }
    }
}

/// Saves a section for every process: into the database, then in force here (and in this
/// process's `config.yml`), then news to the other processes.
pub(crate) async fn save(st: &AppState, section: Section) -> Result<()> {
    let row = Saved {
        section: section.name().to_owned(),
        body: section.body().to_string(),
        revision: crate::util::ids::random_hex(16),
    };
    let now = crate::util::time::now_rfc3339();
    st.db.write(move |c| settings::put(c, &row, &now)).await?;
    refresh(st).await?;
    st.events.settings_saved();
    Ok(())
}

/// Puts in force every section saved since this process last looked (by any process).
pub(crate) async fn refresh(st: &AppState) -> Result<()> {
    // Held across the read, so an older read never overwrites what a newer one applied.
    let mut seen = st.console_seen.lock().await;
    let rows = st.db.read(settings::all).await?;
    for row in rows {
        if seen.get(&row.section) == Some(&row.revision) {
            continue;
        }
        if let Some(section) = decoded(&row) {
            if let Some(file) = st
                .config_file
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_mut()
            {
                section.write_to(file, &row.revision)?;
            }
            section.apply_to(st);
        }
        seen.insert(row.section, row.revision);
    }
    Ok(())
}

/// [`refresh`] for callers that answer anyway: a failure is logged and the settings in force
/// stay.
pub(crate) async fn refresh_or_log(st: &AppState) {
    if let Err(e) = refresh(st).await {
        tracing::warn!(error = %format!("{e:#}"), "reading the console's saved settings failed");
    }
}

/// Before a request that must see the latest save (the console, registration): applies what
/// other processes saved. Only a PostgreSQL database has other processes; a SQLite server's
/// saves are in force from the moment they are made.
pub(crate) async fn look_for_news(st: &AppState) {
    if st.db.is_pg() {
        refresh_or_log(st).await;
    }
}

/// Whether registration is open, with any news applied first.
pub(crate) async fn registration_open(st: &AppState) -> bool {
    look_for_news(st).await;
    st.web_settings().allow_registration
}

/// At startup, before the configuration is resolved: writes into `config.yml` every section
/// saved since the file last took one, and returns the revisions now in force.
pub(crate) async fn merge_into_file(
    db: &Db,
    file: &mut ConfigFile,
) -> Result<HashMap<String, String>> {
    let rows = db.read(settings::all).await?;
    let mut seen = HashMap::new();
    for row in rows {
        if file.console_revision(&row.section).as_deref() != Some(row.revision.as_str())
            && let Some(section) = decoded(&row)
        {
            section.write_to(file, &row.revision)?;
            tracing::info!(section = %row.section, "config.yml takes the console settings saved on another server process");
        }
        seen.insert(row.section, row.revision);
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_round_trip_and_bad_ones_are_refused() {
        let web = Section::Web(WebValues {
            default_locale: "ru".into(),
            allow_registration: false,
            server_name: String::new(),
            public_url: "https://sync.example".into(),
        });
        let history = Section::History(HistoryCfg {
            compact_min_backlog: 50,
            keep_all_days: 14,
            keep_daily_days: 100,
            tombstone_days: 10,
            blob_grace_hours: 48,
        });
        for s in [web, history] {
            let body = s.body().to_string();
            assert_eq!(Section::decode(s.name(), &body).unwrap(), Some(s));
        }
        assert_eq!(Section::decode("later", "{}").unwrap(), None);
        assert!(Section::decode(WEB, "{\"default_locale\":\"en\"}").is_err());
        assert!(Section::decode(WEB, "not json").is_err());
        let inconsistent = r#"{"compact_min_backlog":0,"keep_all_days":9,"keep_daily_days":3,
                               "tombstone_days":0,"blob_grace_hours":0}"#;
        assert!(Section::decode(HISTORY, inconsistent).is_err());
        let bad_url = r#"{"default_locale":"en","allow_registration":true,"server_name":"",
                          "public_url":"ftp://x"}"#;
        assert!(Section::decode(WEB, bad_url).is_err());
    }
}
