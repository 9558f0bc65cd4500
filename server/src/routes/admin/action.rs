//! `POST /admin/action` (spec §6.12): the console's form actions, with re-authentication
//! where the table asks for it, plus the one-time password result page and its secret.
//!
//! `action` is the HTML adapter over `ops`: session, CSRF form, re-authentication, then one
//! operation, answered with a redirect or a flash page.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;
use std::time::{Duration, Instant};

use super::Admin;
use super::ops::{self, Actor, Refusal, Via, WebSettingsInput};
use super::pages::admin_page_status;
use crate::creds::verify_admin;
use crate::error::ApiError;
use crate::extract::{Csrf, CsrfForm};
use crate::http::json_response;
use crate::mail;
use crate::routes::only;
use crate::state::AppState;
use crate::web::html;
use crate::web::pages::admin as view;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/action", only("POST").post(action))
        .route("/admin/password-result", only("GET").get(password_result))
        .route("/admin/password-result/secret", only("POST").post(secret))
}

const REAUTH: [&str; 9] = [
    "web-settings",
    "toggle-user",
    "confirm-user",
    "reset-user-password",
    "delete-user",
    "revoke-device",
    "delete-device",
    "smtp",
    "smtp-test",
];

fn fail(a: Admin, status: StatusCode, key: &str) -> Response {
    admin_page_status(a, status, "/admin/dashboard", "error.title", |ui| {
        view::notice(ui, key)
    })
}

fn see(a: Admin, to: &str) -> Response {
    a.cx.finish(html::redirect(StatusCode::SEE_OTHER, to))
}

async fn action(
    State(st): State<AppState>,
    a: Admin,
    CsrfForm(f): CsrfForm,
) -> Result<Response, ApiError> {
    let act = f.get("action").to_owned();
    let needs_reauth = REAUTH.contains(&act.as_str()) || act == "cleanup";
    if needs_reauth && !verify_admin(&st, &a.session.subject, f.get("password")).await? {
        return Ok(fail(a, StatusCode::FORBIDDEN, "error.invalidCredentials"));
    }
    let id = f.get("id");
    let actor = Actor::of(&a);
    match act.as_str() {
        "web-settings" => {
            let input = WebSettingsInput {
                default_locale: f.get("default_locale"),
                public_url: f.get("public_url"),
                allow_registration: f.get("allow_registration") == "on",
                server_name: f.get("server_name"),
            };
            if !ops::web_settings(&st, &actor, input).await? {
                return Ok(fail(a, StatusCode::BAD_REQUEST, "error.invalidPublicURL"));
            }
            Ok(see(a, "/admin/settings?flash=settings_saved"))
        }
        "toggle-user" => match ops::toggle_block(&st, &actor, id).await? {
            None => Ok(fail(a, StatusCode::NOT_FOUND, "error.notFound")),
            Some(_) => Ok(see(a, "/admin/users")),
        },
        "edit-user" => {
            let (u, e) = (f.get("username").trim(), f.get("email").trim());
            let outcome = if id.is_empty() {
                Err(Refusal::Missing)
            } else {
                ops::edit_user(&st, &actor, id, u, e).await?
            };
            match outcome {
                Ok(()) => Ok(see(a, "/admin/users")),
                Err(why) => {
                    let (status, key) = refusal_flash(why);
                    Ok(fail(a, status, key))
                }
            }
        }
        "confirm-user" => {
            if !ops::confirm_user(&st, &actor, id).await? {
                return Ok(fail(a, StatusCode::NOT_FOUND, "error.notFound"));
            }
            Ok(see(a, "/admin/users"))
        }
        "reset-user-password" => {
            let Some(pw) = ops::reset_password(&st, &actor, id, 16).await? else {
                return Ok(fail(a, StatusCode::NOT_FOUND, "error.notFound"));
            };
            // The password is shown once, to this admin session (§6.12 one-time secret).
            if let Ok(mut m) = st.secrets.lock() {
                m.retain(|_, (_, exp)| *exp > Instant::now());
                m.insert(
                    a.session.token_hash.clone(),
                    (pw, Instant::now() + Duration::from_secs(300)),
                );
            }
            Ok(see(a, "/admin/password-result"))
        }
        "delete-user" => {
            ops::delete_user(&st, &actor, id).await?;
            Ok(see(a, "/admin/users"))
        }
        "revoke-device" => {
            ops::revoke_device(&st, &actor, id).await?;
            Ok(see(a, "/admin/devices"))
        }
        "delete-device" => match ops::delete_device(&st, &actor, Via::Console, id).await? {
            None => Ok(fail(a, StatusCode::NOT_FOUND, "error.notFound")),
            Some(false) => Ok(fail(a, StatusCode::CONFLICT, "error.deviceMustBeRevoked")),
            Some(true) => Ok(see(a, "/admin/devices")),
        },
        "smtp" => {
            ops::save_smtp(&st, &actor, Via::Console, &f).await?;
            Ok(see(a, "/admin/settings?flash=smtp_saved"))
        }
        "smtp-test" => {
            let s = mail::settings(&st).await?;
            let to = f.get("test_to").trim().to_owned();
            let sent = ops::smtp_test(s, to, a.cx.loc, &a.cx.web.server_name).await;
            let outcome = if sent.is_ok() {
                "smtp_test_passed"
            } else {
                "smtp_test_failed"
            };
            let msg = format!("SMTP test by admin {}", actor.name);
            actor.audit(&st, outcome, None, None, msg).await;
            Ok(see(a, &format!("/admin/settings?flash={outcome}")))
        }
        "cleanup" => {
            ops::cleanup(&st, &actor).await?;
            Ok(see(a, "/admin/storage?flash=cleanup_done"))
        }
        _ => Ok(fail(a, StatusCode::BAD_REQUEST, "error.unknownAction")),
    }
}

/// The console's answer to a refused input: status and flash key.
pub(crate) fn refusal_flash(why: Refusal) -> (StatusCode, &'static str) {
    match why {
        Refusal::Missing => (StatusCode::BAD_REQUEST, "error.allFieldsRequired"),
        Refusal::InvalidUsername => (StatusCode::BAD_REQUEST, "error.invalidUsername"),
        Refusal::InvalidEmail => (StatusCode::BAD_REQUEST, "error.invalidEmail"),
        Refusal::Password(_) => (StatusCode::BAD_REQUEST, "error.passwordInvalid"),
        Refusal::NotFound => (StatusCode::NOT_FOUND, "error.notFound"),
        Refusal::UsernameTaken | Refusal::EmailTaken => {
            (StatusCode::CONFLICT, "error.accountTaken")
        }
    }
}

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
    let taken = st
        .secrets
        .lock()
        .ok()
        .and_then(|mut m| m.remove(&a.session.token_hash));
    match taken {
        Some((pw, exp)) if exp > Instant::now() => {
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
    fn refusals_map_to_flash_pages() {
        let table = [
            (Refusal::Missing, 400, "error.allFieldsRequired"),
            (Refusal::InvalidUsername, 400, "error.invalidUsername"),
            (Refusal::InvalidEmail, 400, "error.invalidEmail"),
            (Refusal::Password(true), 400, "error.passwordInvalid"),
            (Refusal::NotFound, 404, "error.notFound"),
            (Refusal::UsernameTaken, 409, "error.accountTaken"),
            (Refusal::EmailTaken, 409, "error.accountTaken"),
        ];
        for (why, status, key) in table {
            let (s, k) = refusal_flash(why);
            assert_eq!((s.as_u16(), k), (status, key));
            assert!(crate::web::i18n::has(key), "{key}");
        }
    }
}
