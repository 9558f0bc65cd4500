//! The real engine component in real wasmtime: exports called by the host, imports served by it.

mod common;

use common::*;
use serde_json::{Value, json};
use verstak_sync_host::limits::Limits;
use verstak_sync_host::runtime::Runtime;

#[test]
fn status_reads_settings_through_the_settings_import() {
    let vault = tempfile::tempdir().unwrap();
    let file = settings_file(vault.path());
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        r#"{"serverUrl":"http://127.0.0.1:9","syncInterval":7,"ignore":["*.tmp"]}"#,
    )
    .unwrap();

    let mut instance = runtime().instantiate(vault.path()).unwrap();
    let status = instance
        .call(|p, s| p.verstak_sync_sync_provider().call_status(s))
        .unwrap()
        .unwrap();

    assert_eq!(status.sync_interval, 7);
    assert_eq!(status.ignore, vec!["*.tmp".to_string()]);
    // The server URL the UI typed is not a pairing: only `configure` pairs.
    assert_eq!(status.server_url, "");
    assert!(!status.configured, "no device token is stored");
    assert_eq!(status.status_label, "disabled");
}

#[test]
fn an_empty_vault_reports_the_disabled_state() {
    let vault = tempfile::tempdir().unwrap();
    let mut instance = runtime().instantiate(vault.path()).unwrap();
    let status = instance
        .call(|p, s| p.verstak_sync_sync_provider().call_status(s))
        .unwrap()
        .unwrap();
    assert_eq!(status.status_label, "disabled");
    assert_eq!(status.sync_interval, 0);
    assert!(
        !settings_file(vault.path()).exists(),
        "reading the status writes nothing"
    );
}

#[test]
fn set_interval_writes_settings_and_keeps_unknown_keys() {
    let vault = tempfile::tempdir().unwrap();
    let file = settings_file(vault.path());
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        r#"{"serverUrl":"http://h","autoSync":true,"fromTheUi":{"a":1}}"#,
    )
    .unwrap();

    let mut instance = runtime().instantiate(vault.path()).unwrap();
    instance
        .call(|p, s| p.verstak_sync_sync_provider().call_set_interval(s, 30))
        .unwrap()
        .unwrap();

    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        saved,
        json!({"serverUrl":"http://h","autoSync":true,"fromTheUi":{"a":1},"syncInterval":30})
    );
    // The same instance sees its own write on the next call.
    let status = instance
        .call(|p, s| p.verstak_sync_sync_provider().call_status(s))
        .unwrap()
        .unwrap();
    assert_eq!(status.sync_interval, 30);
}

#[test]
fn an_out_of_range_interval_is_a_typed_error_and_changes_nothing() {
    let vault = tempfile::tempdir().unwrap();
    let mut instance = runtime().instantiate(vault.path()).unwrap();
    for bad in [-1, 1441] {
        let err = instance
            .call(|p, s| p.verstak_sync_sync_provider().call_set_interval(s, bad))
            .unwrap()
            .unwrap_err();
        assert_eq!(err.code, "invalid_interval");
        assert_eq!(
            err.message,
            format!(
                "invalid interval: {bad} minutes is not between 0 and 1440 (0 turns auto-sync off)"
            )
        );
    }
    assert!(!settings_file(vault.path()).exists());
}

#[test]
fn without_storage_namespace_the_settings_import_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_without(dir.path(), "storage.namespace");
    let runtime = Runtime::load(&component(), &manifest, Limits::default()).unwrap();
    let vault = tempfile::tempdir().unwrap();
    let mut instance = runtime.instantiate(vault.path()).unwrap();

    let err = instance
        .call(|p, s| p.verstak_sync_sync_provider().call_set_interval(s, 5))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code, "not_permitted");
    assert_eq!(
        err.message,
        "plugin \"verstak.sync\" lacks required permission \"storage.namespace\""
    );
    assert!(!settings_file(vault.path()).exists(), "nothing was written");
}

#[test]
fn a_corrupt_settings_file_is_reported_not_overwritten() {
    let vault = tempfile::tempdir().unwrap();
    let file = settings_file(vault.path());
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "[not an object").unwrap();
    let mut instance = runtime().instantiate(vault.path()).unwrap();
    let err = instance
        .call(|p, s| p.verstak_sync_sync_provider().call_set_interval(s, 5))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code, "invalid_input");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "[not an object");
}
