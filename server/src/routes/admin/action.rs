//! `POST /admin/action` (spec §6.12): the console's form actions, with re-authentication
//! where the table asks for it, plus the one-time password result page and its secret.
//!
//! [`action`] is the HTML adapter over `ops`: session and CSRF form (extractors), the action
//! name parsed into a [`ConsoleAction`] (400 when unknown), re-authentication (403), then
//! [`run`] makes one `ops` call and maps its outcome to an [`Outcome`]: a redirect or a flash
//! page. The redirects are the spec's; what was done travels as a `web::notice` for the next
//! page of the same admin session.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;
use std::time::Duration;

use super::ops::{self, Actor, Refusal, Via, WebSettingsInput};
use super::pages::{admin_page_status, refusal_flash};
use crate::creds::verify_admin;
use crate::error::ApiError;
use crate::extract::{AdminSession as Admin, Csrf, CsrfForm};
use crate::reply::json_response;
use crate::routes::only;
use crate::state::AppState;
use crate::store::admin as q;
use crate::store::notes;
use crate::util::{seal, time};
use crate::web::form::Form;
use crate::web::html;
use crate::web::notice::Notice;
use crate::web::pages::admin as view;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/action", only("POST").post(action))
        .route("/admin/password-result", only("GET").get(password_result))
        .route("/admin/password-result/secret", only("POST").post(secret))
}

/// The console's form actions (§6.12), parsed from the form's `action` field up front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConsoleAction {
    WebSettings,
    ToggleUser,
    EditUser,
    ConfirmUser,
    ResetUserPassword,
    DeleteUser,
    RevokeDevice,
    DeleteDevice,
    Smtp,
    SmtpTest,
    Cleanup,
}

impl ConsoleAction {
    const ALL: [ConsoleAction; 11] = [
        ConsoleAction::WebSettings,
        ConsoleAction::ToggleUser,
        ConsoleAction::EditUser,
        ConsoleAction::ConfirmUser,
        ConsoleAction::ResetUserPassword,
        ConsoleAction::DeleteUser,
        ConsoleAction::RevokeDevice,
        ConsoleAction::DeleteDevice,
        ConsoleAction::Smtp,
        ConsoleAction::SmtpTest,
        ConsoleAction::Cleanup,
    ];

    /// The form value that names the action.
    fn name(self) -> &'static str {
        match self {
            ConsoleAction::WebSettings => "web-settings",
            ConsoleAction::ToggleUser => "toggle-user",
            ConsoleAction::EditUser => "edit-user",
            ConsoleAction::ConfirmUser => "confirm-user",
            ConsoleAction::ResetUserPassword => "reset-user-password",
            ConsoleAction::DeleteUser => "delete-user",
            ConsoleAction::RevokeDevice => "revoke-device",
            ConsoleAction::DeleteDevice => "delete-device",
            ConsoleAction::Smtp => "smtp",
            ConsoleAction::SmtpTest => "smtp-test",
            ConsoleAction::Cleanup => "cleanup",
        }
    }

    fn parse(name: &str) -> Option<ConsoleAction> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Every action but `edit-user` asks for the admin's password again.
    fn needs_reauth(self) -> bool {
        self != ConsoleAction::EditUser
    }
}

/// How the console answers an action: a 303 to a page, or a flash page with a status.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    See(String),
    Fail(StatusCode, &'static str),
}

use Outcome::{Fail, See};

const NOT_FOUND: Outcome = Fail(StatusCode::NOT_FOUND, "error.notFound");

fn fail(a: Admin, status: StatusCode, key: &str) -> Response {
    admin_page_status(a, status, "/admin/dashboard", "error.title", |ui| {
        view::notice(ui, key)
    })
}

/// Session and CSRF form (extractors), the action name (400 when unknown), the admin's
/// password where the action asks for it (403), then the operation.
async fn action(
    State(st): State<AppState>,
    a: Admin,
    CsrfForm(f): CsrfForm,
) -> Result<Response, ApiError> {
    let Some(act) = ConsoleAction::parse(f.get("action")) else {
        return Ok(fail(a, StatusCode::BAD_REQUEST, "error.unknownAction"));
    };
    if act.needs_reauth() && !verify_admin(&st, &a.session.subject, f.get("password")).await? {
        return Ok(fail(a, StatusCode::FORBIDDEN, "error.invalidCredentials"));
    }
    Ok(match run(&st, &a, act, &f).await? {
        See(to) => a.cx.finish(html::redirect(StatusCode::SEE_OTHER, &to)),
        Fail(status, key) => fail(a, status, key),
    })
}

/// One call into [`ops`] per action, its outcome mapped to the console's answer. A done
/// user or device action leaves a result message naming what was done for the next page.
async fn run(st: &AppState, a: &Admin, act: ConsoleAction, f: &Form) -> Result<Outcome, ApiError> {
    use ConsoleAction as A;
    let (actor, id) = (Actor::of(a), f.get("id"));
    let see = |to: &str| See(to.to_owned());
    // Names first: a deleted user or device has none afterwards.
    let (i, d) = (id.to_owned(), id.to_owned());
    let (user, device) = match act {
        A::ToggleUser | A::ConfirmUser | A::ResetUserPassword | A::DeleteUser => {
            (st.db.read(move |c| q::names(c, &i, "")).await?.0, None)
        }
        A::RevokeDevice | A::DeleteDevice => {
            (None, st.db.read(move |c| q::names(c, "", &d)).await?.1)
        }
        _ => (None, None),
    };
    let mut told = None;
    let mut tell =
        |key: &str, name: Option<&str>| told = Some(Notice::new(key, name.unwrap_or(id)));
    let (user, device) = (user.as_deref(), device.as_deref());
    let outcome = match act {
        A::WebSettings => match ops::web_settings(st, &actor, web_settings_input(f)).await? {
            true => see("/admin/settings?flash=settings_saved"),
            false => Fail(StatusCode::BAD_REQUEST, "error.invalidPublicURL"),
        },
        A::ToggleUser => match ops::toggle_block(st, &actor, id).await? {
            Some(blocked) => {
                tell(
                    if blocked {
                        "done.userBlocked"
                    } else {
                        "done.userUnblocked"
                    },
                    user,
                );
                see("/admin/users")
            }
            None => NOT_FOUND,
        },
        A::EditUser if id.is_empty() => refused(Refusal::Missing),
        A::EditUser => {
            let (u, e) = (f.get("username").trim(), f.get("email").trim());
            match ops::edit_user(st, &actor, Via::Console, id, u, e).await? {
                Ok(()) => {
                    tell("done.userUpdated", Some(u));
                    see("/admin/users")
                }
                Err(why) => refused(why),
            }
        }
        A::ConfirmUser => match ops::confirm_user(st, &actor, id).await? {
            true => {
                tell("done.emailConfirmed", user);
                see("/admin/users")
            }
            false => NOT_FOUND,
        },
        A::ResetUserPassword => match ops::reset_password(st, &actor, id, 16).await? {
            Some(pw) => {
                keep_secret(st, a, &pw).await?;
                tell("done.passwordReset", user);
                see("/admin/password-result")
            }
            None => NOT_FOUND,
        },
        A::DeleteUser => {
            ops::delete_user(st, &actor, id).await?;
            if user.is_some() {
                tell("done.userDeleted", user);
            }
            see("/admin/users")
        }
        A::RevokeDevice => {
            ops::revoke_device(st, &actor, id).await?;
            if device.is_some() {
                tell("done.deviceRevoked", device);
            }
            see("/admin/devices")
        }
        A::DeleteDevice => match ops::delete_device(st, &actor, Via::Console, id).await? {
            Some(true) => {
                tell("done.deviceDeleted", device);
                see("/admin/devices")
            }
            Some(false) => Fail(StatusCode::CONFLICT, "error.deviceMustBeRevoked"),
            None => NOT_FOUND,
        },
        A::Smtp => {
            ops::save_smtp(st, &actor, Via::Console, f).await?;
            see("/admin/settings?flash=smtp_saved")
        }
        A::SmtpTest => {
            let (loc, name) = (a.cx.loc, &a.cx.web.server_name);
            let sent = ops::smtp_test_saved(st, &actor, f.get("test_to"), loc, name).await?;
            see(&format!(
                "/admin/settings?flash={}",
                ops::smtp_test_event(sent)
            ))
        }
        A::Cleanup => {
            ops::cleanup(st, &actor).await?;
            see("/admin/storage?flash=cleanup_done")
        }
    };
    if let Some(n) = told {
        crate::web::notice::leave(st, &a.session.token_hash, n).await?;
    }
    Ok(outcome)
}

fn web_settings_input(f: &Form) -> WebSettingsInput<'_> {
    WebSettingsInput {
        default_locale: f.get("default_locale"),
        public_url: f.get("public_url"),
        allow_registration: f.get("allow_registration") == "on",
        server_name: f.get("server_name"),
    }
}

fn refused(why: Refusal) -> Outcome {
    let (status, key) = refusal_flash(why);
    Fail(status, key)
}

/// Keeps a reset password for five minutes, for this admin session only: the password-result
/// page fetches it once (§6.12 one-time secret). It is stored sealed with the session's token,
/// which the database never holds (only its hash), so the stored note is useless without the
/// browser's cookie; any server process can open it for that browser.
async fn keep_secret(st: &AppState, a: &Admin, pw: &str) -> Result<(), ApiError> {
    let token = a.cx.cookie("admin_session").unwrap_or("");
    let sealed = seal::seal(token, pw.as_bytes());
    let (hash, exp) = (
        a.session.token_hash.clone(),
        time::rfc3339_in(Duration::from_secs(300)),
    );
    st.db
        .write(move |c| notes::leave(c, &hash, SECRET, &sealed, &exp))
        .await?;
    Ok(())
}

/// The note kind of a one-time secret.
const SECRET: &str = "secret";

async fn password_result(a: Admin) -> Response {
    let mut r = admin_page_status(
        a,
        StatusCode::OK,
        "/admin/users",
        "admin.passwordResult",
        view::password::render,
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, max-age=0"),
    );
    r
}

/// Hands out the one-time password once, to the session that reset it.
async fn secret(State(st): State<AppState>, a: Admin, _: Csrf) -> Result<Response, ApiError> {
    if a.cx.cookie("admin_session").unwrap_or("").is_empty() {
        return Err(ApiError::SessionInvalid);
    }
    let token = a.cx.cookie("admin_session").unwrap_or("").to_owned();
    let (hash, now) = (a.session.token_hash.clone(), time::now_rfc3339());
    let sealed = st
        .db
        .write(move |c| notes::take(c, &hash, SECRET, &now))
        .await?;
    match sealed.and_then(|s| seal::open(&token, &s)) {
        Some(pw) => {
            let mut r = json_response(StatusCode::OK, &json!({ "password": pw }));
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, max-age=0"),
            );
            Ok(r)
        }
        _ => Err(ApiError::SecretExpired),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_parse_and_reauth() {
        for a in ConsoleAction::ALL {
            assert_eq!(ConsoleAction::parse(a.name()), Some(a));
        }
        assert_eq!(ConsoleAction::parse("nope"), None);
        assert_eq!(ConsoleAction::parse(""), None);
        assert_eq!(ConsoleAction::parse("Cleanup"), None);
        let no_reauth: Vec<_> = ConsoleAction::ALL
            .into_iter()
            .filter(|a| !a.needs_reauth())
            .map(ConsoleAction::name)
            .collect();
        assert_eq!(no_reauth, ["edit-user"]);
    }
}
