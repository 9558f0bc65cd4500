//! Op payloads for `file` and `folder` (plugin-contract §4.5) and the text-or-blob rule (§4.6).
//!
//! The JSON shapes and the reader are proto's (`verstak_sync_proto::payload`), shared with the
//! server. Here: `is_text` and `text_payload` (inline `content` only when every §4.6 condition
//! holds), `blob_payload`, `path_payload` (deletes) and `folder_payload`; and [`Incoming`], an
//! incoming payload as the engine applies it (`content`, `blob` or legacy `dataBase64`, and
//! `fromPath`/`toPath`/`previousPath`), with the hash it must have.

use verstak_sync_proto::BlobRef;
use verstak_sync_proto::limits::{DEFAULT_MAX_PAYLOAD_JSON, MAX_TEXT_BYTES};
use verstak_sync_proto::payload::{self as wire, FileBody, Payload, PayloadError};

use super::hash::ContentHash;

/// True when the bytes may be sent as `content`, apart from the payload size limit.
pub(crate) fn is_text(bytes: &[u8]) -> bool {
    if bytes.len() as u64 > MAX_TEXT_BYTES {
        return false;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => !s
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
        Err(_) => false,
    }
}

/// The inline payload for a text file whose SHA-256 is `hash`, or `None` when §4.6 says blob.
pub(crate) fn text_payload(path: &str, hash: &ContentHash, bytes: &[u8]) -> Option<String> {
    if !is_text(bytes) {
        return None;
    }
    let content = std::str::from_utf8(bytes).ok()?;
    let json = wire::text(path, hash, content);
    (json.len() as i64 <= DEFAULT_MAX_PAYLOAD_JSON).then_some(json)
}

pub(crate) fn blob_payload(path: &str, hash: &ContentHash, size: u64) -> String {
    let blob = BlobRef {
        sha256: hash.clone(),
        size,
    };
    wire::blob(path, &blob)
}

pub(crate) fn path_payload(path: &str) -> String {
    wire::path_only(path)
}

pub(crate) fn folder_payload(path: &str) -> String {
    wire::folder(path)
}

/// Where an incoming file version's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Inline(Vec<u8>),
    Blob { hash: ContentHash, size: u64 },
    Missing,
}

/// A parsed incoming payload. Empty strings count as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Incoming {
    pub path: Option<String>,
    pub hash: Option<ContentHash>,
    pub source: Source,
    pub from_path: Option<String>,
    pub to_path: Option<String>,
    pub previous_path: Option<String>,
}

impl Incoming {
    /// Reads a payload with proto's reader (strictly: see `Payload::read_strict`); an empty
    /// payload has nothing in it. The hash is `contentHash`, else the blob's, else the bytes'.
    pub(crate) fn parse(json: &str) -> Result<Incoming, PayloadError> {
        let p = if json.trim().is_empty() {
            Payload::default()
        } else {
            Payload::read_strict(json)?
        };
        let source = match p.body()? {
            Some(FileBody::Text(text)) => Source::Inline(text.into_bytes()),
            Some(FileBody::LegacyBase64(bytes)) => Source::Inline(bytes),
            Some(FileBody::Blob(b)) => Source::Blob {
                hash: b.sha256,
                size: b.size,
            },
            None => Source::Missing,
        };
        let hash = match p.stated_hash()? {
            Some(h) => Some(h),
            None => match &source {
                Source::Blob { hash, .. } => Some(hash.clone()),
                Source::Inline(bytes) => Some(ContentHash::of(bytes)),
                Source::Missing => None,
            },
        };
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(Incoming {
            path: nonempty(p.path),
            hash,
            source,
            from_path: nonempty(p.from_path),
            to_path: nonempty(p.to_path),
            previous_path: nonempty(p.previous_path),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_or_blob_table() {
        let big_text = "a".repeat(300_000);
        let cases: &[(&str, &[u8], bool)] = &[
            ("empty file is text", b"", true),
            ("plain text", b"# Title\nbody\r\n\tx", true),
            ("invalid utf8", &[0xff, 0xfe, 0x00], false),
            ("control char", b"a\x07b", false),
            ("nul", b"a\0b", false),
            ("payload over 256 KiB", big_text.as_bytes(), false),
        ];
        for (name, bytes, text) in cases {
            assert_eq!(
                text_payload("a.md", &ContentHash::of(bytes), bytes).is_some(),
                *text,
                "{name}"
            );
        }
        assert!(is_text(big_text.as_bytes()));
    }

    #[test]
    fn payload_shapes() {
        assert_eq!(
            text_payload("a.md", &ContentHash::of(b"hello"), b"hello").unwrap(),
            r#"{"path":"a.md","contentHash":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","content":"hello"}"#
        );
        let h = ContentHash::of(b"x");
        assert_eq!(
            blob_payload("p.png", &h, 1),
            format!(r#"{{"path":"p.png","contentHash":"{h}","blob":{{"sha256":"{h}","size":1}}}}"#)
        );
        assert_eq!(path_payload("a.md"), r#"{"path":"a.md"}"#);
        assert_eq!(
            folder_payload("Notes"),
            r#"{"path":"Notes","contentHash":""}"#
        );
    }

    #[test]
    fn parse_incoming_forms() {
        let t = Incoming::parse(r#"{"path":"a.md","content":"hello","extra":1}"#).unwrap();
        assert_eq!(t.hash, Some(ContentHash::of(b"hello")));
        assert_eq!(t.source, Source::Inline(b"hello".to_vec()));
        let h = ContentHash::of(b"x");
        let b = Incoming::parse(&blob_payload("p.png", &h, 1)).unwrap();
        assert_eq!(
            b.source,
            Source::Blob {
                hash: h.clone(),
                size: 1
            }
        );
        let d = Incoming::parse(r#"{"path":"b.bin","dataBase64":"aGVsbG8="}"#).unwrap();
        assert_eq!(d.source, Source::Inline(b"hello".to_vec()));
        assert_eq!(d.hash, Some(ContentHash::of(b"hello")));
        let m = Incoming::parse(r#"{"fromPath":"a","toPath":"b"}"#).unwrap();
        assert_eq!(
            (m.from_path.as_deref(), m.to_path.as_deref()),
            (Some("a"), Some("b"))
        );
        assert!(Incoming::parse(r#"{"path":"a","blob":{"sha256":"XYZ","size":1}}"#).is_err());
        assert!(Incoming::parse("").unwrap().path.is_none());
    }
}
