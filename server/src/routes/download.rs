//! Blob download (spec §4.10): scope isolation, conditional requests and single ranges.
//!
//! The ref check is the isolation rule: without a ref in the caller's scope the answer is 404
//! even when the bytes exist on disk. The body is streamed from the file in 64 KiB chunks.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use std::io::SeekFrom;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use verstak_sync_proto::paths;

use crate::error::ApiError;
use crate::extract::ScopedDevice;
use crate::state::AppState;
use crate::store::blobs;
use crate::util::time;

pub(crate) async fn download(
    State(st): State<AppState>,
    ScopedDevice { scope }: ScopedDevice,
    req: Request,
) -> Result<Response, ApiError> {
    let sha = paths::blob_hash(req.uri().path())
        .ok_or(ApiError::InvalidBlobHash)?
        .to_string();
    let (s2, sha2) = (scope.clone(), sha.clone());
    let size = st
        .db
        .read(move |c| blobs::ref_size(c, &s2, &sha2))
        .await?
        .ok_or(ApiError::BlobNotFound)?;
    let path = st.blobs.final_path(&sha);
    let meta = match tokio::fs::metadata(&path).await {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ApiError::BlobNotFound),
        Err(_) => return Err(ApiError::BlobUnavailable),
    };
    if !meta.is_file() || meta.len() != size as u64 {
        return Err(ApiError::BlobUnavailable);
    }
    let (s3, sha3, now) = (scope, sha.clone(), time::now_rfc3339());
    st.db
        .write(move |c| blobs::touch_ref(c, &s3, &sha3, &now))
        .await?;

    let size = meta.len();
    let mtime = truncate_secs(meta.modified().unwrap_or(UNIX_EPOCH));
    let etag = format!("\"{sha}\"");
    let h = req.headers();
    let mut resp = Response::new(Body::empty());
    let rh = resp.headers_mut();
    rh.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    rh.insert(header::LAST_MODIFIED, hv(&httpdate::fmt_http_date(mtime)));
    rh.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    rh.insert(header::ETAG, hv(&etag));
    rh.insert(
        header::CONTENT_DISPOSITION,
        hv(&format!("attachment; filename=\"{sha}\"")),
    );

    if date(h, header::IF_UNMODIFIED_SINCE).is_some_and(|d| mtime > d) {
        *resp.status_mut() = StatusCode::PRECONDITION_FAILED;
        return Ok(resp);
    }
    let not_modified = match h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        Some(inm) => inm
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == etag),
        None => date(h, header::IF_MODIFIED_SINCE).is_some_and(|d| mtime <= d),
    };
    if not_modified {
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        resp.headers_mut().remove(header::CONTENT_DISPOSITION);
        return Ok(resp);
    }
    let range_ok = match h.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(v) if v.trim() == etag => true,
        Some(v) => httpdate::parse_http_date(v.trim()).is_ok_and(|d| d == mtime),
    };
    let range = h
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| range_ok);
    let (start, len) = match range.map(|r| parse_range(r, size)) {
        Some(RangeSpec::Satisfiable(a, b)) => {
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            resp.headers_mut()
                .insert(header::CONTENT_RANGE, hv(&format!("bytes {a}-{b}/{size}")));
            (a, b - a + 1)
        }
        Some(RangeSpec::Unsatisfiable) => {
            *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            resp.headers_mut()
                .insert(header::CONTENT_RANGE, hv(&format!("bytes */{size}")));
            return Ok(resp);
        }
        Some(RangeSpec::Ignore) | None => (0, size),
    };
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if req.method() == axum::http::Method::HEAD {
        return Ok(resp);
    }
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ApiError::BlobUnavailable)?;
    file.seek(SeekFrom::Start(start))
        .await
        .map_err(|_| ApiError::BlobUnavailable)?;
    st.metrics.blob_download_bytes.fetch_add(len, Relaxed);
    let stream = futures_util::stream::unfold((file, len), |(mut f, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; left.min(256 * 1024) as usize];
        match f.read(&mut buf).await {
            Ok(0) => Some((Err(std::io::Error::other("blob file shrank")), (f, 0))),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (f, left - n as u64)))
            }
            Err(e) => Some((Err(e), (f, 0))),
        }
    });
    *resp.body_mut() = Body::from_stream(stream);
    Ok(resp)
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

fn date(h: &HeaderMap, name: header::HeaderName) -> Option<SystemTime> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
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
}
