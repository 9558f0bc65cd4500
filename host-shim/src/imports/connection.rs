//! Connections for [`super::http`]: opening one (resolve, connect, TLS handshake, hyper's
//! HTTP/1.1 handshake), the idle timeout of its socket, and the process-wide pool that keeps
//! one idle keep-alive connection per origin, so a whole sync run and its blob transfers go
//! over a single connection instead of one per request.
//!
//! Everything runs on one current-thread tokio runtime owned by the process ([`runtime`]);
//! `send` blocks on it. A pooled connection holds its hyper driver future, which runs only
//! while a request on it is being driven: nothing reads the socket between requests, and a
//! connection the server closed meanwhile is noticed (and dropped) when it is taken again.
//!
//! The pool key is the origin plus, for https, the TLS configuration the server was verified
//! with: a connection verified under one trust is never handed to a request made under another.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::hash::{Hash, Hasher};
use std::io;
use std::net::ToSocketAddrs;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::http::{HttpError, OutBody};
use super::tls::{Tls, TlsStream};

/// Connect timeout per address, and how long a connection in use may see no progress at all.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// A pooled connection unused for longer is closed rather than reused: servers and proxies
/// close idle connections after a while, and one closed while a request is on its way costs a
/// retry (or, for an upload that had started, an error the engine retries).
const MAX_IDLE_AGE: Duration = Duration::from_secs(30);
/// The most response headers hyper parses.
const MAX_HEADERS: usize = 128;

/// The process's runtime for network I/O, built on first use.
pub fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build()
                .map_err(|e| format!("start the network runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Where a pooled connection may be reused: same scheme, host and port, and for https the
/// very same TLS configuration.
#[derive(Clone)]
pub struct Key {
    pub https: bool,
    pub host: String,
    pub port: u16,
    pub tls: Option<Tls>,
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.https == other.https
            && self.host == other.host
            && self.port == other.port
            && match (&self.tls, &other.tls) {
                (None, None) => true,
                (Some(a), Some(b)) => a.same(b),
                _ => false,
            }
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.https, &self.host, self.port).hash(state);
    }
}

/// The last time a connection made progress, shared by its socket and the pool.
type Clock = Arc<Mutex<Instant>>;

fn touch(clock: &Clock) {
    *clock.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
}

/// A TCP socket that fails an operation with [`io::ErrorKind::TimedOut`] once the connection
/// has made no progress, in either direction, for [`IDLE_TIMEOUT`]. Counting both directions
/// keeps a long upload alive while hyper also waits for an early answer.
pub struct Timed {
    tcp: TcpStream,
    clock: Clock,
    idle: Pin<Box<Sleep>>,
}

impl Timed {
    fn new(tcp: TcpStream, clock: Clock) -> Timed {
        let due = tokio::time::Instant::from_std(Instant::now() + IDLE_TIMEOUT);
        Timed {
            tcp,
            clock,
            idle: Box::pin(tokio::time::sleep_until(due)),
        }
    }

    /// The outcome of an operation: progress resets the clock, waiting arms the idle timer.
    fn after<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if r.is_ready() {
            touch(&self.clock);
            return r;
        }
        let last = *self.clock.lock().unwrap_or_else(PoisonError::into_inner);
        let due = tokio::time::Instant::from_std(last + IDLE_TIMEOUT);
        if self.idle.deadline() != due {
            self.idle.as_mut().reset(due);
        }
        match self.idle.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "nothing was sent or received for {} s",
                    IDLE_TIMEOUT.as_secs()
                ),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Timed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.tcp).poll_read(cx, buf);
        this.after(cx, r)
    }
}

impl AsyncWrite for Timed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.tcp).poll_write(cx, buf);
        this.after(cx, r)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        this.after(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.tcp).poll_flush(cx);
        this.after(cx, r)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// A connection's byte stream: plain, or TLS over the timed socket.
pub enum Stream {
    Plain(Timed),
    Tls(Box<TlsStream>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

type Driver = Connection<TokioIo<Stream>, OutBody>;

/// One HTTP/1.1 connection: the handle requests are sent through and the future that does
/// the connection's I/O ([`Conn::drive`] polls it alongside each request).
pub struct Conn {
    pub sender: SendRequest<OutBody>,
    /// `None` once the connection has ended.
    driver: Option<Pin<Box<Driver>>>,
    clock: Clock,
    /// Taken from the pool rather than opened for this request.
    pub reused: bool,
}

impl Conn {
    /// Runs `fut` while doing the connection's I/O.
    pub async fn drive<F: Future>(&mut self, fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        let driver = &mut self.driver;
        poll_fn(move |cx| {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            if let Some(d) = driver
                && d.as_mut().poll(cx).is_ready()
            {
                // The connection ended: whatever `fut` waits for fails now.
                *driver = None;
                return fut.as_mut().poll(cx);
            }
            Poll::Pending
        })
        .await
    }

    /// Lets the connection catch up without waiting, and tells whether it can take a request:
    /// a server that closed it (or said `Connection: close`) ended it.
    pub async fn usable(&mut self) -> bool {
        let Conn { sender, driver, .. } = self;
        poll_fn(|cx| {
            if let Some(d) = driver
                && d.as_mut().poll(cx).is_ready()
            {
                *driver = None;
            }
            Poll::Ready(driver.is_some() && sender.is_ready())
        })
        .await
    }

    /// Starts the idle clock of a request.
    pub fn start(&self) {
        touch(&self.clock);
    }
}

/// Idle connections, one per [`Key`], with when each was last used.
fn pool() -> &'static Mutex<HashMap<Key, (Conn, Instant)>> {
    static POOL: OnceLock<Mutex<HashMap<Key, (Conn, Instant)>>> = OnceLock::new();
    POOL.get_or_init(Default::default)
}

/// A pooled connection for `key` that can take a request now, if there is one.
pub async fn pooled(key: &Key) -> Option<Conn> {
    let (mut conn, since) = pool()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(key)?;
    if since.elapsed() > MAX_IDLE_AGE || !conn.usable().await {
        return None;
    }
    conn.reused = true;
    Some(conn)
}

/// Keeps a connection that finished its exchange for the next request to `key`.
pub async fn release(key: Key, mut conn: Conn) {
    if conn.usable().await {
        let old = pool()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, (conn, Instant::now()));
        drop(old); // outside the lock: closing a socket may take a moment
    }
}

/// Opens a connection: resolves `host` (the system resolver, not bounded here), connects to
/// the first address that answers within [`IDLE_TIMEOUT`], runs the TLS handshake for https,
/// then hyper's. `on_tls` is called when the handshake starts, so a time limit that strikes
/// during it can say so.
pub async fn open(
    key: &Key,
    host: &url::Host<&str>,
    on_tls: impl FnOnce(),
) -> Result<Conn, HttpError> {
    let no =
        |what: String, e: &dyn std::fmt::Display| HttpError::NoResponse(format!("{what}: {e}"));
    let name = key.host.trim_start_matches('[').trim_end_matches(']');
    let port = key.port;
    let addrs = (name, port)
        .to_socket_addrs()
        .map_err(|e| no(format!("resolve {name}"), &e))?;
    let mut last: Option<io::Error> = None;
    let mut tcp = None;
    for addr in addrs {
        match tokio::time::timeout(IDLE_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                tcp = Some(s);
                break;
            }
            Ok(Err(e)) => last = Some(e),
            Err(_) => last = Some(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
        }
    }
    let tcp = match (tcp, last) {
        (Some(tcp), _) => tcp,
        (None, Some(e)) => return Err(no(format!("connect to {name}:{port}"), &e)),
        (None, None) => {
            return Err(HttpError::NoResponse(format!("{name} has no address")));
        }
    };
    let _ = tcp.set_nodelay(true);
    tracing::debug!(host = name, port, https = key.https, "opened a connection");
    let clock: Clock = Arc::new(Mutex::new(Instant::now()));
    let timed = Timed::new(tcp, clock.clone());
    let stream = match &key.tls {
        None => Stream::Plain(timed),
        Some(tls) => {
            on_tls();
            Stream::Tls(Box::new(
                tls.connect(host, timed)
                    .await
                    .map_err(HttpError::NoResponse)?,
            ))
        }
    };
    let (sender, driver) = http1::Builder::new()
        .title_case_headers(true)
        .max_headers(MAX_HEADERS)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| no("start HTTP/1.1".into(), &e))?;
    Ok(Conn {
        sender,
        driver: Some(Box::pin(driver)),
        clock,
        reused: false,
    })
}
