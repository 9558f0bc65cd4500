//! Blobs in a bucket of any S3-compatible store (Garage, MinIO, AWS S3; issue 16), through
//! `object_store`'s S3 client.
//!
//! A blob is the object `<prefix>/ab/cd/<sha256>`. Uploads spool into a local `.upload-*` file
//! first (hashed on the way in, as for the folder). Once the hash is known, [`S3::prepare`]
//! uploads the bytes to a private staging key `<prefix>/.uploads/<rand>` (one PUT below
//! [`PART`] bytes, a multipart upload of `PART`-sized parts above; S3 shows a multipart object
//! only once it is completed), outside the writer job, unless an intact object is already under
//! the final name. [`S3::place`], inside the writer job, then only makes a server-side copy to
//! the final key, so the writer is not held for the transfer; the staging object is removed
//! afterwards ([`S3::release`]), and retention removes any a crash left behind
//! ([`S3::sweep_staged`]). Every request body is signed with its SHA-256 (SigV4), so the store
//! refuses bytes altered on the way. Downloads are ranged GETs streamed to the client.
//!
//! `place`, `unplace`, `remove`, the probe and the usage listing are called from synchronous
//! code (the writer thread, the blocking pool) and run their requests on the server's runtime.
//! A failed request is logged with its cause by the caller's `internal_error` path; nothing of
//! it reaches a response body.

use anyhow::{Context, anyhow};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{
    ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    WriteMultipart,
};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::AsyncReadExt;
use tokio::runtime::{Handle, RuntimeFlavor};

use super::{BlobMeta, Local, ReadError};
use crate::config::S3Cfg;
use crate::util::ids::random_hex;

/// Blobs of at least this size are uploaded in parts of this size.
pub(crate) const PART: usize = 8 * 1024 * 1024;
/// Parts in flight at once per upload (memory: about `(PARTS_IN_FLIGHT + 1) * PART`).
const PARTS_IN_FLIGHT: usize = 2;
/// Larger blobs are not staged (S3's single CopyObject takes at most 5 GiB): `place` uploads
/// them itself.
const COPY_MAX: u64 = 5 * 1024 * 1024 * 1024;
/// The folder of staging objects under the prefix.
const STAGING: &str = ".uploads";
/// How long a readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct S3 {
    store: Arc<AmazonS3>,
    /// Without leading or trailing `/`; empty = the bucket's root.
    prefix: String,
    url: String,
    spool: Local,
    rt: Handle,
}

impl std::fmt::Debug for S3 {
    // The client's own Debug would show the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3").field("url", &self.url).finish()
    }
}

impl S3 {
    /// The client for `c`; no request is made yet. Must run inside the server's runtime.
    pub(crate) fn open(c: &S3Cfg, spool: Local) -> anyhow::Result<S3> {
        // rustls (under reqwest) uses the process-wide provider: ring, as the rest of the build.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = c
            .endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"));
        // No overall request timeout: a download streams for as long as the client reads.
        let client = ClientOptions::new()
            .with_allow_http(http)
            .with_timeout_disabled()
            .with_connect_timeout(Duration::from_secs(10));
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..RetryConfig::default()
        };
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&c.bucket)
            .with_region(&c.region)
            .with_access_key_id(&c.access_key_id)
            .with_secret_access_key(c.secret_access_key.expose())
            .with_client_options(client)
            .with_retry(retry);
        if let Some(e) = &c.endpoint {
            // Path-style requests (`endpoint/bucket/key`), which every S3-compatible store takes.
            b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
        }
        let store = b
            .build()
            .with_context(|| format!("configuring the S3 client for {}", c.url()))?;
        Ok(S3 {
            store: Arc::new(store),
            prefix: c.prefix.clone(),
            url: c.url(),
            spool,
            rt: Handle::try_current().context("the S3 blob store needs the tokio runtime")?,
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(super) fn spool(&self) -> &Local {
        &self.spool
    }

    /// `<prefix>/<name>`.
    fn key_of(&self, name: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(name)
        } else {
            Key::from(format!("{}/{name}", self.prefix))
        }
    }

    /// `<prefix>/ab/cd/<sha256>`.
    fn key(&self, sha256: &str) -> Key {
        self.key_of(&format!("{}/{}/{sha256}", &sha256[0..2], &sha256[2..4]))
    }

    /// Runs `f` to completion from synchronous code: the writer thread, a blocking-pool
    /// thread, or (through `block_in_place`) a worker of the server's multi-thread runtime.
    fn block<F: Future>(&self, f: F) -> F::Output {
        match Handle::try_current() {
            Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.rt.block_on(f))
            }
            _ => self.rt.block_on(f),
        }
    }

    /// At startup: a probe object can be written and removed.
    pub(crate) async fn check(&self) -> anyhow::Result<()> {
        self.probe()
            .await
            .with_context(|| format!("the blob store {} does not accept writes", self.url))
    }

    async fn probe(&self) -> object_store::Result<()> {
        let key = self.key_of(&format!(".health-{}", random_hex(8)));
        self.store.put(&key, PutPayload::from_static(b"ok")).await?;
        self.store.delete(&key).await
    }

    /// Readiness: [`S3::check`] within [`PROBE_TIMEOUT`].
    pub(crate) fn probe_writable(&self) -> bool {
        let r = self.block(async { tokio::time::timeout(PROBE_TIMEOUT, self.probe()).await });
        match r {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, store = %self.url, "blob store probe failed");
                false
            }
            Err(_) => {
                tracing::warn!(store = %self.url, "blob store probe timed out");
                false
            }
        }
    }

    /// Before the writer job: uploads the verified temp file to a fresh staging key, unless an
    /// object of the same size is already under the final name (or the blob is too large to
    /// copy). Returns the staging key.
    pub(crate) async fn prepare(
        &self,
        temp: &Path,
        sha256: &str,
        size: u64,
    ) -> io::Result<Option<Key>> {
        match self.store.head(&self.key(sha256)).await {
            Ok(m) if m.size == size => return Ok(None),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(io_error(e)),
        }
        if size > COPY_MAX {
            return Ok(None);
        }
        let staged = self.key_of(&format!("{STAGING}/{}", random_hex(16)));
        self.upload(temp, &staged, size).await?;
        Ok(Some(staged))
    }

    /// Removes a staging object once the writer job is over (it is no longer needed whether
    /// the blob was placed or refused).
    pub(crate) async fn release(&self, staged: &Key) {
        if let Err(e) = self.store.delete(staged).await {
            tracing::warn!(error = %e, key = %staged, "removing a staging object failed");
        }
    }

    /// See `BlobStore::place`: HEAD the final key; unless an object of the same size is there,
    /// copy the staging object to it (server-side), or upload the temp file when nothing was
    /// staged.
    pub(crate) fn place(
        &self,
        temp: &Path,
        staged: Option<&Key>,
        sha256: &str,
        size: u64,
    ) -> io::Result<bool> {
        let key = self.key(sha256);
        let put = async {
            match staged {
                Some(from) => self.store.copy(from, &key).await.map_err(io_error),
                None => self.upload(temp, &key, size).await,
            }
        };
        let created = self.block(async {
            match self.store.head(&key).await {
                Ok(m) if m.size == size => Ok(false),
                Ok(_) => {
                    tracing::warn!(
                        sha256,
                        "replacing a corrupt blob object with a verified upload"
                    );
                    put.await.map(|()| false)
                }
                Err(object_store::Error::NotFound { .. }) => put.await.map(|()| true),
                Err(e) => Err(io_error(e)),
            }
        })?;
        let _ = std::fs::remove_file(temp);
        Ok(created)
    }

    /// Retention: removes staging objects older than `max_age` (left by a crash or a client
    /// that went away during the writer job). Returns how many.
    pub(crate) fn sweep_staged(&self, max_age: Duration) -> io::Result<usize> {
        let cutoff = SystemTime::now()
            .checked_sub(max_age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let folder = self.key_of(STAGING);
        self.block(async {
            let old: Vec<Key> = self
                .store
                .list(Some(&folder))
                .try_filter_map(|m| async move {
                    Ok((SystemTime::from(m.last_modified) < cutoff).then_some(m.location))
                })
                .try_collect()
                .await
                .map_err(io_error)?;
            for k in &old {
                self.store.delete(k).await.map_err(io_error)?;
            }
            Ok(old.len())
        })
    }

    /// Writes the `size` bytes of `temp` under `key`.
    async fn upload(&self, temp: &Path, key: &Key, size: u64) -> io::Result<()> {
        if size < PART as u64 {
            let bytes = tokio::fs::read(temp).await?;
            if bytes.len() as u64 != size {
                return Err(io::Error::other("the upload's temp file changed size"));
            }
            self.store
                .put(key, PutPayload::from(bytes))
                .await
                .map_err(io_error)?;
            return Ok(());
        }
        let upload = self.store.put_multipart(key).await.map_err(io_error)?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
        let sent = async {
            let mut file = tokio::fs::File::open(temp).await?;
            let mut buf = vec![0u8; 1024 * 1024];
            let mut total = 0u64;
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                total += n as u64;
                w.wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(io_error)?;
                w.write(&buf[..n]);
            }
            if total != size {
                return Err(io::Error::other("the upload's temp file changed size"));
            }
            Ok(())
        }
        .await;
        match sent {
            Ok(()) => w.finish().await.map(|_| ()).map_err(io_error),
            Err(e) => {
                if let Err(abort) = w.abort().await {
                    tracing::warn!(error = %abort, "aborting a multipart upload failed");
                }
                Err(e)
            }
        }
    }

    /// Removes an object this request created, after the database step failed.
    pub(crate) fn unplace(&self, sha256: &str) {
        if let Err(e) = self.remove(sha256) {
            tracing::error!(sha256, error = %e, "removing an unattached blob object failed");
        }
    }

    /// Deletes the blob's object.
    pub(crate) fn remove(&self, sha256: &str) -> io::Result<()> {
        let key = self.key(sha256);
        self.block(self.store.delete(&key)).map_err(io_error)
    }

    pub(crate) async fn stat(&self, sha256: &str) -> Result<BlobMeta, ReadError> {
        match self.store.head(&self.key(sha256)).await {
            Ok(m) => Ok(BlobMeta {
                size: m.size,
                mtime: SystemTime::from(m.last_modified),
            }),
            Err(object_store::Error::NotFound { .. }) => Err(ReadError::Missing),
            Err(e) => Err(ReadError::Backend(e.into())),
        }
    }

    /// A ranged GET of `start..start + len`, streamed; exactly `len` bytes or a stream error.
    pub(crate) async fn read(
        &self,
        sha256: &str,
        start: u64,
        len: u64,
    ) -> Result<BoxStream<'static, io::Result<Bytes>>, ReadError> {
        if len == 0 {
            return Ok(futures_util::stream::empty().boxed());
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(start..start + len)),
            ..GetOptions::default()
        };
        let got = match self.store.get_opts(&self.key(sha256), opts).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Err(ReadError::Missing),
            Err(e) => return Err(ReadError::Backend(e.into())),
        };
        let body = got.into_stream().map_err(io_error);
        Ok(exactly(body, len, sha256.to_owned()).boxed())
    }

    /// The bytes of every blob object under the prefix (one listing request per 1000 objects;
    /// probes and staging objects are not counted).
    pub(crate) fn stored_bytes(&self) -> i64 {
        let prefix = (!self.prefix.is_empty()).then(|| Key::from(self.prefix.as_str()));
        let listed = self.block(async {
            self.store
                .list(prefix.as_ref())
                .try_fold(0i64, |sum, m| async move {
                    // Blob keys end in a 64-hex-digit name; probes and staging objects do not.
                    let blob = m
                        .location
                        .filename()
                        .is_some_and(|f| f.len() == 64 && f.bytes().all(|b| b.is_ascii_hexdigit()));
                    Ok(if blob { sum + m.size as i64 } else { sum })
                })
                .await
        });
        listed.unwrap_or_else(|e| {
            tracing::warn!(error = %e, store = %self.url, "listing the blob store failed");
            0
        })
    }
}

/// `body` cut to `len` bytes; ending before that is an error (logged), so the response is cut
/// short rather than sent with fewer bytes than its `Content-Length`.
fn exactly(
    body: impl futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static,
    len: u64,
    sha256: String,
) -> impl futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(
        (body.boxed(), len, sha256),
        |(mut body, left, sha)| async move {
            if left == 0 {
                return None;
            }
            let item = match body.next().await {
                Some(Ok(mut b)) => {
                    b.truncate(left.min(b.len() as u64) as usize);
                    let n = b.len() as u64;
                    return Some((Ok(b), (body, left - n, sha)));
                }
                Some(Err(e)) => e,
                None => io::Error::other("the blob object ended early"),
            };
            tracing::warn!(sha256 = %sha, error = %item, "reading a blob object failed");
            Some((Err(item), (body, 0, sha)))
        },
    )
}

/// An S3 failure as an `io::Error` (`NotFound` kept), its cause kept for the log.
fn io_error(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        e => io::Error::other(anyhow!(e).context("S3 request failed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(chunks: Vec<&'static [u8]>, len: u64) -> Vec<io::Result<Bytes>> {
        let body = futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))));
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(exactly(body, len, "x".into()).collect())
    }

    #[test]
    fn a_ranged_body_is_cut_to_its_length_and_a_short_one_is_an_error() {
        let ok = collect(vec![b"abc", b"defg"], 5);
        let bytes: Vec<u8> = ok
            .iter()
            .flat_map(|r| r.as_ref().unwrap().to_vec())
            .collect();
        assert_eq!(bytes, b"abcde");
        let short = collect(vec![b"ab"], 5);
        assert_eq!(short.len(), 2);
        assert!(short[0].is_ok() && short[1].is_err());
        assert!(collect(vec![], 0).is_empty());
    }
}
