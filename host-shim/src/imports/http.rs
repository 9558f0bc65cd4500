//! The blocking HTTP/1.1 client of the `network` import, on hyper's client connection:
//! keep-alive, one pooled connection per origin ([`super::connection`]), nothing followed (no
//! redirects; the engine decides what to retry). The one retry made here is for a pooled
//! connection the server dropped while it sat idle: a `GET`/`HEAD` is sent again on a new
//! connection, a `POST` only when not one byte of it went out.
//!
//! Order: a pooled connection, or resolve and connect (30 s per address) → for `https`, the
//! TLS handshake ([`super::tls`]) → hyper's handshake → the head and the streamed body →
//! the response head → the body (framed by hyper: `Content-Length`, chunked or the end of the
//! connection), capped.
//!
//! Time: a connection that makes no progress for 30 s fails (an idle timeout), and the request
//! as a whole, from taking a connection to the last body byte, must end within its
//! [`Request::time_limit`], so a server that trickles bytes cannot hold a call forever. Name
//! resolution is the system resolver's and is not bounded here.
//!
//! Over TLS the end of the connection counts only with the server's `close_notify`: a body
//! framed by the close that ends without one may be truncated and is a `network` error.
//! Response header names come back in lower case (hyper's); HTTP compares them without case.

use std::cell::Cell;
use std::error::Error as _;
use std::future::poll_fn;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};

use super::connection::{self, Key};
use super::tls::{self, Tls};
use crate::bindings::Method;

/// What goes after the head.
pub enum Body {
    Empty,
    Bytes(Bytes),
    /// `multipart/form-data`, one part `file` named `filename`, streamed from `file` (`len` bytes).
    Multipart {
        file: Box<dyn Read + Send>,
        len: u64,
        filename: String,
        boundary: String,
    },
}

pub struct Request<'a> {
    pub method: Method,
    pub url: &'a url::Url,
    pub headers: &'a [(String, String)],
    pub body: Body,
    /// How long the whole request may take, from connect to the last byte of the response.
    pub time_limit: Duration,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No (complete) response arrived.
    #[error("{0}")]
    NoResponse(String),
    /// The response body is over the cap.
    #[error("the response body exceeds {0} bytes")]
    TooLarge(usize),
    /// Reading the staging file failed while sending.
    #[error("staging file: {0}")]
    Source(io::Error),
}

/// An error and its causes, `outer: inner: innermost` (hyper's own text is terse).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// `5 s`, `2.5 s`: a duration for messages.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The multipart preamble and epilogue around the file's bytes.
pub fn multipart_frame(boundary: &str, filename: &str) -> (String, String) {
    let pre = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    (pre, format!("\r\n--{boundary}--\r\n"))
}

/// Where a request stands, for the message of an error that cuts it short.
#[derive(Clone, Copy)]
enum Phase {
    Connect,
    Handshake,
    Exchange,
    Body,
}

/// A request body as hyper sends it. A multipart body reads the staging file as hyper asks for
/// more; a failure to read it is kept in `source_error`, so it is reported as the staging
/// file's (`io`) and not as the network's.
pub struct OutBody {
    kind: Kind,
    /// Set once the last byte was handed to hyper.
    sent: Arc<AtomicBool>,
    source_error: Arc<Mutex<Option<io::Error>>>,
}

enum Kind {
    Bytes(Option<Bytes>),
    Multipart {
        pre: Option<Bytes>,
        file: Box<dyn Read + Send>,
        left: u64,
        post: Option<Bytes>,
    },
}

/// The size of the pieces a staging file is streamed in.
const CHUNK: usize = 64 << 10;

impl OutBody {
    /// The body and the value of its `Content-Type` header, if it sets one.
    fn new(body: Body) -> (OutBody, Option<String>) {
        let (kind, content_type) = match body {
            Body::Empty => (Kind::Bytes(None), None),
            Body::Bytes(b) => (Kind::Bytes(Some(b).filter(|b| !b.is_empty())), None),
            Body::Multipart {
                file,
                len,
                filename,
                boundary,
            } => {
                let (pre, post) = multipart_frame(&boundary, &filename);
                let kind = Kind::Multipart {
                    pre: Some(pre.into()),
                    file,
                    left: len,
                    post: Some(post.into()),
                };
                (
                    kind,
                    Some(format!("multipart/form-data; boundary={boundary}")),
                )
            }
        };
        let body = OutBody {
            kind,
            sent: Arc::new(AtomicBool::new(false)),
            source_error: Arc::default(),
        };
        body.sent.store(body.left() == 0, Ordering::Relaxed);
        (body, content_type)
    }

    /// The bytes still to send.
    fn left(&self) -> u64 {
        match &self.kind {
            Kind::Bytes(b) => b.as_ref().map_or(0, |b| b.len() as u64),
            Kind::Multipart {
                pre, left, post, ..
            } => {
                pre.as_ref().map_or(0, |b| b.len() as u64)
                    + left
                    + post.as_ref().map_or(0, |b| b.len() as u64)
            }
        }
    }

    /// A fresh copy to send again, for bodies held in memory.
    fn try_clone(&self) -> Option<OutBody> {
        match &self.kind {
            Kind::Bytes(b) => Some(OutBody {
                kind: Kind::Bytes(b.clone()),
                sent: Arc::new(AtomicBool::new(b.is_none())),
                source_error: self.source_error.clone(),
            }),
            Kind::Multipart { .. } => None,
        }
    }

    fn next(&mut self) -> Option<io::Result<Bytes>> {
        match &mut self.kind {
            Kind::Bytes(b) => b.take().map(Ok),
            Kind::Multipart {
                pre,
                file,
                left,
                post,
            } => {
                if let Some(p) = pre.take() {
                    return Some(Ok(p));
                }
                if *left > 0 {
                    let want = CHUNK.min(usize::try_from(*left).unwrap_or(CHUNK));
                    let mut buf = vec![0u8; want];
                    return Some(match file.read(&mut buf) {
                        Ok(0) => Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the staging file shrank while sending",
                        )),
                        Ok(n) => {
                            buf.truncate(n);
                            *left -= n as u64;
                            Ok(buf.into())
                        }
                        Err(e) => Err(e),
                    });
                }
                post.take().map(Ok)
            }
        }
    }
}

impl http_body::Body for OutBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        let next = match this.next() {
            Some(Ok(bytes)) => Some(Ok(Frame::data(bytes))),
            Some(Err(e)) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                *this
                    .source_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(e);
                Some(Err(copy))
            }
            None => None,
        };
        if this.left() == 0 {
            this.sent.store(true, Ordering::Relaxed);
        }
        Poll::Ready(next)
    }

    fn is_end_stream(&self) -> bool {
        self.left() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left())
    }
}

/// The parts of a request that do not change when it is sent again.
struct Head {
    method: hyper::Method,
    target: hyper::Uri,
    headers: hyper::HeaderMap,
}

impl Head {
    fn new(
        method: Method,
        url: &url::Url,
        extra: &[(String, String)],
        content_type: Option<&str>,
        length: u64,
    ) -> Result<Head, HttpError> {
        let bad = |e: &dyn std::fmt::Display| HttpError::NoResponse(format!("bad request: {e}"));
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let mut headers = hyper::HeaderMap::new();
        let mut add = |name: &str, value: &str| -> Result<(), HttpError> {
            let name =
                hyper::header::HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(&e))?;
            let value = hyper::header::HeaderValue::from_str(value).map_err(|e| bad(&e))?;
            headers.append(name, value);
            Ok(())
        };
        add("Host", &host)?;
        for (name, value) in extra {
            add(name, value)?;
        }
        if let Some(ct) = content_type {
            add("Content-Type", ct)?;
        }
        if length > 0 || method == Method::Post {
            add("Content-Length", &length.to_string())?;
        }
        Ok(Head {
            method: match method {
                Method::Get => hyper::Method::GET,
                Method::Head => hyper::Method::HEAD,
                Method::Post => hyper::Method::POST,
            },
            target: target.parse().map_err(|e| bad(&e))?,
            headers,
        })
    }

    fn request(&self, body: OutBody) -> hyper::Request<OutBody> {
        let mut req = hyper::Request::new(body);
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.target.clone();
        *req.headers_mut() = self.headers.clone();
        req
    }

    /// Safe to send twice.
    fn idempotent(&self) -> bool {
        matches!(self.method, hyper::Method::GET | hyper::Method::HEAD)
    }
}

/// Sends `req` and reads the response, whose body may be at most `max_body` bytes.
/// `https` uses `tls`, or the process's configuration from the environment when `None`.
pub fn send(req: Request<'_>, max_body: usize, tls: Option<&Tls>) -> Result<Response, HttpError> {
    let host = req
        .url
        .host()
        .ok_or_else(|| HttpError::NoResponse("the URL has no host".into()))?;
    let port = req.url.port_or_known_default().unwrap_or(80);
    let tls = match req.url.scheme() {
        "http" => None,
        // Before connecting: without a usable trust store no https request can succeed.
        "https" => Some(match tls {
            Some(t) => t.clone(),
            None => tls::shared().map_err(HttpError::NoResponse)?.clone(),
        }),
        other => {
            return Err(HttpError::NoResponse(format!(
                "unsupported scheme {other:?}"
            )));
        }
    };
    let key = Key {
        https: tls.is_some(),
        host: host.to_string(),
        port,
        tls,
    };
    let time_limit = req.time_limit;
    let (body, content_type) = OutBody::new(req.body);
    let head = Head::new(
        req.method,
        req.url,
        req.headers,
        content_type.as_deref(),
        body.left(),
    )?;
    let sent = body.sent.clone();
    let source_error = body.source_error.clone();
    let phase = Cell::new(Phase::Connect);
    let runtime = connection::runtime().map_err(HttpError::NoResponse)?;
    let result = runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + time_limit;
        let exchange = exchange(&key, &host, &head, body, max_body, &phase);
        match tokio::time::timeout_at(deadline, exchange).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::NoResponse(format!(
                "the request took longer than its time limit of {}",
                seconds(time_limit)
            ))),
        }
    });
    let source_error = source_error
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(e) = source_error {
        return Err(HttpError::Source(e));
    }
    match result {
        // Say where it stopped.
        Err(HttpError::NoResponse(m)) => Err(HttpError::NoResponse(match phase.get() {
            Phase::Connect if !m.starts_with("connect to ") && !m.starts_with("resolve ") => {
                format!("connect to {host}:{port}: {m}")
            }
            Phase::Handshake if !m.starts_with("TLS handshake with ") => {
                format!("TLS handshake with {host} failed: {m}")
            }
            Phase::Exchange if !sent.load(Ordering::Relaxed) => format!("send request: {m}"),
            Phase::Exchange => format!("read response: {m}"),
            Phase::Body => format!("read response body: {m}"),
            _ => m,
        })),
        r => r,
    }
}

/// What went wrong, in words.
fn failure(e: &hyper::Error) -> String {
    if e.is_parse_too_large() {
        // hyper says "message head is too large" for both.
        return "the response head is too large or has too many headers".into();
    }
    chain(e)
}

/// Whether a failed exchange on a pooled connection means the server had dropped the
/// connection (rather than answering badly or too slowly).
fn dropped(e: &hyper::Error) -> bool {
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        return true;
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            );
        }
        source = s.source();
    }
    false
}

async fn exchange(
    key: &Key,
    host: &url::Host<&str>,
    head: &Head,
    body: OutBody,
    max_body: usize,
    phase: &Cell<Phase>,
) -> Result<Response, HttpError> {
    let again = if head.idempotent() {
        body.try_clone()
    } else {
        None
    };
    let mut body = Some(body);
    let mut retried = false;
    loop {
        phase.set(Phase::Connect);
        let mut conn = match connection::pooled(key).await {
            Some(c) => c,
            None => connection::open(key, host, || phase.set(Phase::Handshake)).await?,
        };
        phase.set(Phase::Exchange);
        conn.start();
        let request = head.request(body.take().unwrap_or_else(|| unreachable!()));
        let sending = conn.sender.try_send_request(request);
        let response = match conn.drive(sending).await {
            Ok(r) => r,
            Err(mut e) => {
                if conn.reused && !retried {
                    if let Some(unsent) = e.take_message() {
                        tracing::debug!("a pooled connection had closed; sending on a new one");
                        body = Some(unsent.into_body());
                        retried = true;
                        continue;
                    }
                    if let Some(copy) = &again
                        && dropped(e.error())
                    {
                        tracing::debug!("a pooled connection dropped the request; sending again");
                        body = copy.try_clone();
                        retried = true;
                        continue;
                    }
                }
                return Err(HttpError::NoResponse(failure(&e.into_error())));
            }
        };
        phase.set(Phase::Body);
        let (parts, mut incoming) = response.into_parts();
        let declared = parts
            .headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
        // A HEAD answer's length is the resource's, not a body's (a blob may be 256 MiB).
        let bodiless =
            head.method == hyper::Method::HEAD || matches!(parts.status.as_u16(), 204 | 304);
        if !bodiless && declared.is_some_and(|len| len > max_body as u64) {
            return Err(HttpError::TooLarge(max_body));
        }
        let capacity = if bodiless { 0 } else { declared.unwrap_or(0) };
        let mut data = Vec::with_capacity(capacity as usize);
        loop {
            let frame = conn
                .drive(poll_fn(|cx| {
                    http_body::Body::poll_frame(Pin::new(&mut incoming), cx)
                }))
                .await;
            match frame {
                None => break,
                Some(Err(e)) => return Err(HttpError::NoResponse(failure(&e))),
                Some(Ok(frame)) => {
                    if let Ok(chunk) = frame.into_data() {
                        if data.len() + chunk.len() > max_body {
                            return Err(HttpError::TooLarge(max_body));
                        }
                        data.extend_from_slice(&chunk);
                    }
                }
            }
        }
        connection::release(key.clone(), conn).await;
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        return Ok(Response {
            status: parts.status.as_u16(),
            headers,
            body: data,
        });
    }
}
