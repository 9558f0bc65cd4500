//! Server-rendered web pages (spec §6.8, §6.10): the request context ([`ctx`]: cookies,
//! locale, HTTPS, public-form CSRF, same-origin), the translation catalogs ([`i18n`]), the page
//! templates ([`pages`]), HTML responses and the escaper ([`html`]), form bodies ([`form`]), the
//! static files ([`assets`]) and the web error with its login redirect ([`error`]). The route
//! handlers that use them live in `routes::pages`, `routes::account` and `routes::admin`.

pub(crate) mod assets;
pub(crate) mod ctx;
pub(crate) mod error;
pub(crate) mod form;
pub(crate) mod html;
pub(crate) mod i18n;
pub(crate) mod pages;
