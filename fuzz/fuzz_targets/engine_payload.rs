//! Fuzz target: incoming op payload decoding and the build/parse round trip (plugin-contract §4.5).
//! The body lives in `verstak_sync_plugin::engine::fuzzing::payload`, which the stable corpus replay test runs too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    verstak_sync_plugin::engine::fuzzing::payload(data);
});
