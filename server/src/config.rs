//! `config.yml` (spec §1.6) and the effective configuration after environment variables and
//! flags (§1.4, §1.5).
//!
//! [`ConfigFile`] keeps the parsed YAML document so that unknown keys survive a save, and the
//! typed view of the keys we know. [`Config::resolve`] applies the precedence flag → environment
//! → file → default and normalises. Overrides are never written back into the file.

use anyhow::{Context, Result, anyhow, bail};
use ipnet::IpNet;
use serde::Deserialize;
use serde_norway::{Mapping, Value};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use verstak_sync_proto::Limits;

use crate::util::ids::random_hex;

pub const DEFAULT_PORT: u16 = 47732;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Known {
    port: Option<i64>,
    listen: Option<String>,
    public_url: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    development_token_logging: bool,
    web: KnownWeb,
    limits: KnownLimits,
    retention: KnownRetention,
    metrics: KnownMetrics,
    admin: Vec<AdminEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct KnownWeb {
    default_locale: String,
    allow_registration: bool,
    server_name: String,
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
struct KnownLimits {
    max_json_body: i64,
    max_push_operations: i64,
    max_payload_json: i64,
    max_pull_page: i64,
    max_blob_bytes: i64,
    max_vault_blob_bytes: i64,
    max_user_blob_bytes: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct KnownRetention {
    idempotency_hours: i64,
    audit_days: i64,
    temp_upload_hours: i64,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct KnownMetrics {
    enabled: bool,
    token: String,
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
    doc: Value,
    known: Known,
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

    /// Writes the document atomically (temp file 0640, fsync, rename, fsync dir), always
    /// with an explicit `web.allow_registration`.
    pub fn save(&mut self) -> Result<()> {
        let root = self
            .doc
            .as_mapping_mut()
            .ok_or_else(|| anyhow!("config.yml is not a mapping"))?;
        let web = root
            .entry(Value::from("web"))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if !web.is_mapping() {
            *web = Value::Mapping(Mapping::new());
        }
        let web = web.as_mapping_mut().expect("just made a mapping");
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

/// Flag values that override the file (§1.3).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub port: Option<u16>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub trusted_proxies: Option<String>,
}

/// Retention settings (§6.16).
#[derive(Debug, Clone, Copy)]
pub struct RetentionCfg {
    pub idempotency_hours: i64,
    pub audit_days: i64,
    pub temp_upload_hours: i64,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub public_url: String,
    pub trusted_proxies: Vec<IpNet>,
    pub limits: Limits,
    pub retention: RetentionCfg,
    pub metrics_enabled: bool,
    pub metrics_token: String,
    pub admins: Vec<AdminEntry>,
    /// `web.default_locale`: `en` or `ru` (anything else becomes `en`).
    pub default_locale: String,
    /// `web.allow_registration` (absent means true).
    pub allow_registration: bool,
    /// `web.server_name`, defaulted when empty.
    pub server_name: String,
    pub development_token_logging: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    pub fn resolve(file: &ConfigFile, flags: &Overrides) -> Result<Config> {
        let k = &file.known;
        let env_listen = env("VERSTAK_LISTEN")
            .map(|v| parse_listen(&v).map(|a| (v, a)))
            .transpose()?;
        let flag_listen = flags.listen.as_deref().map(parse_listen).transpose()?;
        let file_listen = k
            .listen
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(parse_listen)
            .transpose()?;
        let host = flag_listen
            .map(|a| a.0)
            .or(env_listen.as_ref().map(|(_, a)| a.0))
            .or(file_listen.map(|a| a.0))
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let env_port = env("VERSTAK_PORT")
            .map(|v| match v.parse::<u16>() {
                Ok(p) if p > 0 => Ok(p),
                _ => Err(anyhow!("VERSTAK_PORT: invalid port {v:?}")),
            })
            .transpose()?;
        let file_port = match k.port {
            Some(p) if (1..=65535).contains(&p) => Some(p as u16),
            Some(p) => bail!("config.yml: invalid port {p}"),
            None => None,
        };
        let port = flags
            .port
            .or(flag_listen.map(|a| a.1))
            .or(env_port)
            .or(env_listen.as_ref().map(|(_, a)| a.1))
            .or(file_listen.map(|a| a.1))
            .or(file_port)
            .unwrap_or(DEFAULT_PORT);
        let public_url = flags
            .public_url
            .clone()
            .or_else(|| env("VERSTAK_PUBLIC_URL"))
            .or_else(|| k.public_url.clone())
            .unwrap_or_default();
        let public_url = normalize_public_url(&public_url)?;
        let proxies: Result<Vec<IpNet>> = match flags
            .trusted_proxies
            .clone()
            .or_else(|| env("VERSTAK_TRUSTED_PROXIES"))
        {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(parse_net)
                .collect(),
            None => k
                .trusted_proxies
                .iter()
                .flatten()
                .map(|s| parse_net(s.trim()))
                .collect(),
        };
        let l = &k.limits;
        let limits = Limits {
            max_json_body: l.max_json_body,
            max_push_operations: l.max_push_operations,
            max_payload_json: l.max_payload_json,
            max_pull_page: l.max_pull_page,
            max_blob_bytes: l.max_blob_bytes,
            max_vault_blob_bytes: l.max_vault_blob_bytes,
            max_user_blob_bytes: l.max_user_blob_bytes,
        }
        .normalized();
        let pos = |v: i64, d: i64| if v <= 0 { d } else { v };
        Ok(Config {
            listen: SocketAddr::new(host, port),
            public_url,
            trusted_proxies: proxies?,
            limits,
            retention: RetentionCfg {
                idempotency_hours: pos(k.retention.idempotency_hours, 24),
                audit_days: pos(k.retention.audit_days, 90),
                temp_upload_hours: pos(k.retention.temp_upload_hours, 24),
            },
            metrics_enabled: k.metrics.enabled,
            metrics_token: k.metrics.token.clone(),
            admins: k.admin.clone(),
            default_locale: if k.web.default_locale == "ru" {
                "ru".into()
            } else {
                "en".into()
            },
            allow_registration: k.web.allow_registration,
            server_name: if k.web.server_name.is_empty() {
                DEFAULT_SERVER_NAME.into()
            } else {
                k.web.server_name.clone()
            },
            development_token_logging: k.development_token_logging,
        })
    }
}

/// `host:port`, with `[v6]:port` and `localhost` accepted. Port 0 (ephemeral) is allowed.
pub fn parse_listen(s: &str) -> Result<(IpAddr, u16)> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| anyhow!("invalid listen address {s:?}"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| anyhow!("invalid port in listen address {s:?}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip = match host {
        "" => IpAddr::from([0, 0, 0, 0]),
        "localhost" => IpAddr::from([127, 0, 0, 1]),
        h => h
            .parse()
            .map_err(|_| anyhow!("invalid host in listen address {s:?}"))?,
    };
    Ok((ip, port))
}

/// A bare IP means /32 or /128.
pub fn parse_net(s: &str) -> Result<IpNet> {
    if let Ok(n) = s.parse::<IpNet>() {
        return Ok(n);
    }
    let ip: IpAddr = s
        .parse()
        .map_err(|_| anyhow!("invalid trusted proxy {s:?}"))?;
    Ok(IpNet::from(ip))
}

fn normalize_public_url(s: &str) -> Result<String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(s.trim_end_matches('/').to_owned()),
        _ => bail!("public_url must be an absolute http or https URL: {s:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_and_proxy_parsing() {
        assert_eq!(
            parse_listen("0.0.0.0:47732").unwrap(),
            (IpAddr::from([0, 0, 0, 0]), 47732)
        );
        assert_eq!(
            parse_listen("[::1]:80").unwrap().0,
            "::1".parse::<IpAddr>().unwrap()
        );
        assert!(parse_listen("nope").is_err());
        assert_eq!(parse_net("127.0.0.1").unwrap().to_string(), "127.0.0.1/32");
        assert!(parse_net("10.0.0.0/8").is_ok() && parse_net("x").is_err());
        assert_eq!(
            normalize_public_url("https://a.example/").unwrap(),
            "https://a.example"
        );
        assert!(normalize_public_url("ftp://x").is_err());
    }

    #[test]
    fn file_values_are_normalised() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = "web:\n  default_locale: de\n  server_name: ''\nlimits:\n  max_pull_page: -3\n  max_push_operations: 7\nretention:\n  audit_days: 0\nmetrics:\n  token: t\nextra: {a: 1}\n";
        std::fs::write(dir.path().join("config.yml"), yaml).unwrap();
        let file = ConfigFile::load(dir.path()).unwrap();
        let c = Config::resolve(&file, &Overrides::default()).unwrap();
        assert_eq!(
            (c.default_locale.as_str(), c.server_name.as_str()),
            ("en", DEFAULT_SERVER_NAME)
        );
        assert!(c.allow_registration && c.metrics_enabled && c.metrics_token == "t");
        assert_eq!(
            (c.limits.max_pull_page, c.limits.max_push_operations),
            (100, 7)
        );
        assert_eq!(c.retention.audit_days, 90);
        assert_eq!(c.listen.to_string(), "127.0.0.1:47732");
        let o = Overrides {
            port: Some(9),
            listen: Some("0.0.0.0:5".into()),
            ..Default::default()
        };
        assert_eq!(
            Config::resolve(&file, &o).unwrap().listen.to_string(),
            "0.0.0.0:9"
        );
    }
}
