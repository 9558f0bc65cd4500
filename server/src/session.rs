//! Web sessions, their cookies and session CSRF (spec §6.6, §6.7).
//!
//! Login calls [`start`], which stores `sha256_hex` of a fresh session token and CSRF token
//! and queues the `user_session`/`admin_session` and `csrf_token` cookies. Every request with a
//! session runs [`lookup`] through the session extractors of `crate::extract` (302 to the login
//! page when missing); every mutation then runs [`check_csrf`] through the CSRF extractors.
//! User sessions never authorise admin routes and vice versa.

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::sessions;
use crate::util::ids::{ct_eq, random_hex, sha256_hex};
use crate::util::time;
use crate::web::ctx::WebCtx;
use crate::web::form::{Form, is_urlencoded};

/// Which kind of session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Admin,
}

impl Kind {
    fn scope(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Admin => "admin",
        }
    }
    fn cookie(self) -> &'static str {
        match self {
            Kind::User => "user_session",
            Kind::Admin => "admin_session",
        }
    }
    fn path(self) -> &'static str {
        match self {
            Kind::User => "/",
            Kind::Admin => "/admin",
        }
    }
    /// Where a missing session redirects.
    pub(crate) fn login(self) -> &'static str {
        match self {
            Kind::User => "/login",
            Kind::Admin => "/admin/login",
        }
    }
}

const LIFETIME_SECS: i64 = 86_400;

/// A live session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// A user id or an admin username.
    pub subject: String,
    pub csrf_hash: String,
    pub token_hash: String,
}

/// Creates a session row; returns `(session token, csrf token)`.
pub(crate) async fn create(
    st: &AppState,
    kind: Kind,
    subject: &str,
) -> Result<(String, String), ApiError> {
    let token = random_hex(32);
    let csrf = random_hex(32);
    let (th, ch, subj) = (sha256_hex(&token), sha256_hex(&csrf), subject.to_owned());
    let now_s = time::unix_now();
    let (now, exp) = (
        time::format_unix(now_s),
        time::format_unix(now_s + LIFETIME_SECS),
    );
    st.db
        .write(move |c| sessions::create(c, &th, &ch, kind.scope(), &subj, &exp, &now))
        .await?;
    Ok((token, csrf))
}

/// Creates a session and queues its cookies; returns the CSRF token.
pub(crate) async fn start(
    st: &AppState,
    cx: &mut WebCtx,
    kind: Kind,
    subject: &str,
) -> Result<String, ApiError> {
    let (token, csrf) = create(st, kind, subject).await?;
    cx.set_cookie(
        kind.cookie(),
        &token,
        kind.path(),
        "HttpOnly; SameSite=Lax",
        LIFETIME_SECS,
    );
    cx.set_cookie(
        "csrf_token",
        &csrf,
        kind.path(),
        "SameSite=Strict",
        LIFETIME_SECS,
    );
    Ok(csrf)
}

/// Clears both cookies of `kind`.
pub(crate) fn clear_cookies(cx: &mut WebCtx, kind: Kind) {
    cx.set_cookie(kind.cookie(), "", kind.path(), "HttpOnly; SameSite=Lax", -1);
    cx.set_cookie("csrf_token", "", kind.path(), "SameSite=Strict", -1);
}

/// The session of `kind` this request carries, if valid. Admin sessions also need their
/// username to be a configured admin.
pub(crate) async fn lookup(
    st: &AppState,
    cx: &WebCtx,
    kind: Kind,
) -> Result<Option<Session>, ApiError> {
    let token = cx.cookie(kind.cookie()).unwrap_or("");
    if token.is_empty() {
        return Ok(None);
    }
    let th = sha256_hex(token);
    let now = time::now_rfc3339();
    let th2 = th.clone();
    let row = st
        .db
        .write(move |c| sessions::lookup(c, &th2, kind.scope(), &now))
        .await?;
    let Some(row) = row else { return Ok(None) };
    if kind == Kind::Admin
        && !st
            .config
            .admins
            .iter()
            .any(|a| a.username == row.subject_id)
    {
        return Ok(None);
    }
    Ok(Some(Session {
        subject: row.subject_id,
        csrf_hash: row.csrf_hash,
        token_hash: th,
    }))
}

/// Deletes the session (logout).
pub(crate) async fn end(st: &AppState, s: &Session) -> Result<(), ApiError> {
    let th = s.token_hash.clone();
    st.db.write(move |c| sessions::delete(c, &th)).await?;
    Ok(())
}

/// §6.7: cookie, header or form field, hash, same origin.
pub(crate) fn check_csrf(cx: &WebCtx, s: &Session, form: Option<&Form>) -> Result<(), ApiError> {
    let cookie = cx.cookie("csrf_token").unwrap_or("");
    if cookie.is_empty() {
        return Err(ApiError::Csrf("CSRF token is required"));
    }
    let header = cx
        .headers
        .get("x-csrf-token")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let candidate = if header.is_empty() && is_urlencoded(&cx.headers) {
        form.map(|f| f.get("csrf_token").to_owned())
            .unwrap_or_default()
    } else {
        header
    };
    let ok = !candidate.is_empty()
        && ct_eq(candidate.as_bytes(), cookie.as_bytes())
        && ct_eq(sha256_hex(&candidate).as_bytes(), s.csrf_hash.as_bytes());
    if !ok {
        return Err(ApiError::Csrf("CSRF token is invalid"));
    }
    if !cx.same_origin() {
        return Err(ApiError::Csrf("request origin is not allowed"));
    }
    Ok(())
}
