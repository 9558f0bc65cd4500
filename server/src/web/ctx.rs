//! The per-request web context: cookies, the resolved locale (§6.8), HTTPS detection (§2.8),
//! the public-form CSRF cookie `verstak_locale_csrf` and the same-origin check (§6.7 step 4).
//!
//! Handlers build a [`WebCtx`] from the request parts, render with it, and pass the response
//! through [`WebCtx::finish`], which adds queued `Set-Cookie` headers (including a freshly
//! minted locale CSRF cookie, so every HTML response makes sure it exists).

use axum::http::{HeaderMap, HeaderValue, header, request::Parts};
use axum::response::Response;
use std::net::IpAddr;

use super::i18n::Locale;
use crate::http::{client_ip, peer};
use crate::state::{AppState, WebSettings};
use crate::util::ids::{ct_eq, random_hex};

pub(crate) const LOCALE_CSRF: &str = "verstak_locale_csrf";

pub(crate) struct WebCtx {
    pub loc: Locale,
    pub https: bool,
    pub ip: IpAddr,
    pub headers: HeaderMap,
    /// Path plus query of this request (for the locale form's `from`).
    pub here: String,
    pub locale_csrf: String,
    pub web: WebSettings,
    cookies: Vec<(String, String)>,
    set_cookies: Vec<String>,
}

/// `name=value` pairs of every `Cookie` header, in order.
pub(crate) fn parse_cookies(h: &HeaderMap) -> Vec<(String, String)> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect()
}

impl WebCtx {
    pub(crate) fn new(st: &AppState, parts: &Parts) -> WebCtx {
        let h = &parts.headers;
        let peer_ip = peer(&parts.extensions).ip();
        let trusted = &st.config.trusted_proxies;
        let peer_trusted = trusted.iter().any(|n| n.contains(&peer_ip));
        let https = peer_trusted
            && h.get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
        let cookies = parse_cookies(h);
        let web = st.web_settings();
        let first = |name: &str| {
            cookies
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let accept = h
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Locale::from_accept_language);
        let default = Locale::from_code(&web.default_locale);
        let loc = match first("verstak_locale").as_deref() {
            Some("ru") => Locale::Ru,
            Some("en") => Locale::En,
            Some("system") => accept.unwrap_or(default),
            Some(_) => default,
            None => accept.unwrap_or(default),
        };
        let mut set_cookies = Vec::new();
        let locale_csrf = match first(LOCALE_CSRF).filter(|v| !v.is_empty()) {
            Some(v) => v,
            None => {
                let v = random_hex(32);
                set_cookies.push(cookie(
                    LOCALE_CSRF,
                    &v,
                    "/",
                    "HttpOnly; SameSite=Strict",
                    86_400,
                    https,
                ));
                v
            }
        };
        WebCtx {
            loc,
            https,
            ip: client_ip(peer_ip, h, trusted),
            headers: h.clone(),
            here: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into()),
            locale_csrf,
            web,
            cookies,
            set_cookies,
        }
    }

    /// The first cookie called `name` (the first `csrf_token` wins, §6.6).
    pub(crate) fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Queues a `Set-Cookie`.
    pub(crate) fn set_cookie(
        &mut self,
        name: &str,
        value: &str,
        path: &str,
        attrs: &str,
        max_age: i64,
    ) {
        let c = cookie(name, value, path, attrs, max_age, self.https);
        self.set_cookies.push(c);
    }

    /// Queues a `Set-Cookie` ahead of the others (the locale switch's cookie comes first).
    pub(crate) fn set_cookie_first(
        &mut self,
        name: &str,
        value: &str,
        path: &str,
        attrs: &str,
        max_age: i64,
    ) {
        let c = cookie(name, value, path, attrs, max_age, self.https);
        self.set_cookies.insert(0, c);
    }

    /// Adds the queued cookies to `resp`.
    pub(crate) fn finish(self, mut resp: Response) -> Response {
        for c in self.set_cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        resp
    }

    /// §6.7 step 4.
    pub(crate) fn same_origin(&self) -> bool {
        let Some(origin) = self.headers.get(header::ORIGIN) else {
            return true;
        };
        let Some((scheme, host)) = origin.to_str().ok().and_then(split_origin) else {
            return false;
        };
        if !self.web.public_url.is_empty() {
            return split_origin(&self.web.public_url).is_some_and(|(s, h)| {
                s.eq_ignore_ascii_case(&scheme) && h.eq_ignore_ascii_case(&host)
            });
        }
        let want = if self.https { "https" } else { "http" };
        let req_host = self
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        scheme.eq_ignore_ascii_case(want) && host.eq_ignore_ascii_case(req_host)
    }

    /// §6.8: the cookie, the origin, and the form field `locale_csrf`.
    pub(crate) fn public_csrf_ok(&self, form_value: &str) -> bool {
        let cookie = self.cookie(LOCALE_CSRF).unwrap_or("");
        !cookie.is_empty()
            && self.same_origin()
            && !form_value.is_empty()
            && ct_eq(form_value.as_bytes(), cookie.as_bytes())
    }
}

/// `scheme://host[:port][/…]` → `(scheme, host[:port])`; `None` without a host.
pub(crate) fn split_origin(s: &str) -> Option<(String, String)> {
    let (scheme, rest) = s.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    if scheme.is_empty() || host.is_empty() {
        return None;
    }
    Some((scheme.to_owned(), host.to_owned()))
}

/// A `Set-Cookie` value; `Secure` when the request is HTTPS.
pub(crate) fn cookie(
    name: &str,
    value: &str,
    path: &str,
    attrs: &str,
    max_age: i64,
    https: bool,
) -> String {
    let mut c = format!("{name}={value}; Path={path}; {attrs}; Max-Age={max_age}");
    if https {
        c.push_str("; Secure");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_cookies() {
        assert_eq!(
            split_origin("https://a.example:8443"),
            Some(("https".into(), "a.example:8443".into()))
        );
        assert_eq!(split_origin("null"), None);
        assert_eq!(split_origin("http://"), None);
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("csrf_token=a; x=1"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("csrf_token=b"));
        let c = parse_cookies(&h);
        assert_eq!(c.iter().find(|(k, _)| k == "csrf_token").unwrap().1, "a");
        assert_eq!(
            cookie("a", "b", "/", "HttpOnly", 5, true),
            "a=b; Path=/; HttpOnly; Max-Age=5; Secure"
        );
    }
}
