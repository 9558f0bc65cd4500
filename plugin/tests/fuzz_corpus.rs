//! Replays the fuzz corpus (`fuzz/corpus/engine_*`) through the same entry points the
//! `cargo fuzz` targets call, on stable and without libFuzzer: no input may panic, and the
//! invariants checked inside `verstak_sync_plugin::engine::fuzzing` must hold for every file.

#[path = "../../fuzz/replay.rs"]
mod replay;

use replay::replay;
use verstak_sync_plugin::engine::fuzzing;

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
    assert_eq!(
        fuzzing::merge("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n").as_deref(),
        Some("A\nb\nC\n")
    );
    assert_eq!(fuzzing::merge("a\nb\n", "x\n", "y\n"), None);
    let (b, l, r) = fuzzing::split3(b"base\xfflocal\xffremote\xffmore");
    assert_eq!(
        (b.as_str(), l.as_str(), r.as_str()),
        ("base", "local", "remote\u{fffd}more")
    );
}
