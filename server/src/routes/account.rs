//! The account JSON API (spec §6.4): `POST /api/v1/auth/{register,confirm,login,forgot,reset}`.
//! Each handler runs its check table in order; the shared effects live in `crate::accounts`.
//! `GET /api/v1/auth/confirm` only shows a confirmation form, so prefetchers cannot use a link.

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header, request::Parts};
use axum::response::Response;
use serde_json::json;

use super::only;
use crate::accounts::{self, password_error, password_len_ok};
use crate::creds;
use crate::effects;
use crate::error::ApiError;
use crate::extract::{AppJson, ClientIp};
use crate::json::{DecodeError, Fields, FromJson};
use crate::ratelimit::Action;
use crate::reply::json_response;
use crate::session::{self, Kind};
use crate::state::AppState;
use crate::store::accounts::{self as acc_store, TokenOutcome};
use crate::store::users;
use crate::useradd::{INVALID_USERNAME, normalize_email, valid_username};
use crate::util::{ids, time};
use crate::web::ctx::WebCtx;
use crate::web::form::read_form;
use crate::web::html::{self, Nav, error_page};
use crate::web::i18n::Locale;
use crate::web::pages::{account, layout::Ui};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/register", only("POST").post(register))
        .route(
            "/api/v1/auth/confirm",
            only("GET, POST").get(confirm_page).post(confirm),
        )
        .route("/api/v1/auth/login", only("POST").post(login))
        .route("/api/v1/auth/forgot", only("POST").post(forgot))
        .route("/api/v1/auth/reset", only("POST").post(reset))
}

/// The mail locale of JSON flows: `Accept-Language`, then `web.default_locale`.
pub(crate) fn json_locale(st: &AppState, h: &HeaderMap) -> Locale {
    h.get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::from_accept_language)
        .unwrap_or_else(|| Locale::from_code(&st.web_settings().default_locale))
}

fn status(s: &str) -> Response {
    json_response(StatusCode::OK, &json!({ "status": s }))
}

struct Register {
    username: String,
    email: String,
    password: String,
}
impl FromJson for Register {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Register {
            username: f.string("username")?,
            email: f.string("email")?,
            password: f.string("password")?,
        })
    }
}

/// §6.4: a closed registration answers 403 before the body is read.
struct RegistrationOpen;

impl FromRequestParts<AppState> for RegistrationOpen {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        if crate::console_settings::registration_open(st).await {
            Ok(RegistrationOpen)
        } else {
            Err(ApiError::RegistrationDisabled)
        }
    }
}

async fn register(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    _: RegistrationOpen,
    AppJson(r): AppJson<Register>,
) -> Result<Response, ApiError> {
    if r.username.is_empty() || r.email.is_empty() || r.password.is_empty() {
        return Err(ApiError::InvalidRequest(
            "username, email and password required",
        ));
    }
    let email = normalize_email(&r.email).ok_or(ApiError::InvalidRequest("invalid email"))?;
    effects::rate_limit(&st, Action::Register, ip, Some(&email)).await?;
    if !valid_username(&r.username) {
        return Err(ApiError::InvalidRequest(INVALID_USERNAME));
    }
    password_len_ok(&r.password).map_err(password_error)?;
    let loc = json_locale(&st, &headers);
    accounts::create_user(
        &st,
        &r.username,
        Some(&email),
        &r.password,
        false,
        loc,
        ip,
        "",
    )
    .await?;
    Ok(status("confirmation_sent"))
}

struct Token {
    token: String,
}
impl FromJson for Token {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Token {
            token: f.string("token")?,
        })
    }
}

/// `POST`: a JSON body (`{"token"}`, JSON answers) or the confirmation page's form.
async fn confirm(
    State(st): State<AppState>,
    cx: WebCtx,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if is_json {
        let t: Token = AppJson::read(&st, &parts.headers, body).await?;
        if t.token.is_empty() {
            return Err(ApiError::InvalidRequest("token required"));
        }
        return match confirm_token(&st, &t.token).await? {
            TokenOutcome::Done(_) => Ok(status("confirmed")),
            TokenOutcome::Unknown => Err(ApiError::InvalidRequest("invalid or expired token")),
            TokenOutcome::Expired => Err(ApiError::InvalidRequest("token expired")),
        };
    }
    let form = read_form(&st, &parts.headers, body).await?;
    if !cx.public_csrf_ok(form.get("locale_csrf")) {
        return Ok(error_page(cx, StatusCode::FORBIDDEN, "error.csrf"));
    }
    let token = form.get("token");
    if token.is_empty() {
        return Ok(error_page(
            cx,
            StatusCode::BAD_REQUEST,
            "error.invalidToken",
        ));
    }
    Ok(match confirm_token(&st, token).await? {
        TokenOutcome::Done(_) => {
            cx.finish(html::redirect(StatusCode::SEE_OTHER, "/confirm/result"))
        }
        _ => error_page(cx, StatusCode::BAD_REQUEST, "error.invalidToken"),
    })
}

async fn confirm_token(st: &AppState, token: &str) -> Result<TokenOutcome, ApiError> {
    let th = ids::sha256_hex(token);
    let now = time::now_rfc3339();
    Ok(st
        .db
        .write(move |c| acc_store::confirm(c, &th, &now))
        .await?)
}

/// `GET`: a page whose button posts the token, so a link prefetcher confirms nothing.
async fn confirm_page(cx: WebCtx, uri: Uri) -> Response {
    let token = uri
        .query()
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    if token.is_empty() {
        return error_page(cx, StatusCode::BAD_REQUEST, "error.invalidToken");
    }
    let p = account::confirm(&Ui::new(&cx, Nav::Guest, "confirm.title"), &token);
    cx.finish(html::no_store(html::html(StatusCode::OK, p)))
}

struct Login {
    username: String,
    password: String,
}
impl FromJson for Login {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Login {
            username: f.string("username")?,
            password: f.string("password")?,
        })
    }
}

async fn login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(r): AppJson<Login>,
) -> Result<Response, ApiError> {
    if r.username.is_empty() || r.password.is_empty() {
        return Err(ApiError::InvalidRequest("username and password required"));
    }
    effects::rate_limit_login(&st, Action::Login, ip, &r.username).await?;
    if r.password.len() > verstak_sync_proto::limits::fixed::PASSWORD_MAX {
        return Err(ApiError::PasswordTooLong);
    }
    let user = creds::verify(&st, &r.username, &r.password)
        .await?
        .map_err(|f| f.api_error())?;
    let (uid, now) = (user.id.clone(), time::now_rfc3339());
    st.db.write(move |c| users::touch(c, &uid, &now)).await?;
    let (token, _csrf) = session::create(&st, Kind::User, &user.id).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "token": token, "user_id": user.id }),
    ))
}

struct Forgot {
    email: String,
}
impl FromJson for Forgot {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Forgot {
            email: f.string("email")?,
        })
    }
}

async fn forgot(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AppJson(r): AppJson<Forgot>,
) -> Result<Response, ApiError> {
    if r.email.is_empty() {
        return Err(ApiError::InvalidRequest("email required"));
    }
    effects::rate_limit(&st, Action::Forgot, ip, Some(&r.email)).await?;
    accounts::forgot(&st, &r.email, json_locale(&st, &headers));
    Ok(status("if email exists, reset link sent"))
}

struct Reset {
    token: String,
    new_password: String,
}
impl FromJson for Reset {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(Reset {
            token: f.string("token")?,
            new_password: f.string("new_password")?,
        })
    }
}

async fn reset(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(r): AppJson<Reset>,
) -> Result<Response, ApiError> {
    if r.token.is_empty() || r.new_password.is_empty() {
        return Err(ApiError::InvalidRequest("token and new_password required"));
    }
    effects::rate_limit(&st, Action::Reset, ip, None).await?;
    password_len_ok(&r.new_password).map_err(password_error)?;
    match accounts::reset(&st, &r.token, &r.new_password, ip).await? {
        TokenOutcome::Done(_) => Ok(status("password reset")),
        TokenOutcome::Unknown => Err(ApiError::InvalidRequest("invalid or expired token")),
        TokenOutcome::Expired => Err(ApiError::InvalidRequest("token expired")),
    }
}
