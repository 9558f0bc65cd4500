//! The admin JSON API (spec §6.13, §6.14): stats, diagnostics, devices, keys, users and SMTP.
//! Every route needs an admin session (302 otherwise); mutations also need CSRF. The
//! mutations are the JSON adapter over `ops`: extract, call one operation, map its outcome.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::any;
use serde::Serialize;
use serde_json::json;

use super::ops::{self, Actor, Refusal, Via, server_stats};
use super::query::{filter, paging};
use crate::accounts::password_error;
use crate::effects;
use crate::error::ApiError;
use crate::extract::{AdminSession as Admin, AppJson, Csrf, CsrfForm};
use crate::json::{DecodeError, Fields, FromJson};
use crate::mail::SmtpSettings;
use crate::ratelimit::Action;
use crate::reply::json_response;
use crate::routes::health::readiness;
use crate::routes::{not_allowed, only};
use crate::state::AppState;
use crate::store::admin::{self as q, DeviceQuery, UserQuery};
use crate::useradd::INVALID_USERNAME;
use crate::web::html;
use crate::web::i18n::{self, Locale};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/api/stats", only("GET").get(stats))
        .route("/admin/diagnostics.json", only("GET").get(diagnostics))
        .route("/admin/api/devices", only("GET").get(devices))
        // This route checks the session before the method.
        .route(
            "/admin/api/keys",
            any(|_: Admin| async { not_allowed("GET") }).get(keys),
        )
        .route("/admin/api/keys/{id}", only("DELETE").delete(delete_key))
        .route("/admin/api/users", only("GET").get(users))
        .route(
            "/admin/api/users/{*rest}",
            only("POST, DELETE").post(user_post).delete(user_delete),
        )
        .route("/admin/api/smtp/test", only("POST").post(smtp_test))
        .route("/admin/api/smtp", only("POST").post(smtp_save))
}

fn ok(v: &impl Serialize) -> Response {
    json_response(StatusCode::OK, v)
}

async fn stats(State(st): State<AppState>, _: Admin) -> Result<Response, ApiError> {
    Ok(ok(&server_stats(&st).await?))
}

async fn diagnostics(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let l = &st.config.limits;
    Ok(ok(&json!({
        "health": readiness(&st).await,
        "limits": {"max_blob_bytes": l.max_blob_bytes, "max_json_body": l.max_json_body,
                   "max_pull_page": l.max_pull_page, "max_push_operations": l.max_push_operations},
        "stats": server_stats(&st).await?,
        "web": {"default_locale": a.cx.web.default_locale, "registration_allowed": a.cx.web.allow_registration},
    })))
}

async fn devices(State(st): State<AppState>, _: Admin) -> Result<Response, ApiError> {
    let dq = DeviceQuery {
        order: "d.created_at DESC, d.rowid DESC",
        ..Default::default()
    };
    let rows = st.db.read(move |c| q::devices(c, &dq)).await?;
    let out: Vec<_> = rows
        .into_iter()
        .map(|d| json!({"id": d.id, "name": d.name, "client_version": d.client_version, "last_seen": d.last_seen,
                        "revoked_at": d.revoked_at, "created_at": d.created_at, "user": d.username}))
        .collect();
    Ok(ok(&(!out.is_empty()).then_some(out)))
}

async fn keys(State(st): State<AppState>, _: Admin) -> Result<Response, ApiError> {
    let dq = DeviceQuery {
        order: "d.created_at ASC, d.rowid ASC",
        ..Default::default()
    };
    let rows = st.db.read(move |c| q::devices(c, &dq)).await?;
    let out: Vec<_> = rows
        .into_iter()
        .map(|d| json!({"id": d.id, "name": d.name, "token_hint": d.token_hint()}))
        .collect();
    Ok(ok(&(!out.is_empty()).then_some(out)))
}

async fn delete_key(
    State(st): State<AppState>,
    a: Admin,
    _: Csrf,
    uri: Uri,
) -> Result<Response, ApiError> {
    let id = uri.path().trim_start_matches("/admin/api/keys/");
    ops::delete_device(&st, &Actor::of(&a), Via::Api, id).await?;
    Ok(ok(&json!({"status": "deleted"})))
}

#[derive(Serialize)]
struct UserJson {
    id: String,
    username: String,
    email: String,
    confirmed: i64,
    blocked: i64,
    last_seen: String,
    created_at: String,
    devices: i64,
}

async fn users(State(st): State<AppState>, a: Admin) -> Result<Response, ApiError> {
    let qs = &a.query;
    let asc = qs.get("order") == "asc";
    let col = match qs.get("sort") {
        "username" => Some("u.username"),
        "email" => Some("u.email"),
        "confirmed" => Some("u.confirmed"),
        "blocked" => Some("u.blocked"),
        "created_at" => Some("u.created_at"),
        "last_seen" => Some("COALESCE(u.last_seen, '')"),
        "devices" => Some("devices"),
        _ => None,
    };
    let order = match (col, asc) {
        (None, _) => "u.created_at DESC, u.rowid DESC".to_owned(),
        (Some(c), true) => format!("{c} ASC, u.rowid ASC"),
        (Some(c), false) => format!("{c} DESC, u.rowid DESC"),
    };
    let (page, per_page) = paging(qs, 20);
    let uq = UserQuery {
        q: filter(qs, "filter"),
        username_only: true,
        order,
        page,
        per_page,
        ..Default::default()
    };
    let (total, rows) = st.db.read(move |c| q::users(c, &uq)).await?;
    let list: Vec<UserJson> = rows
        .into_iter()
        .map(|u| UserJson {
            id: u.id,
            username: u.username,
            email: u.email,
            confirmed: u.confirmed as i64,
            blocked: u.blocked as i64,
            last_seen: u.last_seen,
            created_at: u.created_at,
            devices: u.devices,
        })
        .collect();
    Ok(ok(
        &json!({"page": page, "per_page": per_page, "total": total,
                  "users": (!list.is_empty()).then_some(list)}),
    ))
}

struct CreateReq(String, String, String);
impl FromJson for CreateReq {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(CreateReq(
            f.string("username")?,
            f.string("email")?,
            f.string("password")?,
        ))
    }
}

struct EditReq(String, String);
impl FromJson for EditReq {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(EditReq(f.string("username")?, f.string("email")?))
    }
}

/// The rest of the path after `/admin/api/users/`.
fn user_path(uri: &Uri) -> &str {
    uri.path().trim_start_matches("/admin/api/users/")
}

/// `DELETE /admin/api/users/{id}`.
async fn user_delete(
    State(st): State<AppState>,
    a: Admin,
    _: Csrf,
    uri: Uri,
) -> Result<Response, ApiError> {
    ops::delete_user(&st, &Actor::of(&a), user_path(&uri)).await?;
    Ok(ok(&json!({"status": "deleted"})))
}

/// `POST /admin/api/users/create` and `POST /admin/api/users/{id}/{block,reset-password,edit}`.
async fn user_post(
    State(st): State<AppState>,
    a: Admin,
    _: Csrf,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let actor = Actor::of(&a);
    let rest = user_path(&uri);
    if rest == "create" {
        let CreateReq(username, email, password) = AppJson::read(&st, &headers, body).await?;
        let created = ops::create_user(
            &st,
            &actor,
            Via::Api,
            a.cx.loc,
            &username,
            &email,
            &password,
        )
        .await?;
        let id =
            created.map_err(|why| invalid_error(why, "username, email and password required"))?;
        return Ok(ok(&json!({"status": "ok", "user_id": id})));
    }
    let Some((id, verb)) = rest.split_once('/') else {
        return Err(ApiError::NotFound("unknown action"));
    };
    match verb {
        "block" => {
            let blocked = ops::toggle_block(&st, &actor, id)
                .await?
                .ok_or(ApiError::NotFound("user not found"))?;
            Ok(ok(&json!({"blocked": blocked as i64, "status": "ok"})))
        }
        "reset-password" => {
            effects::rate_limit(&st, Action::AdminReset, a.cx.ip, None).await?;
            let pw = ops::reset_password(&st, &actor, id, 12)
                .await?
                .ok_or(ApiError::NotFound("user not found"))?;
            Ok(ok(&json!({"new_password": pw, "status": "ok"})))
        }
        "edit" => {
            let EditReq(username, email) = AppJson::read(&st, &headers, body).await?;
            ops::edit_user(&st, &actor, Via::Api, id, &username, &email)
                .await?
                .map_err(|why| invalid_error(why, "username and email required"))?;
            Ok(ok(&json!({"status": "ok"})))
        }
        _ => Err(ApiError::NotFound("unknown action")),
    }
}

/// The JSON answer to a refused input; `missing` is the route's "required" message.
fn invalid_error(why: Refusal, missing: &'static str) -> ApiError {
    match why {
        Refusal::Missing => ApiError::InvalidRequest(missing),
        Refusal::InvalidEmail => ApiError::InvalidRequest("invalid email"),
        Refusal::InvalidUsername => ApiError::InvalidRequest(INVALID_USERNAME),
        Refusal::Password(too_long) => password_error(too_long),
        Refusal::UsernameTaken => ApiError::UsernameTaken,
        Refusal::EmailTaken => ApiError::EmailTaken,
        Refusal::NotFound => ApiError::NotFound("user not found"),
    }
}

struct SmtpReq(SmtpSettings, String);
impl FromJson for SmtpReq {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(SmtpReq(
            SmtpSettings {
                host: f.string("smtp_host")?,
                port: f.string("smtp_port")?,
                user: f.string("smtp_user")?,
                pass: f.string("smtp_pass")?,
                security: f.string("smtp_security")?,
                from: f.string("smtp_from")?,
                server_url: String::new(),
            },
            f.string("test_to")?,
        ))
    }
}

async fn smtp_test(
    a: Admin,
    _: Csrf,
    AppJson(SmtpReq(s, to)): AppJson<SmtpReq>,
) -> Result<Response, ApiError> {
    let loc = Locale::from_code(&a.cx.web.default_locale);
    match ops::smtp_test(s, to, loc, &a.cx.web.server_name).await {
        Ok(()) => Ok(ok(&json!({"ok": true}))),
        Err(ops::SmtpTestError::NotConfigured) => Ok(ok(
            &json!({"error": i18n::t(loc, "admin.smtpRequired"), "ok": false}),
        )),
        Err(ops::SmtpTestError::Send(e)) => {
            tracing::warn!(error = %e, "admin SMTP test failed");
            Ok(ok(
                &json!({"error": i18n::t(loc, "admin.smtpTestFailed"), "ok": false}),
            ))
        }
    }
}

/// A form post (the console's SMTP card without JavaScript); an unreadable form is `bad form`.
async fn smtp_save(
    State(st): State<AppState>,
    a: Admin,
    form: Result<CsrfForm, ApiError>,
) -> Result<Response, ApiError> {
    let CsrfForm(form) = form.map_err(|e| match e {
        ApiError::InvalidRequest(_) => ApiError::InvalidRequest("bad form"),
        e => e,
    })?;
    ops::save_smtp(&st, &Actor::of(&a), Via::Api, &form).await?;
    Ok(a.cx.finish(html::redirect(StatusCode::FOUND, "/admin/dashboard")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_the_spec_errors() {
        let table = [
            (
                Refusal::Missing,
                400,
                "invalid_request",
                "username and email required",
            ),
            (
                Refusal::InvalidEmail,
                400,
                "invalid_request",
                "invalid email",
            ),
            (
                Refusal::InvalidUsername,
                400,
                "invalid_request",
                INVALID_USERNAME,
            ),
            (
                Refusal::Password(true),
                400,
                "password_too_long",
                "PASSWORD_TOO_LONG",
            ),
            (
                Refusal::Password(false),
                400,
                "invalid_request",
                "PASSWORD_TOO_SHORT",
            ),
            (
                Refusal::UsernameTaken,
                409,
                "username_taken",
                "username already taken",
            ),
            (
                Refusal::EmailTaken,
                409,
                "email_taken",
                "email already taken",
            ),
            (Refusal::NotFound, 404, "not_found", "user not found"),
        ];
        for (why, status, code, msg) in table {
            let e = invalid_error(why, "username and email required");
            assert_eq!(
                (e.status().as_u16(), e.code(), e.to_string().as_str()),
                (status, code, msg)
            );
        }
    }
}
