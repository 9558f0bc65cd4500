//! `Session`: the component for one vault, called the way the panel and the CLI call it.
//!
//! One typed method per export. Each hides the two failure layers (the export's `sync-error`
//! and a trap, timeout or blown memory cap) behind one [`Failure`] with a stable code, and
//! instantiates a fresh component after a trap, so a crash costs one call, never the host.
//! Calls that change sync state hold the vault lock, so two processes never interleave them.
//! [`Session::resolve_deletions`] reads the guard and resolves it under one lock, so the
//! decision always answers the guard it was made on.

use crate::bindings::exports::verstak::sync::sync_provider::{
    DeletedFile, FileVersion, Guard, Restored, SyncSummary,
};
use crate::bindings::exports::verstak::sync::sync_provider::{Direction, Guest as Provider};
use crate::bindings::{SyncError, SyncStatus};
use crate::runtime::{Instance, Runtime};
use crate::state::{HostState, ProgressHandle};
use crate::vault::VaultDirs;
use crate::vault_lock::{LockError, VaultLock};
use std::path::{Path, PathBuf};
use wasmtime::Store;

/// A failed call: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Failure {
    pub code: String,
    pub message: String,
}

pub struct Session<'r> {
    runtime: &'r Runtime,
    vault: PathBuf,
    instance: Option<Instance>,
    device_name: Option<String>,
    progress: ProgressHandle,
    writes: crate::live::WriteLog,
}

impl<'r> Session<'r> {
    pub fn new(runtime: &'r Runtime, vault: &Path) -> Session<'r> {
        Session {
            runtime,
            vault: vault.to_path_buf(),
            instance: None,
            device_name: None,
            progress: ProgressHandle::default(),
            writes: Default::default(),
        }
    }

    /// Pairs under this device name instead of the host name.
    pub fn with_device_name(mut self, name: Option<String>) -> Session<'r> {
        self.device_name = name;
        self
    }

    /// The live progress of a running sync, readable from other threads.
    pub fn progress(&self) -> ProgressHandle {
        self.progress.clone()
    }

    /// What the component writes to the vault, for a live loop's watcher (recorded once enabled).
    pub fn writes(&self) -> crate::live::WriteLog {
        self.writes.clone()
    }

    fn instance(&mut self) -> Result<&mut Instance, Failure> {
        if self.instance.is_none() {
            let mut instance = self.runtime.instantiate(&self.vault).map_err(|e| Failure {
                code: "host".into(),
                message: format!("{e:#}"),
            })?;
            instance.state_mut().progress = self.progress.clone();
            instance.state_mut().device_name = self.device_name.clone();
            instance.state_mut().writes = self.writes.clone();
            self.instance = Some(instance);
        }
        Ok(self.instance.as_mut().expect("created above"))
    }

    /// The vault lock, held until the guard is dropped; `busy` when another process has it.
    fn lock(&self) -> Result<VaultLock, Failure> {
        let dirs = self.dirs()?;
        VaultLock::try_acquire(&dirs.data_dir()).map_err(|e| match e {
            LockError::Busy => Failure {
                code: "busy".into(),
                message: e.to_string(),
            },
            LockError::Io(_) => Failure {
                code: "host".into(),
                message: e.to_string(),
            },
        })
    }

    /// Like [`Session::call`], holding the vault lock: for calls that change sync state.
    fn call_locked<T>(
        &mut self,
        origin: Option<&str>,
        f: impl FnOnce(&Provider, &mut Store<HostState>) -> wasmtime::Result<Result<T, SyncError>>,
    ) -> Result<T, Failure> {
        let _lock = self.lock()?;
        self.call(origin, f)
    }

    /// Calls one export; `origin` is the URL the user typed, reachable for this call only.
    fn call<T>(
        &mut self,
        origin: Option<&str>,
        f: impl FnOnce(&Provider, &mut Store<HostState>) -> wasmtime::Result<Result<T, SyncError>>,
    ) -> Result<T, Failure> {
        let instance = self.instance()?;
        if let Some(url) = origin {
            // A URL the host cannot parse is left to the engine, which reports `invalid URL: …`.
            let _ = instance.state_mut().allow_origin(url);
        }
        let result = instance.call(|p, s| f(p.verstak_sync_sync_provider(), s));
        instance.state_mut().clear_allowed_origin();
        self.progress.clear();
        match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Failure {
                code: e.code.as_str().into(),
                message: e.message,
            }),
            Err(e) => {
                tracing::error!("the component was stopped: {e}");
                self.instance = None;
                Err(Failure {
                    code: e.code().into(),
                    message: e.to_string(),
                })
            }
        }
    }

    pub fn status(&mut self) -> Result<SyncStatus, Failure> {
        self.call(None, |p, s| p.call_status(s))
    }

    /// Pairs; on success the host records the server as the only origin later calls may reach.
    pub fn configure(
        &mut self,
        server_url: &str,
        username: &str,
        password: &str,
        vault_id: &str,
    ) -> Result<(), Failure> {
        self.call_locked(Some(server_url), |p, s| {
            p.call_configure(s, server_url, username, password, vault_id)
        })?;
        self.record_server(Some(server_url.trim()))
    }

    pub fn test_connection(
        &mut self,
        server_url: &str,
        username: &str,
        password: &str,
    ) -> Result<(), Failure> {
        self.call(Some(server_url), |p, s| {
            p.call_test_connection(s, server_url, username, password)
        })
    }

    pub fn disconnect(&mut self) -> Result<(), Failure> {
        self.call_locked(None, |p, s| p.call_disconnect(s))?;
        self.record_server(None)
    }

    fn record_server(&self, url: Option<&str>) -> Result<(), Failure> {
        let dirs = self.dirs()?;
        dirs.set_paired_server(url).map_err(|e| Failure {
            code: "host".into(),
            message: format!("cannot record the paired server: {e}"),
        })
    }

    fn dirs(&self) -> Result<VaultDirs, Failure> {
        VaultDirs::open(&self.vault, &self.runtime.manifest().id).map_err(|e| Failure {
            code: "host".into(),
            message: format!("cannot open the vault: {e}"),
        })
    }

    pub fn reset_key(&mut self) -> Result<(), Failure> {
        self.call_locked(None, |p, s| p.call_reset_key(s))
    }

    pub fn set_interval(&mut self, minutes: i32) -> Result<(), Failure> {
        self.call(None, |p, s| p.call_set_interval(s, minutes))
    }

    pub fn set_ignore(&mut self, patterns: &[String]) -> Result<(), Failure> {
        self.call(None, |p, s| p.call_set_ignore(s, patterns))
    }

    pub fn sync_now(&mut self) -> Result<SyncSummary, Failure> {
        self.call_locked(None, |p, s| p.call_sync_now(s))
    }

    /// A sync that scans only `paths` (the file watcher's changes since the last sync).
    pub fn sync_changed(&mut self, paths: &[String]) -> Result<SyncSummary, Failure> {
        self.call_locked(None, |p, s| p.call_sync_changed(s, paths))
    }

    pub fn confirm_deletions(&mut self, direction: Direction) -> Result<SyncSummary, Failure> {
        self.call_locked(None, |p, s| p.call_confirm_deletions(s, direction))
    }

    pub fn restore_deletions(&mut self, direction: Direction) -> Result<SyncSummary, Failure> {
        self.call_locked(None, |p, s| p.call_restore_deletions(s, direction))
    }

    /// The server's stored versions of `path`, newest first (`limit` 0: the server's default).
    pub fn history(&mut self, path: &str, limit: u32) -> Result<Vec<FileVersion>, Failure> {
        self.call(None, |p, s| p.call_history(s, path, limit))
    }

    /// The deleted files the server can still restore, newest deletion first.
    pub fn deleted(&mut self, limit: u32) -> Result<Vec<DeletedFile>, Failure> {
        self.call(None, |p, s| p.call_deleted(s, limit))
    }

    /// Puts `version` of `path` back and syncs it. Under the vault lock: it writes the vault
    /// and runs a sync.
    pub fn restore(&mut self, path: &str, version: i64) -> Result<Restored, Failure> {
        self.call_locked(None, |p, s| p.call_restore(s, path, version))
    }

    /// Removes these conflicts from the status (the files stay). Under the vault lock: a sync
    /// run in another process rewrites the same list.
    pub fn dismiss_conflicts(&mut self, ids: &[String]) -> Result<(), Failure> {
        self.call_locked(None, |p, s| p.call_dismiss_conflicts(s, ids))
    }

    /// The CLI's `conflicts dismiss ID…` (`only`) or `conflicts dismiss --all` (`None`): reads
    /// the list and dismisses the listed ones under one vault lock. Returns how many it
    /// dismissed (ids not listed are not counted).
    pub fn dismiss_listed_conflicts(&mut self, only: Option<&[String]>) -> Result<usize, Failure> {
        let _lock = self.lock()?;
        let status = self.call(None, |p, s| p.call_status(s))?;
        let ids: Vec<String> = status
            .conflicts
            .into_iter()
            .map(|c| c.id)
            .filter(|id| only.is_none_or(|o| o.contains(id)))
            .collect();
        if !ids.is_empty() {
            self.call(None, |p, s| p.call_dismiss_conflicts(s, &ids))?;
        }
        Ok(ids.len())
    }

    /// The CLI's `deletions confirm` / `deletions restore`: reads the held guard and resolves
    /// it in its own direction (confirm applies the deletions, restore keeps the files), under
    /// one vault lock. Returns the guard it resolved and the run's summary; the failure code
    /// `nothing_held` when the guard holds nothing, so no decision is recorded for a later one.
    pub fn resolve_deletions(&mut self, confirm: bool) -> Result<(Guard, SyncSummary), Failure> {
        let _lock = self.lock()?;
        let Some(guard) = self.call(None, |p, s| p.call_status(s))?.guard else {
            return Err(Failure {
                code: "nothing_held".into(),
                message: "the mass-deletion guard holds no deletions".into(),
            });
        };
        let direction = guard.direction;
        let summary = if confirm {
            self.call(None, |p, s| p.call_confirm_deletions(s, direction))
        } else {
            self.call(None, |p, s| p.call_restore_deletions(s, direction))
        }?;
        Ok((guard, summary))
    }
}

impl crate::live::Syncer for Session<'_> {
    fn sync(&mut self, paths: Option<&[String]>) -> Result<SyncSummary, Failure> {
        match paths {
            Some(paths) => self.sync_changed(paths),
            None => self.sync_now(),
        }
    }

    fn status(&mut self) -> Result<SyncStatus, Failure> {
        Session::status(self)
    }
}
