//! The blob backends the blob tests run against: the local folder `<data>/blobs` always, and a
//! bucket of a real S3-compatible store when `VERSTAK_TEST_BLOB_STORE` (`s3://bucket/prefix`)
//! and the S3 variables are set (`scripts/garage.sh start` prints them). Each server gets a
//! fresh sub-prefix of the bucket, so tests do not see each other's objects.
//!
//! [`Backend::start`] starts the real server on the backend; [`Store`] looks at what the server
//! stored (the files, or the objects through an S3 client of its own) and can plant or remove
//! a blob behind the server's back.

use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common::{TestServer, blob_path};

/// Where a test server keeps its blobs.
#[derive(Clone)]
pub enum Backend {
    Local,
    S3 { bucket: String, prefix: String },
}

/// The local folder, then S3 when the environment names a bucket.
pub fn backends() -> Vec<Backend> {
    // With every server on S3 (`VERSTAK_TEST_S3_EVERYWHERE`) there is no local-folder server.
    let mut all = if crate::common::on_s3() {
        eprintln!("skipped: the local-folder backend (every server keeps its blobs in S3)");
        vec![]
    } else {
        vec![Backend::Local]
    };
    if let Ok(url) = std::env::var("VERSTAK_TEST_BLOB_STORE")
        && !url.is_empty()
    {
        let rest = url
            .strip_prefix("s3://")
            .expect("VERSTAK_TEST_BLOB_STORE is s3://bucket[/prefix]");
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        all.push(Backend::S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        });
    }
    all
}

/// The S3 backend, when the environment names a bucket.
pub fn s3() -> Option<Backend> {
    backends()
        .into_iter()
        .find(|b| matches!(b, Backend::S3 { .. }))
}

/// Runs the `garage` CLI against the node of `scripts/garage.sh` (`GARAGE_DIR`); `None` when
/// there is no such node.
pub fn garage(args: &[&str]) -> Option<String> {
    let dir = std::env::var("GARAGE_DIR").ok().filter(|d| !d.is_empty())?;
    let out = std::process::Command::new("garage")
        .arg("-c")
        .arg(Path::new(&dir).join("garage.toml"))
        .args(args)
        .output()
        .expect("running garage");
    assert!(
        out.status.success(),
        "garage {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `f` once per backend, naming the backend when it fails.
pub fn each(f: impl Fn(&Backend)) {
    for b in backends() {
        eprintln!("blob backend: {}", b.name());
        f(&b);
    }
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Local => "local folder",
            Backend::S3 { .. } => "s3",
        }
    }

    /// Starts a server with `config.yml` contents and extra flags on this backend.
    pub fn start(&self, config: Option<&str>, args: &[&str]) -> (TestServer, Store) {
        self.start_env(config, args, &[])
    }

    /// [`Backend::start`] with extra environment variables for the server.
    pub fn start_env(
        &self,
        config: Option<&str>,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> (TestServer, Store) {
        let dir = tempfile::tempdir().unwrap();
        if let Some(c) = config {
            std::fs::write(dir.path().join("config.yml"), c).unwrap();
        }
        let store = self.store();
        let mut all: Vec<String> = store.flags();
        all.extend(args.iter().map(|a| a.to_string()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        (TestServer::start_in_env(dir, &all, envs), store)
    }

    pub fn store(&self) -> Store {
        match self {
            Backend::Local => Store::Local,
            Backend::S3 { bucket, prefix } => {
                let sub = format!("{}-{}", std::process::id(), rand_suffix());
                let prefix = if prefix.is_empty() {
                    sub
                } else {
                    format!("{prefix}/{sub}")
                };
                Store::S3(S3View::new(bucket, prefix))
            }
        }
    }
}

fn rand_suffix() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    hex::encode(b)
}

/// What one server stored, seen from outside it.
pub enum Store {
    Local,
    S3(S3View),
}

impl Store {
    /// The flags that select this store (for S3: the bucket and this server's prefix).
    pub fn flags(&self) -> Vec<String> {
        match self {
            Store::Local => vec![],
            Store::S3(v) => vec![
                "--blob-store".into(),
                format!("s3://{}/{}", v.bucket, v.prefix),
            ],
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Store::Local)
    }

    /// The stored bytes of a blob, if any.
    pub fn read(&self, s: &TestServer, sha: &str) -> Option<Vec<u8>> {
        match self {
            Store::Local => std::fs::read(blob_path(s.data(), sha)).ok(),
            Store::S3(v) => v.get(&v.blob_key(sha)),
        }
    }

    pub fn exists(&self, s: &TestServer, sha: &str) -> bool {
        self.read(s, sha).is_some()
    }

    /// Stores `bytes` under the blob's name behind the server's back.
    pub fn plant(&self, s: &TestServer, sha: &str, bytes: &[u8]) {
        match self {
            Store::Local => {
                let p = blob_path(s.data(), sha);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, bytes).unwrap();
            }
            Store::S3(v) => v.put(&v.blob_key(sha), bytes),
        }
    }

    /// Removes the blob behind the server's back.
    pub fn remove(&self, s: &TestServer, sha: &str) {
        match self {
            Store::Local => std::fs::remove_file(blob_path(s.data(), sha)).unwrap(),
            Store::S3(v) => v.delete(&v.blob_key(sha)),
        }
    }

    /// Every stored blob name (the files under `blobs/ab/cd/`, or the object keys under the
    /// prefix, probes excluded).
    pub fn names(&self, s: &TestServer) -> Vec<String> {
        match self {
            Store::Local => {
                let mut out = vec![];
                let root = s.data().join("blobs");
                for a in dirs(&root) {
                    for b in dirs(&a) {
                        for f in std::fs::read_dir(&b).unwrap().flatten() {
                            out.push(f.file_name().to_string_lossy().into_owned());
                        }
                    }
                }
                out
            }
            Store::S3(v) => v
                .list()
                .into_iter()
                .filter(|k| !k.rsplit('/').next().unwrap().starts_with(".health-"))
                .map(|k| k.rsplit('/').next().unwrap().to_owned())
                .collect(),
        }
    }

    /// `.upload-*` temp files left in the spool folder.
    pub fn temps(&self, s: &TestServer) -> usize {
        let dir = match self {
            Store::Local => s.data().join("blobs"),
            Store::S3(_) => s.data().join("uploads"),
        };
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with(".upload-"))
                    .count()
            })
            .unwrap_or(0)
    }
}

fn dirs(p: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(p) else {
        return vec![];
    };
    rd.flatten()
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.path())
        .collect()
}

/// A test's own S3 client for one server's prefix.
pub struct S3View {
    bucket: String,
    prefix: String,
    store: Arc<AmazonS3>,
    rt: tokio::runtime::Runtime,
}

impl S3View {
    fn new(bucket: &str, prefix: String) -> S3View {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let env = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
        let endpoint = env("VERSTAK_S3_ENDPOINT");
        let store = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(env("VERSTAK_S3_REGION"))
            .with_endpoint(&endpoint)
            .with_access_key_id(env("AWS_ACCESS_KEY_ID"))
            .with_secret_access_key(env("AWS_SECRET_ACCESS_KEY"))
            .with_client_options(
                ClientOptions::new().with_allow_http(endpoint.starts_with("http://")),
            )
            .build()
            .unwrap();
        S3View {
            bucket: bucket.to_owned(),
            prefix,
            store: Arc::new(store),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn blob_key(&self, sha: &str) -> Key {
        Key::from(format!(
            "{}/{}/{}/{sha}",
            self.prefix,
            &sha[0..2],
            &sha[2..4]
        ))
    }

    fn get(&self, key: &Key) -> Option<Vec<u8>> {
        self.rt.block_on(async {
            match self.store.get(key).await {
                Ok(r) => Some(r.bytes().await.unwrap().to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("S3 GET {key}: {e}"),
            }
        })
    }

    fn put(&self, key: &Key, bytes: &[u8]) {
        self.rt
            .block_on(self.store.put(key, PutPayload::from(bytes.to_vec())))
            .unwrap();
    }

    fn delete(&self, key: &Key) {
        self.rt.block_on(self.store.delete(key)).unwrap();
    }

    fn list(&self) -> Vec<String> {
        let prefix = Key::from(self.prefix.as_str());
        self.rt.block_on(async {
            self.store
                .list(Some(&prefix))
                .map_ok(|m| m.location.to_string())
                .try_collect()
                .await
                .unwrap()
        })
    }
}
