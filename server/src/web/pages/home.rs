//! The home page (`templates/home.html`): version, commit and a ready badge, or the
//! "unavailable" notice when the server is not ready.

use askama::Template;

use super::layout::Ui;

#[derive(Template)]
#[template(path = "home.html")]
struct Home<'a> {
    ui: &'a Ui<'a>,
    ready: bool,
    version: &'a str,
    commit: &'a str,
}

pub(crate) fn render(ui: &Ui<'_>, ready: bool, version: &str, commit: &str) -> String {
    super::render(&Home {
        ui,
        ready,
        version,
        commit,
    })
}
