//! Enrolment (spec §4.1 to §4.3): `POST /api/client/pair`, `POST /api/v1/device/register`,
//! `POST /api/auth/test`. Each runs its check table in order (method, decode, then the
//! handler's checks); creating a device is one transaction followed by the `device_paired`
//! audit entry. The two pairing routes check their rate limit with
//! `effects::rate_limit_pairing`, run the rest (`*_allowed`), and report the answer with
//! `effects::paired`: only failed pairings count against the client IP.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::net::IpAddr;
use verstak_sync_proto::limits::fixed;
use verstak_sync_proto::{
    AuthTestRequest, PairRequest, PairResponse, RegisterDeviceRequest, RegisterDeviceResponse,
    StatusResponse, paths,
};

use super::legacy_post;
use crate::creds::{self, CredFailure};
use crate::effects;
use crate::error::ApiError;
use crate::extract::{AppJson, ClientIp};
use crate::ratelimit::Action;
use crate::reply::json_response;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::devices::{self, NewDevice};
use crate::util::{ids, time};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::PAIR, legacy_post().post(pair))
        .route(paths::DEVICE_REGISTER, legacy_post().post(register))
        .route(paths::AUTH_TEST, legacy_post().post(auth_test))
}

async fn pair(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(r): AppJson<PairRequest>,
) -> Result<Response, ApiError> {
    if r.login.is_empty() || r.password.is_empty() {
        return Err(ApiError::InvalidRequest("login and password required"));
    }
    let attempt = effects::rate_limit_pairing(&st, Action::Pair, ip, &r.login).await?;
    let answer = pair_allowed(&st, ip, &r).await;
    effects::paired(&st, attempt, &answer).await;
    answer
}

/// `pair` after its rate check (§4.1 checks 5 to 11).
async fn pair_allowed(st: &AppState, ip: IpAddr, r: &PairRequest) -> Result<Response, ApiError> {
    let (vault, name) = check_pair(r)?;
    let user = match creds::verify(st, &r.login, &r.password).await? {
        Ok(u) => u,
        Err(f) => {
            effects::audit(
                st,
                AuditEntry {
                    event_type: "device_auth_failed",
                    ip: Some(ip.to_string()),
                    message: f.pair_message().into(),
                    ..Default::default()
                },
            )
            .await;
            return Err(f.api_error());
        }
    };
    let (device_id, token, now) = enroll(
        st,
        &user.id,
        name,
        vault,
        Some(r.client_version.clone()),
        Some(ip.to_string()),
        true,
    )
    .await?;
    effects::audit(
        st,
        AuditEntry {
            event_type: "device_paired",
            user_id: Some(user.id.clone()),
            device_id: Some(device_id.clone()),
            ip: Some(ip.to_string()),
            message: format!("device paired: {name}"),
        },
    )
    .await;
    Ok(json_response(
        StatusCode::OK,
        &PairResponse {
            device_id,
            device_token: token,
            initial_sync_cursor: 0,
            server_time: now,
            user_id: user.id,
        },
    ))
}

/// §4.1 after the rate limit: vault id, field lengths, password length. Returns the trimmed
/// vault id and the device name (`unknown` when empty).
fn check_pair(r: &PairRequest) -> Result<(&str, &str), ApiError> {
    let vault = r.vault_id.trim();
    if vault.is_empty() {
        return Err(ApiError::InvalidRequest("vault_id required"));
    }
    if vault.starts_with(fixed::LEGACY_VAULT_PREFIX) {
        return Err(ApiError::InvalidRequest("vault_id uses reserved prefix"));
    }
    let name = if r.device_name.is_empty() {
        "unknown"
    } else {
        r.device_name.as_str()
    };
    for (len, max, msg) in [
        (r.login.len(), fixed::LOGIN, "login is too long"),
        (name.len(), fixed::DEVICE_NAME, "device name is too long"),
        (
            r.client_version.len(),
            fixed::CLIENT_VERSION,
            "client version is too long",
        ),
        (vault.len(), fixed::VAULT_ID, "vault id is too long"),
    ] {
        if len > max {
            return Err(ApiError::InvalidRequest(msg));
        }
    }
    if r.password.len() > fixed::PASSWORD_MAX {
        return Err(ApiError::PasswordTooLong);
    }
    Ok((vault, name))
}

/// §4.2 after the rate limit: field lengths, vault id, password length. Returns the trimmed
/// vault id.
fn check_register(r: &RegisterDeviceRequest) -> Result<&str, ApiError> {
    if r.username.len() > fixed::LOGIN {
        return Err(ApiError::InvalidRequest("login is too long"));
    }
    if r.name.len() > fixed::DEVICE_NAME {
        return Err(ApiError::InvalidRequest("device name is too long"));
    }
    if r.vault_id.is_empty() {
        return Err(ApiError::InvalidRequest("vault_id required"));
    }
    if r.vault_id.len() > fixed::VAULT_ID {
        return Err(ApiError::InvalidRequest("vault id is too long"));
    }
    let vault = r.vault_id.trim();
    if vault.is_empty() {
        return Err(ApiError::InvalidRequest("vault_id required"));
    }
    if vault.starts_with(fixed::LEGACY_VAULT_PREFIX) {
        return Err(ApiError::InvalidRequest("vault_id uses reserved prefix"));
    }
    if r.password.len() > fixed::PASSWORD_MAX {
        return Err(ApiError::PasswordTooLong);
    }
    Ok(vault)
}

/// Creates a device with a fresh token in one transaction; returns `(id, token, now)`.
async fn enroll(
    st: &AppState,
    user_id: &str,
    name: &str,
    vault: &str,
    client_version: Option<String>,
    last_ip: Option<String>,
    touch_user: bool,
) -> Result<(String, String, String), ApiError> {
    let token = ids::new_device_token();
    let d = NewDevice {
        id: ids::new_device_id(),
        name: name.to_owned(),
        token_hash: ids::sha256_hex(&token),
        token_prefix: token[..8].to_owned(),
        token_suffix: token[token.len() - 4..].to_owned(),
        user_id: user_id.to_owned(),
        vault_id: vault.to_owned(),
        client_version,
        last_ip,
        touch_user,
    };
    let now = time::now_rfc3339();
    let (id, n) = (d.id.clone(), now.clone());
    st.db.write(move |c| devices::create(c, &d, &n)).await?;
    Ok((id, token, now))
}

async fn register(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(r): AppJson<RegisterDeviceRequest>,
) -> Result<Response, ApiError> {
    if r.name.is_empty() {
        return Err(ApiError::InvalidRequest("name required"));
    }
    if r.username.is_empty() || r.password.is_empty() {
        return Err(ApiError::Unauthorized("username and password required"));
    }
    let attempt = effects::rate_limit_pairing(&st, Action::DeviceRegister, ip, &r.username).await?;
    let answer = register_allowed(&st, ip, &r).await;
    effects::paired(&st, attempt, &answer).await;
    answer
}

/// `device/register` after its rate check (§4.2).
async fn register_allowed(
    st: &AppState,
    ip: IpAddr,
    r: &RegisterDeviceRequest,
) -> Result<Response, ApiError> {
    let vault = check_register(r)?;
    let user = creds::verify(st, &r.username, &r.password)
        .await?
        .map_err(CredFailure::api_error)?;
    let (device_id, token, _) = enroll(st, &user.id, &r.name, vault, None, None, false).await?;
    effects::audit(
        st,
        AuditEntry {
            event_type: "device_paired",
            user_id: Some(user.id),
            device_id: Some(device_id.clone()),
            ip: Some(ip.to_string()),
            message: format!("device registered: {}", r.name),
        },
    )
    .await;
    Ok(json_response(
        StatusCode::OK,
        &RegisterDeviceResponse {
            device_id,
            device_token: token,
        },
    ))
}

async fn auth_test(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(r): AppJson<AuthTestRequest>,
) -> Result<Response, ApiError> {
    if r.username.is_empty() || r.password.is_empty() {
        return Err(ApiError::InvalidRequest("username and password required"));
    }
    effects::rate_limit(&st, Action::AuthTest, ip, Some(&r.username)).await?;
    if r.password.len() > fixed::PASSWORD_MAX {
        return Err(ApiError::PasswordTooLong);
    }
    creds::verify(&st, &r.username, &r.password)
        .await?
        .map_err(CredFailure::api_error)?;
    Ok(json_response(StatusCode::OK, &StatusResponse::new("ok")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<T>(r: Result<T, ApiError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn pair_checks_run_in_table_order() {
        let ok = PairRequest {
            login: "a".into(),
            password: "pw".into(),
            vault_id: " v ".into(),
            ..Default::default()
        };
        assert_eq!(check_pair(&ok).unwrap(), ("v", "unknown"));
        let with = |f: &dyn Fn(&mut PairRequest)| {
            let mut r = ok.clone();
            f(&mut r);
            msg(check_pair(&r))
        };
        assert_eq!(with(&|r| r.vault_id = "  ".into()), "vault_id required");
        assert_eq!(
            with(&|r| r.vault_id = "legacy:x".into()),
            "vault_id uses reserved prefix"
        );
        // The vault is checked before the lengths, the lengths before the password.
        assert_eq!(
            with(&|r| {
                r.vault_id = String::new();
                r.login = "x".repeat(321);
            }),
            "vault_id required"
        );
        assert_eq!(
            with(&|r| {
                r.device_name = "n".repeat(129);
                r.password = "p".repeat(73);
            }),
            "device name is too long"
        );
        assert_eq!(
            with(&|r| r.client_version = "c".repeat(257)),
            "client version is too long"
        );
        assert_eq!(with(&|r| r.password = "p".repeat(73)), "PASSWORD_TOO_LONG");
    }

    #[test]
    fn register_checks_run_in_table_order() {
        let ok = RegisterDeviceRequest {
            name: "n".into(),
            username: "u".into(),
            password: "pw".into(),
            vault_id: " v".into(),
        };
        assert_eq!(check_register(&ok).unwrap(), "v");
        let with = |f: &dyn Fn(&mut RegisterDeviceRequest)| {
            let mut r = ok.clone();
            f(&mut r);
            msg(check_register(&r))
        };
        assert_eq!(
            with(&|r| {
                r.username = "x".repeat(321);
                r.vault_id = String::new();
            }),
            "login is too long"
        );
        assert_eq!(with(&|r| r.vault_id = String::new()), "vault_id required");
        // Untrimmed length first, then the trimmed value.
        assert_eq!(
            with(&|r| r.vault_id = format!(" {}", "v".repeat(256))),
            "vault id is too long"
        );
        assert_eq!(with(&|r| r.vault_id = " ".into()), "vault_id required");
        assert_eq!(
            with(&|r| r.vault_id = "legacy:u".into()),
            "vault_id uses reserved prefix"
        );
        assert_eq!(with(&|r| r.password = "p".repeat(73)), "PASSWORD_TOO_LONG");
    }
}
