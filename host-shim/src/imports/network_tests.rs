//! Tests of the `network` import against tiny std `TcpListener` servers on 127.0.0.1, plain
//! and, at the end, TLS ones with a CA and certificates made by `rcgen` for each test. Slow
//! servers (trickling bytes, never reading) check the total time limit of a request: each would
//! let the request succeed or fail differently if the limit did not hold, so none can hang.

use super::*;
use crate::bindings::Method;
use crate::bindings::verstak::sync::files::Host as _;
use crate::bindings::verstak::sync::network::StagedFile;
use crate::imports::testing::{all_but, code, denied, full, state_with};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::Duration;

/// Reads one request: the head plus a `Content-Length` body.
fn read_request(conn: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let closed = |what: &str| {
        std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("client closed {what}"),
        )
    };
    let mut got = vec![];
    let mut buf = [0u8; 64 << 10];
    let head_end = loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Err(closed("early"));
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while got.len() < head_end + len {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Err(closed("inside the body"));
        }
        got.extend_from_slice(&buf[..n]);
    }
    Ok(got)
}

/// A one-shot server: accepts one connection, reads one request (head plus `Content-Length`
/// body), answers `response` and hands back the raw request bytes.
fn serve_once(response: Vec<u8>) -> (u16, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let got = read_request(&mut conn).unwrap();
        let _ = conn.write_all(&response);
        got
    });
    (port, handle)
}

fn request(method: Method, url: &str, body: Body) -> Request {
    Request {
        method,
        url: url.into(),
        headers: vec![("Accept".into(), "application/json".into())],
        body,
    }
}

fn ok_response(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn send_needs_network_remote() {
    let (_v, mut s) = state_with(&all_but("network.remote"));
    s.allow_origin("http://127.0.0.1:9").unwrap();
    denied(
        s.send(request(Method::Get, "http://127.0.0.1:9/", Body::Empty)),
        "network.remote",
    );
}

#[test]
fn bad_urls_and_headers_are_invalid_input() {
    // A bad method (`PUT`, `get`) cannot be sent since API 0.2.0: `method` is a WIT enum.
    let (_v, mut s) = full();
    s.allow_origin("http://127.0.0.1:9").unwrap();
    for url in [
        "ftp://127.0.0.1:9/",
        "file:///etc/passwd",
        "/relative",
        "http://user:pw@127.0.0.1:9/",
        "not a url",
    ] {
        code(
            s.send(request(Method::Get, url, Body::Empty)),
            ErrorCode::InvalidInput,
        );
    }
    for (n, v) in [
        ("X-A", "a\r\nInjected: 1"),
        ("Bad Name", "v"),
        ("Host", "evil"),
        ("Content-Length", "1"),
        ("", "v"),
    ] {
        let mut r = request(Method::Get, "http://127.0.0.1:9/", Body::Empty);
        r.headers.push((n.into(), v.into()));
        code(s.send(r), ErrorCode::InvalidInput);
    }
    assert!(matches!(
        s.allow_origin("ftp://x").unwrap_err().code,
        ErrorCode::InvalidInput
    ));
}

#[test]
fn only_the_allowed_origin_is_reached() {
    let (_v, mut s) = full();
    let (port, server) = serve_once(ok_response("{\"ok\":true}"));
    let foreign = TcpListener::bind("127.0.0.1:0").unwrap();
    foreign.set_nonblocking(true).unwrap();
    let foreign_port = foreign.local_addr().unwrap().port();

    code(
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/health"),
            Body::Empty,
        )),
        ErrorCode::ForbiddenOrigin,
    );
    s.allow_origin(&format!("http://127.0.0.1:{port}/some/path"))
        .unwrap();
    for url in [
        format!("http://127.0.0.1:{foreign_port}/health"),
        format!("https://127.0.0.1:{port}/health"),
        format!("http://localhost:{port}/health"),
        format!("http://127.0.0.2:{port}/health"),
    ] {
        code(
            s.send(request(Method::Get, &url, Body::Empty)),
            ErrorCode::ForbiddenOrigin,
        );
    }
    assert_eq!(
        foreign.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "no connection was attempted"
    );

    let resp = s
        .send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/health?x=1"),
            Body::Empty,
        ))
        .unwrap();
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (200, &b"{\"ok\":true}"[..])
    );
    // Header names come back in lower case (hyper's); HTTP compares them without case.
    assert!(
        resp.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("Content-Type") && v == "application/json")
    );
    let got = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(got.starts_with("GET /health?x=1 HTTP/1.1\r\n"), "{got}");
    assert!(
        got.contains(&format!("\r\nHost: 127.0.0.1:{port}\r\n")),
        "{got}"
    );
    assert!(got.contains("\r\nAccept: application/json\r\n"), "{got}");
}

#[test]
fn the_paired_server_is_the_default_origin_and_settings_are_not() {
    let (vault, mut s) = full();
    let (port, server) = serve_once(ok_response("{}"));
    code(
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        )),
        ErrorCode::ForbiddenOrigin,
    );
    // The component can write its settings, so a serverUrl there opens nothing.
    let settings = vault
        .path()
        .join(".verstak/plugin-settings/verstak.sync/settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(
        &settings,
        format!("{{\"serverUrl\":\"http://127.0.0.1:{port}\"}}"),
    )
    .unwrap();
    code(
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        )),
        ErrorCode::ForbiddenOrigin,
    );
    s.vault
        .set_paired_server(Some(&format!("http://127.0.0.1:{port}")))
        .unwrap();
    assert_eq!(
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty
        ))
        .unwrap()
        .status,
        200
    );
    server.join().unwrap();
    s.allow_origin("http://127.0.0.1:1").unwrap();
    code(
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        )),
        ErrorCode::ForbiddenOrigin,
    );
    s.clear_allowed_origin();
}

#[test]
fn the_paired_server_is_read_once_per_call_and_a_change_is_seen_by_the_next() {
    let (_v, mut s) = full();
    let get = |s: &mut HostState, port: u16| {
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        ))
    };
    let (first, server) = serve_once(ok_response("{}"));
    s.vault
        .set_paired_server(Some(&format!("http://127.0.0.1:{first}")))
        .unwrap();
    s.begin_call_writes();
    assert_eq!(get(&mut s, first).unwrap().status, 200);
    server.join().unwrap();
    s.end_call_writes();

    // Re-paired with another server between calls: the old one is refused from the next call on.
    let (second, server) = serve_once(ok_response("{}"));
    s.vault
        .set_paired_server(Some(&format!("http://127.0.0.1:{second}")))
        .unwrap();
    s.begin_call_writes();
    code(get(&mut s, first), ErrorCode::ForbiddenOrigin);
    assert_eq!(get(&mut s, second).unwrap().status, 200);
    server.join().unwrap();
    s.end_call_writes();

    // The component's settings naming another server open nothing, in this call or the next.
    s.begin_call_writes();
    crate::bindings::verstak::sync::settings::Host::write(
        &mut s,
        format!("{{\"serverUrl\":\"http://127.0.0.1:{first}\"}}"),
    )
    .unwrap();
    code(get(&mut s, first), ErrorCode::ForbiddenOrigin);
    s.end_call_writes();
    s.begin_call_writes();
    code(get(&mut s, first), ErrorCode::ForbiddenOrigin);
    s.end_call_writes();

    // Unpaired between calls: nothing is reachable.
    s.vault.set_paired_server(None).unwrap();
    s.begin_call_writes();
    code(get(&mut s, second), ErrorCode::ForbiddenOrigin);
    s.end_call_writes();
}

#[test]
fn any_status_is_a_response_and_redirects_are_not_followed() {
    let (_v, mut s) = full();
    let (port, server) = serve_once(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n".to_vec());
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let resp = s
        .send(request(
            Method::Post,
            &format!("http://127.0.0.1:{port}/api"),
            Body::Bytes(b"{\"a\":1}".to_vec()),
        ))
        .unwrap();
    assert_eq!(resp.status, 302);
    let got = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(
        got.starts_with("POST /api HTTP/1.1\r\n")
            && got.contains("Content-Length: 7\r\n")
            && got.ends_with("\r\n\r\n{\"a\":1}"),
        "{got}"
    );

    let (port, server) = serve_once(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbusy\r\n3;x=y\r\n!!!\r\n0\r\n\r\n".to_vec());
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let resp = s
        .send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        ))
        .unwrap();
    assert_eq!((resp.status, resp.body.as_slice()), (503, &b"busy!!!"[..]));
    server.join().unwrap();

    let (port, server) = serve_once(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nno such thing".to_vec());
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let resp = s
        .send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        ))
        .unwrap();
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (404, &b"no such thing"[..])
    );
    server.join().unwrap();
}

#[test]
fn response_bodies_are_capped() {
    let (_v, mut s) = full();
    let huge = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
        MAX_RESPONSE_BYTES + 1
    )
    .into_bytes();
    let (port, server) = serve_once(huge);
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    code(
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        )),
        ErrorCode::TooLarge,
    );
    server.join().unwrap();

    let mut unframed = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
    unframed.resize(unframed.len() + MAX_RESPONSE_BYTES + 1, b'x');
    let (port, server) = serve_once(unframed);
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    code(
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        )),
        ErrorCode::TooLarge,
    );
    server.join().unwrap();
}

#[test]
fn a_head_answer_may_announce_any_length() {
    let (_v, mut s) = full();
    let (port, server) = serve_once(
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 256 << 20).into_bytes(),
    );
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let resp = s
        .send(request(
            Method::Head,
            &format!("http://127.0.0.1:{port}/api/v1/blobs/abc"),
            Body::Empty,
        ))
        .unwrap();
    assert_eq!((resp.status, resp.body.len()), (200, 0));
    assert!(
        resp.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-length") && *v == (256 << 20).to_string())
    );
    let got = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(
        got.starts_with("HEAD /api/v1/blobs/abc HTTP/1.1\r\n"),
        "{got}"
    );
}

#[test]
fn no_response_is_a_network_error() {
    let (_v, mut s) = full();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // closed again
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    code(
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        )),
        ErrorCode::Network,
    );

    let (port, server) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort".to_vec());
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    code(
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        )),
        ErrorCode::Network,
    );
    server.join().unwrap();
}

#[test]
fn a_staged_file_is_sent_as_one_multipart_part() {
    let (_v, mut s) = full();
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
    s.stage_write("blob-1".into(), 0, content.clone()).unwrap();
    let (port, server) = serve_once(ok_response("{\"sha256\":\"x\",\"size\":1}"));
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let body = Body::StagedFile(StagedFile {
        stage: "blob-1".into(),
        filename: "abc123".into(),
    });
    let resp = s
        .send(request(
            Method::Post,
            &format!("http://127.0.0.1:{port}/api/v1/blobs/"),
            body,
        ))
        .unwrap();
    assert_eq!(resp.status, 200);

    assert_multipart(&server.join().unwrap(), "abc123", &content);
}

/// `got` is one `multipart/form-data` request whose only part is `filename` with `content`.
fn assert_multipart(got: &[u8], filename: &str, content: &[u8]) {
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8(got[..head_end].to_vec()).unwrap();
    let body = &got[head_end..];
    let boundary = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: multipart/form-data; boundary="))
        .expect("multipart content type");
    assert!(
        head.contains(&format!("Content-Length: {}\r\n", body.len())),
        "{head}"
    );
    let pre = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    let post = format!("\r\n--{boundary}--\r\n");
    assert!(body.starts_with(pre.as_bytes()));
    assert!(body.ends_with(post.as_bytes()));
    assert_eq!(&body[pre.len()..body.len() - post.len()], content);
    assert!(
        !content
            .windows(boundary.len())
            .any(|w| w == boundary.as_bytes())
    );
}

#[test]
fn staged_file_problems_are_reported_before_sending() {
    let (_v, mut s) = full();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let url = format!("http://127.0.0.1:{port}/api/v1/blobs/");
    let staged = |stage: &str, filename: &str| {
        Body::StagedFile(StagedFile {
            stage: stage.into(),
            filename: filename.into(),
        })
    };
    code(
        s.send(request(Method::Post, &url, staged("missing", "f"))),
        ErrorCode::Io,
    );
    code(
        s.send(request(Method::Post, &url, staged("../x", "f"))),
        ErrorCode::InvalidInput,
    );
    s.stage_write("k".into(), 0, b"x".to_vec()).unwrap();
    code(
        s.send(request(Method::Post, &url, staged("k", "a\"b"))),
        ErrorCode::InvalidInput,
    );
    assert_eq!(
        listener.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
}

// --- one connection per origin ------------------------------------------------------------

/// How a [`serve_keep_alive`] server treats the connections it accepts.
#[derive(Clone, Copy)]
struct KeepAlive {
    /// Close each connection this long after answering, when it is idle (no `Connection: close`).
    close_idle_after: Option<Duration>,
    /// On the first connection only: read this request (counted from 1) and close without an
    /// answer, as a server does that drops an idle connection just as the request arrives.
    drop_request: Option<usize>,
}

/// The connections a test server accepted.
type Counter = std::sync::Arc<std::sync::atomic::AtomicUsize>;
/// The requests a test server read.
type Requests = std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>;

/// A keep-alive HTTP/1.1 server on 127.0.0.1 that answers every request: a 1 MiB body for
/// `GET /download`, an empty one for `HEAD`, else `{"n":<request number>}`. Counts the
/// connections it accepted and keeps every request it read.
fn serve_keep_alive(how: KeepAlive) -> (u16, Counter, Requests) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(vec![]));
    let (count, seen) = (accepted.clone(), requests.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let first = count.fetch_add(1, Ordering::SeqCst) == 0;
            let seen = seen.clone();
            std::thread::spawn(move || {
                for n in 1.. {
                    let timeout = how.close_idle_after.unwrap_or(Duration::from_secs(60));
                    conn.set_read_timeout(Some(timeout)).unwrap();
                    let Ok(got) = read_request(&mut conn) else {
                        return; // the client closed, or the idle time passed
                    };
                    if first && how.drop_request == Some(n) {
                        return;
                    }
                    let response = if got.starts_with(b"GET /download ") {
                        let mut r =
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 1 << 20)
                                .into_bytes();
                        r.resize(r.len() + (1 << 20), b'd');
                        r
                    } else if got.starts_with(b"HEAD ") {
                        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".to_vec()
                    } else {
                        ok_response(&format!("{{\"n\":{n}}}"))
                    };
                    seen.lock().unwrap().push(got);
                    if conn.write_all(&response).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, accepted, requests)
}

fn connections(accepted: &std::sync::atomic::AtomicUsize) -> usize {
    accepted.load(std::sync::atomic::Ordering::SeqCst)
}

#[test]
fn one_connection_carries_every_request_to_the_origin() {
    let (_v, mut s) = full();
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    s.stage_write("blob-ka".into(), 0, content.clone()).unwrap();
    let (port, accepted, requests) = serve_keep_alive(KeepAlive {
        close_idle_after: None,
        drop_request: None,
    });
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let mut statuses = vec![];
    for round in 0..3 {
        let get = s
            .send(request(Method::Get, &url("/health"), Body::Empty))
            .unwrap();
        let post = s
            .send(request(
                Method::Post,
                &url("/api/v1/sync/pull"),
                Body::Bytes(b"{\"since\":0}".to_vec()),
            ))
            .unwrap();
        let upload = s
            .send(request(
                Method::Post,
                &url("/api/v1/blobs/"),
                Body::StagedFile(StagedFile {
                    stage: "blob-ka".into(),
                    filename: format!("f{round}"),
                }),
            ))
            .unwrap();
        let download = s
            .send(request(Method::Get, &url("/download"), Body::Empty))
            .unwrap();
        assert_eq!(download.body.len(), 1 << 20);
        assert!(download.body.iter().all(|b| *b == b'd'));
        let head = s
            .send(request(Method::Head, &url("/download"), Body::Empty))
            .unwrap();
        assert!(head.body.is_empty());
        statuses.extend([
            get.status,
            post.status,
            upload.status,
            download.status,
            head.status,
        ]);
    }
    assert_eq!(statuses, [200; 15]);
    assert_eq!(
        connections(&accepted),
        1,
        "every request went over one connection"
    );
    let requests = requests.lock().unwrap();
    assert_eq!(requests.len(), 15);
    assert_multipart(&requests[2], "f0", &content);
    assert_multipart(&requests[12], "f2", &content);
    assert!(requests[1].ends_with(b"\r\n\r\n{\"since\":0}"));
}

#[test]
fn a_connection_the_server_closed_while_idle_is_replaced() {
    let (_v, mut s) = full();
    let (port, accepted, _) = serve_keep_alive(KeepAlive {
        close_idle_after: Some(Duration::from_millis(100)),
        drop_request: None,
    });
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let url = format!("http://127.0.0.1:{port}/api");
    for method in [Method::Get, Method::Post, Method::Get] {
        let body = match method {
            Method::Post => Body::Bytes(b"{}".to_vec()),
            _ => Body::Empty,
        };
        let resp = s.send(request(method, &url, body)).unwrap();
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (200, &b"{\"n\":1}"[..])
        );
        std::thread::sleep(Duration::from_millis(400)); // the server closes meanwhile
    }
    assert_eq!(connections(&accepted), 3);
}

#[test]
fn a_request_a_dropped_connection_never_answered_is_sent_again_only_when_safe() {
    let (_v, mut s) = full();
    // A GET is sent again on a new connection.
    let (port, accepted, requests) = serve_keep_alive(KeepAlive {
        close_idle_after: None,
        drop_request: Some(2),
    });
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let url = format!("http://127.0.0.1:{port}/api");
    s.send(request(Method::Get, &url, Body::Empty)).unwrap();
    let resp = s.send(request(Method::Get, &url, Body::Empty)).unwrap();
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (200, &b"{\"n\":1}"[..])
    );
    assert_eq!(connections(&accepted), 2);
    assert_eq!(requests.lock().unwrap().len(), 2);

    // A POST the server had (partly) received is not: the engine decides.
    let (port, accepted, requests) = serve_keep_alive(KeepAlive {
        close_idle_after: None,
        drop_request: Some(2),
    });
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let url = format!("http://127.0.0.1:{port}/api");
    s.send(request(Method::Get, &url, Body::Empty)).unwrap();
    code(
        s.send(request(
            Method::Post,
            &url,
            Body::Bytes(b"{\"once\":1}".to_vec()),
        )),
        ErrorCode::Network,
    );
    assert_eq!(connections(&accepted), 1);
    assert_eq!(requests.lock().unwrap().len(), 1);
}

// --- the total time limit of a request -------------------------------------------------------

#[test]
fn a_request_gets_what_is_left_of_the_call_minus_a_reserve() {
    let t0 = std::time::Instant::now();
    let secs = Duration::from_secs;
    let ms = Duration::from_millis;
    // (call window, upload bytes, seconds into the call) → limit
    let cases = [
        (None, 0, 0, MAX_REQUEST_TIME),
        (None, 64 << 20, 0, MAX_REQUEST_TIME + secs(2048)),
        (Some((t0, secs(20))), 0, 0, secs(18)),
        (Some((t0, secs(20))), 0, 5, secs(13)),
        (Some((t0, secs(20))), 0, 18, Duration::ZERO),
        (Some((t0, secs(20))), 0, 30, Duration::ZERO),
        // A short call keeps 2 s for the engine's retries, or half when it is shorter still.
        (Some((t0, secs(6))), 0, 0, secs(4)),
        (Some((t0, secs(6))), 0, 4, Duration::ZERO),
        (Some((t0, secs(3))), 0, 0, ms(1500)),
        // A long call: the reserve is at most 10 s, and one request at most the maximum.
        (Some((t0, secs(3600))), 0, 0, MAX_REQUEST_TIME),
        (Some((t0, secs(3600))), 0, 3400, secs(190)),
        (Some((t0, secs(3600))), 256 << 20, 0, secs(3590)),
    ];
    for (call, upload, at, want) in cases {
        assert_eq!(
            request_time_limit(call, upload, t0 + secs(at)),
            want,
            "{call:?} {upload} {at}"
        );
    }
}

/// A server that reads one request, writes the first `at_once` bytes of `response`, then the
/// rest one byte per `every`, and stops at the first write that fails (the client gave up).
fn serve_trickled(response: Vec<u8>, at_once: usize, every: Duration) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        read_request(&mut conn).unwrap();
        if conn.write_all(&response[..at_once]).is_err() {
            return;
        }
        for b in &response[at_once..] {
            std::thread::sleep(every);
            if conn.write_all(&[*b]).and_then(|()| conn.flush()).is_err() {
                return;
            }
        }
    });
    (port, handle)
}

/// A state whose call began now and may run `secs` seconds.
fn state_in_a_call(secs: u64) -> (tempfile::TempDir, HostState) {
    let (v, mut s) = full();
    s.call_window = Some((std::time::Instant::now(), Duration::from_secs(secs)));
    (v, s)
}

#[track_caller]
fn out_of_time(r: Result<Response, HostError>) {
    let message = code(r, ErrorCode::Network);
    // About 2 s: the call's 4 s less its reserve, less what passed before the request.
    assert!(
        message.contains(": the request took longer than its time limit of ")
            && message.ends_with(" s"),
        "{message}"
    );
}

#[test]
fn a_trickled_response_ends_in_a_network_error_at_the_time_limit() {
    // 100 bytes at one per 100 ms: 10 s, far past the 2 s a 4 s call leaves, and never idle.
    let body = "x".repeat(100);
    let response = ok_response(&body);
    let head_len = response.len() - body.len();
    let (_v, mut s) = state_in_a_call(4);
    for at_once in [head_len, 0] {
        let (port, server) = serve_trickled(response.clone(), at_once, Duration::from_millis(100));
        s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
        s.call_window = Some((std::time::Instant::now(), Duration::from_secs(4)));
        out_of_time(s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/api/v1/blobs/abc"),
            Body::Empty,
        )));
        server.join().unwrap();
    }
}

#[test]
fn an_upload_the_server_never_reads_ends_at_the_time_limit() {
    let (_v, mut s) = state_in_a_call(4);
    // Far more than the socket buffers hold, so the writes block.
    s.stage_write("big".into(), 0, vec![7u8; 32 << 20]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        // Hold the connection, reading nothing, until the client is done (or 60 s).
        let _ = wait.recv_timeout(Duration::from_secs(60));
        drop(conn);
    });
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let r = s.send(request(
        Method::Post,
        &format!("http://127.0.0.1:{port}/api/v1/blobs/"),
        Body::StagedFile(StagedFile {
            stage: "big".into(),
            filename: "f".into(),
        }),
    ));
    done.send(()).unwrap();
    out_of_time(r);
    server.join().unwrap();
}

#[test]
fn no_request_starts_when_the_call_has_no_time_left() {
    let (_v, mut s) = full();
    s.call_window = Some((
        std::time::Instant::now() - Duration::from_secs(30),
        Duration::from_secs(20),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    s.allow_origin(&format!("http://127.0.0.1:{port}")).unwrap();
    let message = code(
        s.send(request(
            Method::Get,
            &format!("http://127.0.0.1:{port}/"),
            Body::Empty,
        )),
        ErrorCode::Network,
    );
    assert_eq!(
        message,
        "no time is left for a request in this call (its time limit is 20 s)"
    );
    assert_eq!(
        listener.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "no connection was attempted"
    );
}

// --- https ---------------------------------------------------------------------------------

mod https {
    use super::*;
    use crate::imports::tls::{Tls, Trust};
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::{ServerConfig, ServerConnection, StreamOwned};
    use std::sync::Arc;

    /// A private CA made for one test, its certificate written as PEM into a temp dir.
    struct Ca {
        issuer: Issuer<'static, KeyPair>,
        cert: CertificateDer<'static>,
        pem_file: std::path::PathBuf,
        _dir: tempfile::TempDir,
    }

    impl Ca {
        fn new(name: &str) -> Ca {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            let cert = params.self_signed(&key).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let pem_file = dir.path().join("ca.pem");
            std::fs::write(&pem_file, cert.pem()).unwrap();
            Ca {
                issuer: Issuer::new(params, key),
                cert: cert.der().clone(),
                pem_file,
                _dir: dir,
            }
        }

        /// A server certificate for `names` (DNS names or IP addresses) and its key.
        fn server_identity(&self, names: &[&str]) -> Identity {
            let key = KeyPair::generate().unwrap();
            let params =
                CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                    .unwrap();
            let cert = params.signed_by(&key, &self.issuer).unwrap();
            Identity {
                chain: vec![cert.der().clone(), self.cert.clone()],
                key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            }
        }

        /// A client configuration that trusts this CA only, loaded from its PEM file.
        fn trusted(&self) -> Tls {
            Tls::new(&Trust {
                platform: false,
                extra_ca_file: Some(self.pem_file.clone()),
            })
            .unwrap()
        }
    }

    struct Identity {
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    }

    /// A TLS server configuration presenting `id`.
    fn tls_server_config(id: Identity) -> ServerConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(id.chain, id.key)
            .unwrap()
    }

    /// A one-shot TLS server on 127.0.0.1: handshake, one request, `response`, then
    /// `close_notify` if `notify`. Hands back the plaintext request, or why it got none.
    fn serve_tls_once(
        id: Identity,
        response: Vec<u8>,
        notify: bool,
    ) -> (u16, JoinHandle<Result<Vec<u8>, String>>) {
        let config = tls_server_config(id);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut tls = StreamOwned::new(ServerConnection::new(Arc::new(config)).unwrap(), tcp);
            let got = read_request(&mut tls).map_err(|e| e.to_string())?;
            tls.write_all(&response).map_err(|e| e.to_string())?;
            tls.flush().map_err(|e| e.to_string())?;
            if notify {
                tls.conn.send_close_notify();
                tls.conn
                    .complete_io(&mut tls.sock)
                    .map_err(|e| e.to_string())?;
            }
            Ok(got)
        });
        (port, handle)
    }

    fn network_error(r: Result<Response, HostError>) -> String {
        let e = r.expect_err("the request must fail");
        assert!(
            matches!(e.code, ErrorCode::Network),
            "{:?}: {}",
            e.code,
            e.message
        );
        e.message
    }

    #[test]
    fn a_get_reaches_a_server_whose_ca_is_trusted() {
        let ca = Ca::new("Verstak test CA");
        let (_v, mut s) = full();
        let (port, server) = serve_tls_once(
            ca.server_identity(&["localhost", "127.0.0.1"]),
            ok_response("{\"ok\":true}"),
            true,
        );
        s.allow_origin(&format!("https://localhost:{port}"))
            .unwrap();
        let resp = s
            .send_with(
                request(
                    Method::Get,
                    &format!("https://localhost:{port}/health?x=1"),
                    Body::Empty,
                ),
                Some(&ca.trusted()),
            )
            .unwrap();
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (200, &b"{\"ok\":true}"[..])
        );
        let got = String::from_utf8(server.join().unwrap().unwrap()).unwrap();
        assert_eq!(
            got,
            format!(
                "GET /health?x=1 HTTP/1.1\r\nHost: localhost:{port}\r\nAccept: application/json\r\n\r\n"
            )
        );
    }

    #[test]
    fn requests_over_tls_share_one_connection_and_its_handshake() {
        let ca = Ca::new("Verstak test CA");
        let (_v, mut s) = full();
        let id = ca.server_identity(&["127.0.0.1"]);
        let config = tls_server_config(id);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accepts one connection and answers three requests on it.
        let server = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut tls = StreamOwned::new(ServerConnection::new(Arc::new(config)).unwrap(), tcp);
            for n in 1..=3 {
                read_request(&mut tls).unwrap();
                tls.write_all(&ok_response(&format!("{{\"n\":{n}}}")))
                    .unwrap();
                tls.flush().unwrap();
            }
            listener
        });
        s.allow_origin(&format!("https://127.0.0.1:{port}"))
            .unwrap();
        let tls = ca.trusted();
        for n in 1..=3 {
            let resp = s
                .send_with(
                    request(
                        Method::Get,
                        &format!("https://127.0.0.1:{port}/health"),
                        Body::Empty,
                    ),
                    Some(&tls),
                )
                .unwrap();
            assert_eq!(resp.body, format!("{{\"n\":{n}}}").into_bytes());
        }
        let listener = server.join().unwrap();
        listener.set_nonblocking(true).unwrap();
        assert_eq!(
            listener.accept().unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock,
            "no second connection"
        );
    }

    #[test]
    fn a_staged_file_is_uploaded_over_tls_byte_for_byte() {
        let ca = Ca::new("Verstak test CA");
        let (_v, mut s) = full();
        // Larger than rustls' and our 64 KiB buffers, so the body spans many TLS records.
        let content: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        s.stage_write("blob-tls".into(), 0, content.clone())
            .unwrap();
        let (port, server) = serve_tls_once(
            ca.server_identity(&["127.0.0.1"]),
            ok_response("{\"size\":300000}"),
            true,
        );
        s.allow_origin(&format!("https://127.0.0.1:{port}"))
            .unwrap();
        let body = Body::StagedFile(StagedFile {
            stage: "blob-tls".into(),
            filename: "f00d".into(),
        });
        let resp = s
            .send_with(
                request(
                    Method::Post,
                    &format!("https://127.0.0.1:{port}/api/v1/blobs/"),
                    body,
                ),
                Some(&ca.trusted()),
            )
            .unwrap();
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (200, &b"{\"size\":300000}"[..])
        );
        let got = server.join().unwrap().unwrap();
        assert!(got.starts_with(b"POST /api/v1/blobs/ HTTP/1.1\r\n"));
        assert_multipart(&got, "f00d", &content);
    }

    #[test]
    fn an_unknown_ca_is_refused() {
        let ca = Ca::new("Verstak test CA");
        let other = Ca::new("Some other CA");
        let (_v, mut s) = full();
        let (port, server) =
            serve_tls_once(ca.server_identity(&["localhost"]), ok_response("{}"), true);
        s.allow_origin(&format!("https://localhost:{port}"))
            .unwrap();
        let message = network_error(s.send_with(
            request(
                Method::Get,
                &format!("https://localhost:{port}/"),
                Body::Empty,
            ),
            Some(&other.trusted()),
        ));
        assert_eq!(
            message,
            "TLS handshake with localhost failed: invalid peer certificate: UnknownIssuer"
        );
        assert!(server.join().unwrap().is_err(), "the server got no request");

        // The process's own trust (platform store, no VERSTAK_SYNC_CA_FILE naming this fresh CA).
        let (port, server) =
            serve_tls_once(ca.server_identity(&["127.0.0.1"]), ok_response("{}"), true);
        s.allow_origin(&format!("https://127.0.0.1:{port}"))
            .unwrap();
        let message = network_error(s.send(request(
            Method::Get,
            &format!("https://127.0.0.1:{port}/"),
            Body::Empty,
        )));
        assert!(message.contains("certificate"), "{message}");
        let _ = server.join().unwrap();
    }

    #[test]
    fn a_certificate_for_another_name_is_refused() {
        let ca = Ca::new("Verstak test CA");
        let (_v, mut s) = full();
        let tls = ca.trusted();
        for (url_host, cert_names) in [
            ("localhost", &["sync.example.com"][..]),
            ("127.0.0.1", &["localhost", "127.0.0.2"][..]),
        ] {
            let (port, server) =
                serve_tls_once(ca.server_identity(cert_names), ok_response("{}"), true);
            s.allow_origin(&format!("https://{url_host}:{port}"))
                .unwrap();
            let message = network_error(s.send_with(
                request(
                    Method::Get,
                    &format!("https://{url_host}:{port}/"),
                    Body::Empty,
                ),
                Some(&tls),
            ));
            assert!(message.starts_with(&format!("TLS handshake with {url_host} failed: invalid peer certificate: certificate not valid for name \"{url_host}\"")), "{message}");
            assert!(server.join().unwrap().is_err(), "the server got no request");
        }
    }

    #[test]
    fn a_body_read_to_the_close_needs_close_notify() {
        let ca = Ca::new("Verstak test CA");
        let (_v, mut s) = full();
        let tls = ca.trusted();
        let unframed = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it".to_vec();
        let (port, server) =
            serve_tls_once(ca.server_identity(&["127.0.0.1"]), unframed.clone(), true);
        s.allow_origin(&format!("https://127.0.0.1:{port}"))
            .unwrap();
        let resp = s
            .send_with(
                request(
                    Method::Get,
                    &format!("https://127.0.0.1:{port}/"),
                    Body::Empty,
                ),
                Some(&tls),
            )
            .unwrap();
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (200, &b"all of it"[..])
        );
        server.join().unwrap().unwrap();

        // Without close_notify the body may have been cut short by anyone on the path.
        let (port, server) = serve_tls_once(ca.server_identity(&["127.0.0.1"]), unframed, false);
        s.allow_origin(&format!("https://127.0.0.1:{port}"))
            .unwrap();
        let message = network_error(s.send_with(
            request(
                Method::Get,
                &format!("https://127.0.0.1:{port}/"),
                Body::Empty,
            ),
            Some(&tls),
        ));
        assert!(message.contains("close_notify"), "{message}");
        server.join().unwrap().unwrap();
    }

    #[test]
    fn a_plain_http_server_on_an_https_url_is_a_network_error() {
        let ca = Ca::new("Verstak test CA");
        let (_v, mut s) = full();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut hello = [0u8; 4096];
            let _ = conn.read(&mut hello).unwrap(); // the ClientHello, answered in plain HTTP
            conn.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            conn.shutdown(std::net::Shutdown::Write).unwrap();
            let _ = conn.read_to_end(&mut vec![]); // until the client gives up
        });
        s.allow_origin(&format!("https://127.0.0.1:{port}"))
            .unwrap();
        let message = network_error(s.send_with(
            request(
                Method::Get,
                &format!("https://127.0.0.1:{port}/"),
                Body::Empty,
            ),
            Some(&ca.trusted()),
        ));
        assert!(
            message.starts_with("TLS handshake with 127.0.0.1 failed: "),
            "{message}"
        );
        server.join().unwrap();
    }

    #[test]
    fn a_handshake_the_server_never_answers_ends_at_the_time_limit() {
        let ca = Ca::new("Verstak test CA");
        let (_v, mut s) = state_in_a_call(4);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let server = std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            let _ = wait.recv_timeout(Duration::from_secs(60));
            drop(conn);
        });
        s.allow_origin(&format!("https://127.0.0.1:{port}"))
            .unwrap();
        let message = network_error(s.send_with(
            request(
                Method::Get,
                &format!("https://127.0.0.1:{port}/"),
                Body::Empty,
            ),
            Some(&ca.trusted()),
        ));
        done.send(()).unwrap();
        assert!(
            message.starts_with(
                "TLS handshake with 127.0.0.1 failed: the request took longer than its time limit of "
            ),
            "{message}"
        );
        server.join().unwrap();
    }
}
