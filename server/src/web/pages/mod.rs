//! The server's HTML pages (spec §6.10, §6.11) as askama templates, one module per page or
//! concept. Each module holds the page's view model (plain data: rows, strings, flags; no
//! request types) and a `render…` function that returns the finished HTML; the markup lives
//! in `server/templates/` under a matching name (`dashboard.rs` → `dashboard.html`,
//! `account.rs` → `account/*.html`, `admin/users.rs` → `admin/users.html` and
//! `admin/create_user.html`). Handlers gather the data, build a
//! [`layout::Ui`] from their `WebCtx`, call the render function and wrap the string into a
//! response (`web::html`).
//!
//! Every `{{ }}` in a template is escaped by `web::escape::Escape` (`server/askama.toml`); no
//! template uses `|safe`. Text comes from the catalogs through `ui.t(key)`; pages work without
//! JavaScript (`/static/app.js` only opens dialogs and asks for confirmations).
//!
//! * [`layout`]: the frame, header and admin sidebar; [`message`]: error and message pages.
//! * [`home`], [`account`] (register, sign in, forgot, reset, confirm email), [`dashboard`].
//! * [`vaults`] (the vault list and folder browser), [`history`] (a file's timeline, deleted
//!   files, conflicts; `/static/history.js` adds the diff and merge views).
//! * [`admin`]: the console pages.

pub(crate) mod account;
pub(crate) mod admin;
pub(crate) mod dashboard;
pub(crate) mod history;
pub(crate) mod home;
pub(crate) mod layout;
pub(crate) mod message;
pub(crate) mod vaults;

/// Renders a page template into a string.
fn render(t: &impl askama::Template) -> String {
    // Rendering only writes strings and integers into a String; askama fails only when a
    // value's Display fails or a template uses `?`, and ours do neither.
    t.render()
        .expect("page templates write only strings and integers")
}

#[cfg(test)]
mod tests;
