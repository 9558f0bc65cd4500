//! The admin console and admin JSON API (spec §6.11 to §6.14).
//!
//! * [`login`]: `/admin`, `/admin/login`, `/admin/logout`.
//! * [`pages`]: the console pages, one handler per sidebar section (their markup is in
//!   `web::pages::admin`).
//! * [`ops`]: the admin operations (block, edit, confirm, reset password, delete, SMTP, ...),
//!   one function each, with their audit rows, and the server stats both adapters read.
//! * [`action`]: `POST /admin/action`, the HTML form adapter over [`ops`], and the one-time
//!   password result; [`api`]: `/admin/api/*` and `/admin/diagnostics.json`, the JSON adapter.
//! * [`history`]: `/admin/history`, the history retention settings (page, form, JSON).
//! * [`query`]: the list filter and paging parameters the pages and the API share.
//!
//! Every page and API route first requires an admin session (`extract::AdminSession`, used
//! as `Admin`; 302 to `/admin/login`); every mutation then checks session CSRF (§6.7) through
//! a CSRF extractor. This module only merges the routers: the children depend on each other
//! (pages and API on `ops` and `query`, action on pages), never on it.

pub(crate) mod action;
pub(crate) mod api;
pub(crate) mod history;
pub(crate) mod login;
pub(crate) mod ops;
pub(crate) mod pages;
pub(crate) mod query;

use axum::Router;

use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(login::router())
        .merge(pages::router())
        .merge(action::router())
        .merge(api::router())
        .merge(history::router())
}
