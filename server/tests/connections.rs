//! Connections (spec §2.9): idle keep-alive connections stay open past the header timeout, the
//! header clock still bounds a slow request head (on the first request and on later ones), and
//! an idle connection is closed after the idle timeout. The clocks are shortened through the
//! server's test-only environment variables; nothing asserts how fast anything happens.

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
    head.split(' ').nth(1).unwrap().parse().unwrap()
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
