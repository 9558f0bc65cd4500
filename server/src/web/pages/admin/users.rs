//! The users section: the list with filters, paging and a manage dialog per user
//! (`templates/admin/users.html`), and the create-user form (`admin/create_user.html`).

use askama::Template;

use crate::store::admin::UserRow;
use crate::web::escape::qenc;
use crate::web::pages::layout::{Choice, Flash, Ui};

/// The list query as applied (`q` trimmed, paging clamped).
pub(crate) struct UserFilter<'a> {
    pub q: &'a str,
    pub status: &'a str,
    pub sort: &'a str,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct Users<'a> {
    ui: &'a Ui<'a>,
    q: &'a str,
    status: Vec<Choice<'a>>,
    sort: Vec<Choice<'a>>,
    total: i64,
    rows: &'a [UserRow],
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

/// One page of users out of `total` matches.
pub(crate) fn render(ui: &Ui<'_>, f: &UserFilter<'_>, total: i64, rows: &[UserRow]) -> String {
    let t = |k| ui.t(k);
    let pages = ((total + f.per_page - 1) / f.per_page).max(1);
    let link = |p: i64| {
        format!(
            "/admin/users?q={}&status={}&sort={}&per_page={}&page={p}",
            qenc(f.q),
            qenc(f.status),
            qenc(f.sort),
            f.per_page
        )
    };
    crate::web::pages::render(&Users {
        ui,
        q: f.q,
        status: Choice::list(
            f.status,
            &[
                ("", t("admin.statusAll")),
                ("active", t("admin.statusActive")),
                ("blocked", t("admin.statusBlocked")),
                ("unconfirmed", t("admin.statusUnconfirmed")),
            ],
        ),
        sort: Choice::list(
            f.sort,
            &[
                ("created", t("admin.created")),
                ("username", t("form.username")),
                ("last_seen", t("admin.lastSeen")),
            ],
        ),
        total,
        rows,
        page: f.page,
        pages,
        prev: (f.page > 1).then(|| link(f.page - 1)),
        next: (f.page < pages).then(|| link(f.page + 1)),
    })
}

#[derive(Template)]
#[template(path = "admin/create_user.html")]
struct CreateUser<'a> {
    ui: &'a Ui<'a>,
    flash: Option<Flash>,
    username: &'a str,
    email: &'a str,
}

/// The create-user form with the values typed so far and an optional flash key.
pub(crate) fn create_form(ui: &Ui<'_>, flash: Option<&str>, username: &str, email: &str) -> String {
    let flash = flash.map(|k| ui.flash(k));
    crate::web::pages::render(&CreateUser {
        ui,
        flash,
        username,
        email,
    })
}
