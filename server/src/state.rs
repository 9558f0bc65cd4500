//! `AppState`: everything a handler needs, cheap to clone. No globals.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::blobstore::BlobStore;
use crate::config::{Config, ConfigFile};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::ratelimit::{Action, RateLimiter};
use crate::store::Db;
use crate::store::audit::{self, AuditEntry};
use crate::util::time;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub blobs: BlobStore,
    pub metrics: Arc<Metrics>,
    pub(crate) limiter: Arc<RateLimiter>,
    pub(crate) started: Instant,
    /// The second each device's `last_seen` was last written, to skip redundant writes.
    pub(crate) seen: Arc<Mutex<HashMap<String, i64>>>,
    /// The web settings the admin console can change at run time (§6.12 `web-settings`).
    pub(crate) web: Arc<RwLock<WebSettings>>,
    /// `config.yml` as loaded, for saves from the console; `None` in tests without a file.
    pub(crate) config_file: Arc<Mutex<Option<ConfigFile>>>,
    /// Admin one-time secrets (§6.12): `sha256_hex(admin session token)` → (password, expiry).
    pub(crate) secrets: Arc<Mutex<HashMap<String, (String, Instant)>>>,
    /// The time of the last automatic retention run (§6.14 `last_cleanup_at`).
    pub(crate) last_cleanup: Arc<Mutex<String>>,
}

/// The run-time web settings (`web:` and `public_url` of §1.6).
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub default_locale: String,
    pub allow_registration: bool,
    pub server_name: String,
    pub public_url: String,
}

impl AppState {
    pub fn new(db: Db, config: Config, blobs: BlobStore) -> Self {
        let web = WebSettings {
            default_locale: config.default_locale.clone(),
            allow_registration: config.allow_registration,
            server_name: config.server_name.clone(),
            public_url: config.public_url.clone(),
        };
        Self {
            web: Arc::new(RwLock::new(web)),
            config_file: Arc::new(Mutex::new(None)),
            secrets: Arc::new(Mutex::new(HashMap::new())),
            last_cleanup: Arc::new(Mutex::new(String::new())),
            db,
            config: Arc::new(config),
            blobs,
            metrics: Arc::new(Metrics::default()),
            limiter: Arc::new(RateLimiter::default()),
            started: Instant::now(),
            seen: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A snapshot of the run-time web settings.
    pub(crate) fn web_settings(&self) -> WebSettings {
        self.web.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Writes an audit row; a failure is logged and does not change the response.
    pub(crate) async fn audit(&self, entry: AuditEntry) {
        let now = time::now_rfc3339();
        let event = entry.event_type;
        if let Err(e) = self.db.write(move |c| audit::insert(c, &entry, &now)).await {
            tracing::error!(error = %e, event, "audit write failed");
        }
    }

    /// Rate limiting (§6.9): a denial is audited, counted and answered with 429.
    pub(crate) async fn rate(
        &self,
        action: Action,
        ip: IpAddr,
        account: Option<&str>,
    ) -> Result<(), ApiError> {
        match self.limiter.check(action, ip, account) {
            Ok(()) => Ok(()),
            Err(retry_after) => {
                self.metrics.rate_limited(action.name());
                self.audit(AuditEntry {
                    event_type: "rate_limit_exceeded",
                    ip: Some(ip.to_string()),
                    message: format!("rate limit: {}", action.name()),
                    ..Default::default()
                })
                .await;
                Err(ApiError::RateLimited { retry_after })
            }
        }
    }
}
