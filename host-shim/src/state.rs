//! `HostState`: everything one component instance may touch, owned by its `Store`.
//!
//! Besides the grants and the vault it holds two things the rest of the host steers:
//! the network origin the `network` import may reach ([`HostState::allow_origin`]) and the
//! live progress of a running sync ([`HostState::progress`], a handle other threads can read).

use crate::bindings::HostError;
use crate::grants::Grants;
use crate::imports::network::Origin;
use crate::limits::MemoryCap;
use crate::vault::VaultDirs;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub use crate::imports::progress::{Progress, ProgressHandle};

pub struct HostState {
    pub grants: Grants,
    pub vault: VaultDirs,
    pub memory: MemoryCap,
    /// The origin set by [`HostState::allow_origin`]; when `None`, the `network` import falls
    /// back to the settings' `serverUrl`.
    pub(crate) allowed_origin: Option<Origin>,
    /// The latest `progress.report`, shared with the CLI's progress line and the bridge.
    pub progress: ProgressHandle,
    /// The vault paths this run wrote, for the live loop's file watcher (off unless enabled).
    pub writes: crate::live::WriteLog,
    /// Overrides the host name that `environment.device-name` answers (e.g. from the CLI).
    pub device_name: Option<String>,
    /// Vault folders that gained a new file whose folder entry is not fsynced yet (see
    /// `HostState::place_durably`).
    pub(crate) unsynced_dirs: BTreeSet<PathBuf>,
    /// An export call runs (`begin_call_writes` to `end_call_writes`): new files are queued
    /// (`imports::write_behind`) and folder handles kept (`imports::call_dirs`). Direct users
    /// of `HostState` (tests, tools) keep the immediate write and fresh lookups.
    pub(crate) in_call: bool,
    /// New files queued during an export call (`imports::write_behind`).
    pub(crate) write_behind: crate::imports::write_behind::WriteBehind,
    /// Folder handles and the paired server, kept for the export call in progress
    /// (`imports::call_dirs`; the vault root capability is `HostState::vault_fs`).
    pub(crate) call_dirs: crate::imports::call_dirs::CallDirs,
    /// When the export call in progress began and how long it may run (set by
    /// `runtime::Instance::call`); the `network` import bounds each request by what is left.
    pub(crate) call_window: Option<(Instant, Duration)>,
    /// WASI for the Rust standard library only: no preopened directories, no sockets, no
    /// environment. The component reaches the vault and the network through our imports.
    wasi: WasiCtx,
    table: ResourceTable,
}

impl HostState {
    pub fn new(grants: Grants, vault: VaultDirs, memory: MemoryCap) -> HostState {
        HostState {
            grants,
            vault,
            memory,
            allowed_origin: None,
            progress: ProgressHandle::default(),
            writes: Default::default(),
            device_name: None,
            unsynced_dirs: BTreeSet::new(),
            in_call: false,
            write_behind: Default::default(),
            call_dirs: Default::default(),
            call_window: None,
            wasi: WasiCtx::builder().inherit_stderr().build(),
            table: ResourceTable::new(),
        }
    }

    /// Lets the `network` import reach the origin (scheme, host, port) of `url` — the URL the
    /// user typed — until [`HostState::clear_allowed_origin`]. Call it before `configure` or
    /// `test-connection`. Errors: `invalid-input` when `url` is not an absolute http(s) URL.
    pub fn allow_origin(&mut self, url: &str) -> Result<(), HostError> {
        self.allowed_origin = Some(Origin::parse(url)?);
        Ok(())
    }

    /// Back to the default: only the settings' `serverUrl` is reachable.
    pub fn clear_allowed_origin(&mut self) {
        self.allowed_origin = None;
    }

    /// A handle on the latest progress report, readable from any thread while the component
    /// runs; [`ProgressHandle::clear`] it when a sync call returns.
    pub fn progress(&self) -> ProgressHandle {
        self.progress.clone()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
