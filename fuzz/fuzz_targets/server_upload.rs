//! Fuzz target: the blob upload multipart parser (server-api §4.9).
//! The body lives in `verstak_sync_server::fuzzing::upload_input`, which the stable corpus replay test runs too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    verstak_sync_server::fuzzing::upload_input(data);
});
