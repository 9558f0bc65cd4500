//! Connections (spec §2.9, issue 15 items 2 and 5): idle keep-alive connections stay open past
//! the header timeout, the header clock still bounds a slow request head (on the first request
//! and on later ones), an idle connection is closed after the idle timeout; connections are
//! capped per client IP (per forwarded IP behind a trusted proxy) and counted in `/metrics`.
//! The clocks and the cap are lowered through the server's test-only environment variables;
//! nothing asserts how fast anything happens: waits poll with a deadline.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const HEADER_MS: &str = "VERSTAK_TEST_HEADER_TIMEOUT_MS";
const IDLE_MS: &str = "VERSTAK_TEST_IDLE_TIMEOUT_MS";

fn connect(s: &TestServer) -> TcpStream {
    let c = TcpStream::connect(&s.addr).unwrap();
    // The deadline for anything the server must do; reaching it fails the test.
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c
}

fn send_get(c: &mut TcpStream, path: &str) {
    let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
    c.write_all(req.as_bytes()).unwrap();
}

/// Reads one response with a `Content-Length` body; returns its status.
fn read_response(c: &mut TcpStream) -> u16 {
    read_full_response(c).0
}

/// Reads one response with a `Content-Length` body; returns its status and body.
fn read_full_response(c: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        let n = c.read(&mut byte).expect("response before the deadline");
        assert_eq!(n, 1, "connection closed mid-response: {raw:?}");
        raw.push(byte[0]);
    }
    let head = String::from_utf8(raw).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .expect("content-length");
    let mut body = vec![0u8; len];
    c.read_exact(&mut body).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, String::from_utf8(body).unwrap())
}

/// Waits (up to the read deadline) for the server to close the connection.
fn assert_closed_by_server(c: &mut TcpStream) {
    let mut buf = [0u8; 256];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => continue, // an error response before closing is fine
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(e) => panic!("connection still open at the deadline: {e}"),
        }
    }
}

#[test]
fn keep_alive_outlives_the_header_timeout_and_heads_stay_bounded() {
    let s = TestServer::start_env(&[(HEADER_MS, "200")]);
    let mut c = connect(&s);
    send_get(&mut c, "/livez");
    assert_eq!(read_response(&mut c), 200);
    // Idle between requests for five header timeouts: only the 120 s idle clock applies, so
    // the connection must still serve the next request. (A sleep lets the clock run out; it
    // does not wait for an event.)
    std::thread::sleep(Duration::from_millis(1000));
    send_get(&mut c, "/livez");
    assert_eq!(read_response(&mut c), 200);

    // A later request's head that never completes is still cut off by the header clock.
    c.write_all(b"GET /livez HTTP/1.1\r\nHost: t\r\n").unwrap();
    assert_closed_by_server(&mut c);
    // And so is the first head on a new connection.
    let mut c = connect(&s);
    c.write_all(b"GET /livez HTTP/1.1\r\n").unwrap();
    assert_closed_by_server(&mut c);
}

#[test]
fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    let s = TestServer::start_env(&[(IDLE_MS, "300")]);
    let mut c = connect(&s);
    send_get(&mut c, "/livez");
    assert_eq!(read_response(&mut c), 200);
    assert_closed_by_server(&mut c);
}

const CAP: &str = "VERSTAK_TEST_MAX_CONNECTIONS_PER_IP";

/// A keep-alive connection that has been served one request.
fn served_connection(s: &TestServer) -> Option<TcpStream> {
    let mut c = connect(s);
    send_get(&mut c, "/livez");
    let mut first = [0u8; 1];
    match c.peek(&mut first) {
        Ok(1) => {}
        _ => return None, // closed unserved: over the cap
    }
    assert_eq!(read_response(&mut c), 200);
    Some(c)
}

/// Polls (30 s deadline) until a new connection is served.
fn served_connection_eventually(s: &TestServer) -> TcpStream {
    let end = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < end {
        if let Some(c) = served_connection(s) {
            return c;
        }
        std::thread::park_timeout(Duration::from_millis(20));
    }
    panic!("no connection served within 30 s");
}

/// Node 0's gauge: the raw connections of these tests go to `s.addr`.
fn open_connections_gauge(s: &TestServer) -> i64 {
    let text = s.get_on(0, "/metrics", None).text();
    text.lines()
        .find_map(|l| l.strip_prefix("verstak_http_open_connections "))
        .unwrap_or_else(|| panic!("no open-connections gauge: {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn direct_clients_are_capped_per_ip_and_counted() {
    let s = TestServer::start_env(&[(CAP, "3")]);
    let c1 = served_connection(&s).expect("first connection");
    let _c2 = served_connection(&s).expect("second connection");
    // c1, c2 and the scrape's own connection.
    assert!(open_connections_gauge(&s) >= 3);
    let _c3 = served_connection_eventually(&s);
    // The fourth concurrent connection from this IP is closed without an answer.
    assert!(served_connection(&s).is_none());
    // Closing one makes room again.
    drop(c1);
    let _c4 = served_connection_eventually(&s);
}

#[test]
fn proxied_clients_are_capped_per_forwarded_ip() {
    let s = TestServer::start_with_env(&["--trusted-proxies", "127.0.0.1/32"], &[(CAP, "2")]);
    // Three requests from 203.0.113.5 whose bodies never come: two are admitted and stay in
    // flight, the third (whichever it is) is refused at once.
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.5\r\n\
        Content-Type: application/json\r\nContent-Length: 40\r\n\r\n";
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut c = connect(&s);
            c.write_all(head.as_bytes()).unwrap();
            c.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            c
        })
        .collect();
    // The admitted ones answer only when their 30 s body timeout ends, long after this.
    let end = std::time::Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let answered = held.iter().position(|c| c.peek(&mut [0u8; 1]).is_ok());
        if let Some(i) = answered {
            break i;
        }
        assert!(std::time::Instant::now() < end, "no request was refused");
    };
    let mut c = held.remove(refused);
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let (status, body) = read_full_response(&mut c);
    assert_eq!(status, 429, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["code"].as_str(), v["error"].as_str()),
        (Some("rate_limited"), Some("too many connections"))
    );
    let from = |ip: &str| s.req("GET", "/livez", &[("X-Forwarded-For", ip)], b"");
    let r = from("203.0.113.5");
    r.assert_error(429, "rate_limited", "too many connections");
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.header("content-security-policy").is_some());
    // Another client behind the same proxy is not affected.
    assert_eq!(from("203.0.113.6").status, 200);
    // One held request finishes: 203.0.113.5 gets through again.
    let body = format!("{:<40}", r#"{"username":"x","password":"y"}"#);
    held[0].write_all(body.as_bytes()).unwrap();
    let end = std::time::Instant::now() + Duration::from_secs(30);
    while from("203.0.113.5").status != 200 {
        assert!(std::time::Instant::now() < end, "never admitted again");
        std::thread::park_timeout(Duration::from_millis(20));
    }
    held.clear();
}

/// Out of descriptors (issue 15 item 2): the server raises its soft limit to the hard one, and
/// while accepting fails with EMFILE it logs one line, not one per attempt; it recovers when
/// descriptors free up.
#[test]
fn accept_failures_back_off_and_recover() {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(BIN);
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 40,
                rlim_max: 64,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let (child, addr, log) = spawn_cmd(cmd, dir.path(), &[], &[(CAP, "1000")]);
    let s = TestServer::from_parts(child, addr, dir, log);
    // The soft limit was raised to the hard one.
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", s.child.id())).unwrap();
    let nofile: Vec<&str> = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .split_whitespace()
        .skip(3)
        .take(2)
        .collect();
    assert_eq!(nofile, ["64", "64"], "{limits}");
    let mut seen: Vec<String> = Vec::new();
    let wait_for = |needle: &str, seen: &mut Vec<String>| {
        let end = std::time::Instant::now() + Duration::from_secs(30);
        while !seen.iter().any(|l| l.contains(needle)) {
            let left = end.saturating_duration_since(std::time::Instant::now());
            match s.log.recv_timeout(left) {
                Ok(l) => seen.push(l),
                Err(_) => panic!("no {needle:?} in the log: {seen:#?}"),
            }
        }
    };
    // Hold more connections than the server has descriptors.
    let held: Vec<TcpStream> = (0..80).map(|_| connect(&s)).collect();
    wait_for("accept failed", &mut seen);
    // Let the failure last a while (the back-off's pace does not depend on machine speed):
    // still one line.
    std::thread::sleep(Duration::from_millis(1000));
    seen.extend(s.log.try_iter());
    let failures = seen.iter().filter(|l| l.contains("accept failed")).count();
    assert_eq!(failures, 1, "{seen:#?}");
    drop(held);
    let mut c = served_connection_eventually(&s);
    send_get(&mut c, "/livez");
    assert_eq!(read_response(&mut c), 200);
    wait_for("accepting connections again", &mut seen);
}
