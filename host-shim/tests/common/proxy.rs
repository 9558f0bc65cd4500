//! A fault-injecting HTTP/1.1 proxy between the devices and the real server.
//!
//! Devices are configured against [`Proxy::url`], which never changes, so the server behind it
//! can be restarted on a new port. Each client connection carries one request: the proxy adds
//! `Connection: close` to what it forwards, so the server closes after its answer and says so,
//! and the host opens a new connection for the next request (the host always sends a
//! `Content-Length`). The proxy reads the whole request, looks it up in the current [`Plan`] and:
//! passes it through, forwards it and drops the answer, forwards it twice, kills the host
//! before or after forwarding, restarts the server while the request is in flight, or
//! trickles the server's answer back a byte at a time.
//!
//! Requests are numbered from 0 since the last [`Proxy::set_plan`]; a plan names faults by
//! that number or by the number of the push request. What happened goes to a shared log.

use super::server::Server;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PUSH: &str = "/api/v1/sync/push";
const BLOBS: &str = "/api/v1/blobs/";
const BLOB_BATCH: &str = "/api/v1/blob-batch";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward; the server answers; the client connection is closed without the answer.
    LoseResponse,
    /// Forward twice in a row; answer with the first answer, or the second when `second`.
    Duplicate { second: bool },
    /// SIGKILL the host before the request reaches the server.
    KillHostBefore,
    /// Forward; once the server answered, SIGKILL the host (it never sees the answer).
    KillHostAfter,
    /// Forward, restart the server while it handles the request (SIGTERM, or SIGKILL after
    /// `delay_ms`), and close the client connection without an answer.
    RestartServer { graceful: bool, delay_ms: u64 },
    /// Forward; answer one byte per `every_ms` (a hostile server that never stops early).
    Trickle { every_ms: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The n-th request since the plan was set.
    Request(usize),
    /// The n-th push request since the plan was set.
    Push(usize),
    /// Every download of blobs (`GET /api/v1/blobs/…`, `POST /api/v1/blob-batch`).
    BlobDownload,
}

/// The faults of one sync. An empty plan passes everything through.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub faults: Vec<(Trigger, Fault)>,
}

#[derive(Default)]
struct State {
    plan: Plan,
    requests: usize,
    pushes: usize,
}

struct Shared {
    server: Arc<Mutex<Server>>,
    state: Mutex<State>,
    /// The pid of the host process that may be killed; `None` when none is running.
    host: Arc<Mutex<Option<u32>>>,
    log: Arc<Mutex<Vec<String>>>,
    stop: AtomicBool,
}

pub struct Proxy {
    shared: Arc<Shared>,
    addr: String,
}

impl Proxy {
    /// Listens on an ephemeral loopback port in front of `server`. `host` holds the pid of the
    /// running host process (the kill faults signal it under the lock); `log` receives a line
    /// per fault.
    pub fn start(
        server: Arc<Mutex<Server>>,
        host: Arc<Mutex<Option<u32>>>,
        log: Arc<Mutex<Vec<String>>>,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let shared = Arc::new(Shared {
            server,
            state: Mutex::default(),
            host,
            log,
            stop: AtomicBool::new(false),
        });
        let accept = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if accept.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let shared = accept.clone();
                std::thread::spawn(move || shared.serve(conn));
            }
        });
        Proxy { shared, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the plan and restarts the request numbering.
    pub fn set_plan(&self, plan: Plan) {
        *self.shared.state.lock().unwrap() = State {
            plan,
            requests: 0,
            pushes: 0,
        };
    }

    /// How many requests arrived since the plan was set.
    pub fn requests(&self) -> usize {
        self.shared.state.lock().unwrap().requests
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(&self.addr);
        // A connection thread may still hold the shared state (and with it the server) while
        // it waits on a kept-alive connection; such a thread dies with the test process
        // without running destructors, so stop the server process here.
        let mut server = self.shared.server.lock().unwrap_or_else(|e| e.into_inner());
        server.kill();
    }
}

impl Shared {
    fn note(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }

    fn serve(&self, mut client: TcpStream) {
        let _ = client.set_read_timeout(Some(Duration::from_secs(60)));
        let Some((request, line)) = read_request(&mut client) else {
            return;
        };
        let fault = {
            let mut st = self.state.lock().unwrap();
            let n = st.requests;
            st.requests += 1;
            let is_push = line.starts_with("POST ") && line.contains(PUSH);
            let is_blob_download = line.starts_with("GET ") && line.contains(BLOBS)
                || line.starts_with("POST ") && line.contains(BLOB_BATCH);
            let p = st.pushes;
            if is_push {
                st.pushes += 1;
            }
            st.plan
                .faults
                .iter()
                .find(|(t, _)| match *t {
                    Trigger::Request(k) => k == n,
                    Trigger::Push(k) => is_push && k == p,
                    Trigger::BlobDownload => is_blob_download,
                })
                .map(|(_, f)| (n, *f))
        };
        let Some((n, fault)) = fault else {
            if let Some(answer) = self.forward(&request) {
                let _ = client.write_all(&answer);
            }
            return;
        };
        self.note(format!("    proxy: request {n} `{line}`: {fault:?}"));
        match fault {
            Fault::LoseResponse => {
                self.forward(&request);
            }
            Fault::Duplicate { second } => {
                let a = self.forward(&request);
                let b = self.forward(&request);
                if let Some(answer) = if second { b } else { a } {
                    let _ = client.write_all(&answer);
                }
            }
            Fault::KillHostBefore => self.kill_host(),
            Fault::KillHostAfter => {
                self.forward(&request);
                self.kill_host();
            }
            Fault::RestartServer { graceful, delay_ms } => {
                let mut server = self.server.lock().unwrap();
                let upstream = TcpStream::connect(&server.addr).ok().and_then(|mut s| {
                    s.write_all(&request).ok()?;
                    Some(s)
                });
                std::thread::sleep(Duration::from_millis(delay_ms));
                server.restart(graceful);
                drop(upstream);
            }
            Fault::Trickle { every_ms } => {
                for b in self.forward(&request).unwrap_or_default() {
                    let sent = client.write_all(&[b]).and_then(|()| client.flush());
                    if sent.is_err() || self.stop.load(Ordering::SeqCst) {
                        break; // the client gave up, or the test is over
                    }
                    std::thread::sleep(Duration::from_millis(every_ms));
                }
            }
        }
        let _ = client.shutdown(Shutdown::Both);
    }

    /// Sends `request` to the server and reads its whole answer (the server closes after it).
    fn forward(&self, request: &[u8]) -> Option<Vec<u8>> {
        let addr = self.server.lock().unwrap().addr.clone();
        let mut up = TcpStream::connect(addr).ok()?;
        up.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
        up.write_all(&closing(request)).ok()?;
        let mut answer = Vec::new();
        up.read_to_end(&mut answer).ok()?;
        Some(answer)
    }

    fn kill_host(&self) {
        if let Some(pid) = *self.host.lock().unwrap() {
            let pid = libc::pid_t::try_from(pid).expect("pids fit pid_t");
            // SAFETY: the slot holds the pid of a child that is not reaped while the lock is
            // held (the simulation clears it under the lock before it waits), so the pid is ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// `request` with `Connection: close` after its request line.
fn closing(request: &[u8]) -> Vec<u8> {
    let line_end = request
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(0, |i| i + 2);
    let mut out = request[..line_end].to_vec();
    out.extend_from_slice(b"Connection: close\r\n");
    out.extend_from_slice(&request[line_end..]);
    out
}

/// One whole request (head and `Content-Length` body) and its request line.
fn read_request(client: &mut TcpStream) -> Option<(Vec<u8>, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 << 10];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = client.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let line = head.lines().next().unwrap_or_default().to_string();
    let mut length = 0usize;
    for h in head.lines().skip(1) {
        let Some((name, value)) = h.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        assert!(
            name != "transfer-encoding",
            "the host sends no chunked requests: {head}"
        );
        if name == "content-length" {
            length = value.trim().parse().expect("a numeric Content-Length");
        }
    }
    while buf.len() < head_end + length {
        let n = client.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((buf, line))
}
