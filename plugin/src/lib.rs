//! The sync engine of `verstak.sync`.
//!
//! * [`engine`] is the sans-IO core: plain Rust over plain data, no IO and no clock, tested
//!   natively with `cargo test -p verstak-sync-plugin`.
//! * `glue` (only on `target_family = "wasm"`) is the thin WIT layer: it implements the
//!   component's exports by reading state through the host imports, calling the engine, and
//!   writing the engine's decisions back. It decides nothing itself.

pub mod engine;

#[cfg(target_family = "wasm")]
mod glue;
