//! Keeps the engine for the vault and runs the drain loop: executes the engine's
//! commands through the host imports and feeds the answers back until the action finishes.
//! One short arm per command; no decisions.
//!
//! The engine stays resident in the component instance between calls (a host that keeps its
//! instance, like `watch`, pays for parsing the stored state once, not per call). Another
//! process (the CLI beside a running `watch`) may sync the vault meanwhile, and a stale
//! in-memory state written back would undo its work, so every call checks a stamp first: the
//! storage document [`STAMP_KEY`], a random value written before every action that may change
//! the engine state ([`Engine::changes_state`]; the host runs those under the vault lock).
//! The resident engine is used only while the stamp is the one this instance wrote last;
//! otherwise the engine is built afresh from storage. An action that failed drops it too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::bindings::verstak::sync::{
    environment, files, log, network, progress, settings, storage,
};
use super::convert::{self, expect};
use crate::engine::account;
use crate::engine::answer::Finish;
use crate::engine::codes::HostCode;
use crate::engine::command::{Command, Endpoint, HttpRequest};
use crate::engine::error::EngineError;
use crate::engine::event::{Action, Digest, Event, IoError, Reply};
use crate::engine::hash::ContentHash;
use crate::engine::ids::Millis;
use crate::engine::journal::{JOURNAL_KEY, STATE_KEY};
use crate::engine::machine::{Config, Engine};

fn now() -> Millis {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    Millis(since.map_or(0, |d| d.as_millis() as u64))
}

/// Storage key of the stamp that says which process changed the engine state last.
const STAMP_KEY: &str = "engine-stamp";

/// The engine kept between calls, with the stamp written when it was last known to match the
/// stored state.
struct Resident {
    engine: Engine,
    stamp: String,
}

thread_local! {
    static RESIDENT: std::cell::RefCell<Option<Resident>> = const { std::cell::RefCell::new(None) };
}

fn config() -> Result<Config, EngineError> {
    let mut entropy = [0u8; 16];
    getrandom::fill(&mut entropy).map_err(|e| EngineError::LocalIo(format!("random: {e}")))?;
    let device_name = account::device_name(
        environment::device_name().as_deref(),
        &environment::host_name(),
        &environment::vault_name(),
    );
    let mut cfg = Config::new(device_name, entropy);
    cfg.utc_offset_min = environment::utc_offset_minutes(now().0 as i64);
    Ok(cfg)
}

/// The engine for this vault, from the stored state.
fn engine() -> Result<Engine, EngineError> {
    let cfg = config()?;
    let snapshot = storage::get(STATE_KEY)?;
    let journal = storage::get(JOURNAL_KEY)?;
    Engine::new(cfg, snapshot.as_deref(), journal.as_deref())
}

/// Runs one engine action to its end (`Command::Finished`), on the resident engine when the
/// stored state is still the one it holds.
pub(super) fn act(action: Action) -> Finish {
    let stamp = storage::get(STAMP_KEY)?;
    let resident = RESIDENT
        .take()
        .filter(|r| stamp.as_deref() == Some(r.stamp.as_str()));
    let kept = resident.is_some();
    let mut engine = match resident {
        Some(r) => {
            let mut engine = r.engine;
            engine.reconfigure(config()?);
            engine
        }
        None => engine()?,
    };
    if !Engine::changes_state(&action) {
        let finish = drive(&mut engine, action);
        // A state read outside the vault lock may be another run's midway state: keep only the
        // engine that was already current.
        if kept && let Some(stamp) = stamp {
            RESIDENT.set(Some(Resident { engine, stamp }));
        }
        return finish;
    }
    let absent = stamp.is_none();
    let stamp = new_stamp()?;
    storage::set_cache(STAMP_KEY, &stamp)?;
    let finish = drive(&mut engine, action);
    if finish.is_ok() {
        RESIDENT.set(Some(Resident { engine, stamp }));
    } else if absent {
        // No engine anywhere matches an absent stamp, so a failed first action (a wrong
        // password at pairing) may leave storage as it found it.
        let _ = storage::delete(STAMP_KEY);
    }
    finish
}

/// A fresh random stamp.
fn new_stamp() -> Result<String, EngineError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| EngineError::LocalIo(format!("random: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Drives `action` on `engine` to its `Command::Finished`.
fn drive(engine: &mut Engine, action: Action) -> Finish {
    engine.handle(now(), Event::Start(action));
    loop {
        while let Some(cmd) = engine.poll_command() {
            let id = match cmd {
                Command::Finished(outcome) => return outcome,
                ref other => other.id().expect("every command but Finished has an id"),
            };
            let result = execute(cmd);
            engine.handle(now(), Event::Reply { id, result });
            if let Some(p) = convert::progress(&engine.status()) {
                progress::report(p);
            }
        }
        let Some(at) = engine.poll_timeout() else {
            let stopped = "the sync engine stopped without finishing";
            return Err(EngineError::LocalIo(stopped.into()));
        };
        std::thread::sleep(Duration::from_millis(at.0.saturating_sub(now().0)));
        engine.handle(now(), Event::Timeout);
    }
}

fn http(to: Endpoint, request: HttpRequest) -> Result<Reply, IoError> {
    let mut headers = request.headers;
    headers.extend(to.auth());
    let req = network::Request {
        method: convert::method(request.method),
        url: to.url(&request.path),
        headers,
        body: convert::body(request.body),
    };
    Ok(Reply::Http(convert::response(network::send(&req)?)))
}

fn execute(cmd: Command) -> Result<Reply, IoError> {
    use Command::*;
    let done = |()| Reply::Done;
    Ok(match cmd {
        ListDir { dir, .. } => {
            let found = files::list_dir(dir.as_ref().map_or("", |d| d.as_str()))?;
            Reply::Listed(found.into_iter().map(convert::entry).collect())
        }
        ReadFile {
            path, offset, len, ..
        } => {
            let len = len.min(u32::MAX as u64) as u32;
            Reply::Bytes(files::read(path.as_str(), offset, len)?)
        }
        HashFile { path, .. } => {
            let d = files::hash(path.as_str())?;
            let (size, mtime, hash) = (d.size, d.mtime_ms, hash(&d.sha256)?);
            Reply::Digest(Digest { size, mtime, hash })
        }
        WriteFile {
            path,
            bytes,
            expect: e,
            ..
        } => Reply::Written(convert::meta(files::write(
            path.as_str(),
            &bytes,
            &expect(e),
        )?)),
        CopyFile {
            from,
            to,
            from_hash,
            ..
        } => {
            let (from, to, hash) = (from.as_str(), to.as_str(), from_hash.as_str());
            Reply::Written(convert::meta(files::copy(from, to, hash)?))
        }
        Rename { from, to, .. } => files::rename(from.as_str(), to.as_str()).map(done)?,
        Trash {
            path, expect: e, ..
        } => files::trash(path.as_str(), &expect(e)).map(done)?,
        Mkdir { path, .. } => files::mkdir(path.as_str()).map(done)?,
        RemoveDir { path, .. } => files::remove_dir(path.as_str()).map(done)?,
        StageWrite {
            stage,
            offset,
            bytes,
            ..
        } => files::stage_write(&stage, offset, &bytes).map(done)?,
        StageCopy { from, stage, .. } => {
            let staged = files::stage_copy(from.as_str(), &stage)?;
            let (size, hash) = (staged.size, hash(&staged.sha256)?);
            Reply::Staged { size, hash }
        }
        CommitStage {
            stage,
            to,
            expect: e,
            ..
        } => {
            let meta = files::commit_stage(&stage, to.as_str(), &expect(e))?;
            Reply::Written(convert::meta(meta))
        }
        DeleteStage { stage, .. } => files::delete_stage(&stage).map(done)?,
        Http { to, request, .. } => http(to, request)?,
        StorageRead { key, .. } => Reply::Stored(storage::get(&key)?),
        StorageWrite {
            key,
            value,
            durable: true,
            ..
        } => storage::set(&key, &value).map(done)?,
        StorageWrite { key, value, .. } => storage::set_cache(&key, &value).map(done)?,
        StorageAppend { key, value, .. } => storage::append(&key, &value).map(done)?,
        StorageDelete { key, .. } => storage::delete(&key).map(done)?,
        SettingsRead { .. } => Reply::Stored(Some(settings::read()?)),
        SettingsWrite { json, .. } => settings::write(&json).map(done)?,
        VaultId { .. } => Reply::Stored(Some(environment::vault_id()?)),
        Log { message, .. } => {
            log::write(log::Level::Info, &message);
            Reply::Done
        }
        Finished(_) => unreachable!("handled by the loop"),
    })
}

fn hash(hex: &str) -> Result<ContentHash, IoError> {
    ContentHash::parse(hex).map_err(|_| {
        IoError::host(
            HostCode::Io,
            format!("the host returned an invalid hash {hex:?}"),
        )
    })
}
