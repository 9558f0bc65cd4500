//! The `verstak-sync-host` binary as a user runs it: exit codes and output.

mod common;

use common::*;
use std::process::Command;

#[test]
fn set_interval_then_status_json() {
    let vault = tempfile::tempdir().unwrap();
    let out = host_cli(vault.path())
        .args(["set-interval", "12"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = host_cli(vault.path())
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["syncInterval"], 12);
    assert_eq!(status["statusLabel"], "disabled");
    assert_eq!(status["tokenStored"], false);
}

#[test]
fn errors_exit_non_zero_with_code_and_message() {
    let vault = tempfile::tempdir().unwrap();
    let out = host_cli(vault.path())
        .args(["set-interval", "9999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid_interval: invalid interval"),
        "{stderr}"
    );
}

#[test]
fn a_missing_vault_is_a_clear_error() {
    let out = host_cli(std::path::Path::new("/nonexistent/vault"))
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot open the vault /nonexistent/vault")
    );
}

#[test]
fn an_invalid_manifest_is_refused_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("manifest.json");
    std::fs::write(&bad, r#"{"schemaVersion":2,"id":"verstak.sync"}"#).unwrap();
    let vault = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_verstak-sync-host"))
        .arg("--vault")
        .arg(vault.path())
        .arg("--component")
        .arg(component())
        .arg("--manifest")
        .arg(&bad)
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schemaVersion must be the integer 1"));
}

#[test]
fn the_compiled_component_is_cached_and_a_bad_cache_entry_is_recompiled() {
    let vault = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let status = |expect_ok: bool| {
        let out = host_cli(vault.path())
            .env("VERSTAK_SYNC_CACHE_DIR", cache.path())
            .args(["status", "--json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.success(),
            expect_ok,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    status(true);
    let entries: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "one artifact per component");
    assert!(entries[0].extension().is_some_and(|e| e == "cwasm"));
    status(true);

    std::fs::write(&entries[0], b"not a compiled component").unwrap();
    status(true);
    assert!(
        std::fs::metadata(&entries[0]).unwrap().len() > 1000,
        "the bad entry was replaced by a fresh compile"
    );
}
