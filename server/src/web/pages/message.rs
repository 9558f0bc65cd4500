//! The generic pages: an error with a back link to `/` (`templates/error.html`) and a short
//! message with a sign-in link (`templates/message.html`, `/register/result` and friends).

use askama::Template;

use super::layout::Ui;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ui: &'a Ui<'a>,
    key: &'a str,
    /// A second sentence after the message (already translated), e.g. how long to wait.
    detail: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    ui: &'a Ui<'a>,
    key: &'a str,
}

/// The error page for the catalog key `key`.
pub(crate) fn error(ui: &Ui<'_>, key: &str) -> String {
    super::render(&ErrorPage {
        ui,
        key,
        detail: None,
    })
}

/// The error page for `key` followed by `detail` (translated text).
pub(crate) fn error_with(ui: &Ui<'_>, key: &str, detail: &str) -> String {
    super::render(&ErrorPage {
        ui,
        key,
        detail: Some(detail),
    })
}

/// The message page: `ui.title` as heading, then the text of `key`.
pub(crate) fn message(ui: &Ui<'_>, key: &str) -> String {
    super::render(&MessagePage { ui, key })
}
