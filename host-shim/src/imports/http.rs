//! A small blocking HTTP/1.1 client for the `network` import: one request per connection
//! (`Connection: close`), nothing followed (no redirects, no retries: the engine decides).
//!
//! Order: resolve and connect (30 s per address) → for `https`, the TLS handshake
//! ([`super::tls`]) over that socket → write the head and stream the body → read the response
//! head with `httparse` → read the body framed by `Transfer-Encoding: chunked`,
//! `Content-Length` or the end of the connection, capped.
//!
//! Time: every socket read and write waits at most 30 s (an idle timeout), and the request as
//! a whole, from connect to the last body byte, must end within its [`Request::time_limit`]
//! ([`Timed`] enforces both), so a server that trickles bytes cannot hold a call forever.
//! Name resolution is the system resolver's and is not bounded here.
//!
//! Over TLS the end of the connection counts only with the server's `close_notify`: a body
//! framed by the close that ends without one may be truncated and is a `network` error.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::tls::{self, Tls, TlsStream};
use crate::bindings::Method;

/// Connect timeout per address, and idle timeout of every read and write.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response head we parse.
const MAX_HEAD_BYTES: usize = 64 << 10;
const MAX_HEADERS: usize = 128;

/// What goes after the head.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// `multipart/form-data`, one part `file` named `filename`, streamed from `file` (`len` bytes).
    Multipart {
        file: &'a mut dyn Read,
        len: u64,
        filename: &'a str,
        boundary: &'a str,
    },
}

pub struct Request<'a> {
    pub method: Method,
    pub url: &'a url::Url,
    pub headers: &'a [(String, String)],
    pub body: Body<'a>,
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

fn no_response(what: &str, e: impl std::fmt::Display) -> HttpError {
    HttpError::NoResponse(format!("{what}: {e}"))
}

/// A TCP stream under a request's two clocks: each read or write waits at most
/// [`IDLE_TIMEOUT`] and never past the request's deadline. A read or write that would start
/// after the deadline, or that the deadline cut short, fails with [`io::ErrorKind::TimedOut`]
/// and a message that names the time limit.
pub struct Timed {
    tcp: TcpStream,
    deadline: Instant,
    time_limit: Duration,
}

impl Timed {
    /// The error of a request that ran out of time.
    fn expired(time_limit: Duration) -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the request took longer than its time limit of {}",
                seconds(time_limit)
            ),
        )
    }

    /// What one socket operation may wait: the idle timeout, or less when the deadline is near.
    fn wait(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Timed::expired(self.time_limit));
        }
        Ok(left.min(IDLE_TIMEOUT))
    }

    /// A timeout of an operation whose `wait` the deadline cut short is reported as the
    /// request's time limit; an idle timeout and other errors pass unchanged.
    fn after<T>(&self, wait: Duration, r: io::Result<T>) -> io::Result<T> {
        match r {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) && wait < IDLE_TIMEOUT =>
            {
                Err(Timed::expired(self.time_limit))
            }
            r => r,
        }
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let wait = self.wait()?;
        self.tcp.set_read_timeout(Some(wait))?;
        let r = self.tcp.read(buf);
        self.after(wait, r)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let wait = self.wait()?;
        self.tcp.set_write_timeout(Some(wait))?;
        let r = self.tcp.write(buf);
        self.after(wait, r)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// `5 s`, `2.5 s`: a duration for messages.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The connection a request goes over.
enum Conn {
    Plain(Timed),
    Tls(Box<TlsStream>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
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
            Some(t) => t,
            None => tls::shared().map_err(HttpError::NoResponse)?,
        }),
        other => {
            return Err(HttpError::NoResponse(format!(
                "unsupported scheme {other:?}"
            )));
        }
    };
    let deadline = Instant::now() + req.time_limit;
    let tcp = connect(&host.to_string(), port, deadline, req.time_limit)?;
    let mut conn = match tls {
        None => Conn::Plain(tcp),
        Some(tls) => Conn::Tls(Box::new(
            tls.connect(&host, tcp).map_err(HttpError::NoResponse)?,
        )),
    };
    let head_only = req.method == Method::Head;
    let written = write_request(&mut conn, req);
    if let Err(HttpError::Source(e)) = written {
        return Err(HttpError::Source(e));
    }
    // A server may answer early (413 during an upload) and close: prefer its answer.
    let response = match read_response(&mut conn, head_only, max_body) {
        Ok(r) => r,
        Err(e @ HttpError::TooLarge(_)) => return Err(e),
        Err(e) => return Err(written.err().unwrap_or(e)),
    };
    if let Conn::Tls(stream) = &mut conn {
        tls::close(stream);
    }
    Ok(response)
}

/// Connects to the first address of `host` that answers, each try within the idle timeout
/// and all of them before `deadline`.
fn connect(
    host: &str,
    port: u16,
    deadline: Instant,
    time_limit: Duration,
) -> Result<Timed, HttpError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| no_response(&format!("resolve {host}"), e))?;
    let mut last = None;
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            last = Some(Timed::expired(time_limit));
            break;
        }
        match TcpStream::connect_timeout(&addr, left.min(IDLE_TIMEOUT)) {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(Timed {
                    tcp,
                    deadline,
                    time_limit,
                });
            }
            Err(_) if Instant::now() >= deadline => last = Some(Timed::expired(time_limit)),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => no_response(&format!("connect to {host}:{port}"), e),
        None => HttpError::NoResponse(format!("{host} has no address")),
    })
}

/// The multipart preamble and epilogue around the file's bytes.
pub fn multipart_frame(boundary: &str, filename: &str) -> (String, String) {
    let pre = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    (pre, format!("\r\n--{boundary}--\r\n"))
}

fn write_request(conn: &mut Conn, req: Request<'_>) -> Result<(), HttpError> {
    let mut w = BufWriter::with_capacity(64 << 10, conn);
    let target = match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_string(),
    };
    let host = match req.url.port() {
        Some(p) => format!("{}:{p}", req.url.host_str().unwrap_or_default()),
        None => req.url.host_str().unwrap_or_default().to_string(),
    };
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
        req.method.as_str()
    );
    for (name, value) in req.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let io = |e| no_response("send request", e);
    match req.body {
        Body::Empty => {
            if req.method == Method::Post {
                head.push_str("Content-Length: 0\r\n");
            }
            head.push_str("\r\n");
            w.write_all(head.as_bytes()).map_err(io)?;
        }
        Body::Bytes(bytes) => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
            w.write_all(head.as_bytes()).map_err(io)?;
            w.write_all(bytes).map_err(io)?;
        }
        Body::Multipart {
            file,
            len,
            filename,
            boundary,
        } => {
            let (pre, post) = multipart_frame(boundary, filename);
            let total = pre.len() as u64 + len + post.len() as u64;
            head.push_str(&format!("Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {total}\r\n\r\n"));
            w.write_all(head.as_bytes()).map_err(io)?;
            w.write_all(pre.as_bytes()).map_err(io)?;
            copy_exact(file, &mut w, len)?;
            w.write_all(post.as_bytes()).map_err(io)?;
        }
    }
    w.flush().map_err(io)
}

/// Streams exactly `len` bytes from the staging file; a shorter file is a staging error.
fn copy_exact(from: &mut dyn Read, to: &mut impl Write, len: u64) -> Result<(), HttpError> {
    let mut buf = vec![0u8; 64 << 10];
    let mut left = len;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = from.read(&mut buf[..want]).map_err(HttpError::Source)?;
        if n == 0 {
            return Err(HttpError::Source(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the staging file shrank while sending",
            )));
        }
        to.write_all(&buf[..n])
            .map_err(|e| no_response("send request", e))?;
        left -= n as u64;
    }
    Ok(())
}

fn read_response(
    stream: &mut Conn,
    head_only: bool,
    max_body: usize,
) -> Result<Response, HttpError> {
    let mut buf: Vec<u8> = vec![];
    loop {
        let (status, headers, head_len) = loop {
            if let Some(head) = parse_head(&buf)? {
                break head;
            }
            if buf.len() >= MAX_HEAD_BYTES {
                return Err(HttpError::NoResponse(
                    "the response head is too large".into(),
                ));
            }
            let mut chunk = [0u8; 8 << 10];
            let n = stream
                .read(&mut chunk)
                .map_err(|e| no_response("read response", e))?;
            if n == 0 {
                return Err(HttpError::NoResponse(
                    "the connection closed before a response arrived".into(),
                ));
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        buf.drain(..head_len);
        if (100..200).contains(&status) {
            continue; // 100 Continue and friends precede the real answer
        }
        let mut r = BufReader::new(io::Cursor::new(buf).chain(&mut *stream));
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        let body = if head_only || status == 204 || status == 304 {
            vec![]
        } else if header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().ends_with("chunked"))
        {
            read_chunked(&mut r, max_body)?
        } else if let Some(len) = header("content-length") {
            let len: u64 = len
                .parse()
                .map_err(|_| HttpError::NoResponse(format!("bad Content-Length {len:?}")))?;
            if len > max_body as u64 {
                return Err(HttpError::TooLarge(max_body));
            }
            let mut body = Vec::with_capacity(len as usize);
            (&mut r)
                .take(len)
                .read_to_end(&mut body)
                .map_err(|e| no_response("read response body", e))?;
            if body.len() as u64 != len {
                return Err(HttpError::NoResponse(
                    "the connection closed before the response body ended".into(),
                ));
            }
            body
        } else {
            read_capped(&mut r, max_body)?
        };
        return Ok(Response {
            status,
            headers,
            body,
        });
    }
}

/// A parsed response head: status, headers and the head's length in bytes.
type Head = (u16, Vec<(String, String)>, usize);

/// Parses a complete response head at the start of `buf`, if there is one yet.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, HttpError> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut storage);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            let status = resp.code.unwrap_or(0);
            let headers = resp
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            Ok(Some((status, headers, len)))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(no_response("malformed response", e)),
    }
}

/// Reads to the end of the connection, at most `max` bytes.
fn read_capped(r: &mut impl Read, max: usize) -> Result<Vec<u8>, HttpError> {
    let mut body = vec![];
    r.take(max as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| no_response("read response body", e))?;
    if body.len() > max {
        return Err(HttpError::TooLarge(max));
    }
    Ok(body)
}

/// Decodes a chunked body, at most `max` bytes.
fn read_chunked(r: &mut impl BufRead, max: usize) -> Result<Vec<u8>, HttpError> {
    let mut body = vec![];
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line)
            .map_err(|e| no_response("read chunk size", e))?;
        let size_text = line.trim().split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::NoResponse(format!("bad chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                line.clear();
                let n = r
                    .read_line(&mut line)
                    .map_err(|e| no_response("read trailers", e))?;
                if n == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > max {
            return Err(HttpError::TooLarge(max));
        }
        let start = body.len();
        r.take(size as u64)
            .read_to_end(&mut body)
            .map_err(|e| no_response("read chunk", e))?;
        if body.len() - start != size {
            return Err(HttpError::NoResponse(
                "the connection closed inside a chunk".into(),
            ));
        }
        line.clear();
        r.read_line(&mut line)
            .map_err(|e| no_response("read chunk end", e))?;
    }
}
