//! Identifiers and secrets (spec §2.6): OS randomness, `sha256_hex`, constant-time comparison.

use sha2::{Digest, Sha256};

/// `n` random bytes from the OS CSPRNG as lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // The OS RNG failing is unrecoverable for a server that mints credentials.
    getrandom::fill(&mut buf).expect("the operating system RNG is available");
    hex::encode(buf)
}

/// User id: 12 random bytes hex.
pub(crate) fn new_user_id() -> String {
    random_hex(12)
}

/// Device id: `dev_` + 12 random bytes hex.
pub(crate) fn new_device_id() -> String {
    format!("dev_{}", random_hex(12))
}

/// Device token: 32 random bytes hex (64 characters).
pub(crate) fn new_device_token() -> String {
    random_hex(32)
}

/// Unsalted SHA-256 of the UTF-8 bytes, lowercase hex.
pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Compares two byte strings in time independent of where they differ.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_formats() {
        assert_eq!(new_user_id().len(), 24);
        let d = new_device_id();
        assert!(d.starts_with("dev_") && d.len() == 28);
        assert_eq!(new_device_token().len(), 64);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(ct_eq(b"abc", b"abc") && !ct_eq(b"abc", b"abd") && !ct_eq(b"a", b"ab"));
    }
}
