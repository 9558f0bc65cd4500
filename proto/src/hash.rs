//! [`Sha256Hex`]: a SHA-256 as 64 lowercase hex characters, the form every hash takes on the
//! wire (blob names and paths, `blob.sha256`, `contentHash`). Parse it at the edge
//! ([`Sha256Hex::parse`], or serde, which parses the same way) and trust it after.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// 64 lowercase hex characters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Hex(String);

/// The string is not 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashError;

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid SHA-256")
    }
}

impl std::error::Error for HashError {}

/// True when `s` is exactly 64 lowercase hex characters.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == crate::limits::fixed::SHA256_HEX
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Sha256Hex {
    pub fn parse(s: &str) -> Result<Sha256Hex, HashError> {
        if is_sha256_hex(s) {
            Ok(Sha256Hex(s.to_owned()))
        } else {
            Err(HashError)
        }
    }

    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256Hex {
        Sha256Hex::from_digest(Sha256::digest(bytes).into())
    }

    /// The hex form of a finished digest.
    pub fn from_digest(digest: [u8; 32]) -> Sha256Hex {
        Sha256Hex(hex::encode(digest))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Short, for test failures and logs: `#` and the first 8 characters.
impl fmt::Debug for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", &self.0[..8])
    }
}

impl Serialize for Sha256Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sha256Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sha256Hex::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_strict() {
        let good = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert_eq!(Sha256Hex::parse(good).unwrap(), Sha256Hex::of(b"hello"));
        assert!(is_sha256_hex(&"a".repeat(64)));
        for bad in [
            "A".repeat(64),
            "a".repeat(63),
            "g".repeat(64),
            good.to_uppercase(),
            String::new(),
        ] {
            assert!(!is_sha256_hex(&bad), "{bad}");
            assert_eq!(Sha256Hex::parse(&bad), Err(HashError));
        }
        assert!(serde_json::from_str::<Sha256Hex>("\"abc\"").is_err());
        assert_eq!(format!("{:?}", Sha256Hex::of(b"hello")), "#2cf24dba");
    }
}
