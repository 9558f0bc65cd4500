//! `config.yml` as a file (spec §1.6): the raw YAML document, so unknown keys survive a save,
//! plus the typed view of the keys this server knows. Saving is atomic (temp file 0640, fsync,
//! rename, fsync of the directory) and always writes `web.allow_registration`.

use anyhow::{Context, Result, anyhow};
use serde::Deserialize;
use serde_norway::{Mapping, Value};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::util::ids::random_hex;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Known {
    pub(crate) port: Option<i64>,
    pub(crate) listen: Option<String>,
    pub(crate) public_url: Option<String>,
    pub(crate) trusted_proxies: Option<Vec<String>>,
    pub(crate) development_token_logging: bool,
    pub(crate) web: KnownWeb,
    pub(crate) limits: KnownLimits,
    pub(crate) retention: KnownRetention,
    pub(crate) events: KnownEvents,
    pub(crate) metrics: KnownMetrics,
    pub(crate) admin: Vec<AdminEntry>,
    pub(crate) history: super::history::KnownHistory,
    pub(crate) storage: super::storage::KnownStorage,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub(crate) struct KnownWeb {
    pub(crate) default_locale: String,
    pub(crate) allow_registration: bool,
    pub(crate) server_name: String,
}

impl Default for KnownWeb {
    fn default() -> Self {
        Self {
            default_locale: "en".into(),
            allow_registration: true,
            server_name: String::new(),
        }
    }
}

/// The default `web.server_name`.
pub const DEFAULT_SERVER_NAME: &str = "Verstak Sync Server";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct KnownLimits {
    pub(crate) max_json_body: i64,
    pub(crate) max_push_operations: i64,
    pub(crate) max_payload_json: i64,
    pub(crate) max_pull_page: i64,
    pub(crate) max_blob_bytes: i64,
    pub(crate) max_vault_blob_bytes: i64,
    pub(crate) max_user_blob_bytes: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct KnownRetention {
    pub(crate) idempotency_hours: i64,
    pub(crate) audit_days: i64,
    pub(crate) temp_upload_hours: i64,
}

/// `events:` (the live event stream, `docs/events.md`); 0 or absent means the default.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct KnownEvents {
    pub(crate) heartbeat_seconds: i64,
    pub(crate) max_streams_per_user: i64,
    pub(crate) max_streams_per_ip: i64,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub(crate) struct KnownMetrics {
    pub(crate) enabled: bool,
    pub(crate) token: String,
}

impl Default for KnownMetrics {
    fn default() -> Self {
        Self {
            enabled: true,
            token: String::new(),
        }
    }
}

/// One `admin:` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AdminEntry {
    pub username: String,
    pub password_hash: String,
}

/// The file as loaded: the raw document plus the typed view.
pub struct ConfigFile {
    path: PathBuf,
    pub(super) doc: Value,
    pub(crate) known: Known,
}

impl ConfigFile {
    /// Loads `<data>/config.yml`; a missing file is an empty configuration.
    pub fn load(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join("config.yml");
        let doc = match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().is_empty() => Value::Mapping(Mapping::new()),
            Ok(text) => serde_norway::from_str(&text).context("config.yml: invalid YAML")?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Mapping(Mapping::new()),
            Err(e) => return Err(e).context("reading config.yml"),
        };
        let doc = if doc.is_null() {
            Value::Mapping(Mapping::new())
        } else {
            doc
        };
        let known: Known =
            serde_norway::from_value(doc.clone()).context("config.yml: invalid value")?;
        Ok(Self { path, doc, known })
    }

    /// Creates or updates an admin with a bcrypt (cost 10) hash and saves the file.
    pub fn upsert_admin(&mut self, username: &str, password: &str) -> Result<()> {
        let hash = bcrypt::hash(password, 10).context("hashing admin password")?;
        let root = self
            .doc
            .as_mapping_mut()
            .ok_or_else(|| anyhow!("config.yml is not a mapping"))?;
        let admins = root
            .entry(Value::from("admin"))
            .or_insert_with(|| Value::Sequence(vec![]));
        if !admins.is_sequence() {
            *admins = Value::Sequence(vec![]);
        }
        let list = admins.as_sequence_mut().expect("just made a sequence");
        let existing = list
            .iter_mut()
            .find(|e| e.get("username").and_then(Value::as_str) == Some(username));
        match existing {
            Some(Value::Mapping(m)) => {
                m.insert(Value::from("password_hash"), Value::from(hash.clone()));
            }
            _ => {
                let mut m = Mapping::new();
                m.insert(Value::from("username"), Value::from(username));
                m.insert(Value::from("password_hash"), Value::from(hash.clone()));
                list.push(Value::Mapping(m));
            }
        }
        match self.known.admin.iter_mut().find(|a| a.username == username) {
            Some(a) => a.password_hash = hash,
            None => self.known.admin.push(AdminEntry {
                username: username.into(),
                password_hash: hash,
            }),
        }
        self.save()
    }

    /// Sets the console-editable web settings (§6.12 `web-settings`) and saves the file.
    pub fn set_web(
        &mut self,
        default_locale: &str,
        allow_registration: bool,
        server_name: &str,
        public_url: &str,
    ) -> Result<()> {
        self.doc
            .as_mapping_mut()
            .ok_or_else(|| anyhow!("config.yml is not a mapping"))?
            .insert(Value::from("public_url"), Value::from(public_url));
        let web = self.section_mut("web")?;
        web.insert(Value::from("default_locale"), Value::from(default_locale));
        web.insert(
            Value::from("allow_registration"),
            Value::Bool(allow_registration),
        );
        web.insert(Value::from("server_name"), Value::from(server_name));
        self.known.web.default_locale = default_locale.into();
        self.known.web.allow_registration = allow_registration;
        self.known.web.server_name = server_name.into();
        self.known.public_url = Some(public_url.into());
        self.save()
    }

    /// The mapping under the top-level `key`, made (or replaced, when it is not a mapping).
    pub(super) fn section_mut(&mut self, key: &str) -> Result<&mut Mapping> {
        let root = self
            .doc
            .as_mapping_mut()
            .ok_or_else(|| anyhow!("config.yml is not a mapping"))?;
        let sec = root
            .entry(Value::from(key))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if !sec.is_mapping() {
            *sec = Value::Mapping(Mapping::new());
        }
        Ok(sec.as_mapping_mut().expect("just made a mapping"))
    }

    /// The revision of the console's saved `section` this file holds (`console_revisions:`,
    /// `crate::console_settings`), if any.
    pub(crate) fn console_revision(&self, section: &str) -> Option<String> {
        self.doc
            .get("console_revisions")?
            .get(section)?
            .as_str()
            .map(str::to_owned)
    }

    /// Notes that the file holds the console's `section` as saved under `revision`; written by
    /// the next save.
    pub(crate) fn set_console_revision(&mut self, section: &str, revision: &str) -> Result<()> {
        self.section_mut("console_revisions")?
            .insert(Value::from(section), Value::from(revision));
        Ok(())
    }

    /// Writes the document atomically (temp file 0640, fsync, rename, fsync dir), always
    /// with an explicit `web.allow_registration`.
    pub fn save(&mut self) -> Result<()> {
        let web = self.section_mut("web")?;
        if !matches!(web.get("allow_registration"), Some(Value::Bool(_))) {
            web.insert(Value::from("allow_registration"), Value::Bool(true));
        }
        let text = serde_norway::to_string(&self.doc)?;
        let dir = self.path.parent().expect("config path has a parent");
        let tmp = dir.join(format!(".config-{}", random_hex(8)));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    }
}
