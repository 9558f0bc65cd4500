//! The panel's JSON bridge: one `VerstakPluginAPI` call in, the desktop's `[value, err]` out.
//!
//! `api.sync.*` goes to the component; `api.settings.*` and `api.storage.data.*` are the host's
//! own API, served from the vault's `.verstak/` files exactly as the desktop keeps them.

use crate::bindings::{Plugin, SyncError};
use crate::dto;
use crate::runtime::{CallError, Instance, Runtime};
use crate::state::HostState;
use crate::vault::{VaultDirs, write_atomic};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use wasmtime::Store;

/// One vault's bridge: the runtime, a live instance (recreated after a trap) and the vault.
pub struct Bridge<'r> {
    runtime: &'r Runtime,
    vault: VaultDirs,
    instance: Option<Instance>,
}

/// What a bridge call gives back before it becomes `[value, err]`.
type Reply<T = Value> = Result<T, String>;

impl<'r> Bridge<'r> {
    pub fn new(runtime: &'r Runtime, vault: &Path) -> anyhow::Result<Bridge<'r>> {
        let vault = VaultDirs::open(vault, &runtime.manifest().id)?;
        Ok(Bridge { runtime, vault, instance: None })
    }

    /// Answers one call as the desktop's `[value, err]` pair; `err` is `""` on success.
    pub fn call(&mut self, method: &str, args: &[Value]) -> Value {
        match self.dispatch(method, args) {
            Ok(value) => json!([value, ""]),
            Err(message) => json!([Value::Null, message]),
        }
    }

    fn dispatch(&mut self, method: &str, args: &[Value]) -> Reply {
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
        match method {
            "sync.status" => self.export(|p, s| p.verstak_sync_sync_provider().call_status(s)).map(|st| dto::status_json(&st)),
            "sync.setInterval" => {
                let minutes = arg(0).as_f64().unwrap_or(0.0);
                let minutes = if minutes.fract() == 0.0 && minutes.abs() <= i32::MAX as f64 { minutes as i32 } else { -1 };
                self.export(|p, s| p.verstak_sync_sync_provider().call_set_interval(s, minutes)).map(|()| Value::Null)
            }
            "settings.read" => self.settings_read(arg(0).as_str()),
            "settings.write" => self.settings_write(arg(0).as_str(), arg(1)),
            "settings.writeAll" => self.settings_write_all(arg(0)),
            "storage.data.read" => self.data_read(arg(0).as_str()),
            "storage.data.write" => self.data_write(arg(0).as_str(), arg(1)),
            other => Err(format!("{other} is not available")),
        }
    }

    fn export<T>(&mut self, f: impl FnOnce(&Plugin, &mut Store<HostState>) -> wasmtime::Result<Result<T, SyncError>>) -> Reply<T> {
        let instance = match &mut self.instance {
            Some(i) => i,
            None => self.instance.insert(self.runtime.instantiate(&self.vault.root).map_err(|e| format!("sync service not initialized: {e:#}"))?),
        };
        match instance.call(f) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.message),
            Err(e @ (CallError::Timeout(_) | CallError::MemoryExceeded(_) | CallError::Trap(_))) => {
                tracing::error!("component call failed: {e}");
                self.instance = None;
                Err(e.to_string())
            }
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
        write_atomic(path, value.to_string().as_bytes(), 0o600).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn settings_read(&self, key: Option<&str>) -> Reply {
        let all = Self::read_object(&self.vault.settings_file())?;
        Ok(match key {
            Some(k) => all.get(k).cloned().unwrap_or(Value::Null),
            None => Value::Object(all),
        })
    }

    fn settings_write(&self, key: Option<&str>, value: Value) -> Reply {
        let key = key.filter(|k| !k.is_empty()).ok_or("settings key required")?;
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
        let name = name.filter(|n| !n.is_empty()).ok_or("storage name required")?;
        let ok = name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(format!("invalid storage name {name:?}"));
        }
        Ok(self.vault.data_dir().join("documents").join(format!("{name}.json")))
    }

    fn data_read(&self, name: Option<&str>) -> Reply {
        Self::read_object(&self.data_file(name)?).map(Value::Object)
    }

    fn data_write(&self, name: Option<&str>, value: Value) -> Reply {
        Self::write_object(&self.data_file(name)?, &value).map(|()| Value::Null)
    }
}
