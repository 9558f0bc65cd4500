//! The API version stamp: a component built against the frozen `wit/since_v0.1.0/` is refused
//! by this host (API 0.4.0) before linking, with the stable code `unsupported_api_version`, and
//! the command line reports it as `error: unsupported_api_version: …`.

#[path = "guests/support.rs"]
#[allow(dead_code)]
mod support;

use std::path::Path;
use std::process::Command;
use verstak_sync_host::bindings::{API_VERSION, UnsupportedApiVersion};
use verstak_sync_host::limits::Limits;
use verstak_sync_host::runtime::Runtime;

fn repo_manifest() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("manifest.json")
}

#[test]
fn a_component_of_an_older_api_is_refused_with_a_stable_code() {
    assert_eq!(API_VERSION, "0.4.0");
    let old = support::old_api_component();
    let e = Runtime::load(old, &repo_manifest(), support::QUICK)
        .err()
        .expect("a 0.1.0 component must not load");
    let refusal = e
        .downcast_ref::<UnsupportedApiVersion>()
        .unwrap_or_else(|| panic!("not an API version refusal: {e:#}"));
    assert_eq!(refusal.found, ["0.1.0"]);
    assert_eq!(
        format!("{e:#}"),
        format!(
            "unsupported_api_version: the component {} was built for verstak:sync@0.1.0; this \
             host supports verstak:sync@0.4.0 only (build the plugin and the host from the same \
             release)",
            old.display()
        )
    );

    // The command line prints it as every failure: `error: <code>: <message>`.
    let vault = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_verstak-sync-host"))
        .arg("--vault")
        .arg(vault.path())
        .arg("--component")
        .arg(old)
        .arg("--manifest")
        .arg(repo_manifest())
        .arg("status")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: unsupported_api_version: the component "),
        "{stderr}"
    );
}

#[test]
fn components_of_this_api_load() {
    let limits = Limits {
        memory_bytes: 64 << 20,
        call_deadline: std::time::Duration::from_secs(30),
    };
    Runtime::load(support::hostile_component(), &repo_manifest(), limits)
        .expect("the hostile guest is built against wit/ and loads");
}
