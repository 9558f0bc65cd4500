//! The engine's closed sets of strings match the WIT enums that carry them (API 0.2.0,
//! `wit/README.md`): every error code `EngineError::code()` returns, every progress phase and
//! every status label is a case of its enum, and the glue maps each error code explicitly (its
//! catch-all arm is for `local_io` only). A new engine value therefore fails here, natively,
//! instead of reaching the glue's fallback in the component.
//!
//! The glue compiles only for wasm, so this test reads the sources rather than calling it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text from `start` to the first line that is exactly `end` after it.
fn block<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not found"));
    let rest = &text[from..];
    let to = rest
        .find(&format!("\n{end}\n"))
        .unwrap_or_else(|| panic!("no end `{end}` after `{start}`"));
    &rest[..to]
}

/// Every `"…"` literal in `text`.
fn literals(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The cases of `enum <name> { … }` in the WIT files, in snake case.
fn wit_enum(name: &str) -> BTreeSet<String> {
    let wit = ["provider.wit", "progress.wit", "network.wit"]
        .iter()
        .map(|f| read(&root().join("../wit").join(f)))
        .collect::<String>();
    let start = wit
        .find(&format!("enum {name} {{"))
        .unwrap_or_else(|| panic!("no enum {name} in wit/"));
    let body = &wit[start + name.len() + 7..];
    let body = &body[..body.find('}').unwrap()];
    body.lines()
        .map(|l| l.split("//").next().unwrap())
        .flat_map(|l| l.split(','))
        .map(|c| c.trim().replace('-', "_"))
        .filter(|c| !c.is_empty())
        .collect()
}

/// The string literals of the glue function that starts with `start` (a `match` on the string).
fn glue_literals(start: &str) -> BTreeSet<String> {
    let glue = std::fs::read_dir(root().join("src/glue"))
        .unwrap()
        .map(|e| read(&e.unwrap().path()))
        .find(|t| t.contains(start))
        .unwrap_or_else(|| panic!("no `{start}` in the glue"));
    literals(block(&glue, start, "}"))
}

/// `all` minus the one value the glue's catch-all arm stands for equals what the glue matches.
#[track_caller]
fn glue_maps_all(start: &str, all: &BTreeSet<String>, fallback: &str) {
    let mut want = all.clone();
    want.remove(fallback);
    assert_eq!(glue_literals(start), want, "the arms of `{start}`");
}

#[test]
fn every_engine_error_code_is_a_wit_case_the_glue_maps() {
    let error_rs = read(&root().join("src/engine/error.rs"));
    let mut codes = literals(block(&error_rs, "pub fn code(&self)", "    }"));
    // Never raised; issue 11 removes it.
    codes.remove("vault_not_open");
    assert!(codes.contains("not_configured"), "{codes:?}");

    let cases = wit_enum("sync-error-code");
    let missing: Vec<_> = codes.difference(&cases).collect();
    assert!(
        missing.is_empty(),
        "engine codes without a WIT case: {missing:?}"
    );

    let mapped = glue_literals("fn engine_code(");
    let unmapped: Vec<_> = codes
        .iter()
        .filter(|c| *c != "local_io" && !mapped.contains(*c))
        .collect();
    assert!(
        unmapped.is_empty(),
        "engine codes the glue would report as local_io: {unmapped:?}"
    );
}

#[test]
fn every_phase_and_status_label_is_a_wit_case() {
    let phases = wit_enum("phase");
    assert_eq!(phases.len(), 4, "{phases:?}");
    let mut seen = BTreeSet::new();
    let mut dirs = vec![root().join("src/engine")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                for part in read(&path).split("phase: \"").skip(1) {
                    seen.insert(part[..part.find('"').unwrap()].to_string());
                }
            }
        }
    }
    assert!(seen.contains("scan"), "{seen:?}");
    let unknown: Vec<_> = seen.difference(&phases).collect();
    assert!(unknown.is_empty(), "phases without a WIT case: {unknown:?}");
    glue_maps_all("pub(super) fn phase(", &phases, "scan");

    let status_rs = read(&root().join("src/engine/status.rs"));
    let labels = literals(block(&status_rs, "pub fn status_label(", "}"));
    assert_eq!(labels, wit_enum("status-label"));
    glue_maps_all("fn status_label(", &labels, "error");
}
