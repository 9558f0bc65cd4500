//! `config.yml` (spec §1.6) and the effective configuration after environment variables and
//! flags (§1.4, §1.5).
//!
//! [`ConfigFile`] keeps the parsed YAML document so that unknown keys survive a save, and the
//! typed view of the keys we know. [`Config::resolve`] applies the precedence flag → environment
//! → file → default and normalises. Overrides are never written back into the file.

use anyhow::{Result, anyhow, bail};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use verstak_sync_proto::Limits;

mod file;
mod history;
mod storage;

pub use file::{AdminEntry, ConfigFile, DEFAULT_SERVER_NAME};
pub use history::{HISTORY_KEYS, HistoryCfg, HistoryOverrides};
pub use storage::{BlobStoreCfg, S3Cfg, StorageArgs, StorageCfg, StorageOverrides, redact_url};

pub const DEFAULT_PORT: u16 = 47732;

/// Flag values that override the file (§1.3).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub port: Option<u16>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub trusted_proxies: Option<String>,
    /// `--history-*` flags (docs/history-retention.md).
    pub history: HistoryOverrides,
    /// `--blob-store`, `--s3-*` and `--database-url` (`config::storage`).
    pub storage: StorageOverrides,
}

/// Retention settings (§6.16).
#[derive(Debug, Clone, Copy)]
pub struct RetentionCfg {
    pub idempotency_hours: i64,
    pub audit_days: i64,
    pub temp_upload_hours: i64,
}

/// The live event stream's settings (`events:` in `config.yml`, `docs/events.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventsCfg {
    /// Seconds between `: ping` comments on an idle stream: 1 to 60 (the connection closes
    /// after 120 s without progress), default 25.
    pub heartbeat_seconds: u64,
    /// Open streams per user, default 32.
    pub max_streams_per_user: usize,
    /// Open streams per client IP (the forwarded IP behind a trusted proxy), default 256.
    pub max_streams_per_ip: usize,
}

impl Default for EventsCfg {
    fn default() -> Self {
        EventsCfg {
            heartbeat_seconds: 25,
            max_streams_per_user: 32,
            max_streams_per_ip: 256,
        }
    }
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub public_url: String,
    pub trusted_proxies: Vec<IpNet>,
    pub limits: Limits,
    pub retention: RetentionCfg,
    pub events: EventsCfg,
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
    /// `history:` as loaded; the run-time copy the console edits is `AppState::history`.
    pub history: HistoryCfg,
    /// Where blobs and the database live (`storage:`, issue 16).
    pub storage: StorageCfg,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The storage settings alone, for subcommands that open storage without serving
/// (`user add`, `backup`): `<data>/config.yml` (if any) under the flags and environment.
pub fn resolve_storage(data: &std::path::Path, flags: &StorageOverrides) -> Result<StorageCfg> {
    let file = ConfigFile::load(data)?;
    storage::resolve(&file.known.storage, flags)
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
            events: events_cfg(&k.events),
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
            history: history::resolve(&k.history, &flags.history)?,
            storage: storage::resolve(&k.storage, &flags.storage)?,
        })
    }
}

/// `events:` with defaults for absent or non-positive values; the heartbeat is capped at 60 s.
fn events_cfg(e: &file::KnownEvents) -> EventsCfg {
    let d = EventsCfg::default();
    let or = |v: i64, d: u64| if v <= 0 { d } else { v as u64 };
    EventsCfg {
        heartbeat_seconds: or(e.heartbeat_seconds, d.heartbeat_seconds).min(60),
        max_streams_per_user: or(e.max_streams_per_user, d.max_streams_per_user as u64) as usize,
        max_streams_per_ip: or(e.max_streams_per_ip, d.max_streams_per_ip as u64) as usize,
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

pub(crate) fn normalize_public_url(s: &str) -> Result<String> {
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
        assert_eq!(c.events, EventsCfg::default());
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

    #[test]
    fn events_settings_are_read_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = "events:\n  heartbeat_seconds: 600\n  max_streams_per_user: 2\n  max_streams_per_ip: -1\n";
        std::fs::write(dir.path().join("config.yml"), yaml).unwrap();
        let file = ConfigFile::load(dir.path()).unwrap();
        let c = Config::resolve(&file, &Overrides::default()).unwrap();
        assert_eq!(
            c.events,
            EventsCfg {
                heartbeat_seconds: 60,
                max_streams_per_user: 2,
                max_streams_per_ip: 256,
            }
        );
    }
}
