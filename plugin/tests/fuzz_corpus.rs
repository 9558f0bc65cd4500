//! Replays the fuzz corpus (`fuzz/corpus/engine_*`) through the same entry points the
//! `cargo fuzz` targets call, on stable and without libFuzzer: no input may panic, and the
//! invariants checked inside `verstak_sync_plugin::engine::fuzzing` must hold for every file.

use std::path::PathBuf;
use verstak_sync_plugin::engine::fuzzing;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}

fn replay(target: &str, f: fn(&[u8])) {
    for (path, data) in corpus(target) {
        if std::panic::catch_unwind(|| f(&data)).is_err() {
            panic!("fuzz corpus input {} panics", path.display());
        }
    }
}

#[test]
fn engine_payload_corpus() {
    replay("engine_payload", fuzzing::payload);
}

#[test]
fn engine_merge_corpus() {
    replay("engine_merge", fuzzing::merge_input);
}

#[test]
fn merge_invariants_on_known_cases() {
    assert_eq!(fuzzing::merge("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n").as_deref(), Some("A\nb\nC\n"));
    assert_eq!(fuzzing::merge("a\nb\n", "x\n", "y\n"), None);
    let (b, l, r) = fuzzing::split3(b"base\xfflocal\xffremote\xffmore");
    assert_eq!((b.as_str(), l.as_str(), r.as_str()), ("base", "local", "remote\u{fffd}more"));
}
