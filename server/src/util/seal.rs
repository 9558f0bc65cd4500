//! Sealing a short secret with a key only the browser holds (its session token): SHA-256 in
//! counter mode over the token and a random nonce, XORed with the secret. Each sealing has a
//! fresh nonce, so no keystream is used twice. Used for the admin's one-time secret, which must
//! be readable by any server process but not from the database alone.

use sha2::{Digest, Sha256};

use super::ids::random_hex;

fn keystream(token: &str, nonce: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = 0u32;
    while out.len() < len {
        let mut h = Sha256::new();
        h.update(b"verstak one-time secret\0");
        h.update(token.as_bytes());
        h.update(b"\0");
        h.update(nonce.as_bytes());
        h.update(block.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        block += 1;
    }
    out.truncate(len);
    out
}

/// `nonce:hex(ciphertext)`.
pub(crate) fn seal(token: &str, secret: &[u8]) -> String {
    let nonce = random_hex(16);
    let ks = keystream(token, &nonce, secret.len());
    let ct: Vec<u8> = secret.iter().zip(ks).map(|(a, b)| a ^ b).collect();
    format!("{nonce}:{}", hex::encode(ct))
}

/// The secret of [`seal`], or `None` for a malformed note or a result that is not UTF-8 (the
/// wrong token).
pub(crate) fn open(token: &str, sealed: &str) -> Option<String> {
    let (nonce, ct) = sealed.split_once(':')?;
    let ct = hex::decode(ct).ok()?;
    let ks = keystream(token, nonce, ct.len());
    String::from_utf8(ct.iter().zip(ks).map(|(a, b)| a ^ b).collect()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_with_their_token_only() {
        let pw = "Vq3-long-reset-password-with-more-than-32-bytes";
        let sealed = seal("token-a", pw.as_bytes());
        assert!(!sealed.contains(pw));
        assert_eq!(open("token-a", &sealed).as_deref(), Some(pw));
        assert_ne!(open("token-b", &sealed).as_deref(), Some(pw));
        assert_ne!(
            seal("token-a", pw.as_bytes()),
            sealed,
            "a fresh nonce each time"
        );
        assert_eq!(open("token-a", "garbage"), None);
    }
}
