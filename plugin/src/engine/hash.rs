//! `ContentHash`: the lowercase hex SHA-256 of a file's exact bytes (plugin-contract §4.5). It
//! is proto's wire type [`Sha256Hex`] under the engine's name: parsed at the edge, trusted
//! after. `Hasher` hashes a blob download chunk by chunk as it arrives. Vault files are hashed
//! by the glue (`Command::HashFile`), not here.

use sha2::{Digest, Sha256};
pub use verstak_sync_proto::Sha256Hex as ContentHash;

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
        ContentHash::from_digest(self.inner.finalize().into())
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
