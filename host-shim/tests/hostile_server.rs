//! Issue 14 item 9 with the real component and host: a server whose pull announces `has_more`
//! forever, its head moving along with the cursor, ends the run with a clear error instead of
//! keeping the client pulling and writing.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn host(vault: &Path, args: &[&str]) -> Output {
    host_cli(vault).args(args).output().unwrap()
}

/// Reads one request: the request line and the body (by `Content-Length`).
fn read_request(conn: &TcpStream) -> Option<(String, String)> {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some((line, String::from_utf8_lossy(&body).into_owned()))
}

/// Pairs anyone; every pull page holds four new folders after the cursor and `has_more`.
fn endless_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let pulls = Arc::new(AtomicUsize::new(0));
    let count = pulls.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let Some((line, body)) = read_request(&conn) else {
                continue;
            };
            let answer = if line.starts_with("POST /api/client/pair") {
                r#"{"device_id":"dev_hostile1","device_token":"hostile-token"}"#.to_string()
            } else if line.starts_with("POST /api/v1/sync/pull") {
                count.fetch_add(1, Ordering::SeqCst);
                let req: serde_json::Value = serde_json::from_str(&body).unwrap();
                let since = req["since_sequence"].as_i64().unwrap_or(0);
                let ops: Vec<_> = (since + 1..=since + 4)
                    .map(|seq| {
                        serde_json::json!({
                            "op_id": format!("hostile-{seq}"),
                            "server_sequence": seq,
                            "device_id": "dev_other",
                            "entity_type": "folder",
                            "entity_id": format!("spam/{seq}"),
                            "op_type": "create",
                            "payload_json": format!(r#"{{"path":"spam/{seq}"}}"#),
                            "created_at": "2026-12-05T00:00:00Z",
                        })
                    })
                    .collect();
                serde_json::json!({
                    "has_more": true,
                    "ops": ops,
                    "page_last_sequence": since + 4,
                    "server_sequence": since + 4,
                })
                .to_string()
            } else {
                r#"{"status":"ok"}"#.to_string()
            };
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            );
        }
    });
    (url, pulls)
}

#[test]
fn a_server_announcing_more_forever_ends_the_run_with_a_clear_error() {
    let (url, pulls) = endless_server();
    let vault = tempfile::tempdir().unwrap();
    let out = host(
        vault.path(),
        &[
            "configure",
            "--server",
            &url,
            "--username",
            "ann",
            "--password",
            "pw",
            "--vault-id",
            "notes",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = Instant::now();
    let out = host(vault.path(), &["sync"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pull_stalled"), "{stderr}");
    assert!(stderr.contains("pull did not end"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(60));
    let n = pulls.load(Ordering::SeqCst);
    assert!((10..=300).contains(&n), "{n} pulls");
    assert!(!vault.path().join("spam").exists(), "nothing applied");
}
