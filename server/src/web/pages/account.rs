//! The public account pages (spec §6.10): the register, sign-in, forgot and reset forms
//! (`templates/account/{register,login,forgot,reset}.html`, all extending
//! `account/form.html`) and the email confirmation form (`account/confirm.html`). Every form
//! carries the public CSRF field `locale_csrf`; a failed post shows the form again with a flash
//! and the values typed so far (never the password).

use askama::Template;

use super::layout::{Flash, Ui};

#[derive(Template)]
#[template(path = "account/register.html")]
struct Register<'a> {
    ui: &'a Ui<'a>,
    flash: Option<Flash>,
    username: &'a str,
    email: &'a str,
}

#[derive(Template)]
#[template(path = "account/login.html")]
struct Login<'a> {
    ui: &'a Ui<'a>,
    flash: Option<Flash>,
    username: &'a str,
}

#[derive(Template)]
#[template(path = "account/forgot.html")]
struct Forgot<'a> {
    ui: &'a Ui<'a>,
    flash: Option<Flash>,
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct Reset<'a> {
    ui: &'a Ui<'a>,
    flash: Option<Flash>,
    token: &'a str,
}

#[derive(Template)]
#[template(path = "account/confirm.html")]
struct Confirm<'a> {
    ui: &'a Ui<'a>,
    token: &'a str,
}

/// `/register`; `flash` is a catalog key.
pub(crate) fn register(ui: &Ui<'_>, flash: Option<&str>, username: &str, email: &str) -> String {
    let flash = flash.map(|k| ui.flash(k));
    super::render(&Register {
        ui,
        flash,
        username,
        email,
    })
}

/// `/login`; `username` is the login field as typed.
pub(crate) fn login(ui: &Ui<'_>, flash: Option<&str>, username: &str) -> String {
    let flash = flash.map(|k| ui.flash(k));
    super::render(&Login {
        ui,
        flash,
        username,
    })
}

/// `/forgot`.
pub(crate) fn forgot(ui: &Ui<'_>, flash: Option<&str>) -> String {
    let flash = flash.map(|k| ui.flash(k));
    super::render(&Forgot { ui, flash })
}

/// `/reset` with the token as a hidden field.
pub(crate) fn reset(ui: &Ui<'_>, flash: Option<&str>, token: &str) -> String {
    let flash = flash.map(|k| ui.flash(k));
    super::render(&Reset { ui, flash, token })
}

/// `GET /api/v1/auth/confirm`.
pub(crate) fn confirm(ui: &Ui<'_>, token: &str) -> String {
    super::render(&Confirm { ui, token })
}
