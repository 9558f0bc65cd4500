//! Global HTTP conventions (spec §2): security headers, path cleaning and the trailing-slash
//! redirects, unknown paths, the client IP, and reading bounded request bodies. JSON replies
//! are written with `crate::reply`.
//!
//! [`front`] wraps the whole router: it redirects unclean paths, passes the request on, adds the
//! security headers to every response and records request metrics.

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use verstak_sync_proto::paths;

use crate::error::ApiError;
use crate::state::AppState;

const CSP: &str = "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; script-src 'self'; style-src 'self'";

/// [`CSP`] plus `'wasm-unsafe-eval'`, which a browser needs before it compiles WebAssembly: only
/// the history pages that load the browser merge (`/static/merge/`) send it. It allows compiling
/// wasm the page fetched from `'self'`, not `eval` of strings.
pub(crate) const CSP_WASM: &str = "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";

/// Adds the security headers; a response that already carries its own CSP (the history pages'
/// [`CSP_WASM`]) keeps it.
pub(crate) fn add_security_headers(h: &mut HeaderMap) {
    if !h.contains_key("content-security-policy") {
        h.insert("content-security-policy", HeaderValue::from_static(CSP));
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
}

/// The cleaned form of `path` (no `//`, `.` or `..` segments), or `None` if it is clean.
pub(crate) fn clean_path(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let mut dirty = false;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        match *seg {
            "" if !last => dirty = true,
            "." => dirty = true,
            ".." => {
                dirty = true;
                out.pop();
            }
            s => out.push(s),
        }
    }
    if !dirty {
        return None;
    }
    let mut cleaned = format!("/{}", out.join("/"));
    let trailing = matches!(segs.last(), Some(&"") | Some(&".") | Some(&".."));
    if trailing && !cleaned.ends_with('/') {
        cleaned.push('/');
    }
    Some(cleaned)
}

/// `path` as a `Location` that a browser can only read as a path on this origin: bytes that are
/// not visible ASCII (controls, space, non-ASCII) and `\` are percent-encoded, and leading
/// slashes collapse to one. Browsers drop tabs and newlines and read `\` as `/` in URLs, so
/// `/\evil.example` or `/<tab>/evil.example` would otherwise leave for another host.
pub(crate) fn same_origin_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    for &b in path.trim_start_matches('/').as_bytes() {
        if b.is_ascii_graphic() && b != b'\\' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where `POST /locale` sends the browser back to (§6.8): `from` when it starts with `/` but not
/// with `//` or `/\`, made safe by [`same_origin_path`]; otherwise `/`.
pub(crate) fn local_redirect_target(from: &str) -> String {
    if from.starts_with('/') && !from.starts_with("//") && !from.starts_with("/\\") {
        same_origin_path(from)
    } else {
        "/".to_owned()
    }
}

fn redirect(uri: &Uri, path: &str) -> Response {
    let path = same_origin_path(path);
    let loc = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
    if let Ok(v) = HeaderValue::from_str(&loc) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The directory paths that exist only in their slashed form (blobs, the admin vault pages,
/// static files): the bare form redirects to it.
fn needs_slash(path: &str) -> bool {
    let blobs = paths::BLOBS.strip_suffix('/').unwrap_or(paths::BLOBS);
    path == blobs || path == "/admin/vault" || path == "/static"
}

/// The outermost middleware: redirects, security headers, metrics.
pub(crate) async fn front(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut resp = if let Some(clean) = clean_path(&path) {
        redirect(req.uri(), &clean)
    } else if needs_slash(&path) {
        redirect(req.uri(), &format!("{path}/"))
    } else {
        let route = crate::metrics::route_template(&path);
        let span = tracing::info_span!("request", %method, route, peer = %peer(req.extensions()));
        tracing::Instrument::instrument(next.run(req), span).await
    };
    add_security_headers(resp.headers_mut());
    state
        .metrics
        .observe_request(&path, &method, resp.status().as_u16(), started.elapsed());
    resp
}

/// Fallback for unknown paths (§2.1): JSON under `/api/`, an HTML page elsewhere.
pub(crate) async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::NotFound("not found").into_response();
    }
    not_found_page()
}

pub(crate) fn not_found_page() -> Response {
    let html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title>\
        <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main><h1>Not found</h1>\
        <p>The page you are looking for does not exist.</p><p><a href=\"/\">Back</a></p></main></body></html>\n";
    let mut r = Response::new(Body::from(html));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// The TCP peer of a request.
pub(crate) fn peer(req_ext: &axum::http::Extensions) -> SocketAddr {
    req_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// The client IP (§2.8): `X-Forwarded-For` right to left behind a trusted proxy.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let entries: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    entries
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(entries.first())
        .copied()
        .unwrap_or(peer)
}

/// Reads a JSON request body of at most `limit` bytes within 30 s (§2.5 rule 1, §2.9).
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: i64,
) -> Result<Vec<u8>, ApiError> {
    let limit = limit.max(0) as usize;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::RequestTooLarge);
    }
    let collect = async {
        let mut out = Vec::with_capacity(declared.unwrap_or(0) as usize);
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| ApiError::InvalidJson)?;
            if out.len() + chunk.len() > limit {
                return Err(ApiError::RequestTooLarge);
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    };
    tokio::time::timeout(Duration::from_secs(30), collect)
        .await
        .map_err(|_| ApiError::InvalidJson)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_cleaning() {
        assert_eq!(clean_path("/api/v1/sync/push"), None);
        assert_eq!(clean_path("/api/v1/blobs/"), None);
        assert_eq!(clean_path("/"), None);
        assert_eq!(clean_path("//api//x").as_deref(), Some("/api/x"));
        assert_eq!(clean_path("/a/./b").as_deref(), Some("/a/b"));
        assert_eq!(clean_path("/a/../b").as_deref(), Some("/b"));
        assert_eq!(clean_path("/a/..").as_deref(), Some("/"));
        assert_eq!(clean_path("/a/b/.").as_deref(), Some("/a/b/"));
    }

    #[test]
    fn bare_directory_paths_need_their_slash() {
        for p in ["/api/v1/blobs", "/admin/vault", "/static"] {
            assert!(needs_slash(p), "{p}");
        }
        for p in [
            "/api/v1/blobs/",
            "/api/v1/blob",
            "/static/",
            "/admin/vaults",
            "/",
        ] {
            assert!(!needs_slash(p), "{p}");
        }
    }

    #[test]
    fn locations_stay_on_this_origin() {
        assert_eq!(same_origin_path("/api/client/me"), "/api/client/me");
        assert_eq!(same_origin_path("/\\evil.example"), "/%5Cevil.example");
        assert_eq!(same_origin_path("//evil.example"), "/evil.example");
        assert_eq!(same_origin_path("/\t/evil.example"), "/%09/evil.example");
        assert_eq!(
            same_origin_path("/заметки"),
            "/%D0%B7%D0%B0%D0%BC%D0%B5%D1%82%D0%BA%D0%B8"
        );
        let cleaned = clean_path("/a/../\\evil.example").unwrap();
        assert_eq!(same_origin_path(&cleaned), "/%5Cevil.example");
        assert_eq!(local_redirect_target("/reset?token=t"), "/reset?token=t");
        assert_eq!(
            local_redirect_target("/\t/evil.example"),
            "/%09/evil.example"
        );
        assert_eq!(local_redirect_target("/\\evil.example"), "/");
        assert_eq!(local_redirect_target("//evil.example"), "/");
        assert_eq!(local_redirect_target("https://evil.example"), "/");
        assert_eq!(local_redirect_target(""), "/");
    }

    #[test]
    fn client_ip_reads_right_to_left() {
        let trusted = vec![crate::config::parse_net("127.0.0.1").unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.2.3.4, 203.0.113.8"),
        );
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(client_ip(lo, &h, &trusted).to_string(), "203.0.113.8");
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.8, 127.0.0.1"),
        );
        assert_eq!(client_ip(lo, &h, &trusted).to_string(), "203.0.113.8");
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("garbage, 127.0.0.1"),
        );
        assert_eq!(client_ip(lo, &h, &trusted).to_string(), "127.0.0.1");
        assert_eq!(client_ip(lo, &h, &[]).to_string(), "127.0.0.1");
        let other: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(client_ip(other, &h, &trusted), other);
    }
}
