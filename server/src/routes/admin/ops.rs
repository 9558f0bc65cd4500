//! The admin operations (spec §6.12, §6.13): one function per operation, each doing its
//! validation, its one writer job and its audit row. The console's `POST /admin/action`
//! (`action.rs`, answers with redirects and flash pages) and the JSON API (`api.rs`, answers
//! with JSON) are thin adapters: they extract, call the operation, and map its outcome.
//!
//! [`server_stats`] is the one read both adapters share (the dashboard and `/admin/api/stats`).
//!
//! Outcomes a client can cause are values ([`Refusal`], `Option` for "not found"); only
//! internal failures are `Err(ApiError)`.

use std::net::IpAddr;

use crate::accounts::{self, password_len_ok};
use crate::console_settings::{self, Section, WebValues};
use crate::effects;
use crate::error::ApiError;
use crate::events::CloseReason;
use crate::extract::AdminSession as Admin;
use crate::mail::{self, MailError, SmtpSettings, Template};
use crate::state::AppState;
use crate::store::admin::{self as q, EditOutcome};
use crate::store::audit::AuditEntry;
use crate::store::stats::{self, ServerStats};
use crate::store::{devices, sessions, smtp, users};
use crate::useradd::{normalize_email, valid_username};
use crate::util::{ids, time};
use crate::web::form::Form;
use crate::web::i18n::Locale;

/// Who runs an operation, for the audit rows.
pub(crate) struct Actor {
    /// The admin's username.
    pub name: String,
    pub ip: IpAddr,
}

impl Actor {
    pub(crate) fn of(a: &Admin) -> Actor {
        Actor {
            name: a.session.subject.clone(),
            ip: a.cx.ip,
        }
    }

    fn by(&self) -> String {
        format!("by admin {}", self.name)
    }

    pub(crate) async fn audit(
        &self,
        st: &AppState,
        event: &'static str,
        user: Option<&str>,
        device: Option<&str>,
        message: String,
    ) {
        let entry = AuditEntry {
            event_type: event,
            user_id: user.map(str::to_owned),
            device_id: device.map(str::to_owned),
            ip: Some(self.ip.to_string()),
            message,
        };
        effects::audit(st, entry).await;
    }
}

/// Which adapter runs an operation where the audit text or a rule differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Console,
    Api,
}

impl Via {
    /// The JSON API keeps §6.13's required email; the console may leave it empty for an
    /// account without an address (schema 4).
    fn email_required(self) -> bool {
        self == Via::Api
    }

    /// `"via API "` for the JSON API: "device deleted via API by admin …".
    fn tag(self) -> &'static str {
        match self {
            Via::Console => "",
            Via::Api => "via API ",
        }
    }
}

/// Why an operation refused its input, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A required field is empty.
    Missing,
    InvalidEmail,
    InvalidUsername,
    /// The password is too long (`true`) or too short (`false`).
    Password(bool),
    UsernameTaken,
    EmailTaken,
    NotFound,
}

/// An email as typed: `Ok(None)` when empty and the adapter allows none, the normalised
/// address, or the refusal.
fn optional_email(via: Via, email: &str) -> Result<Option<String>, Refusal> {
    if email.is_empty() {
        return if via.email_required() {
            Err(Refusal::Missing)
        } else {
            Ok(None)
        };
    }
    normalize_email(email)
        .map(Some)
        .ok_or(Refusal::InvalidEmail)
}

/// Creates a confirmed user: fields, email, username, password length, then the insert.
pub(crate) async fn create_user(
    st: &AppState,
    actor: &Actor,
    via: Via,
    loc: Locale,
    username: &str,
    email: &str,
    password: &str,
) -> Result<Result<String, Refusal>, ApiError> {
    if username.is_empty() || password.is_empty() {
        return Ok(Err(Refusal::Missing));
    }
    let email = match optional_email(via, email) {
        Ok(e) => e,
        Err(why) => return Ok(Err(why)),
    };
    if !valid_username(username) {
        return Ok(Err(Refusal::InvalidUsername));
    }
    if let Err(too_long) = password_len_ok(password) {
        return Ok(Err(Refusal::Password(too_long)));
    }
    let msg = format!("user created {}{}", via.tag(), actor.by());
    match accounts::create_user(
        st,
        username,
        email.as_deref(),
        password,
        true,
        loc,
        actor.ip,
        &msg,
    )
    .await
    {
        Ok(id) => Ok(Ok(id)),
        Err(ApiError::UsernameTaken) => Ok(Err(Refusal::UsernameTaken)),
        Err(ApiError::EmailTaken) => Ok(Err(Refusal::EmailTaken)),
        Err(e) => Err(e),
    }
}

/// Blocks or unblocks a user; the new state, or `None` when there is no such user.
pub(crate) async fn toggle_block(
    st: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Option<bool>, ApiError> {
    let i = id.to_owned();
    let Some(blocked) = st.db.write(move |c| q::toggle_block(c, &i)).await? else {
        return Ok(None);
    };
    if blocked {
        st.events.close_user(id, CloseReason::UserBlocked);
    }
    let state = if blocked { "blocked" } else { "unblocked" };
    let msg = format!("user {state} {}", actor.by());
    actor
        .audit(st, "user_block_changed", Some(id), None, msg)
        .await;
    Ok(Some(blocked))
}

/// Changes a user's username and email: fields, username, email, then the update. In the
/// console an empty email leaves the account without one.
pub(crate) async fn edit_user(
    st: &AppState,
    actor: &Actor,
    via: Via,
    id: &str,
    username: &str,
    email: &str,
) -> Result<Result<(), Refusal>, ApiError> {
    if username.is_empty() || (email.is_empty() && via.email_required()) {
        return Ok(Err(Refusal::Missing));
    }
    if !valid_username(username) && !keeps_name(st, id, username).await? {
        return Ok(Err(Refusal::InvalidUsername));
    }
    let email = match optional_email(via, email) {
        Ok(e) => e,
        Err(why) => return Ok(Err(why)),
    };
    let (i, u) = (id.to_owned(), username.to_owned());
    match st
        .db
        .write(move |c| q::edit(c, &i, &u, email.as_deref()))
        .await?
    {
        EditOutcome::NotFound => Ok(Err(Refusal::NotFound)),
        EditOutcome::UsernameTaken => Ok(Err(Refusal::UsernameTaken)),
        EditOutcome::EmailTaken => Ok(Err(Refusal::EmailTaken)),
        EditOutcome::Done => {
            let msg = format!("user updated {}", actor.by());
            actor.audit(st, "user_updated", Some(id), None, msg).await;
            Ok(Ok(()))
        }
    }
}

/// True when `username` is the user's stored name: a name from before the username rule may
/// be kept when only the email changes.
async fn keeps_name(st: &AppState, id: &str, username: &str) -> Result<bool, ApiError> {
    let i = id.to_owned();
    let stored = st.db.read(move |c| users::username(c, &i)).await?;
    Ok(stored.as_deref() == Some(username))
}

/// Marks a user's email as confirmed; `false` when there is no such user.
pub(crate) async fn confirm_user(st: &AppState, actor: &Actor, id: &str) -> Result<bool, ApiError> {
    let i = id.to_owned();
    if !st.db.write(move |c| q::confirm(c, &i)).await? {
        return Ok(false);
    }
    let msg = format!("user confirmed {}", actor.by());
    actor.audit(st, "user_confirmed", Some(id), None, msg).await;
    Ok(true)
}

/// Sets a random password of `hex_len` hex digits and ends the user's sessions; the new
/// password, or `None` when there is no such user.
pub(crate) async fn reset_password(
    st: &AppState,
    actor: &Actor,
    id: &str,
    hex_len: usize,
) -> Result<Option<String>, ApiError> {
    let pw = ids::random_hex(hex_len);
    let hash = accounts::hash_password(&pw).await?;
    let i = id.to_owned();
    let found = st
        .db
        .write(move |c| {
            let ok = crate::store::accounts::set_password(c, &i, &hash)?;
            if ok {
                sessions::delete_for_user(c, &i)?;
            }
            Ok(ok)
        })
        .await?;
    if !found {
        return Ok(None);
    }
    let msg = format!("password reset {}", actor.by());
    actor
        .audit(st, "user_password_reset", Some(id), None, msg)
        .await;
    Ok(Some(pw))
}

/// Deletes a user (and, in the store, their devices and data). Idempotent.
pub(crate) async fn delete_user(st: &AppState, actor: &Actor, id: &str) -> Result<(), ApiError> {
    let i = id.to_owned();
    st.db.write(move |c| q::delete_user(c, &i)).await?;
    st.events.close_user(id, CloseReason::UserDeleted);
    let msg = format!("user {id} deleted {}", actor.by());
    actor.audit(st, "user_deleted", None, None, msg).await;
    Ok(())
}

/// Revokes a device's token. Idempotent.
pub(crate) async fn revoke_device(st: &AppState, actor: &Actor, id: &str) -> Result<(), ApiError> {
    let (i, now) = (id.to_owned(), time::now_rfc3339());
    st.db.write(move |c| devices::revoke(c, &i, &now)).await?;
    st.events.close_device(id, CloseReason::DeviceRevoked);
    let msg = "device revoked by admin".to_owned();
    actor.audit(st, "device_revoked", None, Some(id), msg).await;
    Ok(())
}

/// Deletes a device row. The console only deletes revoked devices (`Some(false)` otherwise);
/// `None` when there is no such device. Audited only when a row went away.
pub(crate) async fn delete_device(
    st: &AppState,
    actor: &Actor,
    via: Via,
    id: &str,
) -> Result<Option<bool>, ApiError> {
    let (i, must_be_revoked) = (id.to_owned(), via == Via::Console);
    let outcome = st
        .db
        .write(move |c| q::delete_device(c, &i, must_be_revoked))
        .await?;
    if outcome == Some(true) {
        st.events.close_device(id, CloseReason::DeviceDeleted);
        let msg = format!("device deleted {}{}", via.tag(), actor.by());
        actor.audit(st, "device_deleted", None, Some(id), msg).await;
    }
    Ok(outcome)
}

/// Saves the SMTP fields of `f`. The console writes every field but writes `smtp_pass` only
/// when non-empty (an empty password field keeps the stored one); the API writes only the
/// non-empty fields.
pub(crate) async fn save_smtp(
    st: &AppState,
    actor: &Actor,
    via: Via,
    f: &Form,
) -> Result<(), ApiError> {
    let only_non_empty = via == Via::Api;
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
    let msg = format!("SMTP settings saved {}{}", via.tag(), actor.by());
    actor
        .audit(st, "smtp_settings_updated", None, None, msg)
        .await;
    Ok(())
}

/// Why an SMTP test mail was not sent.
#[derive(Debug)]
pub(crate) enum SmtpTestError {
    NotConfigured,
    Send(MailError),
}

/// Sends the test mail with settings `s` to `to`, or to the sender when `to` is blank.
pub(crate) async fn smtp_test(
    s: SmtpSettings,
    to: String,
    loc: Locale,
    server_name: &str,
) -> Result<(), SmtpTestError> {
    if !s.configured() {
        return Err(SmtpTestError::NotConfigured);
    }
    let to = if to.trim().is_empty() {
        s.from.clone()
    } else {
        to
    };
    let (subject, body) = mail::compose(Template::Test, loc, server_name, "", "");
    mail::send(s, to, subject, body)
        .await
        .map_err(SmtpTestError::Send)
}

/// The console's SMTP test (§6.12 `smtp-test`): the saved settings, the test mail to `to`
/// (or the sender), and an audit row saying whether it was sent. Returns whether it was.
pub(crate) async fn smtp_test_saved(
    st: &AppState,
    actor: &Actor,
    to: &str,
    loc: Locale,
    server_name: &str,
) -> Result<bool, ApiError> {
    let s = mail::settings(st).await?;
    let sent = smtp_test(s, to.trim().to_owned(), loc, server_name)
        .await
        .is_ok();
    let msg = format!("SMTP test by admin {}", actor.name);
    actor
        .audit(st, smtp_test_event(sent), None, None, msg)
        .await;
    Ok(sent)
}

/// The audit event (and the console's flash) of an SMTP test.
pub(crate) fn smtp_test_event(sent: bool) -> &'static str {
    if sent {
        "smtp_test_passed"
    } else {
        "smtp_test_failed"
    }
}

/// Runs retention now (§6.16).
pub(crate) async fn cleanup(st: &AppState, actor: &Actor) -> Result<(), ApiError> {
    crate::server::run_retention(st)
        .await
        .map_err(ApiError::internal)?;
    let msg = format!("cleanup {}", actor.by());
    actor.audit(st, "retention_cleanup", None, None, msg).await;
    Ok(())
}

/// The console's web settings (§6.12 `web-settings`).
pub(crate) struct WebSettingsInput<'a> {
    pub default_locale: &'a str,
    pub public_url: &'a str,
    pub allow_registration: bool,
    pub server_name: &'a str,
}

/// Saves the web settings for every server process (`crate::console_settings`: the database,
/// `config.yml`, in force at once); `false` for an invalid public URL.
pub(crate) async fn web_settings(
    st: &AppState,
    actor: &Actor,
    input: WebSettingsInput<'_>,
) -> Result<bool, ApiError> {
    let Ok(public_url) = crate::config::normalize_public_url(input.public_url.trim()) else {
        return Ok(false);
    };
    let values = WebValues {
        default_locale: Locale::from_code(input.default_locale).code().to_owned(),
        allow_registration: input.allow_registration,
        server_name: input.server_name.trim().to_owned(),
        public_url,
    };
    console_settings::save(st, Section::Web(values))
        .await
        .map_err(ApiError::internal)?;
    let msg = format!("web settings saved {}", actor.by());
    actor
        .audit(st, "web_settings_updated", None, None, msg)
        .await;
    Ok(true)
}

/// `ServerStats` with the file-system figures and the last cleanup time (§6.14).
pub(crate) async fn server_stats(st: &AppState) -> Result<ServerStats, ApiError> {
    let now_s = time::unix_now();
    let (now, day_ago) = (time::format_unix(now_s), time::format_unix(now_s - 86_400));
    let mut s = st
        .db
        .read(move |c| stats::collect(c, &now, &day_ago))
        .await?;
    let blobs = st.blobs.clone();
    let db_bytes = st.db.size_bytes().await?;
    let (temp, bytes) = tokio::task::spawn_blocking(move || blobs.usage())
        .await
        .map_err(ApiError::internal)?;
    s.temp_uploads = temp;
    s.blob_bytes = bytes;
    s.database_bytes = db_bytes;
    let auto = st
        .last_cleanup
        .lock()
        .map(|g| g.clone())
        .unwrap_or_default();
    if auto > s.last_cleanup_at {
        s.last_cleanup_at = auto;
    }
    Ok(s)
}
