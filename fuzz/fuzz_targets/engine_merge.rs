//! Fuzz target: the three-way merge and its invariants (plugin-contract §5.4.2).
//! The body lives in `verstak_sync_plugin::engine::fuzzing::merge_input`, which the stable corpus replay test runs too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    verstak_sync_plugin::engine::fuzzing::merge_input(data);
});
