//! The wasmtime side: one `Engine` and one compiled `Component` per process, a fresh `Store` per
//! vault, an epoch ticker for deadlines and a memory cap per store.
//!
//! The ticker runs only while an export call is in progress ([`Calls`]): an idle live host
//! (`watch`, `serve`) must not wake a hundred times a second for nothing.
//!
//! Order of use: [`Runtime::load`] (validate the manifest, compile, check the API version, link) → [`Runtime::instantiate`]
//! for a vault → [`Instance::call`] for each export call. A trap ends that instance only; the
//! caller instantiates again for the next call.

use crate::bindings::{Plugin, PluginPre};
use crate::grants::Grants;
use crate::limits::{EPOCH_TICK, Limits, MemoryCap};
use crate::manifest::{self, Manifest};
use crate::state::HostState;
use crate::vault::VaultDirs;
use anyhow::Context;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store, Trap};

/// Why an export call did not return normally.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the plugin exceeded its time limit of {0:?} and was stopped")]
    Timeout(std::time::Duration),
    #[error("the plugin exceeded its memory limit of {0} MiB and was stopped")]
    MemoryExceeded(usize),
    #[error("the plugin crashed: {0}")]
    Trap(String),
}

impl CallError {
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Timeout(_) => "timeout",
            CallError::MemoryExceeded(_) => "memory_exceeded",
            CallError::Trap(_) => "plugin_trap",
        }
    }
}

/// A compiled, linked component plus the manifest that governs it.
pub struct Runtime {
    pre: PluginPre<HostState>,
    engine: Engine,
    manifest: Manifest,
    limits: Limits,
    calls: Arc<Calls>,
}

/// How many export calls are in progress; the epoch ticker sleeps while there are none.
#[derive(Default)]
struct Calls {
    active: Mutex<usize>,
    changed: Condvar,
}

/// Counts one call while alive.
struct CallGuard<'a>(&'a Calls);

impl Calls {
    fn enter(&self) -> CallGuard<'_> {
        *self.active.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.changed.notify_all();
        CallGuard(self)
    }

    /// Waits until a call is in progress, or `timeout` passed; true when one is.
    fn wait_active(&self, timeout: Duration) -> bool {
        let active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        let (active, _) = self
            .changed
            .wait_timeout_while(active, timeout, |n| *n == 0)
            .unwrap_or_else(PoisonError::into_inner);
        *active > 0
    }
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        *self.0.active.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
    }
}

impl Runtime {
    /// Validates the manifest, compiles the component, refuses it when it was built for another
    /// API version ([`crate::bindings::check_api_version`]) and links every import.
    pub fn load(component: &Path, manifest_path: &Path, limits: Limits) -> anyhow::Result<Runtime> {
        let text = std::fs::read_to_string(manifest_path)
            .with_context(|| format!("cannot read the manifest {}", manifest_path.display()))?;
        let manifest =
            manifest::parse(&text).with_context(|| format!("{}", manifest_path.display()))?;

        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let how = "build it with `cargo build -p verstak-sync-plugin --target wasm32-wasip2 --release`, or pass --component";
        let bytes = std::fs::read(component).with_context(|| {
            format!("cannot read the component {} ({how})", component.display())
        })?;
        let compiled = crate::compile_cache::load(&engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("cannot load the component {} ({how})", component.display())
            })?;
        // Before linking, so a stale build gets a clear error rather than a missing import.
        crate::bindings::check_api_version(&engine, &compiled, &component.display().to_string())?;

        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        let pre = PluginPre::new(linker.instantiate_pre(&compiled)?)?;
        let calls = Arc::new(Calls::default());
        spawn_epoch_ticker(&engine, calls.clone());
        Ok(Runtime {
            pre,
            engine,
            manifest,
            limits,
            calls,
        })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// A fresh instance confined to `vault`.
    pub fn instantiate(&self, vault: &Path) -> anyhow::Result<Instance> {
        let dirs = VaultDirs::open(vault, &self.manifest.id)
            .with_context(|| format!("cannot open the vault {}", vault.display()))?;
        let grants = Grants::new(&self.manifest.id, &self.manifest.permissions);
        let state = HostState::new(grants, dirs, MemoryCap::new(self.limits.memory_bytes));
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.memory);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(self.limits.deadline_ticks());
        let bindings = self.pre.instantiate(&mut store)?;
        Ok(Instance {
            store,
            bindings,
            limits: self.limits,
            calls: self.calls.clone(),
        })
    }
}

/// Bumps the epoch every tick while a call is in progress, for as long as the engine lives.
/// Between calls it sleeps (checking now and then whether the engine is gone); a call's
/// deadline counts from the epoch at its start, so idle time never counts against it.
fn spawn_epoch_ticker(engine: &Engine, calls: Arc<Calls>) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            loop {
                let busy = calls.wait_active(Duration::from_secs(5));
                let Some(engine) = weak.upgrade() else { return };
                if busy {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            }
        })
        .expect("spawning a thread at start-up succeeds");
}

/// One component instance bound to one vault.
pub struct Instance {
    store: Store<HostState>,
    bindings: Plugin,
    limits: Limits,
    calls: Arc<Calls>,
}

impl Instance {
    pub fn state_mut(&mut self) -> &mut HostState {
        self.store.data_mut()
    }

    /// Runs one export call under the deadline and memory cap. After an `Err` the instance is
    /// dead: drop it and instantiate again.
    pub fn call<R>(
        &mut self,
        f: impl FnOnce(&Plugin, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let calls = self.calls.clone();
        let _ticking = calls.enter();
        self.store.set_epoch_deadline(self.limits.deadline_ticks());
        // The epoch cannot interrupt a blocking host call: the network import reads this.
        self.store.data_mut().call_window =
            Some((std::time::Instant::now(), self.limits.call_deadline));
        // A refused grow that the guest survived must not label a later, unrelated trap.
        self.store.data_mut().memory.hit = false;
        // New files are batched while the call runs and settled before it returns.
        self.store.data_mut().begin_call_writes();
        let result = f(&self.bindings, &mut self.store);
        self.store.data_mut().end_call_writes();
        result.map_err(|e| {
            if self.store.data().memory.hit {
                CallError::MemoryExceeded(self.limits.memory_bytes >> 20)
            } else if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                CallError::Timeout(self.limits.call_deadline)
            } else {
                CallError::Trap(format!("{e:#}"))
            }
        })
    }
}
