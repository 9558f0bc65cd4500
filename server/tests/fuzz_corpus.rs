//! Replays the fuzz corpus (`fuzz/corpus/server_*`) through the same entry points the
//! `cargo fuzz` targets call, on stable and without libFuzzer: no input may panic, and the
//! invariants checked inside `verstak_sync_server::fuzzing` must hold for every file.

#[path = "../../fuzz/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn server_json_corpus() {
    replay("server_json", verstak_sync_server::fuzzing::json_requests);
}

#[test]
fn server_upload_corpus() {
    replay("server_upload", verstak_sync_server::fuzzing::upload_input);
}

#[test]
fn upload_answers_match_the_handler_rules() {
    use verstak_sync_server::fuzzing::upload_invariants;
    let body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nhello\r\n--b--\r\n";
    let ct = "multipart/form-data; boundary=b";
    let sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    assert_eq!(
        upload_invariants(ct, body, 3, 100),
        Ok((sha.to_string(), 5))
    );
    assert_eq!(
        upload_invariants(ct, body, 1, 4).unwrap_err().0,
        "blob_too_large"
    );
    assert_eq!(
        upload_invariants("text/plain; boundary=b", body, 1, 100)
            .unwrap_err()
            .0,
        "invalid_multipart"
    );
    let two = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx\r\n--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n--b--\r\n";
    assert_eq!(
        upload_invariants(ct, two, 5, 100).unwrap_err().1,
        "exactly one file field is required"
    );
}
