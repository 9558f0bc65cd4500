//! Connection timeouts at the IO level (spec §2.9): [`IdleIo`] wraps a connection's TCP stream
//! and fails a read or write with `TimedOut` when
//! * nothing moved in either direction for [`Timeouts::idle`] (120 s): idle keep-alive
//!   connections, and transfers whose peer stopped reading or writing; or
//! * a request header took longer than [`Timeouts::header`] (10 s) to arrive. That clock starts
//!   when the connection is accepted (first request) or when the first byte of a later request
//!   arrives, never while a keep-alive connection sits idle between requests.
//!
//! hyper's own header timeout cannot tell the two apart (it runs while a connection waits for
//! its next request, so it closed idle keep-alive connections after 10 s), so `server.rs` turns
//! it off and tells this module where requests begin and end through [`Requests`]: the service
//! calls [`Requests::start`] when hyper hands it a parsed head, and the returned
//! [`RequestDone`] travels inside the response body ([`TrackedBody`], which can carry other
//! per-request guards too) and counts the request as finished when hyper drops that body (or
//! the request is abandoned).

use axum::body::{Body, HttpBody};
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// The two connection clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// Reading one request header.
    pub header: Duration,
    /// No progress in either direction (idle keep-alive, stalled transfers).
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header: Duration::from_secs(10),
            idle: Duration::from_secs(120),
        }
    }
}

/// Requests begun and finished on one connection; equal counts mean it waits for a request.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    started: AtomicU64,
    finished: AtomicU64,
}

impl Requests {
    /// A parsed request head reached the service; the guard marks the request finished.
    pub(crate) fn start(self: &Arc<Self>) -> RequestDone {
        self.started.fetch_add(1, Ordering::AcqRel);
        RequestDone(self.clone())
    }

    fn started(&self) -> u64 {
        self.started.load(Ordering::Acquire)
    }

    fn between_requests(&self) -> bool {
        self.finished.load(Ordering::Acquire) == self.started()
    }
}

/// Counts its request as finished when dropped.
#[derive(Debug)]
pub(crate) struct RequestDone(Arc<Requests>);

impl Drop for RequestDone {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::AcqRel);
    }
}

/// A response body that holds guards (its request's [`RequestDone`], and any per-request slot)
/// until hyper is done with it.
pub(crate) struct TrackedBody<G> {
    inner: Body,
    _guards: G,
}

impl<G: Send + Unpin + 'static> TrackedBody<G> {
    pub(crate) fn wrap(inner: Body, guards: G) -> Body {
        Body::new(TrackedBody {
            inner,
            _guards: guards,
        })
    }
}

impl<G: Unpin> HttpBody for TrackedBody<G> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A TCP stream with the idle and header clocks of the module doc.
pub(crate) struct IdleIo {
    inner: TcpStream,
    timeouts: Timeouts,
    requests: Arc<Requests>,
    deadline: Pin<Box<Sleep>>,
    /// The header clock while a request head is being read, with the `started` count it began
    /// at: once that count moves, the head has arrived and the clock is dropped.
    header: Option<(Pin<Box<Sleep>>, u64)>,
}

impl IdleIo {
    pub(crate) fn new(inner: TcpStream, timeouts: Timeouts, requests: Arc<Requests>) -> Self {
        Self {
            inner,
            timeouts,
            deadline: Box::pin(tokio::time::sleep(timeouts.idle)),
            header: Some((Box::pin(tokio::time::sleep(timeouts.header)), 0)),
            requests,
        }
    }

    fn progress(&mut self) {
        let next = Instant::now() + self.timeouts.idle;
        self.deadline.as_mut().reset(next);
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }

    /// Drops the header clock once the head it timed has reached the service.
    fn drop_arrived_header(&mut self) {
        let started = self.requests.started();
        if self.header.as_ref().is_some_and(|(_, at)| *at != started) {
            self.header = None;
        }
    }

    /// Bytes arrived: between requests they begin the next head, which starts its clock.
    fn bytes_read(&mut self) {
        self.progress();
        self.drop_arrived_header();
        if self.header.is_none() && self.requests.between_requests() {
            let clock = Box::pin(tokio::time::sleep(self.timeouts.header));
            self.header = Some((clock, self.requests.started()));
        }
    }

    /// Whether the head being read is late.
    fn header_late(&mut self, cx: &mut Context<'_>) -> bool {
        self.drop_arrived_header();
        match &mut self.header {
            Some((clock, _)) => clock.as_mut().poll(cx).is_ready(),
            None => false,
        }
    }

    /// The outcome of one write: bytes written re-arm the deadline; waiting past it times out.
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match poll {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.progress();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle for too long")
}

fn header_timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "request header not read in time")
}

impl AsyncRead for IdleIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.bytes_read();
                }
                Poll::Ready(r)
            }
            Poll::Pending if this.header_late(cx) => Poll::Ready(Err(header_timed_out())),
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for IdleIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, data);
        this.after_write(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
