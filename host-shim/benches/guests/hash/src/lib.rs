//! Bench-only guest component: the SHA-256 work of the engine's file hashing (the engine's
//! `sha2` crate over in-memory data), with no host calls in the timed loop.

use sha2::{Digest, Sha256};

wit_bindgen::generate!({
    path: "wit",
    world: "hasher",
});

struct Component;

impl Guest for Component {
    fn sha256_mib(mib: u32, seed: u8) -> String {
        hex::encode(sha256_mib(mib, seed))
    }
}

export!(Component);

/// Kept identical to `fill_and_hash` in `host-shim/benches/sync.rs` (the native side).
fn sha256_mib(mib: u32, seed: u8) -> [u8; 32] {
    let mut buf = vec![0u8; 1 << 20];
    let mut x = u32::from(seed) | 1;
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let mut h = Sha256::new();
    for _ in 0..mib {
        h.update(&buf);
    }
    h.finalize().into()
}
