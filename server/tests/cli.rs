//! Command line, configuration and lifecycle (spec §1.3 to §1.8; checklist D11, D12, H5, S2's
//! config part, S16 adoption of a reference database).

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn version_and_usage_errors() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("verstak-sync-server 0.1.0 ("), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let bad = Command::new(BIN)
        .arg("--data")
        .arg(dir.path())
        .arg("--admin-user")
        .arg("root")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let bad = Command::new(BIN)
        .arg("--data")
        .arg(dir.path())
        .args(["--admin-pass", "x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let bad = Command::new(BIN)
        .arg("-data")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let out = Command::new(BIN)
        .arg("--data")
        .arg(dir.path())
        .env("VERSTAK_PORT", "70000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn user_add_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = user_add(dir.path(), &["--username", "u", "--password", "pw12345678"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("created user \"u\" ("), "{out}");
    let (code, _, err) = user_add(dir.path(), &["--username", "u", "--password", "pw12345678"]);
    assert_eq!((code, err.trim()), (1, "username already taken"));
    let (code, _, err) = user_add(dir.path(), &["--username", "v", "--password", "short"]);
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "The password is too short: it must be at least 8 bytes long."
        )
    );
    let (code, _, err) = user_add(dir.path(), &["--username", "Bad Name!", "--password", PW]);
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "Invalid username \"Bad Name!\": a username may contain only letters, digits, '.', \
             '_' and '-', at most 320 bytes."
        )
    );
    let (code, _, err) = user_add(
        dir.path(),
        &[
            "--username",
            "w",
            "--password",
            "pw12345678",
            "--email",
            "not-an-email",
        ],
    );
    assert_eq!((code, err.trim()), (1, "invalid email"));
    user_add(
        dir.path(),
        &[
            "--username",
            "x",
            "--password",
            "pw12345678",
            "--email",
            "  X@Example.Test ",
        ],
    );
    let (code, _, err) = user_add(
        dir.path(),
        &[
            "--username",
            "y",
            "--password",
            "pw12345678",
            "--email",
            "x@example.test",
        ],
    );
    assert_eq!((code, err.trim()), (1, "email already taken"));
    let (code, _, _) = user_add(dir.path(), &["--username", "z"]);
    assert_eq!(code, 2);
    let pwfile = dir.path().join("pw.txt");
    std::fs::write(&pwfile, "pw12345678\n").unwrap();
    let (code, _, _) = user_add(
        dir.path(),
        &[
            "--username",
            "f",
            "--password-file",
            pwfile.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0);
    // D12: the user can pair at once, even with a running server.
    let s = TestServer::start_in(dir, &[]);
    s.pair("f", "v");
    add_user(s.data(), "late", PW);
    s.pair("late", "v");
}

#[test]
fn admin_user_is_saved_with_bcrypt_cost_10_and_unknown_keys_survive() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yml"),
        "custom_key: keep-me\nport: 1\n",
    )
    .unwrap();
    let s = TestServer::start_in(
        dir,
        &[
            "--admin-user",
            "admin",
            "--admin-pass",
            "secret",
            "--port",
            "0",
        ],
    );
    let text = std::fs::read_to_string(s.data().join("config.yml")).unwrap();
    assert!(text.contains("custom_key: keep-me"), "{text}");
    assert!(text.contains("username: admin"), "{text}");
    assert!(text.contains("$2b$10$"), "{text}");
    assert!(text.contains("allow_registration: true"), "{text}");
    assert!(text.contains("port: 1"), "{text}");
    // Flags are never persisted: `--port 0` did not replace the legacy key.
    assert!(!text.contains("port: 0"), "{text}");
    let mut s = s;
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    // The password can also come from a file or stdin (trimmed); an existing admin is updated.
    let pw = dir.path().join("admin-pw");
    std::fs::write(&pw, "  other-secret\n").unwrap();
    let s = TestServer::start_in(
        dir,
        &[
            "--admin-user",
            "admin",
            "--admin-pass-file",
            pw.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(s.data().join("config.yml")).unwrap();
    assert_eq!(text.matches("username: admin").count(), 1, "{text}");
    let out = Command::new(BIN)
        .arg("--data")
        .arg(s.data())
        .args([
            "--admin-user",
            "x",
            "--admin-pass-stdin",
            "--listen",
            "999.1.1.1:0",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an empty stdin password is a usage error"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn port_precedence() {
    // D11: a legacy `port:` key is honoured when nothing else sets the port; flags win over it.
    let p1 = free_port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.yml"), format!("port: {p1}\n")).unwrap();
    let s = TestServer::start_in(dir, &["--listen", "127.0.0.1:0"]);
    assert!(!s.addr.ends_with(&format!(":{p1}")));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.yml"), format!("port: {p1}\n")).unwrap();
    let (child, addr, _log) = spawn(dir.path(), &["--listen", &format!("127.0.0.1:{p1}")]);
    assert_eq!(addr, format!("127.0.0.1:{p1}"));
    drop(TestServer::from_parts(child, addr, dir, _log));
    // With only the config file, the legacy port is used and the host is loopback.
    let dir = tempfile::tempdir().unwrap();
    let p2 = free_port();
    std::fs::write(dir.path().join("config.yml"), format!("port: {p2}\n")).unwrap();
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(dir.path())
        .env_remove("VERSTAK_PORT")
        .env_remove("VERSTAK_LISTEN")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let end = std::time::Instant::now() + Duration::from_secs(30);
    let mut ok = false;
    while std::time::Instant::now() < end {
        if std::net::TcpStream::connect(("127.0.0.1", p2)).is_ok() {
            ok = true;
            break;
        }
        std::thread::park_timeout(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "server did not listen on the config port {p2}");
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let mut s = TestServer::start();
    let (t, _) = s.user_device("a", "v");
    assert_eq!(s.push(&t, vec![op("before-shutdown")], None).status, 200);
    s.sigterm();
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0));
    // The data survives a restart.
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    let s2 = TestServer::start_in(dir, &[]);
    assert_eq!(
        s2.pull(&t, 0, 0).json()["ops"][0]["op_id"],
        "before-shutdown"
    );
}

#[test]
fn sigterm_lets_an_in_flight_upload_finish() {
    use std::io::{Read, Write};
    // H5: the in-flight request completes, new connections are refused, exit status 0.
    let mut s = TestServer::start();
    let (t, _) = s.user_device("a", "v");
    let data = vec![7u8; 200_000];
    let (ct, body) = multipart(&[("file", Some("blob.bin"), &data)]);
    let mut c = std::net::TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST /api/v1/blobs/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(&body[..1000]).unwrap();
    // In flight means accepted and being read: wait for the upload's temp file, so SIGTERM
    // cannot land while the connection still sits in the listen backlog.
    let started = std::time::Instant::now() + Duration::from_secs(30);
    let uploading = || {
        std::fs::read_dir(upload_spool(s.data()))
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with(".upload-"))
            })
            .unwrap_or(false)
    };
    while !uploading() {
        assert!(
            std::time::Instant::now() < started,
            "the upload never started"
        );
        std::thread::park_timeout(Duration::from_millis(10));
    }
    s.sigterm();
    let end = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&s.addr).is_ok() {
        assert!(
            std::time::Instant::now() < end,
            "listener still accepting after SIGTERM"
        );
        std::thread::park_timeout(Duration::from_millis(20));
    }
    c.write_all(&body[1000..]).unwrap();
    let mut resp = Vec::new();
    c.read_to_end(&mut resp).unwrap();
    let text = String::from_utf8_lossy(&resp);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(&sha256_hex(&data)));
    assert_eq!(s.wait_exit(Duration::from_secs(30)), Some(0));
}

/// Issue 16: the storage settings are checked on every command that opens storage, with a
/// message naming the flag, variable or key; secrets never appear in it.
#[test]
fn storage_settings_are_checked_on_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let out = Command::new(BIN)
            .args(args)
            .arg("--data")
            .arg(dir.path())
            .env_remove("VERSTAK_BLOB_STORE")
            .env_remove("VERSTAK_DATABASE_URL")
            .envs(envs.iter().copied())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), err)
    };
    let user_add: &[&str] = &["user", "add", "--username", "u", "--password", PW];
    let backup_out = dir.path().join("b");
    let backup: &[&str] = &["backup", "--out", backup_out.to_str().unwrap()];
    for cmd in [&["--port", "0"][..], user_add, backup] {
        let (code, err) = run(&[cmd, &["--blob-store", "/srv/blobs"]].concat(), &[]);
        assert_eq!(code, Some(1), "{cmd:?}: {err}");
        assert!(
            err.contains("--blob-store: expected s3://BUCKET[/prefix], got \"/srv/blobs\""),
            "{cmd:?}: {err}"
        );
        let (code, err) = run(
            cmd,
            &[("VERSTAK_DATABASE_URL", "mysql://root:hunter2@db/v")],
        );
        assert_eq!(code, Some(1), "{cmd:?}: {err}");
        assert!(
            err.contains(
                "VERSTAK_DATABASE_URL: expected a postgres:// or postgresql:// URL, got \"mysql://root:***@db/v\""
            ),
            "{cmd:?}: {err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }
    std::fs::write(
        dir.path().join("config.yml"),
        "storage:\n  blob_store: s3://verstak\n  s3_secret_access_key: hidden-secret-42\n",
    )
    .unwrap();
    let (code, err) = run(&["--port", "0"], &[("AWS_ACCESS_KEY_ID", "")]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("config.yml storage.blob_store: an S3 blob store needs AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    assert!(!err.contains("hidden-secret-42"), "{err}");
    // With blobs in a bucket, a backup copies the database and says where the blobs are.
    std::fs::remove_file(dir.path().join("config.yml")).unwrap();
    assert_eq!(run(user_add, &[]).0, Some(0));
    let out = Command::new(BIN)
        .args(backup)
        .arg("--data")
        .arg(dir.path())
        .args(["--blob-store", "s3://verstak/blobs"])
        .env("AWS_ACCESS_KEY_ID", "GK1")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("the blobs are in s3://verstak/blobs"),
        "{text}"
    );
    assert!(backup_out.join("server.db").is_file());
    assert!(!backup_out.join("blobs").exists());
}
