//! Pure entry points for the fuzz targets (`fuzz/`) and their corpus replay test
//! (`server/tests/fuzz_corpus.rs`). Not an API. Each function runs the code a handler runs on a
//! request body, minus IO (no database, no files, no timeouts), and panics when an invariant
//! breaks, so a fuzzer or the replay test sees the failure.

use bytes::Bytes;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use verstak_sync_proto::limits::Limits;
use verstak_sync_proto::{
    AuthTestRequest, EntityType, PairRequest, PullRequest, PushRequest, RegisterDeviceRequest,
    RevokeDeviceRequest,
};

use crate::json::{DecodeError, FromJson, decode};
use crate::push_prep::{BlobCheck, blob_checks, blob_reference, fingerprint};
use crate::routes::blobs::{
    BlobDigest, check_file_field, first_field, multipart_error, no_more_fields, upload_boundary,
    upload_constraints,
};
use crate::sync_rules::{pull_limit, validate_push};

/// Decodes `body` as every JSON request type (§2.5: push, pull, pair, device register, auth
/// test, revoke) and runs the pure push/pull rules on what decodes.
///
/// Invariants: a body the strict decoder accepts is valid JSON; "trailing JSON" depends only on
/// the body, not on the request type; a decoded push or pair request re-encoded with serde
/// decodes to the same value; push validation, the fingerprint and blob-reference reading never
/// panic.
pub fn json_requests(body: &[u8]) {
    let push = decode::<PushRequest>(body);
    let trailing = matches!(push, Err(DecodeError::TrailingJson));
    let accepted = push.is_ok();
    if let Ok(r) = &push {
        roundtrip(r);
        let limits = Limits::default();
        let _ = validate_push(r, &limits);
        let fp = fingerprint(&r.ops);
        assert_eq!(fp.len(), 64);
        for op in &r.ops {
            if op.entity_type == EntityType::File
                && !op.payload_json.is_empty()
                && let Ok(Some(b)) = blob_reference(&op.payload_json)
            {
                assert!(verstak_sync_proto::blob::is_sha256_hex(b.sha256.as_str()));
            }
        }
        // The writer's steps are the same reading, in order, up to the first refusal.
        let checks = blob_checks(&r.ops);
        assert!(
            checks
                .iter()
                .position(|c| matches!(c, BlobCheck::Refuse(_)))
                .is_none_or(|i| i + 1 == checks.len())
        );
    }
    if let Ok(r) = check_kind::<PullRequest>(body, trailing) {
        let max = Limits::default().max_pull_page;
        let l = pull_limit(r.page_limit, max);
        assert!((1..=max).contains(&l));
    }
    if let Ok(r) = check_kind::<PairRequest>(body, trailing) {
        roundtrip(&r);
    }
    let _ = check_kind::<RegisterDeviceRequest>(body, trailing);
    let _ = check_kind::<AuthTestRequest>(body, trailing);
    let _ = check_kind::<RevokeDeviceRequest>(body, trailing);
    if accepted {
        assert!(
            serde_json::from_slice::<serde_json::Value>(body).is_ok(),
            "strict decoder accepted a body serde_json rejects"
        );
    }
}

fn check_kind<T: FromJson>(body: &[u8], trailing: bool) -> Result<T, DecodeError> {
    let r = decode::<T>(body);
    assert_eq!(
        matches!(r, Err(DecodeError::TrailingJson)),
        trailing,
        "trailing_json must not depend on the request type"
    );
    r
}

fn roundtrip<T>(r: &T)
where
    T: FromJson + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let again = serde_json::to_vec(r).expect("serialize");
    let back = decode::<T>(&again).expect("a re-encoded request decodes");
    assert_eq!(&back, r, "decode(encode(x)) != x");
}

/// What [`upload`] reports: the blob's SHA-256 and size, or the API error code and message.
pub type UploadResult = Result<(String, u64), (&'static str, String)>;

/// Runs the §4.9 multipart steps of the upload handler over `body`, delivered in chunks of
/// `chunk` bytes (at least 1), with a blob limit of `max` bytes. Returns what the handler would
/// have stored or answered (before quota and the database).
pub fn upload(content_type: &str, body: &[u8], chunk: usize, max: u64) -> UploadResult {
    upload_inner(content_type, body, chunk.max(1), max).map_err(|e| (e.code(), e.to_string()))
}

/// [`upload`] with the body in `chunk`-byte pieces and in one piece: the answers must agree,
/// a stored blob must respect `max`, and its hash must be the SHA-256 of some slice of the body.
pub fn upload_invariants(content_type: &str, body: &[u8], chunk: usize, max: u64) -> UploadResult {
    let split = upload(content_type, body, chunk, max);
    let whole = upload(content_type, body, body.len().max(1), max);
    assert_eq!(
        split, whole,
        "the answer depends on how the body is chunked"
    );
    if let Ok((sha, size)) = &split {
        assert!(*size <= max);
        assert_eq!(sha.len(), 64);
        assert!(*size as usize <= body.len());
    }
    split
}

fn upload_inner(
    ct: &str,
    body: &[u8],
    chunk: usize,
    max: u64,
) -> Result<(String, u64), crate::error::ApiError> {
    let boundary = upload_boundary(ct)?;
    let chunks: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let stream = futures_util::stream::iter(chunks);
    let mut mp = multer::Multipart::with_constraints(stream, boundary, upload_constraints(max));
    block_on(async move {
        let mut field = first_field(mp.next_field().await)?;
        check_file_field(&field)?;
        let mut digest = BlobDigest::new(max);
        while let Some(c) = field.chunk().await.map_err(multipart_error)? {
            digest.update(&c)?;
        }
        drop(field);
        no_more_fields(mp.next_field().await)?;
        Ok(digest.finish())
    })
}

/// Polls a future whose every input is already in memory. A future that stays pending forever
/// would spin (a fuzzer reports it as a timeout).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// The `server_upload` fuzz input: byte 0 picks the chunk size (1 to 64), byte 1 the blob limit,
/// then the `Content-Type` value up to the first `\n`, then the body.
pub fn upload_input(data: &[u8]) {
    let (chunk, max, rest) = match data {
        [c, m, rest @ ..] => (
            1 + usize::from(*c) % 64,
            [0, 1, 7, 64, 1000, 1 << 20][usize::from(*m) % 6],
            rest,
        ),
        _ => return,
    };
    let (ct, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let _ = upload_invariants(&String::from_utf8_lossy(ct), body, chunk, max);
}
