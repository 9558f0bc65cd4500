//! TLS for [`super::connection`]: rustls with the `ring` provider, TLS 1.2 and 1.3, the server's
//! certificate chain and host name always verified (SNI is sent for DNS names; an IP address
//! must be in the certificate's IP SANs). There is no switch that turns verification off.
//!
//! Trust anchors ([`Trust`]): the platform's certificates through `rustls-native-certs` (on
//! Debian the bundle in `/etc/ssl/certs`; `SSL_CERT_FILE` / `SSL_CERT_DIR` override where it
//! looks), plus every certificate of the PEM file named by `VERSTAK_SYNC_CA_FILE`, for
//! self-hosted servers behind a private CA. A set but unusable CA file is an error, not ignored.
//!
//! The process builds its configuration once, on the first `https` request ([`shared`]); a
//! failure to build it is kept too and answered to every `https` request as a `network` error.
//! Tests build their own [`Tls`] from a [`Trust`] instead of touching the environment.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::connection::Timed;

/// The environment variable naming an extra PEM bundle of trusted CA certificates.
pub const CA_FILE_ENV: &str = "VERSTAK_SYNC_CA_FILE";

/// A client TLS session over its TCP stream; reads and writes carry plaintext. The socket's
/// idle timeout ([`Timed`]) and the request's time limit bound the handshake and every record.
pub type TlsStream = tokio_rustls::client::TlsStream<Timed>;

/// Where the trust anchors come from.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The platform's certificate store.
    pub platform: bool,
    /// A PEM file whose certificates are trusted as well.
    pub extra_ca_file: Option<PathBuf>,
}

impl Trust {
    /// The process's trust: the platform store plus `VERSTAK_SYNC_CA_FILE` when set and not empty.
    pub fn from_env() -> Trust {
        let extra_ca_file = std::env::var_os(CA_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Trust {
            platform: true,
            extra_ca_file,
        }
    }
}

/// A built client configuration; cloning shares it.
#[derive(Clone)]
pub struct Tls(Arc<ClientConfig>);

/// The process's [`Tls`] from [`Trust::from_env`], built on first use.
pub fn shared() -> Result<&'static Tls, String> {
    static SHARED: OnceLock<Result<Tls, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| Tls::new(&Trust::from_env()))
        .as_ref()
        .map_err(Clone::clone)
}

impl Tls {
    /// Loads the trust anchors and builds the configuration.
    pub fn new(trust: &Trust) -> Result<Tls, String> {
        let mut roots = RootCertStore::empty();
        if trust.platform {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::warn!(error = %e, "loading the platform's CA certificates");
            }
            let (added, skipped) = roots.add_parsable_certificates(found.certs);
            tracing::debug!(added, skipped, "platform CA certificates");
        }
        if let Some(path) = &trust.extra_ca_file {
            add_ca_file(&mut roots, path)?;
        }
        if roots.is_empty() {
            return Err(format!(
                "no trusted CA certificates: the platform store is empty and {CA_FILE_ENV} is not set"
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS configuration: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls(Arc::new(config)))
    }

    /// The rustls configuration, for a blocking client (the live event stream) that shares
    /// this trust.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        self.0.clone()
    }

    /// Runs the handshake with `host` over `tcp`, whose idle timeout bounds each step.
    pub async fn connect(&self, host: &url::Host<&str>, tcp: Timed) -> Result<TlsStream, String> {
        let name = server_name(host)?;
        // rustls errors come back inside an `InvalidData` io::Error whose text is rustls' own.
        tokio_rustls::TlsConnector::from(self.0.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => {
                    format!("TLS handshake with {host} failed: the connection closed")
                }
                _ => format!("TLS handshake with {host} failed: {e}"),
            })
    }

    /// Whether `other` is this very configuration (a clone of it), not merely an equal one.
    pub fn same(&self, other: &Tls) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The name a server's certificate must carry: its DNS name or IP address.
pub fn server_name(host: &url::Host<&str>) -> Result<ServerName<'static>, String> {
    Ok(match host {
        url::Host::Domain(d) => ServerName::try_from(d.to_string())
            .map_err(|e| format!("TLS: {d:?} is not a valid server name: {e}"))?,
        url::Host::Ipv4(ip) => ServerName::IpAddress(IpAddr::V4(*ip).into()),
        url::Host::Ipv6(ip) => ServerName::IpAddress(IpAddr::V6(*ip).into()),
    })
}

/// Adds every certificate of a PEM file; an unreadable file, bad PEM, no certificate or one
/// that is not a usable trust anchor is an error.
fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), String> {
    let what = || format!("the CA file {} ({CA_FILE_ENV})", path.display());
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", what()))?;
    if certs.is_empty() {
        return Err(format!("{} has no certificate", what()));
    }
    for (i, cert) in certs.into_iter().enumerate() {
        roots
            .add(cert)
            .map_err(|e| format!("{}: certificate {}: {e}", what(), i + 1))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(trust: Trust) -> String {
        Tls::new(&trust).err().expect("building must fail")
    }

    #[test]
    fn an_unusable_ca_file_is_an_error_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let with = |name: &str, text: Option<&str>| {
            let path = dir.path().join(name);
            if let Some(text) = text {
                std::fs::write(&path, text).unwrap();
            }
            Trust {
                platform: true,
                extra_ca_file: Some(path),
            }
        };
        let missing = error(with("missing.pem", None));
        assert!(
            missing.starts_with("the CA file ")
                && missing.contains("missing.pem (VERSTAK_SYNC_CA_FILE): I/O error"),
            "{missing}"
        );
        let empty = error(with("empty.pem", Some("no PEM here\n")));
        assert!(
            empty.ends_with("empty.pem (VERSTAK_SYNC_CA_FILE) has no certificate"),
            "{empty}"
        );
        let broken = error(with(
            "broken.pem",
            Some("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"),
        ));
        assert!(
            broken.contains("broken.pem (VERSTAK_SYNC_CA_FILE): "),
            "{broken}"
        );
        let not_a_cert = error(with(
            "junk.pem",
            Some("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        ));
        assert!(
            not_a_cert.contains("junk.pem (VERSTAK_SYNC_CA_FILE): certificate 1: "),
            "{not_a_cert}"
        );
    }

    #[test]
    fn no_trust_anchor_at_all_is_an_error() {
        assert_eq!(
            error(Trust::default()),
            "no trusted CA certificates: the platform store is empty and VERSTAK_SYNC_CA_FILE is not set"
        );
    }
}
