//! Batch blob download (an addition to the reference API, `docs/api-extensions.md`):
//! `POST` [`crate::paths::BLOB_BATCH`] with [`BlobBatchRequest`] answers many small blobs in one
//! response, so a device that pulls a thousand binaries does not wait for a thousand requests.
//!
//! The answer is `application/octet-stream`: one frame per requested hash, in request order.
//! A frame starts with a header line, `<sha256> <size>\n`, followed by exactly `size` bytes,
//! or `<sha256> -\n` ([`UNAVAILABLE`]) with no bytes when the blob is not available to the
//! caller (no ref in its scope, or missing or damaged on the server): the client then asks the
//! single download route, whose answer says why. [`frame_header`] writes a header line and
//! [`parse_frames`] reads a whole body back. Nothing here is trusted: the client checks each
//! frame's size and SHA-256 itself.

use serde::{Deserialize, Serialize};

use crate::hash::Sha256Hex;

/// At most this many hashes in one request (413 `blob_batch_too_large` beyond).
pub const MAX_BLOBS: usize = 1000;
/// The blobs one request names may total at most this many bytes (413 `blob_batch_too_large`
/// beyond), so an answer stays small enough to hold in memory.
pub const MAX_BYTES: u64 = 8 * 1024 * 1024;
/// The size field of a frame whose blob is not available.
pub const UNAVAILABLE: &str = "-";

/// `POST /api/v1/blob-batch` request: the hashes wanted, in the order the frames come back
/// (a repeated hash is answered again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BlobBatchRequest {
    #[serde(default, deserialize_with = "crate::nullable::zero")]
    pub sha256: Vec<String>,
}

/// The header line of a frame: with the blob's size, or [`UNAVAILABLE`] for `None`.
pub fn frame_header(sha256: &str, size: Option<u64>) -> String {
    match size {
        Some(n) => format!("{sha256} {n}\n"),
        None => format!("{sha256} {UNAVAILABLE}\n"),
    }
}

/// One frame of an answer: the hash its header names and the blob's bytes (`None`: not
/// available).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    pub sha256: Sha256Hex,
    pub bytes: Option<&'a [u8]>,
}

/// The answer's bytes do not follow the frame format (a header line that is not a hash and
/// a size or `-`, or bytes cut short or left over).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError;

/// Reads every frame of an answer body, in order.
pub fn parse_frames(mut body: &[u8]) -> Result<Vec<Frame<'_>>, FrameError> {
    let mut frames = Vec::new();
    while !body.is_empty() {
        // A header line is a 64-character hash, a space and at most 20 digits.
        let end = body
            .iter()
            .take(64 + 1 + 20 + 1)
            .position(|b| *b == b'\n')
            .ok_or(FrameError)?;
        let line = std::str::from_utf8(&body[..end]).map_err(|_| FrameError)?;
        let (sha, size) = line.split_once(' ').ok_or(FrameError)?;
        let sha256 = Sha256Hex::parse(sha).map_err(|_| FrameError)?;
        body = &body[end + 1..];
        let bytes = if size == UNAVAILABLE {
            None
        } else {
            if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FrameError);
            }
            let n = size.parse::<u64>().map_err(|_| FrameError)?;
            let n = usize::try_from(n)
                .ok()
                .filter(|n| *n <= body.len())
                .ok_or(FrameError)?;
            let (bytes, rest) = body.split_at(n);
            body = rest;
            Some(bytes)
        };
        frames.push(Frame { sha256, bytes });
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let a = Sha256Hex::of(b"abc");
        let b = Sha256Hex::of(b"");
        let c = Sha256Hex::of(b"gone");
        let mut body = Vec::new();
        body.extend_from_slice(frame_header(a.as_str(), Some(3)).as_bytes());
        body.extend_from_slice(b"abc");
        body.extend_from_slice(frame_header(b.as_str(), Some(0)).as_bytes());
        body.extend_from_slice(frame_header(c.as_str(), None).as_bytes());
        let frames = parse_frames(&body).unwrap();
        assert_eq!(
            frames,
            vec![
                Frame {
                    sha256: a.clone(),
                    bytes: Some(b"abc")
                },
                Frame {
                    sha256: b,
                    bytes: Some(b"")
                },
                Frame {
                    sha256: c,
                    bytes: None
                },
            ]
        );
        assert_eq!(parse_frames(b"").unwrap(), vec![]);
        // Cut short, a bad size, a bad hash, no line end, bytes left over.
        let head = frame_header(a.as_str(), Some(3));
        for bad in [
            format!("{head}ab"),
            format!("{a} +3\nabc"),
            format!("{a} \nabc"),
            format!("{a} 99999999999999999999999\n"),
            format!("{} 3\nabc", a.as_str().to_uppercase()),
            format!("{a} 3"),
            format!("{head}abcx"),
        ] {
            assert_eq!(parse_frames(bad.as_bytes()), Err(FrameError), "{bad:?}");
        }
    }

    #[test]
    fn the_request_reads_null_as_empty() {
        let r: BlobBatchRequest = serde_json::from_str(r#"{"sha256":null}"#).unwrap();
        assert!(r.sha256.is_empty());
        let r: BlobBatchRequest = serde_json::from_str(r#"{"sha256":["x"]}"#).unwrap();
        assert_eq!(r.sha256, vec!["x".to_string()]);
    }
}
