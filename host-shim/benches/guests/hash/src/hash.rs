use sha2::{Digest, Sha256};

/// SHA-256 of a 1 MiB buffer filled from `seed`, hashed `mib` times. Kept identical to
/// `fill_and_hash` in `host-shim/benches/sync.rs` (the native, hardware-accelerated side).
pub fn sha256_mib(mib: u32, seed: u8) -> [u8; 32] {
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
