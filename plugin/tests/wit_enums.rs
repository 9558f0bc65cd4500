//! The engine's closed sets of values match the WIT enums that carry them (API 0.2.0,
//! `wit/README.md`): every `ErrorCode`, `HostCode`, progress `Phase` and `StatusLabel` has the
//! string of a case of its WIT enum (the case in snake case), so the host prints and serves the
//! same string the engine writes to JSON and logs.
//!
//! That each engine value maps to *some* case is checked by the compiler: the glue converts with
//! exhaustive `match`es on same-named cases (`plugin/src/glue/convert.rs`).

use std::collections::BTreeSet;
use std::path::Path;

use verstak_sync_plugin::engine::codes::{ErrorCode, HostCode};
use verstak_sync_plugin::engine::command::Method;
use verstak_sync_plugin::engine::status::StatusLabel;
use verstak_sync_plugin::engine::summary::Phase;

/// The cases of `enum <name> { … }` in `wit/<file>`, in snake case.
fn wit_enum(file: &str, name: &str) -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../wit")
        .join(file);
    let wit = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let open = format!("enum {name} {{");
    let start = wit
        .find(&open)
        .unwrap_or_else(|| panic!("no enum {name} in {file}"));
    let body = &wit[start + open.len()..];
    let body = &body[..body.find('}').expect("the enum ends")];
    body.lines()
        .map(|l| l.split("//").next().unwrap())
        .flat_map(|l| l.split(','))
        .map(|c| c.trim().replace('-', "_"))
        .filter(|c| !c.is_empty())
        .collect()
}

/// Every engine value is a case; with `all`, every case is an engine value too.
#[track_caller]
fn check(values: impl IntoIterator<Item = String>, cases: &BTreeSet<String>, all: bool) {
    let values: BTreeSet<String> = values.into_iter().collect();
    assert!(!values.is_empty());
    let missing: Vec<_> = values.difference(cases).collect();
    assert!(
        missing.is_empty(),
        "engine values without a WIT case: {missing:?}"
    );
    if all {
        assert_eq!(&values, cases);
    }
}

#[test]
fn every_error_code_is_a_case_of_sync_error_code() {
    let cases = wit_enum("provider.wit", "sync-error-code");
    assert!(
        cases.contains("not_configured") && cases.contains("io"),
        "{cases:?}"
    );
    check(
        ErrorCode::ALL.iter().map(|c| c.as_str().into()),
        &cases,
        true,
    );
}

#[test]
fn every_host_code_is_a_case_of_the_host_error_code() {
    let cases = wit_enum("types.wit", "error-code");
    check(
        HostCode::ALL.iter().map(|c| c.as_str().into()),
        &cases,
        true,
    );
    // A host refusal passed on keeps its code.
    let passed_on = wit_enum("provider.wit", "sync-error-code");
    check(
        HostCode::ALL.iter().map(|c| c.as_str().into()),
        &passed_on,
        false,
    );
}

#[test]
fn every_phase_and_status_label_is_a_wit_case() {
    let phases = wit_enum("progress.wit", "phase");
    assert_eq!(phases.len(), 4, "{phases:?}");
    check(Phase::ALL.iter().map(|p| p.as_str().into()), &phases, true);
    let labels = wit_enum("provider.wit", "status-label");
    check(
        StatusLabel::ALL.iter().map(|l| l.as_str().into()),
        &labels,
        true,
    );
}

#[test]
fn every_http_method_is_a_wit_case() {
    // The engine sends GET and POST; the WIT also allows HEAD.
    let methods = Method::ALL.iter().map(|m| m.as_str().to_lowercase());
    check(methods, &wit_enum("network.wit", "method"), false);
}
