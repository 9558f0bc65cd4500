//! `POST /admin/action` (spec §6.12): the console's form actions, with re-authentication
//! where the table asks for it, plus the one-time password result page and its secret.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::any;
use serde_json::json;
use std::time::{Duration, Instant};

use super::pages::admin_page_status;
use super::{Admin, admin};
use crate::creds::verify_admin;
use crate::error::ApiError;
use crate::http::json_response;
use crate::mail::{self, Template};
use crate::routes::pages::allow;
use crate::session;
use crate::state::AppState;
use crate::store::admin::{self as q, EditOutcome};
use crate::store::audit::AuditEntry;
use crate::store::{accounts, devices, smtp};
use crate::useradd::{normalize_email, valid_username};
use crate::util::{ids, time};
use crate::web::form::{Form, read_form};
use crate::web::html;
use crate::web::i18n::Locale;
use crate::web::pages::admin as view;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/action", any(action))
        .route("/admin/password-result", any(password_result))
        .route("/admin/password-result/secret", any(secret))
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

async fn audit(
    st: &AppState,
    a: &Admin,
    event: &'static str,
    user: Option<&str>,
    device: Option<&str>,
    msg: String,
) {
    st.audit(AuditEntry {
        event_type: event,
        user_id: user.map(str::to_owned),
        device_id: device.map(str::to_owned),
        ip: Some(a.cx.ip.to_string()),
        message: msg,
    })
    .await;
}

async fn action(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    allow(req.method(), "POST")?;
    let (parts, body) = req.into_parts();
    let a = admin(&st, &parts).await?;
    let f = read_form(&st, &parts.headers, body).await?;
    session::check_csrf(&a.cx, &a.session, Some(&f))?;
    let act = f.get("action").to_owned();
    let needs_reauth = REAUTH.contains(&act.as_str()) || act == "cleanup";
    if needs_reauth && !verify_admin(&st, &a.session.subject, f.get("password")).await? {
        return Ok(fail(a, StatusCode::FORBIDDEN, "error.invalidCredentials"));
    }
    let id = f.get("id").to_owned();
    let by = format!("by admin {}", a.session.subject);
    match act.as_str() {
        "web-settings" => web_settings(&st, a, &f).await,
        "toggle-user" => {
            let i = id.clone();
            match st.db.write(move |c| q::toggle_block(c, &i)).await? {
                None => Ok(fail(a, StatusCode::NOT_FOUND, "error.notFound")),
                Some(b) => {
                    let m = format!("user {} {by}", if b { "blocked" } else { "unblocked" });
                    audit(&st, &a, "user_block_changed", Some(&id), None, m).await;
                    Ok(see(a, "/admin/users"))
                }
            }
        }
        "edit-user" => {
            let (u, e) = (
                f.get("username").trim().to_owned(),
                f.get("email").trim().to_owned(),
            );
            if id.is_empty() || u.is_empty() || e.is_empty() {
                return Ok(fail(a, StatusCode::BAD_REQUEST, "error.allFieldsRequired"));
            }
            if !valid_username(&u) {
                return Ok(fail(a, StatusCode::BAD_REQUEST, "error.invalidUsername"));
            }
            let Some(e) = normalize_email(&e) else {
                return Ok(fail(a, StatusCode::BAD_REQUEST, "error.invalidEmail"));
            };
            let i = id.clone();
            match st.db.write(move |c| q::edit(c, &i, &u, &e)).await? {
                EditOutcome::NotFound => Ok(fail(a, StatusCode::NOT_FOUND, "error.notFound")),
                EditOutcome::UsernameTaken | EditOutcome::EmailTaken => {
                    Ok(fail(a, StatusCode::CONFLICT, "error.accountTaken"))
                }
                EditOutcome::Done => {
                    audit(
                        &st,
                        &a,
                        "user_updated",
                        Some(&id),
                        None,
                        format!("user updated {by}"),
                    )
                    .await;
                    Ok(see(a, "/admin/users"))
                }
            }
        }
        "confirm-user" => {
            let i = id.clone();
            if !st.db.write(move |c| q::confirm(c, &i)).await? {
                return Ok(fail(a, StatusCode::NOT_FOUND, "error.notFound"));
            }
            audit(
                &st,
                &a,
                "user_confirmed",
                Some(&id),
                None,
                format!("user confirmed {by}"),
            )
            .await;
            Ok(see(a, "/admin/users"))
        }
        "reset-user-password" => {
            let pw = ids::random_hex(16);
            let hash = crate::accounts::hash_password(&pw).await?;
            let i = id.clone();
            let found = st
                .db
                .write(move |c| {
                    let ok = accounts::set_password(c, &i, &hash)?;
                    if ok {
                        crate::store::sessions::delete_for_user(c, &i)?;
                    }
                    Ok(ok)
                })
                .await?;
            if !found {
                return Ok(fail(a, StatusCode::NOT_FOUND, "error.notFound"));
            }
            audit(
                &st,
                &a,
                "user_password_reset",
                Some(&id),
                None,
                format!("password reset {by}"),
            )
            .await;
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
            let i = id.clone();
            st.db.write(move |c| q::delete_user(c, &i)).await?;
            audit(
                &st,
                &a,
                "user_deleted",
                None,
                None,
                format!("user {id} deleted {by}"),
            )
            .await;
            Ok(see(a, "/admin/users"))
        }
        "revoke-device" => {
            let (i, now) = (id.clone(), time::now_rfc3339());
            st.db.write(move |c| devices::revoke(c, &i, &now)).await?;
            audit(
                &st,
                &a,
                "device_revoked",
                None,
                Some(&id),
                "device revoked by admin".into(),
            )
            .await;
            Ok(see(a, "/admin/devices"))
        }
        "delete-device" => {
            let i = id.clone();
            match st.db.write(move |c| q::delete_device(c, &i, true)).await? {
                None => Ok(fail(a, StatusCode::NOT_FOUND, "error.notFound")),
                Some(false) => Ok(fail(a, StatusCode::CONFLICT, "error.deviceMustBeRevoked")),
                Some(true) => {
                    audit(
                        &st,
                        &a,
                        "device_deleted",
                        None,
                        Some(&id),
                        format!("device deleted {by}"),
                    )
                    .await;
                    Ok(see(a, "/admin/devices"))
                }
            }
        }
        "smtp" => {
            save_smtp(&st, &f, false).await?;
            audit(
                &st,
                &a,
                "smtp_settings_updated",
                None,
                None,
                format!("SMTP settings saved {by}"),
            )
            .await;
            Ok(see(a, "/admin/settings?flash=smtp_saved"))
        }
        "smtp-test" => {
            let s = mail::settings(&st).await?;
            let to = if f.get("test_to").trim().is_empty() {
                s.from.clone()
            } else {
                f.get("test_to").trim().to_owned()
            };
            let (subject, body) =
                mail::compose(Template::Test, a.cx.loc, &a.cx.web.server_name, "", "");
            let ok = s.configured() && mail::send(s, to, subject, body).await.is_ok();
            let (event, flash_v) = if ok {
                ("smtp_test_passed", "smtp_test_passed")
            } else {
                ("smtp_test_failed", "smtp_test_failed")
            };
            audit(&st, &a, event, None, None, format!("SMTP test {by}")).await;
            Ok(see(a, &format!("/admin/settings?flash={flash_v}")))
        }
        "cleanup" => {
            crate::server::run_retention(&st)
                .await
                .map_err(ApiError::internal)?;
            audit(
                &st,
                &a,
                "retention_cleanup",
                None,
                None,
                format!("cleanup {by}"),
            )
            .await;
            Ok(see(a, "/admin/storage?flash=cleanup_done"))
        }
        _ => Ok(fail(a, StatusCode::BAD_REQUEST, "error.unknownAction")),
    }
}

/// Saves the SMTP fields. `only_non_empty` is the `/admin/api/smtp` rule; otherwise every
/// field but `smtp_pass` is always written and `smtp_pass` only when non-empty.
pub(crate) async fn save_smtp(
    st: &AppState,
    f: &Form,
    only_non_empty: bool,
) -> Result<(), ApiError> {
    let pairs: Vec<(String, String)> = smtp::KEYS
        .iter()
        .map(|k| (k.to_string(), f.get(k).trim().to_owned()))
        .filter(|(k, v)| !(v.is_empty() && (only_non_empty || k == "smtp_pass")))
        .collect();
    st.db
        .write(move |c| {
            for (k, v) in &pairs {
                smtp::set(c, k, v)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

async fn web_settings(st: &AppState, a: Admin, f: &Form) -> Result<Response, ApiError> {
    let locale = Locale::from_code(f.get("default_locale")).code().to_owned();
    let raw_url = f.get("public_url").trim();
    let Ok(public_url) = crate::config::normalize_public_url(raw_url) else {
        return Ok(fail(a, StatusCode::BAD_REQUEST, "error.invalidPublicURL"));
    };
    let allow_reg = f.get("allow_registration") == "on";
    let name = f.get("server_name").trim().to_owned();
    let shown_name = if name.is_empty() {
        crate::config::DEFAULT_SERVER_NAME.to_owned()
    } else {
        name.clone()
    };
    if let Ok(mut file) = st.config_file.lock()
        && let Some(file) = file.as_mut()
    {
        file.set_web(&locale, allow_reg, &name, &public_url)
            .map_err(ApiError::internal)?;
    }
    if let Ok(mut w) = st.web.write() {
        w.default_locale = locale;
        w.allow_registration = allow_reg;
        w.server_name = shown_name;
        w.public_url = public_url;
    }
    audit(
        st,
        &a,
        "web_settings_updated",
        None,
        None,
        format!("web settings saved by admin {}", a.session.subject),
    )
    .await;
    Ok(see(a, "/admin/settings?flash=settings_saved"))
}

async fn password_result(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    allow(req.method(), "GET")?;
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
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
    Ok(r)
}

async fn secret(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    if req.method() != Method::POST {
        return Err(ApiError::MethodNotAllowed {
            allow: "POST",
            post_required: false,
        });
    }
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
    session::check_csrf(&a.cx, &a.session, None)?;
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
