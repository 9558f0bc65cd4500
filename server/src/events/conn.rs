//! A lean connection for event streams: a connection whose first request is
//! `GET /api/v1/sync/events` is served here instead of by hyper.
//!
//! Why: hyper keeps an 8 KiB read buffer and an 8 KiB write buffer for every connection it
//! serves, for the connection's whole life, and 8 KiB is its smallest setting. An idle event
//! stream moves a 10-byte heartbeat every 25 s, so those buffers were most of what 10,000 idle
//! streams cost (docs/performance.md). Here the request head is read into a buffer that is
//! dropped before the stream starts, the request goes through the same router (so
//! authentication, limits, metrics and headers are the route's own), and each body frame is
//! written as one HTTP/1.1 chunk straight to the socket.
//!
//! The rules kept from the hyper path: the head must arrive within the header clock and fit in
//! 16 KiB and 100 header lines (else 408-like close, 431 or 400); behind a trusted proxy the
//! forwarded client IP takes a per-request slot (§2.8); a write that makes no progress for the
//! idle clock ends the connection; the client closing its side ends the stream at once. The
//! connection closes after its one response (a stream only ends when the server closes it, or
//! the client goes away), and bytes the client sends after the head are ignored.
//!
//! Anything that does not start with the exact request line prefix (or arrives in a first
//! segment too short to tell) goes to hyper, where the route works the same, only dearer.

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version};
use axum::response::IntoResponse;
use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::BodyExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tower::ServiceExt;
use verstak_sync_proto::events::EVENTS;

use crate::error::ApiError;
use crate::idle::Timeouts;

/// The largest request head accepted (as hyper's `max_header_size` in `server.rs`).
const MAX_HEAD: usize = 16 * 1024;
/// Header lines accepted (hyper's default).
const MAX_HEADERS: usize = 100;

/// What the first bytes of a connection say.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// An event-stream request line: serve it with [`serve`].
    Stream,
    /// Anything else: hand the connection to hyper.
    Other,
    /// The client sent nothing within the header clock, or closed: drop the connection.
    Gone,
}

/// Whether `bytes` (the first bytes of a connection) begin an event-stream request line.
fn is_stream_line(bytes: &[u8]) -> bool {
    let prefix = [b"GET ", EVENTS.as_bytes()].concat();
    bytes.len() > prefix.len()
        && bytes.starts_with(&prefix)
        && matches!(bytes[prefix.len()], b' ' | b'?')
}

/// Peeks at the first bytes of `stream` (without consuming them), waiting at most `wait`.
pub(crate) async fn sniff(stream: &TcpStream, wait: Duration) -> Sniff {
    let mut buf = [0u8; 32];
    match tokio::time::timeout(wait, stream.peek(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) | Err(_) => Sniff::Gone,
        Ok(Ok(n)) if is_stream_line(&buf[..n]) => Sniff::Stream,
        Ok(Ok(_)) => Sniff::Other,
    }
}

/// Event streams being served here; shutdown waits for them to say `closed`.
#[derive(Debug, Default)]
pub(crate) struct Live(AtomicUsize);

/// Counts one stream connection in [`Live`] until dropped.
pub(crate) struct LiveGuard(Arc<Live>);

impl Live {
    pub(crate) fn enter(self: &Arc<Self>) -> LiveGuard {
        self.0.fetch_add(1, Ordering::AcqRel);
        LiveGuard(self.clone())
    }

    /// Waits until no stream connection is left.
    pub(crate) async fn drained(&self) {
        while self.0.load(Ordering::Acquire) > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How the router's response is framed on the wire.
enum Framing {
    /// Known length (`content-length`), then close.
    Length(usize),
    /// A stream to HTTP/1.1: chunked.
    Chunked,
    /// A stream to HTTP/1.0: the body runs until the connection closes.
    UntilClose,
}

/// Per-request admission for proxied clients (the forwarded IP's slot, §2.8); `None` means the
/// client is over its cap. The slot is held until the response ends.
pub(crate) type Admit<'a> =
    &'a (dyn Fn(&axum::http::HeaderMap) -> Option<Option<crate::conns::IpSlot>> + Send + Sync);

/// Serves the one event-stream request of `stream` (see the module doc). `head_by` is when
/// the header clock runs out.
pub(crate) async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    timeouts: Timeouts,
    head_by: Instant,
    admit: Admit<'_>,
) {
    let req = match tokio::time::timeout_at(head_by, read_head(&mut stream)).await {
        Err(_) => return, // as the hyper path: a late head closes the connection
        Ok(Err(None)) => return,
        Ok(Err(Some(status))) => {
            let resp = plain_error(status);
            let _ = write_response(&mut stream, resp, Version::HTTP_11, timeouts).await;
            return;
        }
        Ok(Ok(req)) => req,
    };
    let version = req.version();
    let slot = admit(req.headers());
    let resp = match slot {
        None => {
            let mut resp = ApiError::TooManyConnections.into_response();
            crate::http::add_security_headers(resp.headers_mut());
            resp
        }
        Some(_) => {
            let mut req = req.map(|()| Body::empty());
            req.extensions_mut().insert(ConnectInfo(peer));
            // Boxed: the router's future is large and only needed until the head is ready,
            // while this task lives as long as the stream.
            let reply = Box::pin(app.oneshot(req));
            match reply.await {
                Ok(resp) => resp,
                Err(never) => match never {},
            }
        }
    };
    let _ = write_response(&mut stream, resp, version, timeouts).await;
    drop(slot);
}

/// Reads and parses one request head. `Err(None)`: the client went away; `Err(Some(s))`: answer
/// `s` and close.
async fn read_head(stream: &mut TcpStream) -> Result<Request<()>, Option<StatusCode>> {
    let mut buf = BytesMut::with_capacity(1024);
    loop {
        if buf.len() >= MAX_HEAD {
            return Err(Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return Err(None),
            Ok(_) => {}
        }
        if let Some(req) = parse_head(&buf)? {
            return Ok(req);
        }
    }
}

/// The request in `buf` if its head is complete.
fn parse_head(buf: &[u8]) -> Result<Option<Request<()>>, Option<StatusCode>> {
    let mut lines = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut lines);
    let bad = Some(StatusCode::BAD_REQUEST);
    match parsed.parse(buf) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        }
        Err(_) => return Err(bad),
    }
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(parsed.path.unwrap_or("/"))
        .version(version)
        .body(())
        .map_err(|_| bad)?;
    let headers = req.headers_mut();
    for h in parsed.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| bad)?;
        let value = HeaderValue::from_bytes(h.value).map_err(|_| bad)?;
        headers.append(name, value);
    }
    // A GET with a body is not something this route reads; hyper would have to drain it.
    let has_body = headers.contains_key(axum::http::header::TRANSFER_ENCODING)
        || headers
            .get(axum::http::header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if has_body {
        return Err(bad);
    }
    Ok(Some(req))
}

/// A bare error answer for a head that never reached the router (as hyper answers those).
fn plain_error(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}

/// Writes `resp` and, for a stream, its frames until the body ends or the client leaves.
async fn write_response(
    stream: &mut TcpStream,
    resp: Response<Body>,
    version: Version,
    timeouts: Timeouts,
) -> std::io::Result<()> {
    let (parts, mut body) = resp.into_parts();
    let idle = timeouts.idle;
    let framing = match HttpBody::size_hint(&body).exact() {
        Some(_) => {
            let data = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            let mut all = BytesMut::from(&encode_head(&parts, &Framing::Length(data.len()))[..]);
            all.extend_from_slice(&data);
            return write_timed(stream, &all, idle).await;
        }
        None if version == Version::HTTP_10 => Framing::UntilClose,
        None => Framing::Chunked,
    };
    write_timed(stream, &encode_head(&parts, &framing), idle).await?;
    let chunked = matches!(framing, Framing::Chunked);
    let (mut rd, mut wr) = stream.split();
    let mut probe = [0u8; 64];
    loop {
        let frame = tokio::select! {
            frame = body.frame() => frame,
            // The client closed (or reset): nothing is listening any more.
            r = rd.read(&mut probe) => match r {
                Ok(0) | Err(_) => return Ok(()),
                Ok(_) => continue,
            },
        };
        let data = match frame {
            None => break,
            Some(Err(_)) => return Ok(()),
            Some(Ok(f)) => match f.into_data() {
                Ok(d) if !d.is_empty() => d,
                _ => continue,
            },
        };
        let bytes = if chunked { chunk(&data) } else { data };
        write_timed(&mut wr, &bytes, idle).await?;
    }
    if chunked {
        write_timed(&mut wr, b"0\r\n\r\n", idle).await?;
    }
    Ok(())
}

/// Writes all of `bytes`, failing when the client takes in nothing for `idle`.
async fn write_timed(
    w: &mut (impl AsyncWrite + Unpin),
    bytes: &[u8],
    idle: Duration,
) -> std::io::Result<()> {
    tokio::time::timeout(idle, w.write_all(bytes))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
}

/// One HTTP/1.1 chunk holding `data`.
fn chunk(data: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(data.len() + 12);
    b.put_slice(format!("{:x}\r\n", data.len()).as_bytes());
    b.put_slice(data);
    b.put_slice(b"\r\n");
    b.freeze()
}

/// The status line and headers, with hyper's `date` and the framing headers added.
fn encode_head(parts: &axum::http::response::Parts, framing: &Framing) -> Bytes {
    let mut b = BytesMut::with_capacity(512);
    let status = parts.status;
    b.put_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    for (name, value) in &parts.headers {
        if name == axum::http::header::CONTENT_LENGTH
            || name == axum::http::header::TRANSFER_ENCODING
            || name == axum::http::header::CONNECTION
        {
            continue;
        }
        b.put_slice(name.as_str().as_bytes());
        b.put_slice(b": ");
        b.put_slice(value.as_bytes());
        b.put_slice(b"\r\n");
    }
    if !parts.headers.contains_key(axum::http::header::DATE) {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        b.put_slice(format!("date: {date}\r\n").as_bytes());
    }
    match framing {
        Framing::Length(n) => {
            b.put_slice(format!("content-length: {n}\r\nconnection: close\r\n").as_bytes())
        }
        Framing::Chunked => b.put_slice(b"transfer-encoding: chunked\r\n"),
        Framing::UntilClose => b.put_slice(b"connection: close\r\n"),
    }
    b.put_slice(b"\r\n");
    b.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_event_stream_request_line_is_taken() {
        assert!(is_stream_line(b"GET /api/v1/sync/events HTTP/1.1\r\n"));
        assert!(is_stream_line(b"GET /api/v1/sync/events?since=3 HTTP/1.1"));
        assert!(!is_stream_line(b"GET /api/v1/sync/events"));
        assert!(!is_stream_line(b"GET /api/v1/sync/eventsx HTTP/1.1"));
        assert!(!is_stream_line(b"POST /api/v1/sync/events HTTP/1.1"));
        assert!(!is_stream_line(b"GET /api/v1/health HTTP/1.1\r\n"));
    }

    #[test]
    fn heads_parse_into_requests_and_bad_heads_are_refused() {
        let r = parse_head(
            b"GET /api/v1/sync/events?since=2 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 4\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.uri(), "/api/v1/sync/events?since=2");
        assert_eq!(r.headers()["last-event-id"], "4");
        assert_eq!(r.version(), Version::HTTP_11);
        assert!(
            parse_head(b"GET /api/v1/sync/events HTTP/1.1\r\nHost")
                .unwrap()
                .is_none()
        );
        let body = b"GET /api/v1/sync/events HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(parse_head(body).unwrap_err(), Some(StatusCode::BAD_REQUEST));
        let mut many = b"GET /api/v1/sync/events HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("x-{i}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_head(&many).unwrap_err(),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
    }

    #[test]
    fn chunks_carry_their_hex_length() {
        assert_eq!(
            chunk(b": ping\n\n"),
            Bytes::from_static(b"8\r\n: ping\n\n\r\n")
        );
    }
}
