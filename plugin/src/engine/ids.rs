//! Small newtypes for ids and units: `ServerSeq`, `RequestId`, `Millis`, `DeviceId`, `OpId`,
//! plus `derive_uuid`, which turns (install salt, purpose, counter) into a UUIDv4-shaped id.
//!
//! Op ids and idempotency keys are derived, not drawn from an OS random source: the salt is
//! random (it comes from the glue once, with `Config::entropy`) and persisted, and every counter
//! is persisted before an id built from it can leave the device, so an id is never reused for
//! different content, even across crashes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A server-assigned sequence number (server-api §5.3); strictly increasing within a scope.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ServerSeq(pub i64);

/// Identifies one command; the answering event echoes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// Milliseconds since the Unix epoch, as given by the glue. The engine never reads a clock.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub u64);

impl Millis {
    pub fn plus(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }
}

/// The server-side device id (`dev_…`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(pub String);

/// An op id (UUIDv4 text for ops this engine creates; any string for received ops).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub String);

/// A UUIDv4-formatted id (lowercase, hyphens) derived from a salt, a purpose and a counter.
pub(crate) fn derive_uuid(salt: &str, purpose: &str, counter: u64) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(counter.to_be_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_v4_shaped_and_distinct() {
        let a = derive_uuid("salt", "op", 1);
        let b = derive_uuid("salt", "op", 2);
        let c = derive_uuid("salt", "batch", 1);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, derive_uuid("salt", "op", 1));
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|s| s.len()).collect::<Vec<_>>(),
            vec![8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert_eq!(a, a.to_lowercase());
    }
}
