//! Extractors: everything a handler needs from a request before its own checks run.
//!
//! axum runs a handler's extractors in argument order and stops at the first rejection, so a
//! handler's signature *is* the head of its spec check table (the method check comes first,
//! from the route's method router in `crate::routes`):
//!
//! * [`client`]: [`ClientIp`] (§2.8); device authentication (§3) as [`DeviceAuth`] (steps 1–7),
//!   [`UntouchedDevice`] (steps 1–6, the caller writes `last_seen`) and [`ScopedDevice`]
//!   (authenticated and bound to a user's vault, else 403).
//! * [`body`]: [`AppJson`], a bounded read plus the strict §2.5 decoder.
//! * [`public`]: [`PublicForm`], a signed-out form body and its locale-CSRF check (§6.8),
//!   rejected with an HTML error page.
//! * [`session`]: web sessions (§6.6) as [`UserSession`] and [`AdminSession`] (302 to the login
//!   page when missing), then session CSRF (§6.7) as [`Csrf`] (header), [`CsrfForm`] (form
//!   body) or [`CsrfBody`] (form or JSON body). The CSRF extractors need a session extractor
//!   earlier in the same signature, which leaves the `Session` in the request extensions.
//!
//! Rejections are `ApiError` (client routes), `WebError` (session routes) or, for
//! [`PublicForm`], the error page itself.

pub(crate) mod body;
pub(crate) mod client;
pub(crate) mod public;
pub(crate) mod session;

pub(crate) use body::AppJson;
pub(crate) use client::{ClientIp, DeviceAuth, ScopedDevice, UntouchedDevice};
pub(crate) use public::PublicForm;
pub(crate) use session::{AdminSession, Csrf, CsrfBody, CsrfForm, UserSession};
