//! The server's event stream (`GET /api/v1/sync/events`, Server-Sent Events): one thread that
//! keeps a connection open and turns what arrives into [`Input`]s for the live loop.
//!
//! * **Where**: only the paired server's origin, read from the host's own `paired-server` file
//!   (the URL of the last successful `configure`, which the component cannot change), with the
//!   stream's fixed path; redirects are not followed.
//! * **Who**: the device token is read from the engine's private storage, the document
//!   `engine/device-token.json` in the vault's plugin data, which the host itself keeps for the
//!   component (`imports/storage.rs`); it is read again for every connection, so a re-pair is
//!   picked up, and it never leaves this process but in the `Authorization` header.
//! * **Resume**: `Last-Event-ID` carries the newest server sequence the device synced to, so
//!   a reconnect never misses a push.
//! * **Reconnects** back off ([`reconnect_delay`]); `429` waits its `Retry-After`; a `404` is
//!   an older server without the stream: the thread reports it once and ends (the loop then
//!   pulls on the interval).
//! * **Liveness**: the server sends a `: ping` every 25 s; a connection silent for
//!   [`READ_TIMEOUT`] is dead and is replaced.

use super::Input;
use super::sse::{Chunked, SseParser};
use crate::imports::tls;
use crate::vault::VaultDirs;
use crate::watch;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::Sender;
use std::time::Duration;

/// The stream's route on the server.
pub(crate) const EVENTS_PATH: &str = "api/v1/sync/events";
/// Two missed heartbeats (25 s apart) and a margin.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The token document in the engine's private storage (`plugin/src/engine/pairing.rs`).
const TOKEN_DOCUMENT: &str = "device-token.json";

/// The wait before reconnect attempt number `failures` (1 = the first after a failure):
/// the auto-sync backoff ladder 1, 2, 4, 8, 15, in seconds for the first five attempts (a
/// reconnect is one small request, and a restarted server should be back in seconds), then in
/// minutes as `watch::next_delay` has it.
pub(crate) fn reconnect_delay(failures: u32) -> Duration {
    match failures {
        0 => Duration::ZERO,
        1..=5 => watch::next_delay(0, failures) / 60,
        _ => watch::next_delay(0, failures - 5),
    }
}

/// Shared with the loop: the cursor to resume from, a stop flag, and whether the thread runs.
#[derive(Clone, Default)]
pub(crate) struct StreamShared {
    pub cursor: Arc<AtomicI64>,
    pub stop: Arc<AtomicBool>,
    pub running: Arc<AtomicBool>,
}

/// How one connection ended.
enum End {
    /// Worth reconnecting after the backoff (`true`: the stream had been up).
    Retry(bool),
    /// Wait at least this long (`429 Retry-After`).
    RetryAfter(Duration),
    /// The server has no stream; do not try again.
    Absent,
    /// The device's token will never work again (`device_revoked`): stop until re-paired.
    Revoked,
    /// Nothing to connect to yet (not paired, no token).
    NotPaired,
}

/// Starts the stream thread; it ends when `shared.stop` is set, the server has no stream or
/// the device was revoked.
pub(crate) fn spawn(dirs: VaultDirs, shared: StreamShared, tx: Sender<Input>) {
    shared.running.store(true, Ordering::SeqCst);
    std::thread::Builder::new()
        .name("event-stream".into())
        .spawn(move || {
            run(&dirs, &shared, &tx);
            shared.running.store(false, Ordering::SeqCst);
        })
        .expect("a thread can be spawned");
}

fn run(dirs: &VaultDirs, shared: &StreamShared, tx: &Sender<Input>) {
    let mut failures = 0u32;
    while !shared.stop.load(Ordering::SeqCst) {
        let end = connect_once(dirs, shared, tx);
        let wait = match end {
            End::Absent => {
                let _ = tx.send(Input::StreamAbsent);
                return;
            }
            End::Revoked => {
                let _ = tx.send(Input::StreamDown);
                return;
            }
            End::Retry(was_up) => {
                failures = if was_up { 1 } else { failures + 1 };
                reconnect_delay(failures)
            }
            End::RetryAfter(after) => {
                failures += 1;
                after.max(reconnect_delay(failures))
            }
            End::NotPaired => {
                failures += 1;
                reconnect_delay(failures).max(Duration::from_secs(5))
            }
        };
        if tx.send(Input::StreamDown).is_err() {
            return; // the loop is gone
        }
        sleep_unless_stopped(wait, &shared.stop);
    }
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(250);
    let mut left = total;
    while !left.is_zero() && !stop.load(Ordering::SeqCst) {
        let d = left.min(step);
        std::thread::sleep(d);
        left -= d;
    }
}

fn read_token(dirs: &VaultDirs) -> Option<String> {
    let text = std::fs::read_to_string(dirs.engine_dir().join(TOKEN_DOCUMENT)).ok()?;
    let token = text.trim().trim_matches('"').to_string();
    (!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())).then_some(token)
}

/// A byte stream to the server: TCP, or TLS over TCP.
trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

fn connect_once(dirs: &VaultDirs, shared: &StreamShared, tx: &Sender<Input>) -> End {
    let Ok(Some(server)) = dirs.paired_server() else {
        return End::NotPaired;
    };
    let Some(token) = read_token(dirs) else {
        return End::NotPaired;
    };
    let url = match url::Url::parse(&format!("{}/{EVENTS_PATH}", server.trim_end_matches('/'))) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
        _ => {
            tracing::warn!("the paired server URL {server:?} is not usable for the event stream");
            return End::NotPaired;
        }
    };
    let mut conn = match open(&url) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!("event stream: cannot connect: {e}");
            return End::Retry(false);
        }
    };
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let last = shared.cursor.load(Ordering::SeqCst);
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nLast-Event-ID: {last}\r\nUser-Agent: verstak-sync-host/{}\r\n\r\n",
        url.path(),
        env!("CARGO_PKG_VERSION")
    );
    if conn
        .write_all(request.as_bytes())
        .and_then(|()| conn.flush())
        .is_err()
    {
        return End::Retry(false);
    }
    let mut reader = BufReader::new(conn);
    let head = match read_head(&mut reader) {
        Ok(h) => h,
        Err(e) => {
            tracing::debug!("event stream: no answer: {e}");
            return End::Retry(false);
        }
    };
    match head.status {
        200 if head.event_stream => {}
        404 => return End::Absent,
        429 => {
            return End::RetryAfter(Duration::from_secs(head.retry_after.unwrap_or(60)));
        }
        401 | 403 => {
            // Revoked or blocked: a sync lets the engine record why, and the loop decides.
            let _ = tx.send(Input::Closed(format!("http_{}", head.status)));
            return End::Retry(false);
        }
        other => {
            tracing::debug!("event stream: HTTP {other}");
            return End::Retry(false);
        }
    }
    if tx.send(Input::StreamUp).is_err() {
        return End::Retry(true);
    }
    let body: Box<dyn BufRead + Send> = if head.chunked {
        Box::new(BufReader::new(Chunked::new(reader)))
    } else {
        Box::new(reader)
    };
    read_events(body, shared, tx)
}

fn read_events(
    mut body: Box<dyn BufRead + Send>,
    shared: &StreamShared,
    tx: &Sender<Input>,
) -> End {
    let mut parser = SseParser::default();
    let mut line = String::new();
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return End::Retry(true);
        }
        line.clear();
        match body.read_line(&mut line) {
            Ok(0) => return End::Retry(true),
            Ok(_) => {}
            Err(e) => {
                tracing::debug!("event stream: connection lost: {e}");
                return End::Retry(true);
            }
        }
        let Some(event) = parser.line(line.trim_end_matches(['\r', '\n'])) else {
            continue;
        };
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
        let sent = match event.event.as_str() {
            "sequence" => {
                let seq = data["server_sequence"]
                    .as_i64()
                    .or_else(|| event.id.as_deref().and_then(|i| i.parse().ok()));
                match seq {
                    Some(seq) => tx.send(Input::Remote(seq)),
                    None => Ok(()),
                }
            }
            "closed" => {
                let code = data["code"].as_str().unwrap_or("closed").to_string();
                tracing::info!(
                    "event stream closed by the server: {code}: {}",
                    data["message"].as_str().unwrap_or("")
                );
                let revoked = code == "device_revoked";
                let _ = tx.send(Input::Closed(code));
                return if revoked {
                    End::Revoked
                } else {
                    End::Retry(true)
                };
            }
            _ => Ok(()),
        };
        if sent.is_err() {
            return End::Retry(true);
        }
    }
}

struct Head {
    status: u16,
    event_stream: bool,
    chunked: bool,
    retry_after: Option<u64>,
}

fn read_head(reader: &mut impl BufRead) -> io::Result<Head> {
    let mut raw = Vec::new();
    loop {
        let before = raw.len();
        let n = reader.read_until(b'\n', &mut raw)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if raw.len() > 64 << 10 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "header too long",
            ));
        }
        if raw[before..] == *b"\r\n" || raw[before..] == *b"\n" {
            break;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    response
        .parse(&raw)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let get = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
    };
    Ok(Head {
        status: response.code.unwrap_or(0),
        event_stream: get("content-type").is_some_and(|v| v.starts_with("text/event-stream")),
        chunked: get("transfer-encoding").is_some_and(|v| v.contains("chunked")),
        retry_after: get("retry-after").and_then(|v| v.trim().parse().ok()),
    })
}

fn open(url: &url::Url) -> io::Result<Box<dyn Conn>> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let addr = (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
    let tcp = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    tcp.set_read_timeout(Some(READ_TIMEOUT))?;
    tcp.set_write_timeout(Some(CONNECT_TIMEOUT))?;
    tcp.set_nodelay(true)?;
    if url.scheme() == "http" {
        return Ok(Box::new(tcp));
    }
    // The same trust as the component's requests (`imports::tls`).
    let config = tls::shared().map_err(io::Error::other)?.client_config();
    let host = url
        .host()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no host"))?;
    let name = tls::server_name(&host).map_err(io::Error::other)?;
    let conn = rustls::ClientConnection::new(config, name).map_err(io::Error::other)?;
    Ok(Box::new(rustls::StreamOwned::new(conn, tcp)))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::net::TcpListener;
    use std::sync::mpsc;

    /// A paired vault whose server is a scripted peer on 127.0.0.1 answering each connection
    /// with the next reply; returns the requests it saw.
    fn scripted(
        replies: Vec<&'static str>,
    ) -> (
        tempfile::TempDir,
        VaultDirs,
        std::thread::JoinHandle<Vec<String>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let dirs = VaultDirs::open(dir.path(), "verstak.sync").unwrap();
        dirs.set_paired_server(Some(&url)).unwrap();
        std::fs::create_dir_all(dirs.engine_dir()).unwrap();
        std::fs::write(dirs.engine_dir().join(TOKEN_DOCUMENT), "tok-123").unwrap();
        let peer = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for reply in replies {
                let (mut conn, _) = listener.accept().unwrap();
                let mut buf = [0u8; 4096];
                let n = conn.read(&mut buf).unwrap();
                seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
                conn.write_all(reply.as_bytes()).unwrap();
            }
            seen
        });
        (dir, dirs, peer)
    }

    fn inputs(rx: &mpsc::Receiver<Input>, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| format!("{:?}", rx.recv_timeout(Duration::from_secs(20)).unwrap()))
            .collect()
    }

    #[test]
    fn an_older_server_without_the_stream_is_reported_once_and_left_alone() {
        let (_d, dirs, peer) =
            scripted(vec!["HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"]);
        let (tx, rx) = mpsc::channel();
        let shared = StreamShared::default();
        run(&dirs, &shared, &tx);
        assert_eq!(inputs(&rx, 1), ["StreamAbsent"]);
        let requests = peer.join().unwrap();
        assert!(requests[0].starts_with("GET /api/v1/sync/events HTTP/1.1\r\n"));
        assert!(requests[0].contains("Authorization: Bearer tok-123\r\n"));
    }

    #[test]
    fn events_resume_from_the_cursor_and_a_revocation_ends_the_stream() {
        let body = "event: sequence\nid: 8\ndata: {\"server_sequence\":8,\"device_id\":\"d\"}\n\n: ping\n\nevent: closed\ndata: {\"code\":\"device_revoked\",\"message\":\"device revoked\"}\n\n";
        let chunked: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                body.len()
            )
            .into_boxed_str(),
        );
        let (_d, dirs, peer) = scripted(vec![chunked]);
        let (tx, rx) = mpsc::channel();
        let shared = StreamShared::default();
        shared.cursor.store(5, Ordering::SeqCst);
        run(&dirs, &shared, &tx);
        assert_eq!(
            inputs(&rx, 4),
            [
                "StreamUp",
                "Remote(8)",
                "Closed(\"device_revoked\")",
                "StreamDown"
            ]
        );
        assert!(
            rx.try_recv().is_err(),
            "a revoked device does not reconnect"
        );
        let requests = peer.join().unwrap();
        assert!(
            requests[0].contains("Last-Event-ID: 5\r\n"),
            "{}",
            requests[0]
        );
    }

    #[test]
    fn reconnects_back_off_in_seconds_then_in_minutes() {
        let secs: Vec<u64> = (1..=8).map(|f| reconnect_delay(f).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 15, 60, 120, 240]);
        assert_eq!(reconnect_delay(30), Duration::from_secs(15 * 60));
    }

    #[test]
    fn the_response_head_says_what_the_server_offers() {
        let mut raw = &b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Type: application/json\r\n\r\n{}"[..];
        let head = read_head(&mut raw).unwrap();
        assert_eq!(
            (head.status, head.retry_after, head.event_stream),
            (429, Some(7), false)
        );
        let mut raw = &b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"[..];
        let head = read_head(&mut raw).unwrap();
        assert!(head.event_stream && head.chunked);
    }
}
