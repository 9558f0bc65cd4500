//! Issue 14: what the CLI says when the user got something wrong, against the real server binary
//! and the real component (a wrong password, a rate-limited pairing, an interval out of range).

mod common;

use common::server::Server;
use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn host(vault: &Path, args: &[&str]) -> Output {
    host_cli(vault).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_wrong_password_says_the_username_or_password_is_wrong() {
    let server = Server::start();
    server.add_user("ann", "correct horse battery");
    let vault = tempfile::tempdir().unwrap();
    let url = server.url();
    let creds = ["--server", &url, "--username", "ann", "--password", "nope"];
    for action in ["test-connection", "configure"] {
        let out = host(vault.path(), &[&[action][..], &creds[..]].concat());
        assert_eq!(out.status.code(), Some(1), "{action}");
        let text = stderr(&out);
        assert!(text.contains("username or password"), "{action}: {text}");
        assert!(
            !text.contains("no longer authorized"),
            "{action}: not a revocation: {text}"
        );
    }
}

/// A server whose health answers and whose login routes answer 429 with `Retry-After: 37`;
/// counts the login requests.
fn rate_limited_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let logins = Arc::new(AtomicUsize::new(0));
    let count = logins.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = 0;
            // Read until the end of the headers and the (small) body.
            loop {
                let n = conn.read(&mut buf[got..]).unwrap_or(0);
                got += n;
                let text = String::from_utf8_lossy(&buf[..got]).to_string();
                if n == 0
                    || text.contains("\r\n\r\n") && (text.starts_with("GET") || text.ends_with('}'))
                {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf[..got]).to_string();
            let (status, extra, body) = if head.starts_with("GET /api/v1/health") {
                ("200 OK", "", r#"{"status":"ok"}"#)
            } else {
                count.fetch_add(1, Ordering::SeqCst);
                (
                    "429 Too Many Requests",
                    "Retry-After: 37\r\n",
                    r#"{"code":"rate_limited","error":"too many attempts"}"#,
                )
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    (url, logins)
}

#[test]
fn a_rate_limited_pairing_says_how_long_to_wait_and_is_not_retried() {
    let (url, logins) = rate_limited_server();
    let vault = tempfile::tempdir().unwrap();
    let creds = ["--server", &url, "--username", "ann", "--password", "pw"];
    for (n, action) in ["test-connection", "configure"].into_iter().enumerate() {
        let out = host(vault.path(), &[&[action][..], &creds[..]].concat());
        assert_eq!(out.status.code(), Some(1), "{action}");
        let text = stderr(&out);
        assert!(text.contains("rate_limited"), "{action}: {text}");
        assert!(text.contains("wait 37 s"), "{action}: {text}");
        assert_eq!(
            logins.load(Ordering::SeqCst),
            n + 1,
            "{action}: one try only"
        );
    }
}

#[test]
fn an_out_of_range_interval_names_the_allowed_range() {
    let vault = tempfile::tempdir().unwrap();
    let out = host(vault.path(), &["set-interval", "5000"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(text.contains("invalid_interval"), "{text}");
    assert!(text.contains("between 0 and 1440"), "{text}");
    assert!(!settings_file(vault.path()).exists());
}
