//! Where the server keeps its data (issue 16): the blob store (the local folder `<data>/blobs`,
//! or a bucket of any S3-compatible store) and the database (SQLite in `--data`, or a
//! PostgreSQL URL).
//!
//! Each setting resolves flag > environment variable > `config.yml` (`storage:`) > default,
//! like the other settings (spec §1.3–1.6). A bad value stops the command with a message that
//! names where it came from. Secrets never reach a message or a log line: the S3 secret key is
//! accepted only from the environment or `config.yml`, and a database URL is shown with its
//! password replaced by `***`.

use anyhow::{Result, anyhow, bail};
use clap::Args;
use serde::Deserialize;

/// `storage:` as written in `config.yml`; `None` = absent.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct KnownStorage {
    pub(crate) blob_store: Option<String>,
    pub(crate) database_url: Option<String>,
    pub(crate) s3_endpoint: Option<String>,
    pub(crate) s3_region: Option<String>,
    pub(crate) s3_access_key_id: Option<String>,
    pub(crate) s3_secret_access_key: Option<String>,
}

/// The storage flags, shared by every subcommand that opens storage (`serve`, `user add`,
/// `backup`).
#[derive(Debug, Default, Clone, Args)]
pub struct StorageArgs {
    /// Where blobs are kept: s3://BUCKET[/prefix] (default: the folder <data>/blobs).
    #[arg(long, value_name = "URL")]
    pub blob_store: Option<String>,
    /// The S3 endpoint, e.g. http://127.0.0.1:3900 (default: AWS for the region).
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// The S3 region (Garage's default is "garage"; default us-east-1).
    #[arg(long, value_name = "NAME")]
    pub s3_region: Option<String>,
    /// The database: postgres://… (default: SQLite in <data>/server.db).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// The flag values; `None` = not given.
pub type StorageOverrides = StorageArgs;

/// The effective storage settings.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StorageCfg {
    pub blob_store: BlobStoreCfg,
    /// A `postgres://` or `postgresql://` URL; `None` = SQLite in the data directory. Holds
    /// the password: print it only through [`redact_url`].
    pub database_url: Option<String>,
}

impl std::fmt::Debug for StorageCfg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageCfg")
            .field("blob_store", &self.blob_store)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .finish()
    }
}

/// Where blobs are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BlobStoreCfg {
    /// `<data>/blobs`.
    #[default]
    Local,
    S3(S3Cfg),
}

/// A bucket of an S3-compatible store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Cfg {
    pub bucket: String,
    /// Key prefix without leading or trailing `/`; empty = the bucket's root.
    pub prefix: String,
    /// `None` = AWS's endpoint for the region.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl S3Cfg {
    /// `s3://bucket/prefix`, for messages.
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// A secret that `Debug` never shows.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

pub const DEFAULT_S3_REGION: &str = "us-east-1";

/// One value and where it came from (a flag, a variable or `config.yml storage.<key>`).
struct Picked {
    value: String,
    from: String,
}

/// Flag, then the variable `env`, then `storage.<key>` of the file. Empty values count as absent.
fn pick(
    flag: (&Option<String>, &str),
    env: &str,
    file: (&Option<String>, &str),
    get_env: &dyn Fn(&str) -> Option<String>,
) -> Option<Picked> {
    let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    if let Some(v) = nonempty(flag.0) {
        return Some(Picked {
            value: v,
            from: flag.1.to_owned(),
        });
    }
    if let Some(v) = get_env(env).filter(|v| !v.trim().is_empty()) {
        return Some(Picked {
            value: v,
            from: env.to_owned(),
        });
    }
    nonempty(file.0).map(|v| Picked {
        value: v,
        from: format!("config.yml storage.{}", file.1),
    })
}

/// The effective storage settings from the flags, the process environment and the file.
pub(crate) fn resolve(file: &KnownStorage, flags: &StorageOverrides) -> Result<StorageCfg> {
    resolve_with(file, flags, &|name| std::env::var(name).ok())
}

fn resolve_with(
    file: &KnownStorage,
    flags: &StorageOverrides,
    get_env: &dyn Fn(&str) -> Option<String>,
) -> Result<StorageCfg> {
    let database_url = pick(
        (&flags.database_url, "--database-url"),
        "VERSTAK_DATABASE_URL",
        (&file.database_url, "database_url"),
        get_env,
    )
    .map(|p| parse_database_url(&p.value).map_err(|e| anyhow!("{}: {e}", p.from)))
    .transpose()?;
    let blob_store = match pick(
        (&flags.blob_store, "--blob-store"),
        "VERSTAK_BLOB_STORE",
        (&file.blob_store, "blob_store"),
        get_env,
    ) {
        None => BlobStoreCfg::Local,
        Some(p) => {
            let (bucket, prefix) =
                parse_blob_store(p.value.trim()).map_err(|e| anyhow!("{}: {e}", p.from))?;
            BlobStoreCfg::S3(s3_cfg(file, flags, get_env, bucket, prefix, &p.from)?)
        }
    };
    Ok(StorageCfg {
        blob_store,
        database_url,
    })
}

/// The endpoint, region and keys of an `s3://` blob store named by `store_from`.
fn s3_cfg(
    file: &KnownStorage,
    flags: &StorageOverrides,
    get_env: &dyn Fn(&str) -> Option<String>,
    bucket: String,
    prefix: String,
    store_from: &str,
) -> Result<S3Cfg> {
    let endpoint = pick(
        (&flags.s3_endpoint, "--s3-endpoint"),
        "VERSTAK_S3_ENDPOINT",
        (&file.s3_endpoint, "s3_endpoint"),
        get_env,
    )
    .map(|p| parse_endpoint(p.value.trim()).map_err(|e| anyhow!("{}: {e}", p.from)))
    .transpose()?;
    let region = pick(
        (&flags.s3_region, "--s3-region"),
        "VERSTAK_S3_REGION",
        (&file.s3_region, "s3_region"),
        get_env,
    )
    .map(|p| {
        let r = p.value.trim().to_owned();
        if r.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            Ok(r)
        } else {
            Err(anyhow!(
                "{}: expected a region name (letters, digits, '-', '_'), got {r:?}",
                p.from
            ))
        }
    })
    .transpose()?
    .unwrap_or_else(|| DEFAULT_S3_REGION.to_owned());
    let none = None;
    let key_id = pick(
        (&none, ""),
        "AWS_ACCESS_KEY_ID",
        (&file.s3_access_key_id, "s3_access_key_id"),
        get_env,
    );
    let secret = pick(
        (&none, ""),
        "AWS_SECRET_ACCESS_KEY",
        (&file.s3_secret_access_key, "s3_secret_access_key"),
        get_env,
    );
    let (Some(key_id), Some(secret)) = (key_id, secret) else {
        bail!(
            "{store_from}: an S3 blob store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
             (or storage.s3_access_key_id and storage.s3_secret_access_key in config.yml)"
        );
    };
    Ok(S3Cfg {
        bucket,
        prefix,
        endpoint,
        region,
        access_key_id: key_id.value.trim().to_owned(),
        secret_access_key: Secret(secret.value.trim().to_owned()),
    })
}

/// `s3://BUCKET[/prefix]` → `(bucket, prefix)`. The bucket follows S3's naming rules; the
/// prefix is `/`-separated segments of letters, digits and `.-_` (no `.` or `..` segment).
pub(crate) fn parse_blob_store(v: &str) -> Result<(String, String), String> {
    let shape = || format!("expected s3://BUCKET[/prefix], got {v:?}");
    let rest = v.strip_prefix("s3://").ok_or_else(shape)?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !bucket_ok {
        return Err(format!(
            "invalid bucket name {bucket:?} in {v:?} (3 to 63 lowercase letters, digits, '.' and '-')"
        ));
    }
    let prefix = prefix.trim_matches('/');
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    if !prefix.is_empty() && !prefix.split('/').all(segment_ok) {
        return Err(format!(
            "invalid prefix {prefix:?} in {v:?} (segments of letters, digits, '.', '-' and '_')"
        ));
    }
    Ok((bucket.to_owned(), prefix.to_owned()))
}

/// An `http://` or `https://` URL with a host, without a trailing `/`.
fn parse_endpoint(v: &str) -> Result<String, String> {
    let rest = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace) => {
            Ok(v.trim_end_matches('/').to_owned())
        }
        _ => Err(format!("expected an http:// or https:// URL, got {v:?}")),
    }
}

/// A `postgres://` or `postgresql://` URL with something after the scheme. Only the shape is
/// checked here; the database client reads the rest.
pub(crate) fn parse_database_url(v: &str) -> Result<String, String> {
    let v = v.trim();
    let rest = v
        .strip_prefix("postgres://")
        .or_else(|| v.strip_prefix("postgresql://"));
    match rest {
        Some(r) if !r.is_empty() && !r.contains(char::is_whitespace) => Ok(v.to_owned()),
        _ => Err(format!(
            "expected a postgres:// or postgresql:// URL, got {:?}",
            redact_url(v)
        )),
    }
}

/// The URL with the password of its user-info part replaced by `***`
/// (`postgres://u:***@host/db`); other URLs are returned unchanged.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const KEYS: &[(&str, &str)] = &[("AWS_ACCESS_KEY_ID", "GK1"), ("AWS_SECRET_ACCESS_KEY", "s")];

    #[test]
    fn absent_means_local_folder_and_sqlite() {
        let c = resolve_with(&KnownStorage::default(), &StorageArgs::default(), &env(&[])).unwrap();
        assert_eq!(c, StorageCfg::default());
        assert_eq!(c.blob_store, BlobStoreCfg::Local);
        assert_eq!(c.database_url, None);
    }

    #[test]
    fn flag_beats_env_beats_file() {
        let file = KnownStorage {
            blob_store: Some("s3://from-file".into()),
            s3_region: Some("file-region".into()),
            s3_endpoint: Some("http://file:1".into()),
            ..KnownStorage::default()
        };
        let e = env(&[
            ("VERSTAK_BLOB_STORE", "s3://from-env/p"),
            ("VERSTAK_S3_REGION", "garage"),
            ("AWS_ACCESS_KEY_ID", "GK1"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]);
        let c = resolve_with(&file, &StorageArgs::default(), &e).unwrap();
        let BlobStoreCfg::S3(s3) = &c.blob_store else {
            panic!("{c:?}")
        };
        assert_eq!((s3.bucket.as_str(), s3.prefix.as_str()), ("from-env", "p"));
        assert_eq!(s3.region, "garage");
        assert_eq!(s3.endpoint.as_deref(), Some("http://file:1"));
        assert_eq!(s3.url(), "s3://from-env/p");
        let flags = StorageArgs {
            blob_store: Some("s3://from-flag/a/b/".into()),
            s3_region: Some("r1".into()),
            ..StorageArgs::default()
        };
        let c = resolve_with(&file, &flags, &e).unwrap();
        let BlobStoreCfg::S3(s3) = &c.blob_store else {
            panic!()
        };
        assert_eq!(s3.url(), "s3://from-flag/a/b");
        assert_eq!(s3.region, "r1");
        // The secret never shows in Debug.
        assert!(!format!("{c:?}").contains("\"s\""));
        assert!(format!("{c:?}").contains("***"));
    }

    #[test]
    fn bad_values_name_their_source() {
        let err = |flags: StorageArgs, e: &'static [(&'static str, &'static str)]| {
            resolve_with(&KnownStorage::default(), &flags, &env(e))
                .unwrap_err()
                .to_string()
        };
        let flag = |v: &str| StorageArgs {
            blob_store: Some(v.into()),
            ..StorageArgs::default()
        };
        assert_eq!(
            err(flag("/var/blobs"), KEYS),
            "--blob-store: expected s3://BUCKET[/prefix], got \"/var/blobs\""
        );
        assert_eq!(
            err(
                StorageArgs::default(),
                &[("VERSTAK_BLOB_STORE", "s3://Bad_Bucket")]
            ),
            "VERSTAK_BLOB_STORE: invalid bucket name \"Bad_Bucket\" in \"s3://Bad_Bucket\" (3 to 63 lowercase letters, digits, '.' and '-')"
        );
        assert!(
            err(flag("s3://ok-bucket/a/../b"), KEYS).starts_with("--blob-store: invalid prefix")
        );
        assert_eq!(
            err(flag("s3://bucket"), &[("AWS_ACCESS_KEY_ID", "GK1")]),
            "--blob-store: an S3 blob store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
             (or storage.s3_access_key_id and storage.s3_secret_access_key in config.yml)"
        );
        let endpoint = StorageArgs {
            s3_endpoint: Some("127.0.0.1:3900".into()),
            ..flag("s3://bucket")
        };
        assert_eq!(
            err(endpoint, KEYS),
            "--s3-endpoint: expected an http:// or https:// URL, got \"127.0.0.1:3900\""
        );
        // Only the blob store needs the S3 settings.
        let c = resolve_with(
            &KnownStorage::default(),
            &StorageArgs {
                s3_endpoint: Some("nonsense".into()),
                ..StorageArgs::default()
            },
            &env(&[]),
        );
        assert!(c.is_ok());
    }

    #[test]
    fn database_url_is_checked_and_never_shown_with_its_password() {
        let db = |v: &str| StorageArgs {
            database_url: Some(v.into()),
            ..StorageArgs::default()
        };
        let c = resolve_with(
            &KnownStorage::default(),
            &db("postgres://u:pw@db:5432/verstak"),
            &env(&[]),
        )
        .unwrap();
        assert_eq!(
            c.database_url.as_deref(),
            Some("postgres://u:pw@db:5432/verstak")
        );
        assert!(!format!("{c:?}").contains("pw"));
        let file = KnownStorage {
            database_url: Some("postgresql:///verstak?host=/run/pg".into()),
            ..KnownStorage::default()
        };
        assert!(
            resolve_with(&file, &StorageArgs::default(), &env(&[]))
                .unwrap()
                .database_url
                .is_some()
        );
        let e = resolve_with(
            &KnownStorage::default(),
            &db("mysql://root:hunter2@h/db"),
            &env(&[]),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "--database-url: expected a postgres:// or postgresql:// URL, got \"mysql://root:***@h/db\""
        );
        let e = resolve_with(
            &KnownStorage::default(),
            &StorageArgs::default(),
            &env(&[("VERSTAK_DATABASE_URL", "postgres://")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("VERSTAK_DATABASE_URL: expected a postgres://"),
            "{e}"
        );
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(redact_url("postgres://u:p@ss@h/d"), "postgres://u:***@h/d");
    }
}
