//! Tests of the `network` import against tiny std `TcpListener` servers on 127.0.0.1.

use super::*;
use crate::bindings::verstak::sync::network::StagedFile;
use crate::bindings::verstak::sync::files::Host as _;
use crate::imports::testing::{all_but, code, denied, full, state_with};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::Duration;

/// A one-shot server: accepts one connection, reads one request (head plus `Content-Length`
/// body), answers `response` and hands back the raw request bytes.
fn serve_once(response: Vec<u8>) -> (u16, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = vec![];
        let mut buf = [0u8; 64 << 10];
        let head_end = loop {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "client closed early");
            got.extend_from_slice(&buf[..n]);
            if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
        let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap());
        while got.len() < head_end + len {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "client closed inside the body");
            got.extend_from_slice(&buf[..n]);
        }
        let _ = conn.write_all(&response);
        got
    });
    (port, handle)
}

fn request(method: &str, url: &str, body: Body) -> Request {
    Request { method: method.into(), url: url.into(), headers: vec![("Accept".into(), "application/json".into())], body }
}

fn ok_response(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

#[test]
fn send_needs_network_remote() {
    let (_v, mut s) = state_with(&all_but("network.remote"));
    s.allow_origin("http://127.0.0.1:9").unwrap();
    denied(s.send(request("GET", "http://127.0.0.1:9/", Body::Empty)), "network.remote");
}

#[test]
fn bad_methods_urls_and_headers_are_invalid_input() {
    let (_v, mut s) = full();
    s.allow_origin("http://127.0.0.1:9").unwrap();
    code(s.send(request("PUT", "http://127.0.0.1:9/", Body::Empty)), ErrorCode::InvalidInput);
    code(s.send(request("get", "http://127.0.0.1:9/", Body::Empty)), ErrorCode::InvalidInput);
    for url in ["ftp://127.0.0.1:9/", "file:///etc/passwd", "/relative", "http://user:pw@127.0.0.1:9/", "not a url"] {
        code(s.send(request("GET", url, Body::Empty)), ErrorCode::InvalidInput);
    }
    for (n, v) in [("X-A", "a\r\nInjected: 1"), ("Bad Name", "v"), ("Host", "evil"), ("Content-Length", "1"), ("", "v")] {
        let mut r = request("GET", "http://127.0.0.1:9/", Body::Empty);
        r.headers.push((n.into(), v.into()));
        code(s.send(r), ErrorCode::InvalidInput);
    }
    assert!(matches!(s.allow_origin("ftp://x").unwrap_err().code, ErrorCode::InvalidInput));
}

#[test]
fn only_the_allowed_origin_is_reached() {
    let (_v, mut s) = full();
    let (port, server) = serve_once(ok_response("{\"ok\":true}"));
    let foreign = TcpListener::bind("127.0.0.1:0").unwrap();
    foreign.set_nonblocking(true).unwrap();
    let foreign_port = foreign.local_addr().unwrap().port();

    code(s.send(request("GET", &format!("http://127.0.0.1:{port}/health"), Body::Empty)), ErrorCode::ForbiddenOrigin);
    s.allow_origin(&format!("http://127.0.0.1:{port}/some/path")).unwrap();
    for url in [
        format!("http://127.0.0.1:{foreign_port}/health"),
        format!("https://127.0.0.1:{port}/health"),
        format!("http://localhost:{port}/health"),
        format!("http://127.0.0.2:{port}/health"),
    ] {
        code(s.send(request("GET", &url, Body::Empty)), ErrorCode::ForbiddenOrigin);
    }
    assert_eq!(foreign.accept().unwrap_err().kind(), std::io::ErrorKind::WouldBlock, "no connection was attempted");

    let resp = s.send(request("GET", &format!("http://127.0.0.1:{port}/health?x=1"), Body::Empty)).unwrap();
    assert_eq!((resp.status, resp.body.as_slice()), (200, &b"{\"ok\":true}"[..]));
    assert!(resp.headers.iter().any(|(n, v)| n == "Content-Type" && v == "application/json"));
    let got = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(got.starts_with("GET /health?x=1 HTTP/1.1\r\n"), "{got}");
    assert!(got.contains(&format!("\r\nHost: 127.0.0.1:{port}\r\n")), "{got}");
    assert!(got.contains("\r\nAccept: application/json\r\n"), "{got}");
}

#[test]
fn the_settings_server_url_is_the_default_origin() {
    let (vault, mut s) = full();
    let (port, server) = serve_once(ok_response("{}"));
    code(s.send(request("GET", &format!("http://127.0.0.1:{port}/"), Body::Empty)), ErrorCode::ForbiddenOrigin);
    let settings = vault.path().join(".verstak/plugin-settings/verstak.sync/settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, format!("{{\"serverUrl\":\"http://127.0.0.1:{port}\"}}")).unwrap();
    assert_eq!(s.send(request("GET", &format!("http://127.0.0.1:{port}/"), Body::Empty)).unwrap().status, 200);
    server.join().unwrap();
    s.allow_origin("http://127.0.0.1:1").unwrap();
    code(s.send(request("GET", &format!("http://127.0.0.1:{port}/"), Body::Empty)), ErrorCode::ForbiddenOrigin);
    s.clear_allowed_origin();
}

#[test]
fn any_status_is_a_response_and_redirects_are_not_followed() {
    let (_v, mut s) = full();
    let (port, server) = serve_once(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n".to_vec());
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let resp = s.send(request("POST", &format!("http://127.0.0.1:{port}/api"), Body::Bytes(b"{\"a\":1}".to_vec()))).unwrap();
    assert_eq!(resp.status, 302);
    let got = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(got.starts_with("POST /api HTTP/1.1\r\n") && got.contains("Content-Length: 7\r\n") && got.ends_with("\r\n\r\n{\"a\":1}"), "{got}");

    let (port, server) = serve_once(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbusy\r\n3;x=y\r\n!!!\r\n0\r\n\r\n".to_vec());
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let resp = s.send(request("GET", &format!("http://127.0.0.1:{port}/"), Body::Empty)).unwrap();
    assert_eq!((resp.status, resp.body.as_slice()), (503, &b"busy!!!"[..]));
    server.join().unwrap();

    let (port, server) = serve_once(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nno such thing".to_vec());
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let resp = s.send(request("GET", &format!("http://127.0.0.1:{port}/"), Body::Empty)).unwrap();
    assert_eq!((resp.status, resp.body.as_slice()), (404, &b"no such thing"[..]));
    server.join().unwrap();
}

#[test]
fn response_bodies_are_capped() {
    let (_v, mut s) = full();
    let huge = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", MAX_RESPONSE_BYTES + 1).into_bytes();
    let (port, server) = serve_once(huge);
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    code(s.send(request("GET", &format!("http://127.0.0.1:{port}/"), Body::Empty)), ErrorCode::TooLarge);
    server.join().unwrap();

    let mut unframed = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
    unframed.resize(unframed.len() + MAX_RESPONSE_BYTES + 1, b'x');
    let (port, server) = serve_once(unframed);
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    code(s.send(request("GET", &format!("http://127.0.0.1:{port}/"), Body::Empty)), ErrorCode::TooLarge);
    server.join().unwrap();
}

#[test]
fn no_response_is_a_network_error() {
    let (_v, mut s) = full();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(); // closed again
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    code(s.send(request("GET", &format!("http://127.0.0.1:{port}/"), Body::Empty)), ErrorCode::Network);

    let (port, server) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort".to_vec());
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    code(s.send(request("GET", &format!("http://127.0.0.1:{port}/"), Body::Empty)), ErrorCode::Network);
    server.join().unwrap();
}

#[test]
fn a_staged_file_is_sent_as_one_multipart_part() {
    let (_v, mut s) = full();
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
    s.stage_write("blob-1".into(), 0, content.clone()).unwrap();
    let (port, server) = serve_once(ok_response("{\"sha256\":\"x\",\"size\":1}"));
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let body = Body::StagedFile(StagedFile { stage: "blob-1".into(), filename: "abc123".into() });
    let resp = s.send(request("POST", &format!("http://127.0.0.1:{port}/api/v1/blobs/"), body)).unwrap();
    assert_eq!(resp.status, 200);

    let got = server.join().unwrap();
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8(got[..head_end].to_vec()).unwrap();
    let body = &got[head_end..];
    let boundary = head.lines().find_map(|l| l.strip_prefix("Content-Type: multipart/form-data; boundary=")).expect("multipart content type");
    assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())), "{head}");
    let pre = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"abc123\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    let post = format!("\r\n--{boundary}--\r\n");
    assert!(body.starts_with(pre.as_bytes()));
    assert!(body.ends_with(post.as_bytes()));
    assert_eq!(&body[pre.len()..body.len() - post.len()], content.as_slice());
    assert!(!content.windows(boundary.len()).any(|w| w == boundary.as_bytes()));
}

#[test]
fn staged_file_problems_are_reported_before_sending() {
    let (_v, mut s) = full();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let url = format!("http://127.0.0.1:{port}/api/v1/blobs/");
    let staged = |stage: &str, filename: &str| Body::StagedFile(StagedFile { stage: stage.into(), filename: filename.into() });
    code(s.send(request("POST", &url, staged("missing", "f"))), ErrorCode::Io);
    code(s.send(request("POST", &url, staged("../x", "f"))), ErrorCode::InvalidInput);
    s.stage_write("k".into(), 0, b"x".to_vec()).unwrap();
    code(s.send(request("POST", &url, staged("k", "a\"b"))), ErrorCode::InvalidInput);
    assert_eq!(listener.accept().unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
}
