//! The two side effects most handlers share: writing an audit row (§6.15) and the rate-limit
//! check (§6.9), whose denial is itself audited and counted.
//!
//! They used to be methods of `AppState`; they live here so the state is plain data and does
//! not depend on the error type.

use std::net::IpAddr;

use crate::error::ApiError;
use crate::ratelimit::Action;
use crate::state::AppState;
use crate::store::audit::{self, AuditEntry};
use crate::util::time;

/// Writes an audit row; a failure is logged and does not change the response.
pub(crate) async fn audit(st: &AppState, entry: AuditEntry) {
    let now = time::now_rfc3339();
    let event = entry.event_type;
    if let Err(e) = st.db.write(move |c| audit::insert(c, &entry, &now)).await {
        tracing::error!(error = %e, event, "audit write failed");
    }
}

/// Rate limiting (§6.9): a denial is audited, counted and answered with 429.
pub(crate) async fn rate_limit(
    st: &AppState,
    action: Action,
    ip: IpAddr,
    account: Option<&str>,
) -> Result<(), ApiError> {
    match st.limiter.check(action, ip, account) {
        Ok(()) => Ok(()),
        Err(retry_after) => {
            st.metrics.rate_limited(action.name());
            audit(
                st,
                AuditEntry {
                    event_type: "rate_limit_exceeded",
                    ip: Some(ip.to_string()),
                    message: format!("rate limit: {}", action.name()),
                    ..Default::default()
                },
            )
            .await;
            Err(ApiError::RateLimited { retry_after })
        }
    }
}
