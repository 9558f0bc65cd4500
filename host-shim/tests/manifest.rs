//! The repository's `manifest.json` and catalogs pass the rules of plugin-contract §1.3.

use serde_json::{Map, Value};
use std::path::Path;
use verstak_sync_host::manifest;

fn repo(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)).unwrap()
}

#[test]
fn the_repository_manifest_is_valid() {
    let m = manifest::parse(&repo("manifest.json")).unwrap();
    assert_eq!(m.id, "verstak.sync");
    assert_eq!(m.name, "Sync");
}

#[test]
fn the_manifest_declares_what_the_contract_requires() {
    let m: Value = serde_json::from_str(&repo("manifest.json")).unwrap();
    assert_eq!(m["apiVersion"], "0.1.0");
    assert_eq!(
        m["provides"],
        serde_json::json!(["verstak/sync/v1", "verstak/sync.status/v1"])
    );
    assert_eq!(m["requires"], serde_json::json!(["verstak/core/files/v1"]));
    assert_eq!(m["frontend"]["entry"], "frontend/dist/index.js");
    assert_eq!(
        m["contributes"]["settingsPanels"][0]["component"],
        "SyncSettings"
    );
    assert_eq!(
        m["contributes"]["statusBarItems"][0]["handler"],
        "SyncStatusBar"
    );
    for needed in [
        "files.read",
        "files.write",
        "files.delete",
        "network.remote",
        "storage.namespace",
    ] {
        assert!(
            m["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == needed),
            "{needed} is needed by the engine's imports"
        );
    }
}

#[test]
fn the_catalogs_match_the_manifest() {
    let m: Value = serde_json::from_str(&repo("manifest.json")).unwrap();
    let catalog = |p: &str| -> Map<String, Value> { serde_json::from_str(&repo(p)).unwrap() };
    let problems =
        manifest::catalog_problems(&m, &catalog("locales/en.json"), &catalog("locales/ru.json"));
    assert!(problems.is_empty(), "{problems:?}");
}
