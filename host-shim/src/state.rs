//! `HostState`: everything one component instance may touch, owned by its `Store`.

use crate::grants::Grants;
use crate::limits::MemoryCap;
use crate::vault::VaultDirs;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub struct HostState {
    pub grants: Grants,
    pub vault: VaultDirs,
    pub memory: MemoryCap,
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
            wasi: WasiCtx::builder().inherit_stderr().build(),
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
