//! Replays the fuzz corpus (`fuzz/corpus/server_*`) through the same entry points the
//! `cargo fuzz` targets call, on stable and without libFuzzer: no input may panic, and the
//! invariants checked inside `verstak_sync_server::fuzzing` must hold for every file.

use std::path::PathBuf;

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
    assert_eq!(upload_invariants(ct, body, 3, 100), Ok((sha.to_string(), 5)));
    assert_eq!(upload_invariants(ct, body, 1, 4).unwrap_err().0, "blob_too_large");
    assert_eq!(upload_invariants("text/plain; boundary=b", body, 1, 100).unwrap_err().0, "invalid_multipart");
    let two = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx\r\n--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n--b--\r\n";
    assert_eq!(upload_invariants(ct, two, 5, 100).unwrap_err().1, "exactly one file field is required");
}
