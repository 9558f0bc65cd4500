//! `native-soft-hash MIB`: times [`hash::sha256_mib`] natively with sha2's software backend and
//! prints `<seconds> <hex>` (read by `host-shim/benches/sync.rs`).

mod hash;

fn main() {
    let mib: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(256);
    let _ = hash::sha256_mib(1, 7); // warm-up, as on the wasm side
    let t = std::time::Instant::now();
    let h = hash::sha256_mib(mib, 7);
    println!("{} {}", t.elapsed().as_secs_f64(), hex::encode(h));
}
