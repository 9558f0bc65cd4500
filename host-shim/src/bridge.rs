//! The panel's JSON bridge: one `VerstakPluginAPI` call in, the desktop's `[value, err]` out.
//!
//! `api.sync.*` goes to the component; `api.settings.*` and `api.storage.data.*` are the host's
//! own API, served from the vault's `.verstak/` files exactly as the desktop keeps them.
//!
//! Live state: every run (the panel's or the live loop's) and every call that changes the
//! state publishes the status to the [`Hub`] (`GET /events`, see `push`). While `serve` runs the
//! live loop, the status carries `live: true`: the frontend then leaves auto-sync to the host.

use crate::bindings::SyncStatus;
use crate::bindings::exports::verstak::sync::sync_provider::{Direction, SyncSummary};
use crate::dto;
use crate::live::Input;
use crate::push::Hub;
use crate::runtime::Runtime;
use crate::session::{Failure, Session};
use crate::state::ProgressHandle;
use crate::vault::{VaultDirs, write_atomic};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Mutex, PoisonError};

/// One vault's bridge. Calls into the component are serialised; while a sync runs,
/// `sync.status` is answered from the last snapshot plus the live progress, so the panel and
/// the status bar stay responsive. At any other time it waits its turn: a snapshot taken before
/// a short call (reset key, disconnect) must never be served after it.
pub struct Bridge<'r> {
    session: Mutex<Session<'r>>,
    progress: ProgressHandle,
    last_status: Mutex<Option<SyncStatus>>,
    /// True while a sync (or a guard decision followed by a sync) holds the session.
    running: AtomicBool,
    vault: VaultDirs,
    /// The open `/events` streams.
    pub hub: Hub,
    /// The live loop's inbox while `serve` runs it (told when the pairing or settings change).
    live: Mutex<Option<Sender<Input>>>,
    /// Wakes the progress pusher when a run starts.
    run_started: Mutex<Option<Sender<()>>>,
}

/// What a bridge call gives back before it becomes `[value, err]`.
type Reply<T = Value> = Result<T, String>;

fn text_arg(args: &[Value], i: usize) -> String {
    args.get(i)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// A non-negative whole number argument (a list limit); anything else is 0, the default.
fn count_arg(v: &Value) -> u32 {
    v.as_u64().map_or(0, |n| n.min(u64::from(u32::MAX)) as u32)
}

/// The strings of a JSON array (anything else is the empty list).
fn string_list(v: &Value) -> Vec<String> {
    let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
    items
        .iter()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

fn direction(args: &[Value]) -> Reply<Direction> {
    match args.first().and_then(Value::as_str) {
        Some("incoming") => Ok(Direction::Incoming),
        Some("outgoing") => Ok(Direction::Outgoing),
        _ => Err("direction must be incoming or outgoing".into()),
    }
}

impl<'r> Bridge<'r> {
    pub fn new(runtime: &'r Runtime, vault: &Path) -> anyhow::Result<Bridge<'r>> {
        let dirs = VaultDirs::open(vault, &runtime.manifest().id)?;
        let session = Session::new(runtime, vault);
        let progress = session.progress();
        Ok(Bridge {
            session: Mutex::new(session),
            progress,
            last_status: Mutex::new(None),
            running: AtomicBool::new(false),
            vault: dirs,
            hub: Hub::default(),
            live: Mutex::new(None),
            run_started: Mutex::new(None),
        })
    }

    /// The live loop runs and reads `tx`: statuses say `live: true` from now on.
    pub fn set_live(&self, tx: Sender<Input>) {
        *self.live.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
    }

    fn is_live(&self) -> bool {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Tells the live loop (if any) that the pairing or the settings changed.
    fn reconfigured(&self) {
        if let Some(tx) = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            let _ = tx.send(Input::Reconfigured);
        }
    }

    /// `tx` is told each time a run starts (the progress pusher waits on it).
    pub fn on_run_started(&self, tx: Sender<()>) {
        *self
            .run_started
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(tx);
    }

    /// True while a sync holds the session.
    pub fn running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// The status as `sync.status` answers it (also while a run holds the session).
    pub fn status_json(&self) -> Reply {
        self.status()
    }

    /// Publishes the current status to the open `/events` streams.
    pub fn publish(&self) {
        if !self.hub.has_subscribers() {
            return;
        }
        let cached = self
            .last_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        if self.running() && !cached {
            return; // the run holds the session and nothing is cached: the end publishes
        }
        match self.status() {
            Ok(status) => self.hub.publish(&status),
            Err(e) => tracing::debug!("no status to publish: {e}"),
        }
    }

    /// A sync for the live loop: `paths` runs `sync-changed`, `None` runs `sync-now`.
    pub fn live_sync(&self, paths: Option<&[String]>) -> Result<SyncSummary, Failure> {
        self.run_failure(|s| match paths {
            Some(p) => s.sync_changed(p),
            None => s.sync_now(),
        })
    }

    /// The local status for the live loop.
    pub fn live_status(&self) -> Result<SyncStatus, Failure> {
        let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        session.status()
    }

    /// What the component writes, for the live loop's watcher.
    pub fn writes(&self) -> crate::live::WriteLog {
        self.session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .writes()
    }

    /// Answers one call as the desktop's `[value, err]` pair; `err` is `""` on success.
    pub fn call(&self, method: &str, args: &[Value]) -> Value {
        match self.dispatch(method, args) {
            Ok(value) => json!([value, ""]),
            Err(message) => json!([Value::Null, message]),
        }
    }

    fn with_session<T>(
        &self,
        f: impl FnOnce(&mut Session<'r>) -> Result<T, crate::session::Failure>,
    ) -> Reply<T> {
        let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut session).map_err(|e| e.message)
    }

    /// Runs a sync-like call, marking it so `status` answers from the snapshot meanwhile.
    fn run<T>(
        &self,
        f: impl FnOnce(&mut Session<'r>) -> Result<T, crate::session::Failure>,
    ) -> Reply<T> {
        self.run_failure(f).map_err(|e| e.message)
    }

    /// [`Bridge::run`] keeping the failure's code; publishes the status as the run starts
    /// (`syncing`) and once it ended.
    fn run_failure<T>(
        &self,
        f: impl FnOnce(&mut Session<'r>) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let result = {
            let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
            self.running.store(true, Ordering::SeqCst);
            if let Some(tx) = self
                .run_started
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
            {
                let _ = tx.send(());
            }
            self.publish();
            let result = f(&mut session);
            self.running.store(false, Ordering::SeqCst);
            result
        };
        self.publish();
        result
    }

    fn status(&self) -> Reply {
        if self.running.load(Ordering::SeqCst) {
            let cached = self
                .last_status
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if let Some(status) = cached {
                let mut json = dto::status_json(&status, self.progress.latest().as_ref());
                json["syncing"] = Value::Bool(true);
                json["live"] = Value::Bool(self.is_live());
                return Ok(json);
            }
        }
        let status = self.with_session(|s| s.status())?;
        let mut json = dto::status_json(&status, None);
        json["live"] = Value::Bool(self.is_live());
        *self
            .last_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(status);
        Ok(json)
    }

    fn dispatch(&self, method: &str, args: &[Value]) -> Reply {
        let reply = self.dispatch_call(method, args);
        if matches!(
            method,
            "sync.configure"
                | "sync.disconnect"
                | "sync.resetKey"
                | "sync.setInterval"
                | "sync.setIgnore"
        ) {
            self.reconfigured();
            self.publish();
        }
        reply
    }

    fn dispatch_call(&self, method: &str, args: &[Value]) -> Reply {
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
        let done = |()| Value::Null;
        match method {
            "sync.status" => self.status(),
            "sync.configure" => self
                .with_session(|s| {
                    s.configure(
                        &text_arg(args, 0),
                        &text_arg(args, 1),
                        &text_arg(args, 2),
                        &text_arg(args, 3),
                    )
                })
                .map(done),
            "sync.testConnection" => self
                .with_session(|s| {
                    s.test_connection(&text_arg(args, 0), &text_arg(args, 1), &text_arg(args, 2))
                })
                .map(done),
            "sync.disconnect" => self.with_session(|s| s.disconnect()).map(done),
            "sync.resetKey" => self.with_session(|s| s.reset_key()).map(done),
            "sync.now" => self
                .run(|s| s.sync_now())
                .map(|sum| dto::summary_json(&sum)),
            "sync.setInterval" => {
                let minutes = arg(0).as_f64().unwrap_or(0.0);
                let minutes = if minutes.fract() == 0.0 && minutes.abs() <= i32::MAX as f64 {
                    minutes as i32
                } else {
                    -1
                };
                self.with_session(|s| s.set_interval(minutes)).map(done)
            }
            "sync.confirmDeletions" => {
                let d = direction(args)?;
                self.run(|s| s.confirm_deletions(d))
                    .map(|sum| dto::summary_json(&sum))
            }
            "sync.restoreDeletions" => {
                let d = direction(args)?;
                self.run(|s| s.restore_deletions(d))
                    .map(|sum| dto::summary_json(&sum))
            }
            "sync.dismissConflicts" => {
                let ids = string_list(&arg(0));
                self.with_session(|s| s.dismiss_conflicts(&ids)).map(done)
            }
            "sync.setIgnore" => {
                let patterns = string_list(&arg(0));
                self.with_session(|s| s.set_ignore(&patterns)).map(done)
            }
            "sync.history" => {
                let limit = count_arg(&arg(1));
                self.with_session(|s| s.history(&text_arg(args, 0), limit))
                    .map(|list| crate::history::versions_json(&list))
            }
            "sync.deleted" => {
                let limit = count_arg(&arg(0));
                self.with_session(|s| s.deleted(limit))
                    .map(|list| crate::history::deleted_json(&list))
            }
            "sync.restore" => {
                let version = arg(1)
                    .as_i64()
                    .ok_or("sync.restore: the version must be a whole number")?;
                self.run(|s| s.restore(&text_arg(args, 0), version))
                    .map(|r| crate::history::restored_json(&r))
            }
            "settings.read" => self.settings_read(arg(0).as_str()),
            "settings.write" => self.settings_write(arg(0).as_str(), arg(1)),
            "settings.writeAll" => self.settings_write_all(arg(0)),
            "storage.data.read" => self.data_read(arg(0).as_str()),
            "storage.data.write" => self.data_write(arg(0).as_str(), arg(1)),
            other => Err(format!("{other} is not available")),
        }
    }

    fn read_object(path: &Path) -> Result<Map<String, Value>, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => match serde_json::from_str(&text) {
                Ok(Value::Object(m)) => Ok(m),
                _ => Err(format!("{} is not a JSON object", path.display())),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    fn write_object(path: &Path, value: &Value) -> Result<(), String> {
        if !value.is_object() {
            return Err("the value must be a JSON object".into());
        }
        write_atomic(path, value.to_string().as_bytes(), 0o600)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn settings_read(&self, key: Option<&str>) -> Reply {
        let all = Self::read_object(&self.vault.settings_file())?;
        Ok(match key {
            Some(k) => all.get(k).cloned().unwrap_or(Value::Null),
            None => Value::Object(all),
        })
    }

    fn settings_write(&self, key: Option<&str>, value: Value) -> Reply {
        let key = key
            .filter(|k| !k.is_empty())
            .ok_or("settings key required")?;
        let mut all = Self::read_object(&self.vault.settings_file())?;
        all.insert(key.to_string(), value);
        let all = Value::Object(all);
        Self::write_object(&self.vault.settings_file(), &all)?;
        Ok(all)
    }

    fn settings_write_all(&self, value: Value) -> Reply {
        Self::write_object(&self.vault.settings_file(), &value).map(|()| Value::Null)
    }

    /// `storage.data` documents live beside the engine's own state, one file per name.
    fn data_file(&self, name: Option<&str>) -> Result<PathBuf, String> {
        let name = name
            .filter(|n| !n.is_empty())
            .ok_or("storage name required")?;
        let ok = name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(format!("invalid storage name {name:?}"));
        }
        Ok(self
            .vault
            .data_dir()
            .join("documents")
            .join(format!("{name}.json")))
    }

    fn data_read(&self, name: Option<&str>) -> Reply {
        Self::read_object(&self.data_file(name)?).map(Value::Object)
    }

    fn data_write(&self, name: Option<&str>, value: Value) -> Reply {
        Self::write_object(&self.data_file(name)?, &value).map(|()| Value::Null)
    }
}
