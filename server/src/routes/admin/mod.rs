//! The admin console and admin JSON API (spec §6.11 to §6.14).
//!
//! * [`login`]: `/admin`, `/admin/login`, `/admin/logout`.
//! * [`pages`]: the console pages, one handler per sidebar section (their markup is in
//!   `web::pages::admin`).
//! * [`ops`]: the admin operations (block, edit, confirm, reset password, delete, SMTP, ...),
//!   one function each, with their audit rows.
//! * [`action`]: `POST /admin/action`, the HTML form adapter over [`ops`], and the one-time
//!   password result; [`api`]: `/admin/api/*` and `/admin/diagnostics.json`, the JSON adapter.
//!
//! Every page and API route first requires an admin session ([`Admin`], 302 to
//! `/admin/login`); every mutation then checks session CSRF (§6.7) through a CSRF extractor.

pub(crate) mod action;
pub(crate) mod api;
pub(crate) mod login;
pub(crate) mod ops;
pub(crate) mod pages;

use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::stats::{self, ServerStats};
use crate::util::time;
use crate::web::form::Form;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(login::router())
        .merge(pages::router())
        .merge(action::router())
        .merge(api::router())
}

/// An admin request (context, session, CSRF cookie, query): the admin-session extractor.
pub(crate) use crate::extract::AdminSession as Admin;

/// A list filter value: trimmed, at most 160 characters.
pub(crate) fn filter(q: &Form, name: &str) -> String {
    q.get(name).trim().chars().take(160).collect()
}

/// `page` ≥ 1 and `per_page` in 1..=100 (default `def`).
pub(crate) fn paging(q: &Form, def: i64) -> (i64, i64) {
    let page = q.get("page").parse::<i64>().unwrap_or(1).max(1);
    let per = match q.get("per_page").parse::<i64>() {
        Ok(n) if (1..=100).contains(&n) => n,
        _ => def,
    };
    (page, per)
}

/// `ServerStats` with the file-system figures and the last cleanup time (§6.14).
pub(crate) async fn server_stats(st: &AppState) -> Result<ServerStats, ApiError> {
    let now_s = time::unix_now();
    let (now, day_ago) = (time::format_unix(now_s), time::format_unix(now_s - 86_400));
    let mut s = st
        .db
        .read(move |c| stats::collect(c, &now, &day_ago))
        .await?;
    let blobs = st.blobs.clone();
    let db_path = st.db.path().to_owned();
    let (temp, bytes, db_bytes) = tokio::task::spawn_blocking(move || {
        let (t, b) = blobs.usage();
        (
            t,
            b,
            std::fs::metadata(&db_path)
                .map(|m| m.len() as i64)
                .unwrap_or(0),
        )
    })
    .await
    .map_err(ApiError::internal)?;
    s.temp_uploads = temp;
    s.blob_bytes = bytes;
    s.database_bytes = db_bytes;
    let auto = st
        .last_cleanup
        .lock()
        .map(|g| g.clone())
        .unwrap_or_default();
    if auto > s.last_cleanup_at {
        s.last_cleanup_at = auto;
    }
    Ok(s)
}
