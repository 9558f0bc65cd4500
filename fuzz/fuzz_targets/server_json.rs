//! Fuzz target: push, pull, pair and the other JSON request bodies (server-api §2.5, §4.1, §4.7, §4.8).
//! The body lives in `verstak_sync_server::fuzzing::json_requests`, which the stable corpus replay test runs too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    verstak_sync_server::fuzzing::json_requests(data);
});
