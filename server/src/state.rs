//! `AppState`: everything a handler needs, cheap to clone. No globals. Plain data: the
//! behaviour that uses it (audit rows, rate limits) lives in `crate::effects`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::blobstore::BlobStore;
use crate::config::{Config, ConfigFile, HistoryCfg};
use crate::events::EventHub;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::store::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub blobs: BlobStore,
    pub metrics: Arc<Metrics>,
    pub(crate) limiter: Arc<RateLimiter>,
    /// Open event streams and the scopes they watch (`crate::events`).
    pub(crate) events: Arc<EventHub>,
    pub(crate) started: Instant,
    /// The second each device's `last_seen` was last written, to skip redundant writes.
    pub(crate) seen: Arc<Mutex<HashMap<String, i64>>>,
    /// The web settings the admin console can change at run time (§6.12 `web-settings`).
    pub(crate) web: Arc<RwLock<WebSettings>>,
    /// `config.yml` as loaded, for saves from the console; `None` in tests without a file.
    pub(crate) config_file: Arc<Mutex<Option<ConfigFile>>>,
    /// The time of the last automatic retention run (§6.14 `last_cleanup_at`).
    pub(crate) last_cleanup: Arc<Mutex<String>>,
    /// Console result messages waiting for their admin session's next page.
    /// Blob access times and pull progress, written in batches (`crate::marks`).
    pub(crate) marks: Arc<crate::marks::Marks>,
    /// The run-time history settings (`history:` of `config.yml`, editable in the console).
    pub(crate) history: Arc<RwLock<HistoryCfg>>,
    /// The revision of each console settings section in force here (`crate::console_settings`).
    pub(crate) console_seen: Arc<tokio::sync::Mutex<HashMap<String, String>>>,
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
        let metrics = Arc::new(Metrics::default());
        Self {
            events: EventHub::new(config.events, metrics.clone()),
            history: Arc::new(RwLock::new(config.history)),
            console_seen: Arc::default(),
            marks: Arc::new(crate::marks::Marks::default()),
            web: Arc::new(RwLock::new(web)),
            config_file: Arc::new(Mutex::new(None)),
            last_cleanup: Arc::new(Mutex::new(String::new())),
            db,
            config: Arc::new(config),
            blobs,
            metrics,
            limiter: Arc::new(RateLimiter::default()),
            started: Instant::now(),
            seen: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A snapshot of the run-time history settings.
    pub(crate) fn history(&self) -> HistoryCfg {
        *self.history.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A snapshot of the run-time web settings.
    pub(crate) fn web_settings(&self) -> WebSettings {
        self.web.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
