//! HTML responses (spec §6.10): the escaper every page template uses, query encoding, the
//! `text/html` response, `no-store`, redirects, and the two generic pages (error, message)
//! that handlers outside the page modules ask for.
//!
//! The markup itself lives in [`super::pages`] (askama templates); this module only wraps
//! rendered pages into responses. No inline style or script: the CSP allows only
//! `/static/app.css` and `/static/app.js`.

use std::fmt;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::ctx::WebCtx;
use super::pages::{self, layout::Ui};

pub(crate) use super::pages::layout::Nav;

/// The escaper of every `.html` template (`server/askama.toml`): `& < > " '` become
/// `&amp; &lt; &gt; &quot; &#39;`, so a value is safe in text and in any quoted attribute.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Escape;

impl askama::filters::Escaper for Escape {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            dest.write_str(&rest[..i])?;
            dest.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        dest.write_str(rest)
    }
}

/// Percent-encodes a query value.
pub(crate) fn qenc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// The console pages still build their markup by hand until they move to templates.

/// HTML-escapes `& < > " '`.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const ADMIN_SECTIONS: [(&str, &str); 8] = [
    ("/admin/dashboard", "admin.dashboard"),
    ("/admin/users", "admin.users"),
    ("/admin/devices", "admin.devices"),
    ("/admin/vaults", "admin.vaults"),
    ("/admin/storage", "admin.storage"),
    ("/admin/audit", "admin.audit"),
    ("/admin/settings", "admin.settings"),
    ("/admin/diagnostics", "admin.diagnostics"),
];

fn locale_form(cx: &WebCtx) -> String {
    // Language names are shown in their own language.
    let opt = |v: &str, label: &str| {
        let sel = if v == cx.loc.code() { " selected" } else { "" };
        format!("<option value=\"{v}\"{sel}>{}</option>", esc(label))
    };
    format!(
        "<form class=\"locale\" method=\"post\" action=\"/locale\">\
         <input type=\"hidden\" name=\"locale_csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"from\" value=\"{}\">\
         <label>{} <select name=\"locale\">{}{}{}</select></label>\
         <button type=\"submit\">{}</button></form>",
        esc(&cx.locale_csrf),
        esc(&cx.here),
        esc(cx.t("nav.language")),
        opt("en", "English"),
        opt("ru", "Русский"),
        opt("system", cx.t("locale.system")),
        esc(cx.t("nav.apply")),
    )
}

fn header_html(cx: &WebCtx, nav: &Nav<'_>) -> String {
    let brand = format!(
        "<a class=\"brand\" href=\"/\"><img src=\"/static/logo.svg\" alt=\"\" width=\"24\" height=\"24\"> {}</a>",
        esc(&cx.web.server_name)
    );
    let links = match nav {
        Nav::Guest => {
            let reg = if cx.web.allow_registration {
                format!("<a href=\"/register\">{}</a>", esc(cx.t("nav.register")))
            } else {
                String::new()
            };
            format!(
                "{}<a href=\"/login\">{}</a>{reg}",
                locale_form(cx),
                esc(cx.t("nav.login"))
            )
        }
        Nav::User(csrf) => format!(
            "{}<a href=\"/dashboard\">{}</a><form class=\"inline\" method=\"post\" action=\"/logout\">\
             <input type=\"hidden\" name=\"csrf_token\" value=\"{}\"><button type=\"submit\">{}</button></form>",
            locale_form(cx),
            esc(cx.t("nav.dashboard")),
            esc(csrf),
            esc(cx.t("nav.logout"))
        ),
        Nav::Admin(csrf, _) => format!(
            "{}<a href=\"/admin/dashboard\">{}</a><form class=\"inline\" method=\"post\" action=\"/admin/logout\">\
             <input type=\"hidden\" name=\"csrf_token\" value=\"{}\"><button type=\"submit\">{}</button></form>",
            locale_form(cx),
            esc(cx.t("admin.title")),
            esc(csrf),
            esc(cx.t("admin.logout"))
        ),
        Nav::AdminGuest => locale_form(cx),
    };
    format!("<header class=\"top\">{brand}<nav>{links}</nav></header>")
}

fn sidebar(cx: &WebCtx, section: &str) -> String {
    let mut s = String::from("<aside class=\"sidebar\"><nav>");
    for (href, key) in ADMIN_SECTIONS {
        let cur = if href == section {
            " aria-current=\"page\""
        } else {
            ""
        };
        s.push_str(&format!("<a href=\"{href}\"{cur}>{}</a>", esc(cx.t(key))));
    }
    s.push_str("</nav></aside>");
    s
}

/// A whole page. `title` and `body` are already-escaped HTML.
pub(crate) fn page(cx: &WebCtx, nav: Nav<'_>, title: &str, body: &str) -> String {
    let main = match &nav {
        Nav::Admin(_, section) => format!(
            "<div class=\"admin\">{}<main>{body}</main></div>",
            sidebar(cx, section)
        ),
        _ => format!("<main>{body}</main>"),
    };
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {name}</title><link rel=\"stylesheet\" href=\"/static/app.css\">\
         <script src=\"/static/app.js\" defer></script></head><body>{header}{main}\
         <dialog id=\"confirm-dialog\"><form method=\"dialog\"><p class=\"confirm-text\"></p>\
         <menu><button value=\"cancel\">{cancel}</button><button value=\"ok\" class=\"danger\">{ok}</button></menu>\
         </form></dialog></body></html>\n",
        lang = cx.loc.code(),
        name = esc(&cx.web.server_name),
        header = header_html(cx, &nav),
        cancel = esc(cx.t("form.cancel")),
        ok = esc(cx.t("confirm.ok")),
    )
}

/// A flash paragraph for a catalog key (`error.*` keys get the error style).
pub(crate) fn flash(cx: &WebCtx, key: &str) -> String {
    let class = if key.starts_with("error.") {
        "flash error"
    } else {
        "flash ok"
    };
    format!(
        "<p class=\"{class}\" role=\"status\">{}</p>",
        esc(cx.t(key))
    )
}

/// One labelled input.
pub(crate) fn input(cx: &WebCtx, label_key: &str, name: &str, kind: &str, value: &str) -> String {
    let auto = match kind {
        "password" => " autocomplete=\"current-password\"",
        _ => "",
    };
    format!(
        "<label>{}<input type=\"{kind}\" name=\"{name}\" value=\"{}\"{auto}></label>",
        esc(cx.t(label_key)),
        esc(value)
    )
}

pub(crate) fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        esc(value)
    )
}

/// An HTML response.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// Adds `Cache-Control: no-store`.
pub(crate) fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A redirect with `status` (302 or 303) to a local `location`.
pub(crate) fn redirect(status: StatusCode, location: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// An error page with a message key and a back link to `/`.
pub(crate) fn error_page(cx: WebCtx, status: StatusCode, key: &str) -> Response {
    let ui = Ui::new(&cx, Nav::Guest, "error.title");
    let p = pages::message::error(&ui, key);
    cx.finish(no_store(html(status, p)))
}

/// A simple message page (`/register/result` and friends).
pub(crate) fn message_page(cx: WebCtx, title_key: &str, msg_key: &str, nav: Nav<'_>) -> Response {
    let ui = Ui::new(&cx, nav, title_key);
    let p = pages::message::message(&ui, msg_key);
    cx.finish(html(StatusCode::OK, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::filters::Escaper;

    fn esc(s: &str) -> String {
        let mut out = String::new();
        Escape.write_escaped_str(&mut out, s).unwrap();
        out
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<img src=x onerror='a'>\"&"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&quot;&amp;"
        );
        assert_eq!(esc("Русский & co"), "Русский &amp; co");
        assert_eq!(qenc("a b&c"), "a+b%26c");
    }
}
