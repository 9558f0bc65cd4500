//! The two side effects most handlers share: writing an audit row (§6.15) and the rate-limit
//! check (§6.9), whose denial is itself audited and counted. [`rate_limit_login`] is the check
//! for a typed login (username or email): it keys the account bucket by the account the login
//! names, so one account has one bucket whatever identifier was typed.
//!
//! They used to be methods of `AppState`; they live here so the state is plain data and does
//! not depend on the error type.

use std::net::IpAddr;

use crate::error::ApiError;
use crate::ratelimit::Action;
use crate::state::AppState;
use crate::store::audit::{self, AuditEntry};
use crate::store::users;
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

/// [`rate_limit`] for a login that may be a username or an email (§6.3): the account bucket
/// belongs to the account it names (found the way §6.3 step 1 finds it), so failures by
/// username and by email count together. A login that names no account keeps its own bucket,
/// as the limiter keys it (trimmed, lowercased). If the lookup fails, that is logged and the
/// typed login is the key; the credential check that follows reports the storage error.
pub(crate) async fn rate_limit_login(
    st: &AppState,
    action: Action,
    ip: IpAddr,
    login: &str,
) -> Result<(), ApiError> {
    let typed = login.to_owned();
    let account = match st.db.read(move |c| users::find_for_login(c, &typed)).await {
        Ok(Some(user)) => account_key(&user.id),
        Ok(None) => login.to_owned(),
        Err(e) => {
            tracing::error!(error = %e, "login lookup for the rate limit failed");
            login.to_owned()
        }
    };
    rate_limit(st, action, ip, Some(&account)).await
}

/// The account-bucket name of a known user.
fn account_key(user_id: &str) -> String {
    format!("user:{user_id}")
}
