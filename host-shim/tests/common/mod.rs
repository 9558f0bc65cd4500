//! Shared by the host's integration tests: the real component, compiled once per test binary.

#![allow(dead_code)]

pub mod device;
pub mod proxy;
pub mod server;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use verstak_sync_host::cli;
use verstak_sync_host::limits::Limits;
use verstak_sync_host::runtime::Runtime;

/// `verstak-sync-host` as a user runs it, for `vault`, with the workspace's component and
/// manifest; the caller adds the command and its arguments.
pub fn host_cli(vault: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_verstak-sync-host"));
    cmd.arg("--vault")
        .arg(vault)
        .arg("--component")
        .arg(component())
        .arg("--manifest")
        .arg(repo_manifest());
    cmd
}

/// The engine component built by `cargo build -p verstak-sync-plugin --target wasm32-wasip2 --release`.
pub fn component() -> PathBuf {
    let path = cli::component_path(None);
    assert!(
        path.is_file(),
        "the engine component is missing at {}; build it first with `cargo build -p verstak-sync-plugin --target wasm32-wasip2 --release`",
        path.display()
    );
    path
}

pub fn repo_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifest.json")
}

/// The runtime for the repository's manifest, compiled once and shared by every test here.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::load(&component(), &repo_manifest(), Limits::default())
            .expect("the real component loads")
    })
}

/// A copy of the repository's manifest with `permission` removed, written into `dir`.
pub fn manifest_without(dir: &Path, permission: &str) -> PathBuf {
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_manifest()).unwrap()).unwrap();
    m["permissions"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p != permission);
    let path = dir.join("manifest.json");
    std::fs::write(&path, m.to_string()).unwrap();
    path
}

pub fn settings_file(vault: &Path) -> PathBuf {
    vault.join(".verstak/plugin-settings/verstak.sync/settings.json")
}
