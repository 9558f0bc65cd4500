//! Blob download (spec §4.10): scope isolation, conditional requests and single ranges.
//!
//! [`download`] runs four steps: [`locate`] the blob (the ref check is the isolation rule:
//! without a ref in the caller's scope the answer is 404 even when the bytes exist on disk),
//! record the access, decide the [`Answer`] from the request's conditional and `Range`
//! headers (pure: [`answer`] with [`parse_range`]), and build the response; only an answer
//! with a body opens the blob, and the body is streamed from the blob store (the file in
//! chunks of up to 256 KiB, or an S3 ranged GET).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use verstak_sync_proto::paths;

use crate::blobstore::{BlobMeta, ReadError};
use crate::error::ApiError;
use crate::extract::ScopedDevice;
use crate::state::AppState;
use crate::store::{Scope, blobs};
use crate::util::time;

pub(crate) async fn download(
    State(st): State<AppState>,
    ScopedDevice { scope, .. }: ScopedDevice,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let sha = paths::blob_hash(uri.path())
        .ok_or(ApiError::InvalidBlobHash)?
        .to_string();
    let meta = locate(&st, &scope, &sha).await?;
    // §4.10 `last_accessed`, batched: a read commits nothing (`crate::marks`).
    st.marks.blob_read(&scope, &sha, time::now_rfc3339());
    let v = Validators::of(&sha, &meta);
    let answer = answer(&headers, &v);
    let mut resp = respond(&sha, &v, answer);
    if let Some((start, len)) = answer.bytes(v.size)
        && method != Method::HEAD
    {
        let stream = open_blob(&st, &sha, start, len).await?;
        st.metrics.blob_download_bytes.fetch_add(len, Relaxed);
        *resp.body_mut() = Body::from_stream(stream);
    }
    Ok(resp)
}

/// The stored blob's size and time, when the scope holds a ref to it (else 404) and the blob
/// is whole (missing: 404; unreadable, not a file or the wrong size: 500 `blob_unavailable`;
/// the object store failing: 500 `internal_error`).
pub(crate) async fn locate(st: &AppState, scope: &Scope, sha: &str) -> Result<BlobMeta, ApiError> {
    let (s2, sha2) = (scope.clone(), sha.to_owned());
    let size = st
        .db
        .read(move |c| blobs::ref_size(c, &s2, &sha2))
        .await?
        .ok_or(ApiError::BlobNotFound)?;
    let meta = st.blobs.stat(sha).await.map_err(read_error)?;
    if meta.size != size as u64 {
        return Err(ApiError::BlobUnavailable);
    }
    Ok(meta)
}

fn read_error(e: ReadError) -> ApiError {
    match e {
        ReadError::Missing => ApiError::BlobNotFound,
        ReadError::Unavailable => ApiError::BlobUnavailable,
        ReadError::Backend(e) => ApiError::internal(e.context("reading a blob")),
    }
}

/// What conditional requests compare against: the quoted hash as the strong `ETag`, the file
/// time in whole seconds as `Last-Modified`, and the size.
#[derive(Debug, Clone)]
pub(crate) struct Validators {
    pub etag: String,
    pub mtime: SystemTime,
    pub size: u64,
}

impl Validators {
    fn of(sha: &str, meta: &BlobMeta) -> Validators {
        Validators {
            etag: format!("\"{sha}\""),
            mtime: truncate_secs(meta.mtime),
            size: meta.size,
        }
    }
}

/// The answer to a download, decided from the request headers alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// 412: `If-Unmodified-Since` is older than the file.
    PreconditionFailed,
    /// 304: `If-None-Match` matches, or (without it) `If-Modified-Since` is not older.
    NotModified,
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
    /// 206 with the inclusive byte range `start..=end`.
    Partial { start: u64, end: u64 },
    /// 200 with the whole blob (no range, a range `If-Range` rules out, or one to ignore).
    Whole,
}

impl Answer {
    /// The `(start, len)` of the body this answer sends, if any.
    fn bytes(self, size: u64) -> Option<(u64, u64)> {
        match self {
            Answer::Partial { start, end } => Some((start, end - start + 1)),
            Answer::Whole => Some((0, size)),
            _ => None,
        }
    }
}

/// The conditional checks in the order of §4.10, then the `Range` header (only when
/// `If-Range` is absent or matches the `ETag` or the exact `Last-Modified`).
pub(crate) fn answer(h: &HeaderMap, v: &Validators) -> Answer {
    if date(h, header::IF_UNMODIFIED_SINCE).is_some_and(|d| v.mtime > d) {
        return Answer::PreconditionFailed;
    }
    let not_modified = match text(h, header::IF_NONE_MATCH) {
        Some(inm) => inm
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == v.etag),
        None => date(h, header::IF_MODIFIED_SINCE).is_some_and(|d| v.mtime <= d),
    };
    if not_modified {
        return Answer::NotModified;
    }
    let range_ok = match text(h, header::IF_RANGE) {
        None => true,
        Some(t) if t.trim() == v.etag => true,
        Some(t) => httpdate::parse_http_date(t.trim()).is_ok_and(|d| d == v.mtime),
    };
    match text(h, header::RANGE).filter(|_| range_ok) {
        Some(r) => match parse_range(r, v.size) {
            RangeSpec::Satisfiable(start, end) => Answer::Partial { start, end },
            RangeSpec::Unsatisfiable => Answer::Unsatisfiable,
            RangeSpec::Ignore => Answer::Whole,
        },
        None => Answer::Whole,
    }
}

/// The response without its body: the blob's headers (a 304 without `Content-Disposition`),
/// the status and the range headers of `answer`.
fn respond(sha: &str, v: &Validators, answer: Answer) -> Response {
    let mut resp = Response::new(Body::empty());
    let rh = resp.headers_mut();
    rh.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    rh.insert(header::LAST_MODIFIED, hv(&httpdate::fmt_http_date(v.mtime)));
    rh.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    rh.insert(header::ETAG, hv(&v.etag));
    if answer != Answer::NotModified {
        rh.insert(
            header::CONTENT_DISPOSITION,
            hv(&format!("attachment; filename=\"{sha}\"")),
        );
    }
    let size = v.size;
    let (status, range) = match answer {
        Answer::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, None),
        Answer::NotModified => (StatusCode::NOT_MODIFIED, None),
        Answer::Unsatisfiable => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            Some(format!("bytes */{size}")),
        ),
        Answer::Partial { start, end } => (
            StatusCode::PARTIAL_CONTENT,
            Some(format!("bytes {start}-{end}/{size}")),
        ),
        Answer::Whole => (StatusCode::OK, None),
    };
    *resp.status_mut() = status;
    if let Some(r) = range {
        resp.headers_mut().insert(header::CONTENT_RANGE, hv(&r));
    }
    if let Some((_, len)) = answer.bytes(size) {
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    resp
}

/// `len` bytes of the blob from `start` as a body stream; a blob that cannot be opened is 500
/// `blob_unavailable` (or `internal_error` when the object store fails).
pub(crate) async fn open_blob(
    st: &AppState,
    sha: &str,
    start: u64,
    len: u64,
) -> Result<BoxStream<'static, std::io::Result<Bytes>>, ApiError> {
    st.blobs.read(sha, start, len).await.map_err(|e| match e {
        ReadError::Missing => ApiError::BlobUnavailable,
        e => read_error(e),
    })
}

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn truncate_secs(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A header's value as text (absent when missing or not visible ASCII).
fn text(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn date(h: &HeaderMap, name: header::HeaderName) -> Option<SystemTime> {
    text(h, name).and_then(|v| httpdate::parse_http_date(v.trim()).ok())
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RangeSpec {
    /// Inclusive byte range.
    Satisfiable(u64, u64),
    Unsatisfiable,
    /// Malformed or multi-range: send the whole body.
    Ignore,
}

/// Parses a single `bytes=a-b`, `a-` or `-n` range against `size`.
pub(crate) fn parse_range(v: &str, size: u64) -> RangeSpec {
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return RangeSpec::Ignore;
    };
    if spec.contains(',') {
        return RangeSpec::Ignore;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeSpec::Ignore;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    match (a.is_empty(), b.is_empty()) {
        (true, true) => RangeSpec::Ignore,
        (true, false) => match num(b) {
            None => RangeSpec::Ignore,
            Some(0) => RangeSpec::Unsatisfiable,
            Some(_) if size == 0 => RangeSpec::Unsatisfiable,
            Some(n) => RangeSpec::Satisfiable(size.saturating_sub(n), size - 1),
        },
        (false, _) => {
            let Some(start) = num(a) else {
                return RangeSpec::Ignore;
            };
            let end = if b.is_empty() { Some(u64::MAX) } else { num(b) };
            match end {
                None => RangeSpec::Ignore,
                Some(e) if e < start => RangeSpec::Ignore,
                Some(_) if start >= size => RangeSpec::Unsatisfiable,
                Some(e) => RangeSpec::Satisfiable(start, e.min(size - 1)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeSpec::*;
        assert_eq!(parse_range("bytes=0-3", 10), Satisfiable(0, 3));
        assert_eq!(parse_range("bytes=5-", 10), Satisfiable(5, 9));
        assert_eq!(parse_range("bytes=-3", 10), Satisfiable(7, 9));
        assert_eq!(parse_range("bytes=-30", 10), Satisfiable(0, 9));
        assert_eq!(parse_range("bytes=8-100", 10), Satisfiable(8, 9));
        assert_eq!(parse_range("bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), Ignore);
        assert_eq!(parse_range("items=0-1", 10), Ignore);
        assert_eq!(parse_range("bytes=3-1", 10), Ignore);
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn conditional_answers_in_spec_order() {
        let mtime = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let v = Validators {
            etag: "\"abc\"".into(),
            mtime,
            size: 10,
        };
        let lm = httpdate::fmt_http_date(mtime);
        let older = httpdate::fmt_http_date(mtime - Duration::from_secs(1));
        let at = |pairs: &[(&'static str, &str)]| answer(&headers(pairs), &v);
        use Answer::*;
        assert_eq!(at(&[]), Whole);
        assert_eq!(at(&[("if-unmodified-since", &older)]), PreconditionFailed);
        assert_eq!(at(&[("if-unmodified-since", &lm)]), Whole);
        // 412 comes before 304.
        let both = [("if-unmodified-since", &*older), ("if-none-match", "*")];
        assert_eq!(at(&both), PreconditionFailed);
        assert_eq!(at(&[("if-none-match", "\"x\", W/\"abc\"")]), NotModified);
        assert_eq!(at(&[("if-none-match", "*")]), NotModified);
        assert_eq!(at(&[("if-modified-since", &lm)]), NotModified);
        assert_eq!(at(&[("if-modified-since", &older)]), Whole);
        // If-None-Match, when present, decides alone.
        let inm = [("if-none-match", "\"x\""), ("if-modified-since", &*lm)];
        assert_eq!(at(&inm), Whole);
        let range = ("range", "bytes=2-4");
        assert_eq!(at(&[range]), Partial { start: 2, end: 4 });
        assert_eq!(at(&[("range", "bytes=10-")]), Unsatisfiable);
        assert_eq!(at(&[("range", "bytes=0-1,3-4")]), Whole);
        // If-Range: the ETag or the exact date keeps the range, anything else drops it.
        for (ir, want) in [
            ("\"abc\"", Partial { start: 2, end: 4 }),
            (&*lm, Partial { start: 2, end: 4 }),
            ("\"other\"", Whole),
            (&*older, Whole),
            ("garbage", Whole),
        ] {
            assert_eq!(at(&[range, ("if-range", ir)]), want, "{ir}");
        }
    }

    #[test]
    fn answers_carry_their_bytes() {
        assert_eq!(Answer::Whole.bytes(10), Some((0, 10)));
        assert_eq!(Answer::Partial { start: 2, end: 4 }.bytes(10), Some((2, 3)));
        for a in [
            Answer::PreconditionFailed,
            Answer::NotModified,
            Answer::Unsatisfiable,
        ] {
            assert_eq!(a.bytes(10), None);
        }
    }
}
