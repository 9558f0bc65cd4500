//! The installable package: contents, checksums, the manifest and catalog rules, and the
//! bundle checks (plugin-contract §1.1, §1.14).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use verstak_sync_host::package;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The repository's sources with the built bundle; the frontend must have been built.
fn sources_ready() -> PathBuf {
    let root = repo();
    assert!(
        root.join("frontend/dist/index.js").is_file(),
        "the frontend bundle is missing; build it with `npm run build` in frontend/"
    );
    root
}

#[test]
fn the_package_holds_exactly_the_contract_files_and_verifies() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("verstak.sync");
    package::assemble(&sources_ready(), &common::component(), &dir).unwrap();

    let sums = fs::read_to_string(dir.join("checksums.txt")).unwrap();
    let listed: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").unwrap().1)
        .collect();
    assert_eq!(
        listed,
        [
            "backend/verstak_sync_plugin.wasm",
            "frontend/dist/index.js",
            "frontend/dist/style.css",
            "locales/en.json",
            "locales/ru.json",
            "plugin.json",
        ]
    );
    assert_eq!(
        fs::read(dir.join("plugin.json")).unwrap(),
        fs::read(repo().join("manifest.json")).unwrap()
    );
    assert_eq!(
        fs::read(dir.join(package::BACKEND_FILE)).unwrap(),
        fs::read(common::component()).unwrap()
    );
    package::verify(&dir).unwrap();

    // The frontend's own check executes the packaged bundle with a stub VerstakPluginRegister.
    let check = std::process::Command::new("node")
        .arg(repo().join("frontend/scripts/check-bundle.mjs"))
        .arg(dir.join("frontend/dist"))
        .output()
        .expect("node runs");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn tampering_is_detected() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("pkg");
    package::assemble(&sources_ready(), &common::component(), &dir).unwrap();

    fs::write(dir.join("locales/ru.json"), "{}").unwrap();
    let err = package::verify(&dir).unwrap_err().to_string();
    assert!(
        err.contains("checksum mismatch for locales/ru.json"),
        "{err}"
    );

    package::assemble(&sources_ready(), &common::component(), &dir).unwrap();
    fs::write(dir.join("extra.txt"), "x").unwrap();
    assert!(
        package::verify(&dir)
            .unwrap_err()
            .to_string()
            .contains("but the package holds")
    );
}

/// A copy of the sources whose `locales/ru.json` lacks one key of `en`.
#[test]
fn catalogs_with_different_keys_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let src = sources_ready();
    for rel in [
        "manifest.json",
        "locales/en.json",
        "frontend/dist/index.js",
        "frontend/dist/style.css",
    ] {
        fs::create_dir_all(root.path().join(rel).parent().unwrap()).unwrap();
        fs::copy(src.join(rel), root.path().join(rel)).unwrap();
    }
    let mut ru: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&fs::read_to_string(src.join("locales/ru.json")).unwrap()).unwrap();
    ru.remove("manifest.name");
    fs::write(
        root.path().join("locales/ru.json"),
        serde_json::to_string(&ru).unwrap(),
    )
    .unwrap();

    let err = package::assemble(root.path(), &common::component(), &root.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"manifest.name\" is in only one of en and ru"),
        "{err}"
    );
}

#[test]
fn bundle_rules() {
    assert!(
        package::bundle_problems(
            "window.VerstakPluginRegister('verstak.sync',{}) .sync-settings-surface",
            "a{}"
        )
        .is_empty()
    );
    let found = package::bundle_problems("api.backend.call(1)", "");
    assert!(
        found
            .iter()
            .any(|p| p.contains("forbidden api.backend.call"))
    );
    assert!(found.iter().any(|p| p.contains("VerstakPluginRegister")));
    assert!(found.iter().any(|p| p.contains("sync-settings-surface")));
    assert!(found.iter().any(|p| p.contains("stylesheet is empty")));
}
