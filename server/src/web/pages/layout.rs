//! The frame every page shares (`templates/layout.html`, and `templates/admin/console.html`
//! for the console): `<head>`, the header with the locale switch and the navigation for
//! guests, users or admins, the admin sidebar, and the shared `#confirm-dialog`.
//!
//! Every page's view model carries a [`Ui`] in its field `ui`; the layout reads only that, and
//! page templates use it for text (`ui.t(key)`), dates (`ui.date(..)`) and flashes.

use crate::web::ctx::WebCtx;
use crate::web::format;
use crate::web::i18n::{self, Locale};

/// Which navigation the header shows.
#[derive(Clone, Copy)]
pub(crate) enum Nav<'a> {
    Guest,
    /// A signed-in user; carries the session CSRF token for the logout form.
    User(&'a str),
    /// An admin page: the CSRF token and the sidebar section to mark.
    Admin(&'a str, &'a str),
    /// The admin login page: admin header without a session.
    AdminGuest,
}

const ADMIN_SECTIONS: [(&str, &str); 9] = [
    ("/admin/dashboard", "admin.dashboard"),
    ("/admin/users", "admin.users"),
    ("/admin/devices", "admin.devices"),
    ("/admin/vaults", "admin.vaults"),
    ("/admin/storage", "admin.storage"),
    ("/admin/history", "admin.history"),
    ("/admin/audit", "admin.audit"),
    ("/admin/settings", "admin.settings"),
    ("/admin/diagnostics", "admin.diagnostics"),
];

/// The request-wide part of a page: locale, page title, header data and navigation.
pub(crate) struct Ui<'a> {
    pub loc: Locale,
    /// The page title, already translated.
    pub title: &'static str,
    pub server_name: &'a str,
    pub allow_registration: bool,
    pub locale_csrf: &'a str,
    /// Path and query of this request (the locale form's `from`).
    pub here: &'a str,
    pub nav: Nav<'a>,
    /// A console result message for the top of the page (`web::notice`), already in `loc`.
    pub notice: Option<String>,
}

/// One `<option>` of a select.
pub(crate) struct Choice<'a> {
    pub value: &'a str,
    pub label: &'a str,
    pub selected: bool,
}

impl<'a> Choice<'a> {
    /// The options `(value, label)` with the one equal to `current` selected.
    pub(crate) fn list(current: &str, opts: &[(&'a str, &'a str)]) -> Vec<Choice<'a>> {
        opts.iter()
            .map(|&(value, label)| Choice {
                value,
                label,
                selected: value == current,
            })
            .collect()
    }
}

/// A link of the admin sidebar.
pub(crate) struct Section {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// A flash paragraph: `error.*` keys get the error style.
pub(crate) struct Flash {
    pub class: &'static str,
    pub text: &'static str,
}

impl<'a> Ui<'a> {
    pub(crate) fn new(cx: &'a WebCtx, nav: Nav<'a>, title_key: &str) -> Ui<'a> {
        Ui {
            loc: cx.loc,
            title: i18n::t(cx.loc, title_key),
            server_name: &cx.web.server_name,
            allow_registration: cx.web.allow_registration,
            locale_csrf: &cx.locale_csrf,
            here: &cx.here,
            nav,
            notice: None,
        }
    }

    /// The text of a catalog key in this page's locale.
    pub(crate) fn t(&self, key: &str) -> &'static str {
        i18n::t(self.loc, key)
    }

    /// The text of a catalog key with `{name}` filled in.
    pub(crate) fn tf(&self, key: &str, name: &str) -> String {
        self.t(key).replace("{name}", name)
    }

    /// A server timestamp in local time (empty stays empty).
    pub(crate) fn date(&self, s: &str) -> String {
        i18n::fmt_date(self.loc, s)
    }

    /// A byte size in binary units (`1.5 GiB`).
    pub(crate) fn bytes(&self, n: &i64) -> String {
        format::bytes(self.loc, *n)
    }

    /// A count with digit groups (`12,345`).
    pub(crate) fn count(&self, n: &i64) -> String {
        format::count(self.loc, *n)
    }

    /// A duration in words (`2 hours 5 minutes`).
    pub(crate) fn duration(&self, secs: &i64) -> String {
        format::duration(self.loc, (*secs).max(0) as u64)
    }

    pub(crate) fn flash(&self, key: &str) -> Flash {
        Flash {
            class: if key.starts_with("error.") {
                "flash error"
            } else {
                "flash ok"
            },
            text: self.t(key),
        }
    }

    /// The locale switch; language names are shown in their own language.
    pub(crate) fn locales(&self) -> Vec<Choice<'static>> {
        let here = self.loc.code();
        let system = self.t("locale.system");
        Choice::list(
            here,
            &[("en", "English"), ("ru", "Русский"), ("system", system)],
        )
    }

    /// The admin sidebar with the current section marked.
    pub(crate) fn sections(&self) -> Vec<Section> {
        let current = match self.nav {
            Nav::Admin(_, section) => section,
            _ => "",
        };
        ADMIN_SECTIONS
            .iter()
            .map(|&(href, key)| Section {
                href,
                label: self.t(key),
                current: href == current,
            })
            .collect()
    }

    /// The session CSRF token of a user or admin page (for the logout form).
    pub(crate) fn csrf(&self) -> &'a str {
        match self.nav {
            Nav::User(c) | Nav::Admin(c, _) => c,
            Nav::Guest | Nav::AdminGuest => "",
        }
    }
}
