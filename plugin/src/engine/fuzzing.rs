//! Pure entry points for the fuzz targets (`fuzz/`) and their corpus replay test
//! (`plugin/tests/fuzz_corpus.rs`). Not an API. Each function runs engine code on arbitrary input
//! and panics when an invariant breaks.

use super::hash::ContentHash;
use super::path::VaultPath;
use super::payload::{Incoming, Source, blob_payload, is_text, text_payload};
use verstak_sync_merge::merge3;
use verstak_sync_proto::limits::DEFAULT_MAX_PAYLOAD_JSON;

/// Incoming payload decoding (plugin-contract §4.5) on `data`, plus the build/parse round trip.
///
/// Invariants: parsing never panics; a parsed inline source without `contentHash` is hashed from
/// its bytes; a payload the engine builds (`text_payload` / `blob_payload`) parses back to the same
/// path, bytes or blob reference and hash; parsed paths that are valid vault paths are stable
/// under a second parse.
pub fn payload(data: &[u8]) {
    let json = String::from_utf8_lossy(data);
    if let Ok(inc) = Incoming::parse(&json) {
        if let (Source::Inline(bytes), None) = (&inc.source, has_content_hash(&json)) {
            assert_eq!(inc.hash.as_ref(), Some(&ContentHash::of(bytes)));
        }
        for p in [&inc.path, &inc.from_path, &inc.to_path, &inc.previous_path]
            .into_iter()
            .flatten()
        {
            if let Ok(vp) = VaultPath::parse(p) {
                assert_eq!(
                    VaultPath::parse(vp.as_str()).as_ref(),
                    Ok(&vp),
                    "path parse not stable"
                );
            }
        }
        if let (Some(path), Source::Inline(bytes)) = (&inc.path, &inc.source) {
            roundtrip(path, bytes);
        }
        if let (Some(path), Source::Blob { hash, size }) = (&inc.path, &inc.source) {
            let again = Incoming::parse(&blob_payload(path, hash, *size))
                .expect("built blob payload parses");
            assert_eq!(
                again.source,
                Source::Blob {
                    hash: hash.clone(),
                    size: *size
                }
            );
            assert_eq!(again.hash.as_ref(), Some(hash));
            assert_eq!(again.path.as_deref(), Some(path.as_str()));
        }
    }
    // The input as a file's bytes.
    roundtrip("Notes/a.md", data);
}

fn has_content_hash(json: &str) -> Option<()> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.get("contentHash")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(|_| ())
}

fn roundtrip(path: &str, bytes: &[u8]) {
    if let Some(json) = text_payload(path, &ContentHash::of(bytes), bytes) {
        assert!(is_text(bytes) && json.len() as i64 <= DEFAULT_MAX_PAYLOAD_JSON);
        let inc = Incoming::parse(&json).expect("built text payload parses");
        assert_eq!(inc.source, Source::Inline(bytes.to_vec()));
        assert_eq!(inc.hash, Some(ContentHash::of(bytes)));
        assert_eq!(inc.path.as_deref(), Some(path).filter(|p| !p.is_empty()));
    }
}

/// The three-way merge (plugin-contract §5.4.2) on `base`, `local`, `remote`; returns its answer.
///
/// Invariants: no panic; identical sides merge to that side; a side equal to the base yields the
/// other side; swapping local and remote gives the same answer; a clean merge contains every
/// line that either side has and the base does not.
pub fn merge(base: &str, local: &str, remote: &str) -> Option<String> {
    let out = merge3(base, local, remote);
    assert_eq!(
        merge3(base, local, local).as_deref(),
        Some(local),
        "identical sides"
    );
    assert_eq!(
        merge3(base, base, remote).as_deref(),
        Some(remote),
        "local unchanged"
    );
    assert_eq!(
        merge3(base, local, base).as_deref(),
        Some(local),
        "remote unchanged"
    );
    assert_eq!(merge3(base, remote, local), out, "merge not symmetric");
    if let Some(m) = &out {
        let base_lines: std::collections::HashSet<&str> = base.split_inclusive('\n').collect();
        for side in [local, remote] {
            for line in side.split_inclusive('\n') {
                if !base_lines.contains(line) {
                    assert!(m.contains(line), "clean merge lost the line {line:?}");
                }
            }
        }
    }
    out
}

/// Splits fuzz input into the three merge texts at the first two `0xff` bytes (never valid
/// UTF-8, so never part of a text); each part is read as lossy UTF-8.
pub fn split3(data: &[u8]) -> (String, String, String) {
    let mut parts = data.splitn(3, |&b| b == 0xff);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
    (next(), next(), next())
}

/// The `engine_merge` fuzz input: [`split3`], then [`merge`].
pub fn merge_input(data: &[u8]) {
    let (base, local, remote) = split3(data);
    let _ = merge(&base, &local, &remote);
}
