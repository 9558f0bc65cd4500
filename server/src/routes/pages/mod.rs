//! User web pages (spec §6.8, §6.10). [`forms`]: register, login, forgot, reset, locale and
//! the message pages; [`dashboard`]: home, dashboard, logout; [`vaults`]: the vault browser and
//! the history pages (timeline, download, restore, deleted files, conflicts). Every route is a method router
//! (`crate::routes::only`: 405 with `Allow`); handlers take the page context (`WebCtx`) or a
//! user session as extractors, then check the public-form CSRF for POSTs.

pub(crate) mod dashboard;
pub(crate) mod forms;
pub(crate) mod vaults;

use axum::Router;

use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(forms::router())
        .merge(dashboard::router())
        .merge(vaults::router())
}
