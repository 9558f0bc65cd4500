//! The pairing and settings actions (plugin-contract §3.4 to §3.8) and the pairing part of a
//! sync run, as `async fn`s over [`Io`]: every read and write is a storage or settings command
//! and every request goes through [`http::send`], so the simulation sees (and crashes) each step.
//!
//! `run_action` calls [`pairing_action`] for `Configure`, `TestConnection`, `Disconnect`,
//! `ResetKey`, `SetInterval` and `SetIgnore`, [`status`] for `Status`, and [`paired`] /
//! [`record`] before and after a sync run. The rules (what to send, how to read answers) are
//! pure, in `engine/account.rs`; the pairing document is `engine/pairing.rs`.
//!
//! Order of writes in `configure`, kept for crashes: the state is reset before the new
//! credential is stored, so whatever survives, the next run re-reads the remote history from the
//! start (§3.4 step 6); the password is only ever in the pair request.

use super::super::account::{self, PAIRING_KEY, Pairing, TOKEN_KEY};
use super::super::command::{Command, Endpoint};
use super::super::config::Config;
use super::super::conflict::rfc3339;
use super::super::conflict_list::{CONFLICTS_KEY, ConflictList};
use super::super::error::EngineError;
use super::super::event::{Action, IoError, Login, Reply};
use super::super::io::Io;
use super::super::replaced_list::{REPLACED_KEY, ReplacedList};
use super::super::saved::SavedState;
use super::super::settings::Settings;
use super::super::status::Status;
use super::http;

/// A failed local read or write: the host's own answer where it gave one.
fn local(e: IoError) -> EngineError {
    match e {
        IoError::Host { code, message } => EngineError::Host { code, message },
        e => EngineError::LocalIo(e.to_string()),
    }
}

async fn read(io: &Io, key: &str) -> Result<Option<String>, EngineError> {
    io.storage_read(key.to_string()).await.map_err(local)
}

async fn write(io: &Io, key: &str, value: String) -> Result<(), IoError> {
    let key = key.to_string();
    io.done(|id| Command::StorageWrite {
        id,
        key,
        value,
        durable: true,
    })
    .await
}

async fn load_pairing(io: &Io) -> Result<Pairing, EngineError> {
    Ok(Pairing::parse(read(io, PAIRING_KEY).await?.as_deref()))
}

async fn save_pairing(io: &Io, p: &Pairing) -> Result<(), EngineError> {
    write(io, PAIRING_KEY, p.to_json()).await.map_err(local)
}

async fn token(io: &Io) -> Result<Option<String>, EngineError> {
    Ok(read(io, TOKEN_KEY).await?.filter(|t| !t.is_empty()))
}

/// A pairing action stores the whole state as a snapshot (it is rare, and `configure` resets
/// most of it).
async fn save_state(io: &Io, st: &mut SavedState, cfg: &Config) -> Result<(), EngineError> {
    super::store::checkpoint(io, st, cfg, true).await
}

/// `status()` (§3.2): the settings, the pairing document and the token, with the engine's part
/// and the conflict list (this engine's extension).
pub(super) async fn status(io: &Io) -> Result<Status, EngineError> {
    let settings = read_settings(io).await?;
    let pairing = read(io, PAIRING_KEY).await?;
    let token = read(io, TOKEN_KEY).await?;
    let conflicts = read(io, CONFLICTS_KEY).await?;
    let engine = io.engine_status();
    let mut status = Status::read(&settings, pairing.as_deref(), token.as_deref(), &engine)?;
    status.conflicts = ConflictList::parse(conflicts.as_deref()).0;
    let replaced = read(io, REPLACED_KEY).await?;
    status.replaced = ReplacedList::parse(replaced.as_deref()).0;
    Ok(status)
}

async fn read_settings(io: &Io) -> Result<String, EngineError> {
    match io.call(|id| Command::SettingsRead { id }).await {
        Ok(Reply::Stored(json)) => Ok(json.unwrap_or_default()),
        Ok(other) => Err(EngineError::LocalIo(format!("unexpected reply {other:?}"))),
        Err(e) => Err(local(e)),
    }
}

pub(super) async fn load_settings(io: &Io) -> Result<Settings, EngineError> {
    let json = read_settings(io).await?;
    Settings::parse(&json).map_err(|e| EngineError::LocalIo(e.to_string()))
}

async fn save_settings(io: &Io, s: &Settings) -> Result<(), EngineError> {
    let json = s.to_json();
    io.done(|id| Command::SettingsWrite { id, json })
        .await
        .map_err(local)
}

/// What a sync run needs from the pairing: the document and where requests go. `sync not
/// configured` without a server URL or a token (§3.9).
pub(super) async fn paired(io: &Io) -> Result<(Pairing, Endpoint), EngineError> {
    let pairing = load_pairing(io).await?;
    let token = token(io)
        .await?
        .filter(|_| !pairing.server_url.is_empty())
        .ok_or(EngineError::NotConfigured)?;
    let to = Endpoint {
        base: pairing.server_url.clone(),
        token: Some(token),
    };
    Ok((pairing, to))
}

/// Records what a sync run learned about connectivity and revocation (§3.2, §5.4.7).
pub(super) async fn record(io: &Io, mut pairing: Pairing) -> Result<(), EngineError> {
    let seen = io.0.borrow().status.clone();
    pairing.observe(seen.connected, seen.revoked, &rfc3339(io.now()));
    save_pairing(io, &pairing).await
}

/// Runs one pairing or settings action against the state `st`.
pub(super) async fn pairing_action(
    io: &Io,
    cfg: &Config,
    st: &mut SavedState,
    action: Action,
) -> Result<(), EngineError> {
    match action {
        Action::Configure { login, vault_id } => configure(io, st, login, &vault_id, cfg).await,
        Action::TestConnection(login) => test_connection(io, login).await,
        Action::Disconnect => disconnect(io, st, cfg).await,
        Action::ResetKey => reset_key(io, st, cfg).await,
        Action::SetInterval(minutes) => {
            let mut settings = load_settings(io).await?;
            settings
                .set_interval(minutes)
                .map_err(|_| EngineError::InvalidInterval(minutes))?;
            save_settings(io, &settings).await
        }
        Action::SetIgnore(patterns) => {
            let mut settings = load_settings(io).await?;
            let patterns = patterns.iter().map(|p| p.trim()).filter(|p| !p.is_empty());
            settings.ignore = Some(patterns.map(str::to_string).collect());
            save_settings(io, &settings).await
        }
        Action::Sync
        | Action::SyncChanged(_)
        | Action::ConfirmDeletions(_)
        | Action::RestoreDeletions(_)
        | Action::Status
        | Action::DismissConflicts(_)
        | Action::History { .. }
        | Action::Deleted { .. }
        | Action::Restore { .. } => {
            unreachable!("sync and status actions are run by run_action")
        }
    }
}

/// §3.4.
async fn configure(
    io: &Io,
    st: &mut SavedState,
    login: Login,
    vault_id: &str,
    cfg: &Config,
) -> Result<(), EngineError> {
    let device_name = cfg.device_name.clone();
    let base = account::server_url(&login.server_url)?;
    let local_id = match io.call(|id| Command::VaultId { id }).await {
        Ok(Reply::Stored(Some(id))) => id,
        _ => return Err(EngineError::VaultIdUnavailable),
    };
    let target = account::target_vault(vault_id, &local_id);
    let previous = load_pairing(io).await?;
    account::check_remote_change(&previous, &target, st.unpushed_ops())?;

    let to = Endpoint {
        base: base.clone(),
        token: None,
    };
    let request = account::pair(&login.username, &login.password.0, &device_name, &target);
    let paired = account::read_pair(http::send(io, &to, &request).await)?;
    let old_token = token(io).await?;

    st.reset_for_new_pairing();
    save_state(io, st, cfg).await?;
    write(io, TOKEN_KEY, paired.device_token.clone())
        .await
        .map_err(|e| EngineError::SaveToken(e.to_string()))?;
    let pairing = Pairing {
        server_url: base.clone(),
        vault_id: vault_id.trim().to_string(),
        effective_vault_id: target,
        device_id: paired.device_id.clone(),
        device_name,
        connected: true,
        revoked: false,
        last_checked_at: rfc3339(io.now()),
    };
    save_pairing(io, &pairing).await?;
    let mut settings = load_settings(io).await?;
    settings.server_url = base;
    settings.vault_id = vault_id.trim().to_string();
    save_settings(io, &settings).await?;

    // This project's engine revokes the credential it replaced (§3.4), best effort.
    if let Some(old) = old_token.filter(|_| !previous.server_url.is_empty()) {
        let to = Endpoint {
            base: previous.server_url,
            token: Some(old),
        };
        http::best_effort(io, &to, account::revoke_current()).await;
    }
    let message = format!("paired as {}", paired.device_id);
    let _ = io.done(|id| Command::Log { id, message }).await;
    Ok(())
}

/// §3.6: health, then the credentials; nothing is stored.
async fn test_connection(io: &Io, login: Login) -> Result<(), EngineError> {
    let to = Endpoint {
        base: account::server_url(&login.server_url)?,
        token: None,
    };
    account::read_health(http::send(io, &to, &account::health()).await)?;
    let request = account::auth_test(&login.username, &login.password.0);
    http::send(io, &to, &request).await?;
    Ok(())
}

/// Revokes the stored credential on the server (best effort) and forgets it; clears the last
/// error and warning (§3.5 steps 2-3, §3.8 steps 2-3).
async fn drop_credential(
    io: &Io,
    st: &mut SavedState,
    pairing: &Pairing,
    cfg: &Config,
) -> Result<(), EngineError> {
    if let Some(t) = token(io).await?.filter(|_| !pairing.server_url.is_empty()) {
        let to = Endpoint {
            base: pairing.server_url.clone(),
            token: Some(t),
        };
        http::best_effort(io, &to, account::revoke_current()).await;
    }
    let key = TOKEN_KEY.to_string();
    let _ = io.done(|id| Command::StorageDelete { id, key }).await;
    st.last_error.clear();
    st.last_warning.clear();
    save_state(io, st, cfg).await
}

/// §3.5: forget the server and the device. The op log, cursor and bootstrap flag stay.
async fn disconnect(io: &Io, st: &mut SavedState, cfg: &Config) -> Result<(), EngineError> {
    let pairing = load_pairing(io).await?;
    drop_credential(io, st, &pairing, cfg).await?;
    save_pairing(io, &Pairing::disconnected()).await?;
    let mut settings = load_settings(io).await?;
    settings.server_url.clear();
    settings.vault_id.clear();
    save_settings(io, &settings).await
}

/// §3.8: forget the device, keep the server URL.
async fn reset_key(io: &Io, st: &mut SavedState, cfg: &Config) -> Result<(), EngineError> {
    let pairing = load_pairing(io).await?;
    drop_credential(io, st, &pairing, cfg).await?;
    save_pairing(io, &pairing.key_reset()).await
}
