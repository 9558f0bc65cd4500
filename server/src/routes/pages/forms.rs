//! The public forms (spec §6.10): `/register`, `/login`, `/forgot`, `/reset`, `POST /locale`
//! and the message pages. Steps run in the order of the spec table for each route.
//!
//! Each form route has a `GET` handler (`*_form`: show the form) and a `POST` handler (the
//! submission, which starts with [`PublicForm`]: form body, then locale CSRF). `/register`
//! first requires [`RegistrationOpen`], for every method, and asks for the password twice
//! (`confirm`, an addition to §6.10: empty is `error.allFieldsRequired`, a mismatch after the
//! length check `error.passwordMismatch`, as on `/reset`).

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::any;

use crate::accounts::{self, password_len_ok};
use crate::creds::{self, CredFailure};
use crate::effects;
use crate::error::ApiError;
use crate::extract::PublicForm;
use crate::http::not_found_page;
use crate::mail;
use crate::ratelimit::Action;
use crate::routes::{not_allowed, only};
use crate::session::{self, Kind};
use crate::state::AppState;
use crate::store::accounts::{Purpose, TokenOutcome, token_state};
use crate::store::users;
use crate::useradd::{normalize_email, valid_username};
use crate::util::{ids, time};
use crate::web::ctx::WebCtx;
use crate::web::form::{Form, read_form};
use crate::web::html::{self, Nav, error_page, message_page, rate_limited_page};
use crate::web::pages::{account, layout::Ui};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        // With registration closed `/register` does not exist, whatever the method.
        .route(
            "/register",
            any(|_: RegistrationOpen| async { not_allowed("GET, POST") })
                .get(register_form)
                .post(register),
        )
        .route("/login", only("GET, POST").get(login_form).post(login))
        .route("/forgot", only("GET, POST").get(forgot_form).post(forgot))
        .route("/reset", only("GET, POST").get(reset_form).post(reset))
        .route("/locale", only("POST").post(locale))
        .route("/register/result", only("GET").get(register_result))
        .route(
            "/forgot/sent",
            only("GET").get(|cx: WebCtx| msg(cx, "forgot.title", "forgot.sent", false)),
        )
        .route(
            "/reset/done",
            only("GET").get(|cx: WebCtx| msg(cx, "reset.title", "reset.done", true)),
        )
        .route(
            "/confirm/result",
            only("GET").get(|cx: WebCtx| msg(cx, "confirm.title", "confirm.result", true)),
        )
}

async fn msg(cx: WebCtx, title: &'static str, text: &'static str, no_store: bool) -> Response {
    let r = message_page(cx, title, text, Nav::Guest);
    if no_store { html::no_store(r) } else { r }
}

/// After sign-up: "check your inbox" when a confirmation mail can go out, otherwise "an
/// administrator confirms the account" (the account stays unconfirmed, spec §6.1). The
/// redirect target stays `/register/result` (§6.10), so the page decides from the settings.
async fn register_result(State(st): State<AppState>, cx: WebCtx) -> Result<Response, ApiError> {
    let text = if mail::link_mail_possible(&st).await? {
        "register.result"
    } else {
        "register.pending"
    };
    Ok(msg(cx, "register.title", text, false).await)
}

/// A form page: `render` builds the page (`web::pages::account`) with the guest header.
fn form_page(
    cx: WebCtx,
    status: StatusCode,
    title_key: &str,
    render: impl FnOnce(&Ui<'_>) -> String,
) -> Response {
    let p = render(&Ui::new(&cx, Nav::Guest, title_key));
    cx.finish(html::html(status, p))
}

/// Registration is open (web settings); else the 404 page, before any other check.
struct RegistrationOpen;

impl FromRequestParts<AppState> for RegistrationOpen {
    type Rejection = Response;

    async fn from_request_parts(_: &mut Parts, st: &AppState) -> Result<Self, Response> {
        if crate::console_settings::registration_open(st).await {
            Ok(RegistrationOpen)
        } else {
            Err(not_found_page())
        }
    }
}

async fn register_form(_: RegistrationOpen, cx: WebCtx) -> Response {
    form_page(cx, StatusCode::OK, "register.title", |ui| {
        account::register(ui, None, "", "")
    })
}

async fn register(
    State(st): State<AppState>,
    _: RegistrationOpen,
    PublicForm { cx, form }: PublicForm,
) -> Result<Response, ApiError> {
    let (username, email_raw, pw, confirm) = (
        form.get("username").trim(),
        form.get("email").trim(),
        form.get("password"),
        form.get("confirm"),
    );
    let again = |cx: WebCtx, key: &str| {
        form_page(cx, StatusCode::OK, "register.title", |ui| {
            account::register(ui, Some(key), username, email_raw)
        })
    };
    if username.is_empty() || email_raw.is_empty() || pw.is_empty() || confirm.is_empty() {
        return Ok(again(cx, "error.allFieldsRequired"));
    }
    let Some(email) = normalize_email(email_raw) else {
        return Ok(again(cx, "error.invalidEmail"));
    };
    if let Err(e) = effects::rate_limit(&st, Action::Register, cx.ip, Some(&email)).await {
        return Ok(rate_limited_page(cx, e));
    }
    if !valid_username(username) {
        return Ok(again(cx, "error.invalidUsername"));
    }
    if password_len_ok(pw).is_err() {
        return Ok(again(cx, "error.passwordInvalid"));
    }
    if pw != confirm {
        return Ok(again(cx, "error.passwordMismatch"));
    }
    match accounts::create_user(&st, username, Some(&email), pw, false, cx.loc, cx.ip, "").await {
        Ok(_) => Ok(cx.finish(html::redirect(StatusCode::SEE_OTHER, "/register/result"))),
        Err(ApiError::UsernameTaken | ApiError::EmailTaken) => Ok(again(cx, "error.accountTaken")),
        Err(e) => Err(e),
    }
}

/// The form, or the dashboard when already signed in.
async fn login_form(State(st): State<AppState>, cx: WebCtx) -> Result<Response, ApiError> {
    if session::lookup(&st, &cx, Kind::User).await?.is_some() {
        return Ok(cx.finish(html::redirect(StatusCode::FOUND, "/dashboard")));
    }
    Ok(form_page(cx, StatusCode::OK, "login.title", |ui| {
        account::login(ui, None, "")
    }))
}

async fn login(
    State(st): State<AppState>,
    PublicForm { mut cx, form }: PublicForm,
) -> Result<Response, ApiError> {
    let (login, pw) = (
        form.get("username").trim().to_owned(),
        form.get("password").to_owned(),
    );
    if let Err(e) = effects::rate_limit_login(&st, Action::Login, cx.ip, &login).await {
        return Ok(rate_limited_page(cx, e));
    }
    let fail = |cx: WebCtx, status: StatusCode, key: &str| {
        form_page(cx, status, "login.title", |ui| {
            account::login(ui, Some(key), &login)
        })
    };
    if login.is_empty()
        || pw.is_empty()
        || pw.len() > verstak_sync_proto::limits::fixed::PASSWORD_MAX
    {
        return Ok(fail(
            cx,
            StatusCode::UNAUTHORIZED,
            "error.invalidCredentials",
        ));
    }
    let user = match creds::verify(&st, &login, &pw).await? {
        Ok(u) => u,
        Err(CredFailure::Blocked) => {
            return Ok(fail(cx, StatusCode::FORBIDDEN, "error.accountBlocked"));
        }
        Err(CredFailure::Unconfirmed) => {
            return Ok(fail(cx, StatusCode::FORBIDDEN, "error.emailNotConfirmed"));
        }
        Err(_) => {
            return Ok(fail(
                cx,
                StatusCode::UNAUTHORIZED,
                "error.invalidCredentials",
            ));
        }
    };
    session::start(&st, &mut cx, Kind::User, &user.id).await?;
    let (uid, now) = (user.id.clone(), time::now_rfc3339());
    st.db.write(move |c| users::touch(c, &uid, &now)).await?;
    Ok(cx.finish(html::redirect(StatusCode::SEE_OTHER, "/dashboard")))
}

async fn forgot_form(cx: WebCtx) -> Response {
    form_page(cx, StatusCode::OK, "forgot.title", |ui| {
        account::forgot(ui, None)
    })
}

/// Sends the reset mail (in the background) and always answers the same redirect.
async fn forgot(
    State(st): State<AppState>,
    PublicForm { cx, form }: PublicForm,
) -> Result<Response, ApiError> {
    let email = form.get("email").trim();
    if email.is_empty() {
        return Ok(form_page(cx, StatusCode::OK, "forgot.title", |ui| {
            account::forgot(ui, Some("error.emailRequired"))
        }));
    }
    if let Err(e) = effects::rate_limit(&st, Action::Forgot, cx.ip, Some(email)).await {
        return Ok(rate_limited_page(cx, e));
    }
    accounts::forgot(&st, email, cx.loc);
    Ok(cx.finish(html::redirect(StatusCode::SEE_OTHER, "/forgot/sent")))
}

/// An unusable reset token goes back to `/forgot`.
fn to_forgot(cx: WebCtx) -> Response {
    html::no_store(cx.finish(html::redirect(StatusCode::FOUND, "/forgot")))
}

/// Checks the `token` of the query and shows the form.
async fn reset_form(
    State(st): State<AppState>,
    cx: WebCtx,
    uri: Uri,
) -> Result<Response, ApiError> {
    let token = uri
        .query()
        .map(|q| Form::parse(q.as_bytes()).get("token").to_owned())
        .unwrap_or_default();
    let (th, now) = (ids::sha256_hex(&token), time::now_rfc3339());
    let state = st
        .db
        .read(move |c| token_state(c, &th, Purpose::Reset, &now))
        .await?;
    if token.is_empty() || !matches!(state, TokenOutcome::Done(_)) {
        return Ok(to_forgot(cx));
    }
    Ok(html::no_store(form_page(
        cx,
        StatusCode::OK,
        "reset.title",
        |ui| account::reset(ui, None, &token),
    )))
}

/// Sets the new password.
async fn reset(
    State(st): State<AppState>,
    PublicForm { cx, form }: PublicForm,
) -> Result<Response, ApiError> {
    let (token, pw, confirm) = (form.get("token"), form.get("password"), form.get("confirm"));
    let again = |cx: WebCtx, key: &str| {
        html::no_store(form_page(cx, StatusCode::OK, "reset.title", |ui| {
            account::reset(ui, Some(key), token)
        }))
    };
    if token.is_empty() || pw.is_empty() || confirm.is_empty() {
        return Ok(again(cx, "error.allFieldsRequired"));
    }
    if let Err(e) = effects::rate_limit(&st, Action::Reset, cx.ip, None).await {
        return Ok(rate_limited_page(cx, e));
    }
    if password_len_ok(pw).is_err() {
        return Ok(again(cx, "error.passwordInvalid"));
    }
    if pw != confirm {
        return Ok(again(cx, "error.passwordMismatch"));
    }
    match accounts::reset(&st, token, pw, cx.ip).await? {
        TokenOutcome::Done(_) => {
            Ok(cx.finish(html::redirect(StatusCode::SEE_OTHER, "/reset/done")))
        }
        _ => Ok(to_forgot(cx)),
    }
}

async fn locale(
    State(st): State<AppState>,
    cx: WebCtx,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let form = match read_form(&st, &parts.headers, body).await {
        Ok(f) => f,
        Err(_) => return Ok(error_page(cx, StatusCode::OK, "error.badRequest")),
    };
    if !cx.public_csrf_ok(form.get("locale_csrf")) {
        return Ok(error_page(cx, StatusCode::FORBIDDEN, "error.csrf"));
    }
    let loc = match form.get("locale") {
        l @ ("ru" | "en" | "system") => l,
        _ => "system",
    };
    let to = crate::http::local_redirect_target(form.get("from"));
    let mut cx = cx;
    cx.set_cookie_first(
        "verstak_locale",
        loc,
        "/",
        "HttpOnly; SameSite=Lax",
        31_536_000,
    );
    Ok(cx.finish(html::redirect(StatusCode::SEE_OTHER, &to)))
}
