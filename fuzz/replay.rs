//! Corpus replay shared by `plugin/tests/fuzz_corpus.rs` and `server/tests/fuzz_corpus.rs`
//! (included with `#[path]`): runs every file of `fuzz/corpus/<target>` through a fuzz entry
//! point on stable, without libFuzzer, and fails on the first input that panics.

use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
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

/// Runs `f` on every corpus file of `target`.
pub fn replay(target: &str, f: fn(&[u8])) {
    for (path, data) in corpus(target) {
        if std::panic::catch_unwind(|| f(&data)).is_err() {
            panic!("fuzz corpus input {} panics", path.display());
        }
    }
}
