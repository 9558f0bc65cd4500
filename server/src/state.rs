//! `AppState`: everything a handler needs, cheap to clone. No globals.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::blobstore::BlobStore;
use crate::config::Config;
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
}

impl AppState {
    pub fn new(db: Db, config: Config, blobs: BlobStore) -> Self {
        Self {
            db,
            config: Arc::new(config),
            blobs,
            metrics: Arc::new(Metrics::default()),
            limiter: Arc::new(RateLimiter::default()),
            started: Instant::now(),
            seen: Arc::new(Mutex::new(HashMap::new())),
        }
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
