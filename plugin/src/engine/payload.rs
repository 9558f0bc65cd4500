//! Op payloads for `file` and `folder` (plugin-contract §4.5) and the text-or-blob rule (§4.6).
//!
//! Building: `text_payload` (inline `content`, only when every §4.6 condition holds),
//! `blob_payload`, `path_payload` (deletes) and `folder_payload`. Parsing:
//! `Incoming::parse` accepts `content`, `blob` or legacy `dataBase64`, and `fromPath`/`toPath`.

use serde::{Deserialize, Serialize};

use super::hash::ContentHash;

/// Text files are inlined only up to this size (§4.6).
pub const MAX_TEXT_BYTES: u64 = 2 * 1024 * 1024;
/// The server's `max_payload_json` (server-api §1.7).
pub const MAX_PAYLOAD_JSON: usize = 262_144;

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

#[derive(Serialize)]
struct TextPayload<'a> {
    path: &'a str,
    #[serde(rename = "contentHash")]
    content_hash: &'a str,
    content: &'a str,
}

#[derive(Serialize)]
struct BlobPayload<'a> {
    path: &'a str,
    #[serde(rename = "contentHash")]
    content_hash: &'a str,
    blob: BlobRef,
}

/// `{"sha256", "size"}` inside a file payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    pub sha256: String,
    pub size: i64,
}

/// The inline payload for a text file, or `None` when §4.6 says blob.
pub(crate) fn text_payload(path: &str, bytes: &[u8]) -> Option<String> {
    if !is_text(bytes) {
        return None;
    }
    let content = std::str::from_utf8(bytes).ok()?;
    let hash = ContentHash::of(bytes);
    let json = serde_json::to_string(&TextPayload {
        path,
        content_hash: hash.as_str(),
        content,
    })
    .ok()?;
    (json.len() <= MAX_PAYLOAD_JSON).then_some(json)
}

pub(crate) fn blob_payload(path: &str, hash: &ContentHash, size: u64) -> String {
    let blob = BlobRef {
        sha256: hash.as_str().to_string(),
        size: size as i64,
    };
    serde_json::to_string(&BlobPayload {
        path,
        content_hash: hash.as_str(),
        blob,
    })
    .expect("plain struct")
}

pub(crate) fn path_payload(path: &str) -> String {
    serde_json::json!({ "path": path }).to_string()
}

pub(crate) fn folder_payload(path: &str) -> String {
    #[derive(Serialize)]
    struct Folder<'a> {
        path: &'a str,
        #[serde(rename = "contentHash")]
        content_hash: &'a str,
    }
    serde_json::to_string(&Folder {
        path,
        content_hash: "",
    })
    .expect("plain struct")
}

#[derive(Deserialize, Default)]
struct RawPayload {
    #[serde(default)]
    path: Option<String>,
    #[serde(default, rename = "contentHash")]
    content_hash: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    blob: Option<BlobRef>,
    #[serde(default, rename = "dataBase64")]
    data_base64: Option<String>,
    #[serde(default, rename = "fromPath")]
    from_path: Option<String>,
    #[serde(default, rename = "toPath")]
    to_path: Option<String>,
    #[serde(default, rename = "previousPath")]
    previous_path: Option<String>,
}

/// Where an incoming file version's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Inline(Vec<u8>),
    Blob { hash: ContentHash, size: u64 },
    Missing,
}

/// A parsed incoming payload.
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
    pub(crate) fn parse(json: &str) -> Result<Incoming, String> {
        let raw: RawPayload = if json.trim().is_empty() {
            RawPayload::default()
        } else {
            serde_json::from_str(json).map_err(|e| format!("invalid payload: {e}"))?
        };
        let source = if let Some(text) = raw.content {
            Source::Inline(text.into_bytes())
        } else if let Some(blob) = &raw.blob {
            let hash = ContentHash::parse(&blob.sha256)
                .map_err(|_| "invalid blob reference".to_string())?;
            let size =
                u64::try_from(blob.size).map_err(|_| "invalid blob reference".to_string())?;
            Source::Blob { hash, size }
        } else if let Some(b64) = raw.data_base64 {
            Source::Inline(decode_base64(&b64).ok_or("invalid dataBase64")?)
        } else {
            Source::Missing
        };
        let hash = match raw.content_hash.as_deref().filter(|h| !h.is_empty()) {
            Some(h) => Some(ContentHash::parse(h).map_err(|_| "invalid contentHash".to_string())?),
            None => match &source {
                Source::Blob { hash, .. } => Some(hash.clone()),
                Source::Inline(bytes) => Some(ContentHash::of(bytes)),
                Source::Missing => None,
            },
        };
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        Ok(Incoming {
            path: nonempty(raw.path),
            hash,
            source,
            from_path: nonempty(raw.from_path),
            to_path: nonempty(raw.to_path),
            previous_path: nonempty(raw.previous_path),
        })
    }
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
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
            assert_eq!(text_payload("a.md", bytes).is_some(), *text, "{name}");
        }
        assert!(is_text(big_text.as_bytes()));
    }

    #[test]
    fn payload_shapes() {
        assert_eq!(
            text_payload("a.md", b"hello").unwrap(),
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
