//! Server-rendered web pages (spec §6.8, §6.10): the request context ([`ctx`]: cookies,
//! locale, HTTPS, public-form CSRF, same-origin), the translation catalogs ([`i18n`]), the page
//! templates ([`pages`]) with their escaper ([`escape`]), HTML responses ([`html`]), form
//! bodies ([`form`]) and the web error with its login redirect ([`error`]). The route handlers
//! Numbers for people (sizes, counts, durations) are in [`format`], the console's newer texts
//! in [`console_text`], the vault and history pages' texts in [`history_text`], the console's result messages in [`notice`]. The route handlers that use them live in `routes::pages`, `routes::account` and `routes::admin` (and the static
//! files in `routes::assets`); nothing here depends on `routes`.

pub(crate) mod console_text;
pub(crate) mod ctx;
pub(crate) mod error;
pub(crate) mod escape;
pub(crate) mod form;
pub(crate) mod format;
pub(crate) mod history_text;
pub(crate) mod html;
pub(crate) mod i18n;
pub(crate) mod notice;
pub(crate) mod pages;
