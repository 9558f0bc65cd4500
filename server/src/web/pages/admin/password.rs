//! The one-time password page after an admin resets a user's password
//! (`templates/admin/password_result.html`). The password itself is never in the page:
//! `/static/app.js` posts to `/admin/password-result/secret` with the CSRF token and shows it.

use askama::Template;

use crate::web::pages::layout::Ui;

#[derive(Template)]
#[template(path = "admin/password_result.html")]
struct PasswordResult<'a> {
    ui: &'a Ui<'a>,
}

pub(crate) fn render(ui: &Ui<'_>) -> String {
    crate::web::pages::render(&PasswordResult { ui })
}
