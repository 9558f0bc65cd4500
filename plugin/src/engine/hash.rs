//! `ContentHash`: the lowercase hex SHA-256 of a file's exact bytes (plugin-contract §4.5), and
//! `Hasher` for hashing a blob download chunk by chunk as it arrives. Vault files are hashed by
//! the glue (`Command::HashFile`), not here.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// 64 lowercase hex characters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentHash(String);

/// The string is not 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SHA-256")]
pub struct HashError;

impl ContentHash {
    pub fn parse(s: &str) -> Result<ContentHash, HashError> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(ContentHash(s.to_owned()))
        } else {
            Err(HashError)
        }
    }

    pub fn of(bytes: &[u8]) -> ContentHash {
        ContentHash(hex::encode(Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", &self.0[..8])
    }
}

impl Serialize for ContentHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ContentHash::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Incremental SHA-256 with a byte count, fed chunk by chunk.
#[derive(Clone, Default)]
pub(crate) struct Hasher {
    inner: Sha256,
    len: u64,
}

impl Hasher {
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.inner.update(chunk);
        self.len += chunk.len() as u64;
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn finish(self) -> ContentHash {
        ContentHash(hex::encode(self.inner.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector_and_incremental_agree() {
        let h = ContentHash::of(b"hello");
        assert_eq!(
            h.as_str(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let mut inc = Hasher::default();
        inc.update(b"he");
        inc.update(b"");
        inc.update(b"llo");
        assert_eq!(inc.len(), 5);
        assert_eq!(inc.finish(), h);
    }

    #[test]
    fn parse_rejects_non_canonical() {
        let good = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert!(ContentHash::parse(good).is_ok());
        assert!(ContentHash::parse(&good.to_uppercase()).is_err());
        assert!(ContentHash::parse(&good[1..]).is_err());
        assert!(ContentHash::parse("").is_err());
    }
}
