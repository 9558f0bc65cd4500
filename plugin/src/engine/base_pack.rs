//! The format of a base pack: many merge bases (§5.4.1) in one storage document.
//!
//! A second device's initial sync stores one merge base per received note; as a document each
//! (`base-<sha256>`), that was a file created and renamed per note, a fifth of the host's time
//! for 9,000 notes. Bases written in one run are gathered into packs of about [`PACK_BYTES`]
//! instead. An entry is `<sha256> <byte length>\n<text>`, back to back: no escaping, and a
//! reader finds an entry without decoding the others. Like a base document, a pack is written
//! without fsync (`storage.set-cache`), and each text is checked against its hash when read: a
//! pack lost or torn by a crash only turns a later merge into a conflict copy.

use super::hash::ContentHash;

/// A pack is written once its texts reach this many bytes (and at every state save).
pub(crate) const PACK_BYTES: usize = 1 << 20;

/// The pack document holding `entries`.
pub(crate) fn encode<'a>(entries: impl Iterator<Item = (&'a ContentHash, &'a str)>) -> String {
    let mut doc = String::new();
    for (hash, text) in entries {
        doc.push_str(hash.as_str());
        doc.push(' ');
        doc.push_str(&text.len().to_string());
        doc.push('\n');
        doc.push_str(text);
    }
    doc
}

/// Every whole entry of a pack document, in order; reading stops at the first damaged one.
pub(crate) fn entries(doc: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = doc;
    while !rest.is_empty() {
        let Some((head, body)) = rest.split_once('\n') else {
            break;
        };
        let Some((hash, len)) = head.split_once(' ') else {
            break;
        };
        let Ok(len) = len.parse::<usize>() else {
            break;
        };
        let Some(text) = body.get(..len) else {
            break;
        };
        out.push((hash, text));
        rest = &body[len..];
    }
    out
}

/// The text of `hash` in a pack document, if it is there and intact.
pub(crate) fn find(doc: &str, hash: &ContentHash) -> Option<String> {
    entries(doc)
        .into_iter()
        .find(|(h, _)| *h == hash.as_str())
        .map(|(_, text)| text.to_string())
        .filter(|text| ContentHash::of(text.as_bytes()) == *hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_gives_back_each_text_by_hash() {
        let texts = ["first\nline", "", "ünïcode ✓\n", "1 2\n3"];
        let hashes: Vec<ContentHash> = texts
            .iter()
            .map(|t| ContentHash::of(t.as_bytes()))
            .collect();
        let doc = encode(hashes.iter().zip(texts));
        for (h, t) in hashes.iter().zip(texts) {
            assert_eq!(find(&doc, h).as_deref(), Some(t));
        }
        assert_eq!(find(&doc, &ContentHash::of(b"other")), None);
        assert_eq!(entries(&doc).len(), texts.len());
    }

    #[test]
    fn a_torn_or_altered_pack_yields_only_intact_texts() {
        let texts = ["alpha\n", "beta beta\n", "gamma"];
        let hashes: Vec<ContentHash> = texts
            .iter()
            .map(|t| ContentHash::of(t.as_bytes()))
            .collect();
        let doc = encode(hashes.iter().zip(texts));
        // Cut inside the last text: the first two stay readable.
        let torn = &doc[..doc.len() - 2];
        assert_eq!(find(torn, &hashes[0]).as_deref(), Some(texts[0]));
        assert_eq!(find(torn, &hashes[1]).as_deref(), Some(texts[1]));
        assert_eq!(find(torn, &hashes[2]), None);
        // A changed byte fails the hash check of its text only.
        let altered = doc.replacen("beta beta", "beta bets", 1);
        assert_eq!(find(&altered, &hashes[1]), None);
        assert_eq!(find(&altered, &hashes[2]).as_deref(), Some(texts[2]));
        // Garbage is no entry at all.
        assert!(entries("not a pack").is_empty());
        assert!(entries("abc x\nyz").is_empty());
    }
}
