//! Each `api.sync` call as a short sequence of host calls around engine decisions.
//!
//! Every call builds the engine afresh from private storage: another process (the CLI beside a
//! running panel) may have synced the vault meanwhile, and a stale in-memory state written back
//! would undo its work.

use std::time::{SystemTime, UNIX_EPOCH};

use super::verstak::sync::types::HostError;
use super::verstak::sync::{environment, log, settings as host_settings, storage};
use super::{driver, net};
use crate::engine::account::{self, PAIRING_KEY, Pairing, TOKEN_KEY};
use crate::engine::conflict::rfc3339;
use crate::engine::error::EngineError;
use crate::engine::event::Action;
use crate::engine::ids::Millis;
use crate::engine::machine::{Config, Engine};
use crate::engine::saved::{STATE_KEY, SavedState};
use crate::engine::settings::Settings;
use crate::engine::status::Status;
use crate::engine::summary::Summary;

/// Why a call failed: an engine decision, or a host refusal passed through as it is.
pub(super) enum Failure {
    Engine(EngineError),
    Host(HostError),
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Failure {
        Failure::Engine(e)
    }
}

impl From<HostError> for Failure {
    fn from(e: HostError) -> Failure {
        Failure::Host(e)
    }
}

type Result<T> = std::result::Result<T, Failure>;

pub(super) fn now() -> Millis {
    Millis(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
    )
}

fn load_settings() -> Result<Settings> {
    Ok(
        Settings::parse(&host_settings::read()?)
            .map_err(|e| EngineError::LocalIo(e.to_string()))?,
    )
}

fn save_settings(s: &Settings) -> Result<()> {
    Ok(host_settings::write(&s.to_json())?)
}

fn load_pairing() -> Result<Pairing> {
    Ok(Pairing::parse(storage::get(PAIRING_KEY)?.as_deref()))
}

fn save_pairing(p: &Pairing) -> Result<()> {
    Ok(storage::set(PAIRING_KEY, &p.to_json())?)
}

fn token() -> Result<Option<String>> {
    Ok(storage::get(TOKEN_KEY)?.filter(|t| !t.is_empty()))
}

fn load_state() -> Result<SavedState> {
    let json = storage::get(STATE_KEY)?;
    Ok(SavedState::parse(json.as_deref().unwrap_or(""))
        .map_err(|e| EngineError::SaveState(e.to_string()))?)
}

fn save_state(state: &SavedState) -> Result<()> {
    Ok(storage::set(STATE_KEY, &state.to_json()).map_err(|e| EngineError::SaveState(e.message))?)
}

/// The engine for this vault, from the stored state.
fn engine() -> Result<Engine> {
    let pairing = load_pairing()?;
    let settings = load_settings()?;
    let mut entropy = [0u8; 16];
    getrandom::fill(&mut entropy).map_err(|e| EngineError::LocalIo(format!("random: {e}")))?;
    let name = if pairing.device_name.is_empty() {
        environment::device_name()
    } else {
        pairing.device_name.clone()
    };
    let mut cfg = Config::new(pairing.device_id.clone(), name, entropy);
    cfg.utc_offset_min = environment::utc_offset_minutes(now().0 as i64);
    cfg.ignore = settings.ignore.clone();
    let state = storage::get(STATE_KEY)?;
    Ok(Engine::new(cfg, state.as_deref())?)
}

pub(super) fn status() -> Result<Status> {
    let settings = load_settings()?;
    let pairing = load_pairing()?;
    let mut status = Status::new(&settings, &pairing, token()?.is_some());
    engine()?.status().apply_to(&mut status);
    Ok(status)
}

pub(super) fn configure(
    server_url: &str,
    username: &str,
    password: &str,
    vault_id: &str,
) -> Result<()> {
    let base = account::server_url(server_url)?;
    let local = environment::vault_id().map_err(|_| EngineError::VaultIdUnavailable)?;
    let target = account::target_vault(vault_id, &local);
    let previous = load_pairing()?;
    let mut state = load_state()?;
    account::check_remote_change(&previous, &target, state.unpushed_ops())?;

    let device_name = environment::device_name();
    let paired = account::read_pair(net::send(&account::pair(
        &base,
        username,
        password,
        &device_name,
        &target,
    )))?;
    let old_token = token()?;

    // Order matters for crashes: the state is reset before the new credential is stored, so
    // whatever survives, the next run re-reads the remote history from the start (§3.4 step 6).
    state.reset_for_new_pairing();
    save_state(&state)?;
    storage::set(TOKEN_KEY, &paired.device_token).map_err(|e| EngineError::SaveToken(e.message))?;
    save_pairing(&Pairing {
        server_url: base.clone(),
        vault_id: vault_id.trim().to_string(),
        effective_vault_id: target,
        device_id: paired.device_id.clone(),
        device_name,
        connected: true,
        revoked: false,
        last_checked_at: rfc3339(now()),
    })?;
    let mut settings = load_settings()?;
    settings.server_url = base;
    settings.vault_id = vault_id.trim().to_string();
    save_settings(&settings)?;

    // This project's engine revokes the credential it replaced (§3.4), best effort.
    if let Some(old) = old_token.filter(|_| !previous.server_url.is_empty()) {
        net::best_effort(&account::revoke_current(&previous.server_url, &old));
    }
    log::write(log::Level::Info, &format!("paired as {}", paired.device_id));
    Ok(())
}

pub(super) fn test_connection(server_url: &str, username: &str, password: &str) -> Result<()> {
    let base = account::server_url(server_url)?;
    account::read_health(net::send(&account::health(&base)))?;
    net::send(&account::auth_test(&base, username, password))?;
    Ok(())
}

/// Revokes the stored credential on the server (best effort) and forgets it.
fn drop_credential(pairing: &Pairing) -> Result<()> {
    if let Some(t) = token()?.filter(|_| !pairing.server_url.is_empty()) {
        net::best_effort(&account::revoke_current(&pairing.server_url, &t));
    }
    let _ = storage::delete(TOKEN_KEY);
    let mut state = load_state()?;
    state.last_error.clear();
    state.last_warning.clear();
    save_state(&state)
}

pub(super) fn disconnect() -> Result<()> {
    let pairing = load_pairing()?;
    drop_credential(&pairing)?;
    save_pairing(&Pairing::disconnected())?;
    let mut settings = load_settings()?;
    settings.server_url.clear();
    settings.vault_id.clear();
    save_settings(&settings)
}

pub(super) fn reset_key() -> Result<()> {
    let pairing = load_pairing()?;
    drop_credential(&pairing)?;
    save_pairing(&pairing.key_reset())
}

pub(super) fn set_interval(minutes: i32) -> Result<()> {
    let mut settings = load_settings()?;
    settings
        .set_interval(minutes)
        .map_err(|_| EngineError::InvalidInterval)?;
    save_settings(&settings)
}

pub(super) fn set_ignore(patterns: Vec<String>) -> Result<()> {
    let mut settings = load_settings()?;
    settings.ignore = Some(
        patterns
            .into_iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
    );
    save_settings(&settings)
}

/// Runs one engine action (a sync, or a guard decision followed by a sync) to its end.
pub(super) fn run(action: Action) -> Result<Summary> {
    let mut pairing = load_pairing()?;
    let token = token()?
        .filter(|_| !pairing.server_url.is_empty())
        .ok_or(EngineError::NotConfigured)?;
    let server = driver::Server {
        base: pairing.server_url.clone(),
        token,
    };
    let mut engine = engine()?;
    engine.handle(now(), crate::engine::event::Event::Start(action));
    let outcome = driver::drive(&mut engine, &server);
    let seen = engine.status();
    pairing.observe(seen.connected, seen.revoked, &rfc3339(now()));
    save_pairing(&pairing)?;
    outcome
}
