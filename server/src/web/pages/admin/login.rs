//! The admin sign-in page (`templates/admin/login.html`).

use askama::Template;

use crate::web::pages::layout::{Flash, Ui};

#[derive(Template)]
#[template(path = "admin/login.html")]
struct Login<'a> {
    ui: &'a Ui<'a>,
    flash: Option<Flash>,
    username: &'a str,
}

/// The form with `username` as typed and an optional flash key.
pub(crate) fn render(ui: &Ui<'_>, flash: Option<&str>, username: &str) -> String {
    let flash = flash.map(|k| ui.flash(k));
    crate::web::pages::render(&Login {
        ui,
        flash,
        username,
    })
}
