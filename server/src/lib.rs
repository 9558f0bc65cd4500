//! The Verstak sync server (spec `server-api.md`): device enrolment, sync and blob API.
//!
//! Layout, in the order a request meets it:
//! * [`server`]: the accept loop (hyper HTTP/1 with header timeout and size limit), startup order
//!   (§1.8) and graceful shutdown; `idle` (connection clocks) and `conns` (open connections,
//!   per-client-IP cap, accept back-off) under it.
//! * [`http`]: the outermost middleware (path cleaning, redirects, security headers, metrics),
//!   unknown-path fallbacks, client IP, bounded body reading.
//! * `routes`: one module per route group, each route a method router (405 with `Allow` for
//!   other methods); handlers take `extract`ors in the order of their spec check table.
//! * `extract`: client IP, device auth, typed JSON bodies, web sessions and CSRF.
//! * [`auth`] (device tokens, §3), `creds` (bcrypt, §6.3), `ratelimit` (§6.9), `effects`
//!   (audit rows and rate-limit checks), `json` + `wire` (strict body decoding, §2.5),
//!   `sync_rules` (pure push/pull validation), `push_prep` (a push's fingerprint and blob
//!   checks, computed before its writer job).
//! * [`error`]: `ApiError`, the JSON errors (written with `reply`); the web layer's
//!   `WebError` adds the login redirect.
//! * `events`: the live event stream (`docs/events.md`): open streams, per-scope news, the
//!   SSE body; its route is `routes::events`.
//! * [`store`]: SQLite behind one writer thread plus read-only connections; [`blobstore`]: the
//!   blob storage boundary (the local folder, or an S3-compatible bucket);
//!   `marks`: blob access times and pull progress, written in batches, never per read.
//! * [`config`] and [`cli`]: `config.yml`, environment, flags, and the `user add` subcommand.
//! * Accounts (§6): `accounts` (register, forgot, reset flows), `session` (web sessions,
//!   cookies, CSRF), `mail` (SMTP and templates), `web` (page context, i18n, HTML); their
//!   routes are `routes::{account, user_api, pages, admin, assets}`.

pub(crate) mod accounts;
pub mod auth;
pub(crate) mod backup;
pub mod blobstore;
pub mod cli;
pub mod config;
pub(crate) mod conns;
pub(crate) mod console_settings;
pub(crate) mod copy;
pub(crate) mod creds;
pub(crate) mod effects;
pub mod error;
pub(crate) mod events;
pub(crate) mod extract;
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod history_ops;
pub mod http;
pub(crate) mod idle;
pub(crate) mod json;
pub(crate) mod mail;
pub(crate) mod marks;
pub mod metrics;
pub(crate) mod push_prep;
pub(crate) mod ratelimit;
pub(crate) mod reply;
pub(crate) mod routes;
pub mod server;
pub(crate) mod session;
pub mod state;
pub mod store;
pub(crate) mod sync_rules;
pub(crate) mod thinning;
pub(crate) mod useradd;
pub(crate) mod util;
pub(crate) mod web;
pub(crate) mod wire;

use axum::Router;

pub use state::AppState;

/// The crate version, reported by `--version`, health and metrics.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The build commit (`VERSTAK_BUILD_COMMIT` at compile time), or `unknown`.
pub const COMMIT: &str = match option_env!("VERSTAK_BUILD_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

/// The whole HTTP application: every route, the fallbacks and the front middleware.
pub fn app(state: AppState) -> Router {
    let inner = Router::new()
        .merge(routes::enroll::router())
        .merge(routes::device::router())
        .merge(routes::sync::router())
        .merge(routes::events::router())
        .merge(routes::blobs::router())
        .merge(routes::blob_batch::router())
        .merge(routes::health::router())
        .merge(routes::account::router())
        .merge(routes::user_api::router())
        .merge(routes::history::router())
        .merge(routes::pages::router())
        .merge(routes::admin::router())
        .merge(routes::assets::router())
        .fallback(http::not_found)
        .with_state(state.clone());
    Router::new()
        .fallback_service(inner)
        .layer(axum::middleware::from_fn_with_state(state, http::front))
}
