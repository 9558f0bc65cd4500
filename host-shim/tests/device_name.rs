//! `configure` without `--device-name` pairs as `<host name> · <vault folder>`, so a user's
//! devices and vaults tell apart on the server's dashboard; `--device-name` still wins.

mod common;

use common::device::{PASSWORD, VAULT};
use common::server::Server;
use common::*;
use std::path::Path;

/// Runs `configure` (plus `extra`) on `vault` and returns the paired device name from
/// `status --json`.
fn configure(server: &Server, vault: &Path, extra: &[&str]) -> String {
    let out = host_cli(vault)
        .args(["configure", "--server", &server.url(), "--username", "ann"])
        .args(["--password", PASSWORD, "--vault-id", VAULT])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = host_cli(vault).args(["status", "--json"]).output().unwrap();
    assert!(out.status.success());
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["statusLabel"], "connected", "{status}");
    status["deviceName"].as_str().unwrap().to_string()
}

#[test]
fn the_default_device_name_carries_the_vault_folder() {
    let server = Server::start();
    server.add_user("ann", PASSWORD);
    let parent = tempfile::tempdir().unwrap();

    let work = parent.path().join("work notes");
    std::fs::create_dir(&work).unwrap();
    let name = configure(&server, &work, &[]);
    let (host_name, folder) = name.split_once(" · ").expect(&name);
    assert!(!host_name.is_empty(), "{name}");
    assert_eq!(folder, "work notes");

    let home = parent.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let name = configure(&server, &home, &["--device-name", "desk"]);
    assert_eq!(name, "desk");
}
