//! The admin JSON API (spec §6.13, §6.14): stats, diagnostics, devices, keys, users and SMTP.
//! Every route needs an admin session (302 otherwise); mutations also need CSRF.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use serde::Serialize;
use serde_json::json;

use super::action::save_smtp;
use super::{admin, server_stats};
use crate::accounts::{create_user, hash_password, password_error, password_len_ok};
use crate::error::ApiError;
use crate::http::{is_get, json_response};
use crate::json::{DecodeError, Fields, FromJson};
use crate::mail::{self, SmtpSettings, Template};
use crate::ratelimit::Action;
use crate::routes::decode_body;
use crate::routes::health::readiness;
use crate::session;
use crate::state::AppState;
use crate::store::admin::{self as q, DeviceQuery, EditOutcome, UserQuery};
use crate::store::audit::AuditEntry;
use crate::store::{accounts, sessions};
use crate::useradd::{normalize_email, valid_username};
use crate::util::ids;
use crate::web::form::read_form;
use crate::web::html;
use crate::web::i18n::{self, Locale};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/api/stats", any(stats))
        .route("/admin/diagnostics.json", any(diagnostics))
        .route("/admin/api/devices", any(devices))
        .route("/admin/api/keys", any(keys))
        .route("/admin/api/keys/{id}", any(delete_key))
        .route("/admin/api/users", any(users))
        .route("/admin/api/users/{*rest}", any(user_action))
        .route("/admin/api/smtp/test", any(smtp_test))
        .route("/admin/api/smtp", any(smtp_save))
}

fn get_only(m: &Method) -> Result<(), ApiError> {
    if is_get(m) {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed {
            allow: "GET",
            post_required: false,
        })
    }
}

fn ok(v: &impl Serialize) -> Response {
    json_response(StatusCode::OK, v)
}

async fn stats(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    get_only(req.method())?;
    let (parts, _) = req.into_parts();
    admin(&st, &parts).await?;
    Ok(ok(&server_stats(&st).await?))
}

async fn diagnostics(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    get_only(req.method())?;
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
    let l = &st.config.limits;
    Ok(ok(&json!({
        "health": readiness(&st).await,
        "limits": {"max_blob_bytes": l.max_blob_bytes, "max_json_body": l.max_json_body,
                   "max_pull_page": l.max_pull_page, "max_push_operations": l.max_push_operations},
        "stats": server_stats(&st).await?,
        "web": {"default_locale": a.cx.web.default_locale, "registration_allowed": a.cx.web.allow_registration},
    })))
}

async fn devices(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    get_only(req.method())?;
    let (parts, _) = req.into_parts();
    admin(&st, &parts).await?;
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

async fn keys(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, _) = req.into_parts();
    admin(&st, &parts).await?;
    get_only(&parts.method)?;
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

async fn delete_key(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    if req.method() != Method::DELETE {
        return Err(ApiError::MethodNotAllowed {
            allow: "DELETE",
            post_required: false,
        });
    }
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
    session::check_csrf(&a.cx, &a.session, None)?;
    let id = parts
        .uri
        .path()
        .trim_start_matches("/admin/api/keys/")
        .to_owned();
    let i = id.clone();
    if st.db.write(move |c| q::delete_device(c, &i, false)).await? == Some(true) {
        st.audit(AuditEntry {
            event_type: "device_deleted",
            device_id: Some(id),
            ip: Some(a.cx.ip.to_string()),
            message: format!("device deleted via API by admin {}", a.session.subject),
            ..Default::default()
        })
        .await;
    }
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

async fn users(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    get_only(req.method())?;
    let (parts, _) = req.into_parts();
    let a = admin(&st, &parts).await?;
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
    let (page, per_page) = super::paging(qs, 20);
    let uq = UserQuery {
        q: super::filter(qs, "filter"),
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

async fn user_action(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let m = req.method().clone();
    if m != Method::POST && m != Method::DELETE {
        return Err(ApiError::MethodNotAllowed {
            allow: "POST, DELETE",
            post_required: false,
        });
    }
    let (parts, body) = req.into_parts();
    let a = admin(&st, &parts).await?;
    session::check_csrf(&a.cx, &a.session, None)?;
    let rest = parts
        .uri
        .path()
        .trim_start_matches("/admin/api/users/")
        .to_owned();
    let audit = |event: &'static str, user: Option<String>, msg: String| AuditEntry {
        event_type: event,
        user_id: user,
        ip: Some(a.cx.ip.to_string()),
        message: msg,
        ..Default::default()
    };
    let by = format!("by admin {}", a.session.subject);
    if m == Method::DELETE {
        let id = rest.clone();
        st.db.write(move |c| q::delete_user(c, &id)).await?;
        st.audit(audit(
            "user_deleted",
            None,
            format!("user {rest} deleted {by}"),
        ))
        .await;
        return Ok(ok(&json!({"status": "deleted"})));
    }
    if rest == "create" {
        let r: CreateReq = decode_body(&st, &parts.headers, body).await?;
        if r.0.is_empty() || r.1.is_empty() || r.2.is_empty() {
            return Err(ApiError::InvalidRequest(
                "username, email and password required",
            ));
        }
        let email = normalize_email(&r.1).ok_or(ApiError::InvalidRequest("invalid email"))?;
        if !valid_username(&r.0) {
            return Err(ApiError::InvalidRequest("invalid username"));
        }
        password_len_ok(&r.2).map_err(password_error)?;
        let msg = format!("user created via API {by}");
        let id = create_user(&st, &r.0, &email, &r.2, true, a.cx.loc, a.cx.ip, &msg).await?;
        return Ok(ok(&json!({"status": "ok", "user_id": id})));
    }
    let Some((id, verb)) = rest.split_once('/') else {
        return Err(ApiError::NotFound("unknown action"));
    };
    let id = id.to_owned();
    let not_found = ApiError::NotFound("user not found");
    match verb {
        "block" => {
            let i = id.clone();
            let b = st
                .db
                .write(move |c| q::toggle_block(c, &i))
                .await?
                .ok_or(not_found)?;
            let m = format!("user {} {by}", if b { "blocked" } else { "unblocked" });
            st.audit(audit("user_block_changed", Some(id), m)).await;
            Ok(ok(&json!({"blocked": b as i64, "status": "ok"})))
        }
        "reset-password" => {
            st.rate(Action::AdminReset, a.cx.ip, None).await?;
            let pw = ids::random_hex(12);
            let hash = hash_password(&pw).await?;
            let i = id.clone();
            let found = st
                .db
                .write(move |c| {
                    let ok = accounts::set_password(c, &i, &hash)?;
                    if ok {
                        sessions::delete_for_user(c, &i)?;
                    }
                    Ok(ok)
                })
                .await?;
            if !found {
                return Err(not_found);
            }
            st.audit(audit(
                "user_password_reset",
                Some(id),
                format!("password reset {by}"),
            ))
            .await;
            Ok(ok(&json!({"new_password": pw, "status": "ok"})))
        }
        "edit" => {
            struct Edit(String, String);
            impl FromJson for Edit {
                fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
                    Ok(Edit(f.string("username")?, f.string("email")?))
                }
            }
            let r: Edit = decode_body(&st, &parts.headers, body).await?;
            if r.0.is_empty() || r.1.is_empty() {
                return Err(ApiError::InvalidRequest("username and email required"));
            }
            if !valid_username(&r.0) {
                return Err(ApiError::InvalidRequest("invalid username"));
            }
            let email = normalize_email(&r.1).ok_or(ApiError::InvalidRequest("invalid email"))?;
            let i = id.clone();
            match st.db.write(move |c| q::edit(c, &i, &r.0, &email)).await? {
                EditOutcome::NotFound => Err(not_found),
                EditOutcome::UsernameTaken => Err(ApiError::UsernameTaken),
                EditOutcome::EmailTaken => Err(ApiError::EmailTaken),
                EditOutcome::Done => {
                    st.audit(audit(
                        "user_updated",
                        Some(id),
                        format!("user updated {by}"),
                    ))
                    .await;
                    Ok(ok(&json!({"status": "ok"})))
                }
            }
        }
        _ => Err(ApiError::NotFound("unknown action")),
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

async fn smtp_test(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    super::super::require_post(req.method(), false)?;
    let (parts, body) = req.into_parts();
    let a = admin(&st, &parts).await?;
    session::check_csrf(&a.cx, &a.session, None)?;
    let SmtpReq(s, to) = decode_body(&st, &parts.headers, body).await?;
    let loc = Locale::from_code(&a.cx.web.default_locale);
    if !s.configured() {
        return Ok(ok(
            &json!({"error": i18n::t(loc, "admin.smtpRequired"), "ok": false}),
        ));
    }
    let to = if to.trim().is_empty() {
        s.from.clone()
    } else {
        to
    };
    let (subject, text) = mail::compose(Template::Test, loc, &a.cx.web.server_name, "", "");
    match mail::send(s, to, subject, text).await {
        Ok(()) => Ok(ok(&json!({"ok": true}))),
        Err(e) => {
            tracing::warn!(error = %e, "admin SMTP test failed");
            Ok(ok(
                &json!({"error": i18n::t(loc, "admin.smtpTestFailed"), "ok": false}),
            ))
        }
    }
}

async fn smtp_save(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    super::super::require_post(req.method(), false)?;
    let (parts, body) = req.into_parts();
    let a = admin(&st, &parts).await?;
    let form = read_form(&st, &parts.headers, body)
        .await
        .map_err(|_| ApiError::InvalidRequest("bad form"))?;
    session::check_csrf(&a.cx, &a.session, Some(&form))?;
    save_smtp(&st, &form, true).await?;
    st.audit(AuditEntry {
        event_type: "smtp_settings_updated",
        ip: Some(a.cx.ip.to_string()),
        message: format!("SMTP settings saved via API by admin {}", a.session.subject),
        ..Default::default()
    })
    .await;
    Ok(a.cx.finish(html::redirect(StatusCode::FOUND, "/admin/dashboard")))
}
