//! Verifying credentials (spec §6.3): username first, then email; a dummy bcrypt comparison for
//! unknown users; account state revealed only after the password matched. bcrypt runs on the
//! blocking pool, never on the async runtime or the writer thread.

use std::sync::OnceLock;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::users::{self, UserCreds};

/// Why verification failed, for the audit messages of pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredFailure {
    NotFound,
    WrongPassword,
    Blocked,
    Unconfirmed,
}

impl CredFailure {
    pub(crate) fn api_error(self) -> ApiError {
        match self {
            CredFailure::NotFound | CredFailure::WrongPassword => {
                ApiError::Unauthorized("invalid credentials")
            }
            CredFailure::Blocked => ApiError::Forbidden("account blocked"),
            CredFailure::Unconfirmed => ApiError::Forbidden("email not confirmed"),
        }
    }

    pub(crate) fn pair_message(self) -> &'static str {
        match self {
            CredFailure::NotFound => "pair: user not found",
            CredFailure::WrongPassword => "pair: wrong password",
            CredFailure::Blocked => "pair: user blocked",
            CredFailure::Unconfirmed => "pair: email not confirmed",
        }
    }
}

fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| bcrypt::hash("verstak-dummy-password", 10).unwrap_or_default())
}

/// Compares a password with a bcrypt hash on the blocking pool. Any malformed hash is "no".
pub(crate) async fn bcrypt_matches(password: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || bcrypt::verify(password.as_bytes(), &hash).unwrap_or(false))
        .await
        .map_err(ApiError::internal)
}

pub(crate) async fn verify(
    state: &AppState,
    login: &str,
    password: &str,
) -> Result<Result<UserCreds, CredFailure>, ApiError> {
    let l = login.to_owned();
    let user = state.db.read(move |c| users::find_for_login(c, &l)).await?;
    let Some(user) = user else {
        bcrypt_matches(password.to_owned(), dummy_hash().to_owned()).await?;
        return Ok(Err(CredFailure::NotFound));
    };
    if !bcrypt_matches(password.to_owned(), user.password_hash.clone()).await? {
        return Ok(Err(CredFailure::WrongPassword));
    }
    if user.blocked {
        return Ok(Err(CredFailure::Blocked));
    }
    if !user.confirmed {
        return Ok(Err(CredFailure::Unconfirmed));
    }
    Ok(Ok(user))
}

/// Admin verification (§6.11): exact username in `config.yml`, then bcrypt; an unknown name
/// still costs one dummy comparison. Passwords over 72 bytes never match.
pub(crate) async fn verify_admin(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<bool, ApiError> {
    let hash = state
        .config
        .admins
        .iter()
        .find(|a| a.username == username)
        .map(|a| a.password_hash.clone());
    let too_long = password.len() > verstak_sync_proto::limits::fixed::PASSWORD_MAX;
    match hash {
        Some(h) if !too_long => bcrypt_matches(password.to_owned(), h).await,
        _ => {
            bcrypt_matches(password.to_owned(), dummy_hash().to_owned()).await?;
            Ok(false)
        }
    }
}
