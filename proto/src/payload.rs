//! Payloads of `file` and `folder` ops (plugin-contract §4.5): built by the engine, read by the
//! server's blob-reference check at push (server-api §5.8) and by the engine when it applies a
//! pulled op. One reader, [`Payload::read`], serves both.
//!
//! * Building: [`text`], [`blob`], [`path_only`] (deletes) and [`folder`] give the exact JSON
//!   text the engine sends. `dataBase64` is never built.
//! * Reading: [`Payload::read`] checks what §5.8 checks (an object or `null`; `dataBase64` a
//!   string or null; `blob` an object or null with a string `sha256` and an integer `size`) and
//!   reads the other keys leniently, as the server must not reject them. [`Payload::blob_ref`]
//!   is the rest of §5.8. [`Payload::read_strict`] is the engine's entry: it also refuses a
//!   payload whose keys it reads are of the wrong type, given twice, or a `blob` without
//!   `sha256` or `size`; [`Payload::body`] then picks the file body (`content`, else `blob`,
//!   else legacy `dataBase64`).

use serde::Serialize;

use crate::blob::BlobRef;
use crate::hash::Sha256Hex;
use crate::jval::JVal;

/// Why a payload was refused. The server answers the first three (§5.8); the engine skips the op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    /// Not JSON, not an object, or a key of the wrong type.
    InvalidPayload,
    /// `dataBase64` is present (the server never accepts inline binary).
    InlineBinary,
    /// `blob.sha256` is not 64 lowercase hex characters, or `blob.size` is negative.
    InvalidBlobRef,
    /// `dataBase64` is not base64.
    InvalidBase64,
    /// A non-empty `contentHash` is not 64 lowercase hex characters.
    InvalidContentHash,
}

/// The bytes of a file version as a payload gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileBody {
    /// `content`: the file is this UTF-8 text.
    Text(String),
    /// `blob`: the bytes are an uploaded blob.
    Blob(BlobRef),
    /// `dataBase64` from old clients, decoded.
    LegacyBase64(Vec<u8>),
}

/// `blob` as written, before §5.8 validates it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct RawBlob {
    sha256: Option<String>,
    size: Option<i64>,
}

/// A payload read once. Empty strings are kept; callers decide what "absent" means.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Payload {
    pub path: Option<String>,
    pub content_hash: Option<String>,
    pub from_path: Option<String>,
    pub to_path: Option<String>,
    pub previous_path: Option<String>,
    content: Option<String>,
    data_base64: Option<String>,
    blob: Option<RawBlob>,
    /// A key only the engine reads is unusable (see the module doc); the server ignores this.
    loose: bool,
}

impl Payload {
    /// Reads `json`; `Ok(None)` for the literal `null`.
    pub fn read(json: &str) -> Result<Option<Payload>, PayloadError> {
        let v: JVal = serde_json::from_str(json).map_err(|_| PayloadError::InvalidPayload)?;
        match v {
            JVal::Null => Ok(None),
            JVal::Obj(_) => Payload::from_object(&v).map(Some),
            _ => Err(PayloadError::InvalidPayload),
        }
    }

    /// [`Payload::read`] for the engine: `null` and loose keys are refused too.
    pub fn read_strict(json: &str) -> Result<Payload, PayloadError> {
        match Payload::read(json)? {
            Some(p) if !p.loose => Ok(p),
            _ => Err(PayloadError::InvalidPayload),
        }
    }

    fn from_object(v: &JVal) -> Result<Payload, PayloadError> {
        let mut loose = false;
        // Keys §5.8 does not inspect: a wrong type or a second copy only marks the payload loose.
        let mut text = |name: &str| {
            let (value, count) = v.field(name);
            loose |= count > 1;
            match value {
                None | Some(JVal::Null) => None,
                Some(JVal::Str(s)) => Some(s.clone()),
                Some(_) => {
                    loose = true;
                    None
                }
            }
        };
        let mut p = Payload {
            path: text("path"),
            content_hash: text("contentHash"),
            from_path: text("fromPath"),
            to_path: text("toPath"),
            previous_path: text("previousPath"),
            content: text("content"),
            ..Payload::default()
        };
        let (data, count) = v.field("dataBase64");
        loose |= count > 1;
        p.data_base64 = match data {
            None | Some(JVal::Null) => None,
            Some(JVal::Str(s)) => Some(s.clone()),
            Some(_) => return Err(PayloadError::InvalidPayload),
        };
        let (blob, count) = v.field("blob");
        loose |= count > 1;
        p.blob = match blob {
            None | Some(JVal::Null) => None,
            Some(b @ JVal::Obj(_)) => {
                let (sha, sha_count) = b.field("sha256");
                let (size, size_count) = b.field("size");
                let raw = RawBlob {
                    sha256: match sha {
                        None | Some(JVal::Null) => None,
                        Some(JVal::Str(s)) => Some(s.clone()),
                        Some(_) => return Err(PayloadError::InvalidPayload),
                    },
                    size: match size {
                        None | Some(JVal::Null) => None,
                        Some(JVal::Int(n)) => Some(*n),
                        Some(_) => return Err(PayloadError::InvalidPayload),
                    },
                };
                loose |= sha_count > 1 || size_count > 1;
                loose |= raw.sha256.is_none() || raw.size.is_none();
                Some(raw)
            }
            Some(_) => return Err(PayloadError::InvalidPayload),
        };
        p.loose = loose;
        Ok(p)
    }

    /// The blob this payload references, as the server checks it at push (§5.8): inline
    /// binary is refused first, then a malformed reference. `Ok(None)` without `blob`.
    pub fn blob_ref(&self) -> Result<Option<BlobRef>, PayloadError> {
        if self.data_base64.is_some() {
            return Err(PayloadError::InlineBinary);
        }
        let Some(raw) = &self.blob else {
            return Ok(None);
        };
        let sha256 = Sha256Hex::parse(raw.sha256.as_deref().unwrap_or(""))
            .map_err(|_| PayloadError::InvalidBlobRef)?;
        let size =
            u64::try_from(raw.size.unwrap_or(0)).map_err(|_| PayloadError::InvalidBlobRef)?;
        Ok(Some(BlobRef { sha256, size }))
    }

    /// The file body a receiver applies (§4.5): `content`, else `blob`, else `dataBase64`.
    pub fn body(&self) -> Result<Option<FileBody>, PayloadError> {
        if let Some(text) = &self.content {
            return Ok(Some(FileBody::Text(text.clone())));
        }
        if let Some(raw) = &self.blob {
            let sha256 = Sha256Hex::parse(raw.sha256.as_deref().unwrap_or(""))
                .map_err(|_| PayloadError::InvalidBlobRef)?;
            let size = raw
                .size
                .and_then(|s| u64::try_from(s).ok())
                .ok_or(PayloadError::InvalidBlobRef)?;
            return Ok(Some(FileBody::Blob(BlobRef { sha256, size })));
        }
        match &self.data_base64 {
            Some(b64) => decode_base64(b64)
                .map(|bytes| Some(FileBody::LegacyBase64(bytes)))
                .ok_or(PayloadError::InvalidBase64),
            None => Ok(None),
        }
    }

    /// `contentHash` when given and not empty, parsed.
    pub fn stated_hash(&self) -> Result<Option<Sha256Hex>, PayloadError> {
        match self.content_hash.as_deref().filter(|h| !h.is_empty()) {
            Some(h) => Sha256Hex::parse(h)
                .map(Some)
                .map_err(|_| PayloadError::InvalidContentHash),
            None => Ok(None),
        }
    }
}

#[derive(Serialize)]
struct TextPayload<'a> {
    path: &'a str,
    #[serde(rename = "contentHash")]
    content_hash: &'a Sha256Hex,
    content: &'a str,
}

#[derive(Serialize)]
struct BlobPayload<'a> {
    path: &'a str,
    #[serde(rename = "contentHash")]
    content_hash: &'a Sha256Hex,
    blob: &'a BlobRef,
}

#[derive(Serialize)]
struct FolderPayload<'a> {
    path: &'a str,
    #[serde(rename = "contentHash")]
    content_hash: &'a str,
}

#[derive(Serialize)]
struct PathPayload<'a> {
    path: &'a str,
}

fn to_json(v: &impl Serialize) -> String {
    serde_json::to_string(v).expect("payloads are plain structs")
}

/// A file create or update with its text inline: `{"path","contentHash","content"}`.
pub fn text(path: &str, hash: &Sha256Hex, content: &str) -> String {
    to_json(&TextPayload {
        path,
        content_hash: hash,
        content,
    })
}

/// A file create or update by blob: `{"path","contentHash","blob":{"sha256","size"}}`.
pub fn blob(path: &str, blob: &BlobRef) -> String {
    to_json(&BlobPayload {
        path,
        content_hash: &blob.sha256,
        blob,
    })
}

/// A file or folder delete: `{"path"}`.
pub fn path_only(path: &str) -> String {
    to_json(&PathPayload { path })
}

/// A folder create: `{"path","contentHash":""}`.
pub fn folder(path: &str) -> String {
    to_json(&FolderPayload {
        path,
        content_hash: "",
    })
}

/// Standard or URL-safe base64, padding and line breaks ignored.
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
    use PayloadError::*;

    fn blob_ref(json: &str) -> Result<Option<BlobRef>, PayloadError> {
        match Payload::read(json)? {
            Some(p) => p.blob_ref(),
            None => Ok(None),
        }
    }

    #[test]
    fn server_blob_reference_table() {
        let sha = "a".repeat(64);
        assert_eq!(blob_ref("null"), Ok(None));
        assert_eq!(blob_ref("[]"), Err(InvalidPayload));
        assert_eq!(blob_ref("{"), Err(InvalidPayload));
        assert_eq!(blob_ref(r#"{"content":"hi"}"#), Ok(None));
        // Keys §5.8 does not inspect are not checked by the server.
        assert_eq!(blob_ref(r#"{"content":5,"path":[]}"#), Ok(None));
        assert_eq!(blob_ref(r#"{"dataBase64":"AAAA"}"#), Err(InlineBinary));
        assert_eq!(blob_ref(r#"{"dataBase64":5}"#), Err(InvalidPayload));
        assert_eq!(blob_ref(r#"{"blob":"x"}"#), Err(InvalidPayload));
        assert_eq!(blob_ref(r#"{"blob":{"sha256":1}}"#), Err(InvalidPayload));
        assert_eq!(blob_ref(r#"{"blob":{}}"#), Err(InvalidBlobRef));
        assert_eq!(
            blob_ref(r#"{"blob":{"sha256":"abc","size":1}}"#),
            Err(InvalidBlobRef)
        );
        assert_eq!(
            blob_ref(&format!(
                r#"{{"dataBase64":"x","blob":{{"sha256":"{sha}","size":1}}}}"#
            )),
            Err(InlineBinary)
        );
        let ok = format!(r#"{{"blob":{{"sha256":"{sha}","size":12}}}}"#);
        let want = BlobRef {
            sha256: Sha256Hex::parse(&sha).unwrap(),
            size: 12,
        };
        assert_eq!(blob_ref(&ok), Ok(Some(want)));
        let neg = format!(r#"{{"blob":{{"sha256":"{sha}","size":-1}}}}"#);
        assert_eq!(blob_ref(&neg), Err(InvalidBlobRef));
        let frac = format!(r#"{{"blob":{{"sha256":"{sha}","size":1.5}}}}"#);
        assert_eq!(blob_ref(&frac), Err(InvalidPayload));
        // A key given twice: the last one counts, as with `serde_json::Value`.
        let twice = format!(r#"{{"blob":null,"blob":{{"sha256":"{sha}","size":1}}}}"#);
        assert_eq!(blob_ref(&twice).unwrap().unwrap().size, 1);
    }

    #[test]
    fn engine_body_table() {
        let h = Sha256Hex::of(b"x");
        let body = |json: &str| Payload::read_strict(json).and_then(|p| p.body());
        assert_eq!(
            body(r#"{"path":"a.md","content":"hello","extra":1}"#),
            Ok(Some(FileBody::Text("hello".into())))
        );
        assert_eq!(
            body(&blob(
                "p.png",
                &BlobRef {
                    sha256: h.clone(),
                    size: 1
                }
            )),
            Ok(Some(FileBody::Blob(BlobRef {
                sha256: h.clone(),
                size: 1
            })))
        );
        assert_eq!(
            body(r#"{"dataBase64":"aGVsbG8="}"#),
            Ok(Some(FileBody::LegacyBase64(b"hello".to_vec())))
        );
        assert_eq!(body(r#"{"dataBase64":"a*"}"#), Err(InvalidBase64));
        assert_eq!(body(r#"{"path":"a"}"#), Ok(None));
        assert_eq!(
            body(r#"{"blob":{"sha256":"XYZ","size":1}}"#),
            Err(InvalidBlobRef)
        );
        // What the engine refuses but the server lets through.
        for loose in [
            "null",
            r#"{"content":5}"#,
            r#"{"content":"a","content":"b"}"#,
            r#"{"content":"a","blob":{"size":1}}"#,
            r#"{"path":"a","path":"a"}"#,
        ] {
            assert_eq!(body(loose), Err(InvalidPayload), "{loose}");
        }
        let stated = Payload::read_strict(r#"{"contentHash":"nope"}"#).unwrap();
        assert_eq!(stated.stated_hash(), Err(InvalidContentHash));
        let empty = Payload::read_strict(r#"{"contentHash":""}"#).unwrap();
        assert_eq!(empty.stated_hash(), Ok(None));
    }

    #[test]
    fn built_shapes() {
        let h = Sha256Hex::of(b"hello");
        assert_eq!(
            text("a.md", &h, "hello"),
            format!(r#"{{"path":"a.md","contentHash":"{h}","content":"hello"}}"#)
        );
        let b = BlobRef {
            sha256: h.clone(),
            size: 5,
        };
        assert_eq!(
            blob("p.png", &b),
            format!(r#"{{"path":"p.png","contentHash":"{h}","blob":{{"sha256":"{h}","size":5}}}}"#)
        );
        assert_eq!(path_only("a.md"), r#"{"path":"a.md"}"#);
        assert_eq!(folder("Notes"), r#"{"path":"Notes","contentHash":""}"#);
    }
}
