//! `Config`: the fixed inputs of the engine for one vault, given by the glue (or the simulation)
//! when it builds the `Engine`.

use verstak_sync_proto::limits;

/// Fixed inputs of the engine for one vault.
#[derive(Debug, Clone)]
pub struct Config {
    /// This device's server-side id (`dev_…`). A sync run sets it from the pairing document;
    /// empty means not paired.
    pub device_id: String,
    /// The device name ([`crate::engine::account::device_name`]): sent when pairing, and used in
    /// conflict-copy names unless the pairing document names the device.
    pub device_name: String,
    /// Local time offset from UTC in minutes, for conflict-copy timestamps.
    pub utc_offset_min: i32,
    /// Fresh random bytes from the host, used once to create the install salt for op ids.
    pub entropy: [u8; 16],
    /// Bytes per ranged read, staged write and blob download request.
    pub chunk_size: u64,
    /// `page_limit` for pull (at most the server's default page cap).
    pub page_limit: i64,
    /// Ops per push batch (at most the server's default batch cap).
    pub batch_limit: usize,
    /// The state journal may grow to the snapshot's size, but always to this many bytes before
    /// a checkpoint compacts it (`journal.rs`).
    pub journal_min_bytes: usize,
    /// One look-ahead window of a guarded pull ends after this many ops (§5.4.5: 10,000)...
    pub lookahead_ops: usize,
    /// ...or once its buffered pages hold this many payload bytes (`run/pull.rs`).
    pub lookahead_bytes: usize,
}

impl Config {
    pub fn new(device_name: impl Into<String>, entropy: [u8; 16]) -> Config {
        Config {
            device_id: String::new(),
            device_name: device_name.into(),
            utc_offset_min: 0,
            entropy,
            chunk_size: 4 * 1024 * 1024,
            page_limit: limits::DEFAULT_MAX_PULL_PAGE,
            batch_limit: limits::DEFAULT_MAX_PUSH_OPERATIONS as usize,
            journal_min_bytes: super::journal::MIN_JOURNAL_BYTES,
            lookahead_ops: 10_000,
            lookahead_bytes: 16 * 1024 * 1024,
        }
    }
}
