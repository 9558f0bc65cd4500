//! Account flows shared by the JSON API (§6.4) and the web forms (§6.10): registration,
//! forgot-password and token reset. Handlers do their own decoding, field and rate checks in
//! spec order, then call these. bcrypt runs on the blocking pool.

use std::net::IpAddr;
use verstak_sync_proto::limits::fixed;

use crate::effects;
use crate::error::ApiError;
use crate::mail::{self, Template};
use crate::state::AppState;
use crate::store::accounts::{self, Purpose, TokenOutcome, UserInfo};
use crate::store::audit::AuditEntry;
use crate::store::users::{self, CreateUser};
use crate::util::{ids, time};
use crate::web::i18n::Locale;

const CONFIRM_SECS: i64 = 48 * 3600;
const RESET_SECS: i64 = 3600;

/// Password length per §6.1: `Err(true)` too long, `Err(false)` too short.
pub(crate) fn password_len_ok(pw: &str) -> Result<(), bool> {
    if pw.len() > fixed::PASSWORD_MAX {
        Err(true)
    } else if pw.len() < fixed::PASSWORD_MIN {
        Err(false)
    } else {
        Ok(())
    }
}

/// The JSON form of a password length failure.
pub(crate) fn password_error(too_long: bool) -> ApiError {
    if too_long {
        ApiError::PasswordTooLong
    } else {
        ApiError::InvalidRequest("PASSWORD_TOO_SHORT")
    }
}

/// bcrypt cost 10 on the blocking pool. The caller has checked the 72-byte rule.
pub(crate) async fn hash_password(pw: &str) -> Result<String, ApiError> {
    let pw = pw.to_owned();
    tokio::task::spawn_blocking(move || bcrypt::hash(pw, 10))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Inserts a user. With `confirmed = false` it also issues a 48 h confirm token, sends the
/// confirmation mail in the background and audits `user_registered`; otherwise audits
/// `user_created` with `message`. `email` is `None` only for an account an admin creates
/// without an address. Returns the user id.
#[allow(clippy::too_many_arguments)] // one call per entry point; a struct would only rename them
pub(crate) async fn create_user(
    st: &AppState,
    username: &str,
    email: Option<&str>,
    password: &str,
    confirmed: bool,
    loc: Locale,
    ip: IpAddr,
    message: &str,
) -> Result<String, ApiError> {
    let hash = hash_password(password).await?;
    let id = ids::new_user_id();
    let token = ids::random_hex(24);
    let (uid, un, em, th) = (
        id.clone(),
        username.to_owned(),
        email.map(str::to_owned),
        ids::sha256_hex(&token),
    );
    let now_s = time::unix_now();
    let created = st
        .db
        .write(move |c| {
            let now = time::format_unix(now_s);
            let r = users::create(c, &uid, &un, em.as_deref(), &hash, confirmed, &now)?;
            if r == CreateUser::Created && !confirmed {
                let exp = time::format_unix(now_s + CONFIRM_SECS);
                accounts::issue_token(c, &th, &uid, Purpose::Confirm, &exp, &now)?;
            }
            Ok(r)
        })
        .await?;
    match created {
        CreateUser::UsernameTaken => return Err(ApiError::UsernameTaken),
        CreateUser::EmailTaken => return Err(ApiError::EmailTaken),
        CreateUser::Created => {}
    }
    let (event, msg) = if confirmed {
        ("user_created", message.to_owned())
    } else {
        ("user_registered", "user registered".to_owned())
    };
    effects::audit(
        st,
        AuditEntry {
            event_type: event,
            user_id: Some(id.clone()),
            ip: Some(ip.to_string()),
            message: msg,
            ..Default::default()
        },
    )
    .await;
    if let (false, Some(email)) = (confirmed, email) {
        let user = UserInfo {
            id: id.clone(),
            username: username.to_owned(),
            email: email.to_owned(),
        };
        mail::send_link_mail(st, Template::Confirm, loc, user, token);
    }
    Ok(id)
}

/// What a forgot request found.
enum Forgot {
    Mail(UserInfo),
    /// The text names an account that has no email address: nothing can be sent.
    NoAddress,
    Nothing,
}

/// Forgot password: everything happens in the background, so neither the response nor its
/// timing depends on whether the account exists. An account without an email (schema 4)
/// gets no mail; the pages say that such accounts ask an administrator, and the log says
/// when someone tried one.
pub(crate) fn forgot(st: &AppState, email: &str, loc: Locale) {
    let st = st.clone();
    let typed = email.trim().to_owned();
    let email = typed.to_lowercase();
    tokio::spawn(async move {
        let token = ids::random_hex(24);
        let th = ids::sha256_hex(&token);
        let now_s = time::unix_now();
        let found = st
            .db
            .write(move |c| {
                let Some(u) = accounts::by_email(c, &email)? else {
                    return Ok(if accounts::is_without_email(c, &typed)? {
                        Forgot::NoAddress
                    } else {
                        Forgot::Nothing
                    });
                };
                let (now, exp) = (
                    time::format_unix(now_s),
                    time::format_unix(now_s + RESET_SECS),
                );
                accounts::issue_token(c, &th, &u.id, Purpose::Reset, &exp, &now)?;
                Ok(Forgot::Mail(u))
            })
            .await;
        match found {
            Ok(Forgot::Mail(u)) => mail::send_link_mail(&st, Template::Reset, loc, u, token),
            Ok(Forgot::NoAddress) => tracing::info!(
                "forgot: the account has no email address; no reset mail sent (an admin can reset its password)"
            ),
            Ok(Forgot::Nothing) => {}
            Err(e) => tracing::error!(error = %e, "forgot: issuing the reset token failed"),
        }
    });
}

/// §6.4.5 steps 5 and 6 and their effects; the caller checked fields, rate and length.
pub(crate) async fn reset(
    st: &AppState,
    token: &str,
    new_password: &str,
    ip: IpAddr,
) -> Result<TokenOutcome, ApiError> {
    let th = ids::sha256_hex(token);
    let th2 = th.clone();
    let now = time::now_rfc3339();
    let state = st
        .db
        .read(move |c| accounts::token_state(c, &th2, Purpose::Reset, &now))
        .await?;
    if !matches!(state, TokenOutcome::Done(_)) {
        return Ok(state);
    }
    let hash = hash_password(new_password).await?;
    let now = time::now_rfc3339();
    let out = st
        .db
        .write(move |c| accounts::reset_password(c, &th, &hash, &now))
        .await?;
    if let TokenOutcome::Done(uid) = &out {
        effects::audit(
            st,
            AuditEntry {
                event_type: "password_reset_completed",
                user_id: Some(uid.clone()),
                ip: Some(ip.to_string()),
                message: "password reset with emailed token".into(),
                ..Default::default()
            },
        )
        .await;
    }
    Ok(out)
}
