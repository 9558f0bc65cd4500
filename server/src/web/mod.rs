//! Server-rendered web pages (spec §6.8, §6.10): the request context ([`ctx`]: cookies,
//! locale, HTTPS, public-form CSRF, same-origin), the translation catalogs ([`i18n`]), HTML
//! building and escaping ([`html`]), form bodies ([`form`]), the static files ([`assets`]) and
//! the web error with its login redirect ([`error`]).
//! The route handlers that use them live in `routes::pages` and `routes::admin`.

pub(crate) mod assets;
pub(crate) mod ctx;
pub(crate) mod error;
pub(crate) mod form;
pub(crate) mod html;
pub(crate) mod i18n;
