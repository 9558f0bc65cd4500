//! The two side effects most handlers share: writing an audit row (§6.15) and the rate-limit
//! check (§6.9), whose denial is itself audited and counted. [`rate_limit_login`] is the check
//! for a typed login (username or email): it keys the account bucket by the account the login
//! names, so one account has one bucket whatever identifier was typed; [`rate_limit_pairing`]
//! does the same for pairings and hands back the attempt, which [`paired`] returns to the
//! client IP's bucket when the pairing succeeded.
//!
//! They used to be methods of `AppState`; they live here so the state is plain data and does
//! not depend on the error type.

use std::net::IpAddr;

use crate::error::ApiError;
use crate::ratelimit::{self, Action, Attempt, Shared};
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
    checked(st, action, ip, account).await.map(drop)
}

/// [`rate_limit`], keeping the allowed [`Attempt`] for the caller to report a success.
async fn checked(
    st: &AppState,
    action: Action,
    ip: IpAddr,
    account: Option<&str>,
) -> Result<Attempt, ApiError> {
    let checked = if st.db.is_pg() {
        let (account, now) = (account.map(str::to_owned), crate::util::time::unix_millis());
        st.db
            .write(move |c| {
                let mut b = Shared { c, now };
                ratelimit::check_in(&mut b, action, ip, account.as_deref())
            })
            .await?
    } else {
        st.limiter.check(action, ip, account)
    };
    match checked {
        Ok(attempt) => Ok(attempt),
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
    let account = account_of(st, login).await;
    rate_limit(st, action, ip, Some(&account)).await
}

/// The check of a pairing (`pair`, `device-register`): its IP bucket counts failures only, so
/// the caller runs the pairing and reports a success with [`paired`]; its account bucket is
/// the account the login names, as in [`rate_limit_login`].
pub(crate) async fn rate_limit_pairing(
    st: &AppState,
    action: Action,
    ip: IpAddr,
    login: &str,
) -> Result<Attempt, ApiError> {
    let account = account_of(st, login).await;
    checked(st, action, ip, Some(&account)).await
}

/// A pairing allowed by [`rate_limit_pairing`] answered `result`: a success does not count
/// against the client IP.
pub(crate) fn paired<T>(
    st: &AppState,
    attempt: Attempt,
    result: &Result<T, ApiError>,
) -> impl Future<Output = ()> + Send + 'static {
    let (ok, st) = (result.is_ok(), st.clone());
    async move {
        if !ok {
            return;
        }
        if !st.db.is_pg() {
            return st.limiter.succeeded(attempt);
        }
        let now = crate::util::time::unix_millis();
        let given = st
            .db
            .write(move |c| ratelimit::succeeded_in(&mut Shared { c, now }, attempt))
            .await;
        if let Err(e) = given {
            tracing::warn!(error = %e, "returning a pairing attempt failed");
        }
    }
}

/// The account-bucket name for a typed login: the account it names, else the login itself.
async fn account_of(st: &AppState, login: &str) -> String {
    let typed = login.to_owned();
    match st.db.read(move |c| users::find_for_login(c, &typed)).await {
        Ok(Some(user)) => account_key(&user.id),
        Ok(None) => login.to_owned(),
        Err(e) => {
            tracing::error!(error = %e, "login lookup for the rate limit failed");
            login.to_owned()
        }
    }
}

/// The account-bucket name of a known user.
fn account_key(user_id: &str) -> String {
    format!("user:{user_id}")
}
