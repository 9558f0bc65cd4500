//! Connection accounting for the accept loop (`server.rs`): the open-connection gauge of
//! `/metrics`, the per-client-IP cap, the soft file-descriptor limit, and the accept loop's
//! back-off when accepting fails (for example `EMFILE`).
//!
//! * Direct peers are capped per TCP peer IP when the connection is accepted ([`Conns::admit`]
//!   hands out an [`IpSlot`] the connection holds until it closes; over the cap the socket is
//!   closed at once, before it costs more than its descriptor).
//! * Behind a trusted proxy every connection comes from the proxy, so the cap applies to the
//!   forwarded client IP (§2.8) instead, per request: the service takes a slot for the
//!   request's client IP and holds it until the response is done; over the cap the request is
//!   answered 429 `too many connections` and the connection closed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::metrics::Metrics;

/// The default cap of concurrent connections (or proxied requests) per client IP: far above
/// what a household behind one NAT uses, far below the descriptor limit.
pub(crate) const MAX_PER_IP: usize = 256;

/// Live connections in total and per client IP.
pub(crate) struct Conns {
    max_per_ip: usize,
    /// Holds the open-connection gauge.
    metrics: Arc<Metrics>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

impl Conns {
    pub(crate) fn new(max_per_ip: usize, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Conns {
            max_per_ip,
            metrics,
            per_ip: Mutex::new(HashMap::new()),
        })
    }

    /// Counts one open connection until the guard drops.
    pub(crate) fn opened(self: &Arc<Self>) -> OpenConn {
        self.metrics
            .open_connections
            .fetch_add(1, Ordering::Relaxed);
        OpenConn(self.clone())
    }

    /// Connections open now.
    #[cfg(test)]
    fn open(&self) -> i64 {
        self.metrics.open_connections.load(Ordering::Relaxed)
    }

    /// One more connection or request for `ip`, or `None` when `ip` is at the cap.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let mut m = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            conns: self.clone(),
            ip,
        })
    }
}

/// One open connection (see [`Conns::opened`]).
pub(crate) struct OpenConn(Arc<Conns>);

impl Drop for OpenConn {
    fn drop(&mut self) {
        self.0
            .metrics
            .open_connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// One admitted connection or request of a client IP (see [`Conns::admit`]).
pub(crate) struct IpSlot {
    conns: Arc<Conns>,
    ip: IpAddr,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut m = self.conns.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, so the server is not held to the
/// 1,024 descriptors many systems start it with. Returns the soft limit now in force.
pub(crate) fn raise_nofile_limit() -> std::io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid out-pointer for getrlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit; lowering nothing, raising only the soft value.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        lim.rlim_cur = lim.rlim_max;
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is narrower than u64 on some targets
    Ok(lim.rlim_cur as u64)
}

/// How the accept loop waits after a failed accept: 10 ms doubling up to 1 s, and one log
/// line when failures start and one every 30 s while they last, instead of one per failure.
#[derive(Debug, Default)]
pub(crate) struct AcceptBackoff {
    failures: u32,
    delay: Duration,
    last_log: Option<Instant>,
}

const FIRST_DELAY: Duration = Duration::from_millis(10);
const MAX_DELAY: Duration = Duration::from_secs(1);
const LOG_EVERY: Duration = Duration::from_secs(30);

impl AcceptBackoff {
    /// A failed accept at `now`: how long to wait, and whether to log it.
    pub(crate) fn failed(&mut self, now: Instant) -> (Duration, bool) {
        self.failures += 1;
        self.delay = if self.delay.is_zero() {
            FIRST_DELAY
        } else {
            (self.delay * 2).min(MAX_DELAY)
        };
        let log = self
            .last_log
            .is_none_or(|t| now.duration_since(t) >= LOG_EVERY);
        if log {
            self.last_log = Some(now);
        }
        (self.delay, log)
    }

    /// A successful accept: the number of failures before it, if there were any.
    pub(crate) fn succeeded(&mut self) -> Option<u32> {
        let n = std::mem::take(&mut self.failures);
        self.delay = Duration::ZERO;
        self.last_log = None;
        (n > 0).then_some(n)
    }

    /// Failures so far in this run of failures.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_per_ip_and_release() {
        let c = Conns::new(2, Arc::default());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let a = c.admit(ip).unwrap();
        let _b = c.admit(ip).unwrap();
        assert!(c.admit(ip).is_none());
        assert!(c.admit(other).is_some());
        drop(a);
        assert!(c.admit(ip).is_some());
        let g = c.opened();
        assert_eq!(c.open(), 1);
        drop(g);
        assert_eq!(c.open(), 0);
    }

    #[test]
    fn accept_backoff_grows_and_logs_rarely() {
        let mut b = AcceptBackoff::default();
        let t0 = Instant::now();
        assert_eq!(b.failed(t0), (Duration::from_millis(10), true));
        assert_eq!(b.failed(t0), (Duration::from_millis(20), false));
        for _ in 0..20 {
            b.failed(t0 + Duration::from_secs(1));
        }
        assert_eq!(b.failed(t0 + Duration::from_secs(2)).0, MAX_DELAY);
        assert!(b.failed(t0 + Duration::from_secs(31)).1);
        assert_eq!(b.succeeded(), Some(24));
        assert_eq!(b.succeeded(), None);
        assert_eq!(b.failed(t0 + Duration::from_secs(32)), (FIRST_DELAY, true));
    }
}
