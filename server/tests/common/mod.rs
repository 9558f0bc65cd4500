//! Test harness: starts the real `verstak-sync-server` binary on `--port 0` with a temp data
//! directory, reads the ready line for the bound address, and speaks HTTP/1.1 over plain TCP.
//!
//! The tiny client ([`http`]) sends exactly the bytes a test asks for (no path normalisation,
//! optional Content-Type), which the conformance checks need. `TestServer` kills the child on
//! drop. Nothing here sleeps to wait: the ready line is polled with a deadline.

#![allow(dead_code)]

pub mod http;
pub mod smtp;
pub mod sse;
pub mod web;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub use http::{Resp, request};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_verstak-sync-server");
pub const PW: &str = "pw12345678";

pub struct TestServer {
    pub child: Child,
    pub addr: String,
    pub dir: tempfile::TempDir,
    pub log: mpsc::Receiver<String>,
}

impl TestServer {
    /// Starts a server on a fresh data directory.
    pub fn start() -> Self {
        Self::start_with(None, &[])
    }

    /// Starts a server with `config.yml` contents and extra flags.
    pub fn start_with(config: Option<&str>, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if let Some(c) = config {
            std::fs::write(dir.path().join("config.yml"), c).unwrap();
        }
        Self::start_in(dir, args)
    }

    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Self {
        Self::start_in_env(dir, args, &[])
    }

    /// Starts a server on a fresh data directory with extra flags and environment variables.
    pub fn start_with_env(args: &[&str], envs: &[(&str, &str)]) -> Self {
        Self::start_in_env(tempfile::tempdir().unwrap(), args, envs)
    }

    /// Starts a server on a fresh data directory with extra environment variables.
    pub fn start_env(envs: &[(&str, &str)]) -> Self {
        Self::start_in_env(tempfile::tempdir().unwrap(), &[], envs)
    }

    pub fn start_in_env(dir: tempfile::TempDir, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let (child, addr, log) = spawn_env(dir.path(), args, envs);
        TestServer {
            child,
            addr,
            dir,
            log,
        }
    }

    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    pub fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        request(&self.addr, method, path, headers, body)
    }

    /// `POST path` with a JSON body and an optional bearer token.
    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut h: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
        if let Some(a) = &auth {
            h.push(("Authorization", a));
        }
        self.req("POST", path, &h, body.to_string().as_bytes())
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let h: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        self.req("GET", path, &h, b"")
    }

    /// Creates a confirmed user with the `user add` subcommand.
    pub fn add_user(&self, name: &str) {
        add_user(self.data(), name, PW);
    }

    /// Pairs a device; returns `(token, device_id)`.
    pub fn pair(&self, login: &str, vault: &str) -> (String, String) {
        let r = self.post(
            "/api/client/pair",
            None,
            &json!({"login": login, "password": PW, "device_name": "t", "vault_id": vault}),
        );
        assert_eq!(r.status, 200, "pair failed: {}", r.text());
        let v = r.json();
        (
            v["device_token"].as_str().unwrap().to_owned(),
            v["device_id"].as_str().unwrap().to_owned(),
        )
    }

    /// Adds a user and pairs one device for `vault`.
    pub fn user_device(&self, name: &str, vault: &str) -> (String, String) {
        self.add_user(name);
        self.pair(name, vault)
    }

    pub fn push(&self, token: &str, ops: Vec<Value>, key: Option<&str>) -> Resp {
        let mut body = json!({"device_id": "x", "ops": ops});
        if let Some(k) = key {
            body["idempotency_key"] = json!(k);
        }
        self.post("/api/v1/sync/push", Some(token), &body)
    }

    pub fn pull(&self, token: &str, since: i64, limit: i64) -> Resp {
        self.post(
            "/api/v1/sync/pull",
            Some(token),
            &json!({"since_sequence": since, "page_limit": limit}),
        )
    }

    /// Multipart upload with the field `file` and the filename `blob.bin`.
    pub fn upload(&self, token: &str, bytes: &[u8]) -> Resp {
        let (ct, body) = multipart(&[("file", Some("blob.bin"), bytes)]);
        let auth = format!("Bearer {token}");
        self.req(
            "POST",
            "/api/v1/blobs/",
            &[("Authorization", &auth), ("Content-Type", &ct)],
            &body,
        )
    }

    /// Sends SIGTERM to the server process (by pid).
    pub fn sigterm(&self) {
        let st = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Waits (with a deadline) for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, deadline: Duration) -> Option<i32> {
        let end = std::time::Instant::now() + deadline;
        while std::time::Instant::now() < end {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            std::thread::park_timeout(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns the binary and waits for its ready line (30 s deadline).
pub fn spawn(data: &Path, args: &[&str]) -> (Child, String, mpsc::Receiver<String>) {
    spawn_env(data, args, &[])
}

/// [`spawn`] with extra environment variables.
pub fn spawn_env(
    data: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Child, String, mpsc::Receiver<String>) {
    spawn_cmd(Command::new(BIN), data, args, envs)
}

/// [`spawn_env`] with a prepared `Command` for the binary (for example with resource limits).
pub fn spawn_cmd(
    mut cmd: Command,
    data: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Child, String, mpsc::Receiver<String>) {
    cmd.envs(envs.iter().copied());
    if let Some(url) = pg_database(data) {
        cmd.env("VERSTAK_DATABASE_URL", url);
    }
    cmd.arg("--data").arg(data);
    if !args.iter().any(|a| *a == "--port" || *a == "--listen") {
        cmd.args(["--port", "0"]);
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.env_remove("VERSTAK_PORT")
        .env_remove("VERSTAK_LISTEN")
        .env("RUST_LOG", "info");
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                // Keep draining so the child never blocks on a full pipe.
            }
        }
    });
    let addr = wait_ready(&rx, &mut child);
    (child, addr, rx)
}

fn wait_ready(rx: &mpsc::Receiver<String>, child: &mut Child) -> String {
    let end = std::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while std::time::Instant::now() < end {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                if let Some(pos) = line.find("listening on ") {
                    return line[pos + "listening on ".len()..].trim().to_owned();
                }
                seen.push(line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(st)) = child.try_wait() {
                    panic!("server exited with {st}: {seen:#?}");
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("server exited: {seen:#?}"),
        }
    }
    panic!("no ready line within 30 s: {seen:#?}");
}

/// Set to a PostgreSQL admin URL (`scripts/pg.sh start` prints one), the suite runs against
/// PostgreSQL: each data directory gets a database of its own, created on first use.
pub const PG_ENV: &str = "VERSTAK_TEST_DATABASE_URL";

/// Whether the suite runs against PostgreSQL; tests of SQLite's own files skip then.
pub fn on_pg() -> bool {
    std::env::var(PG_ENV).is_ok_and(|u| !u.is_empty())
}

/// The database URL for servers on `data`, in PostgreSQL mode (see [`PG_ENV`]).
pub fn pg_database(data: &Path) -> Option<String> {
    let admin = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())?;
    let name = format!(
        "t_{}",
        &sha256_hex(data.as_os_str().as_encoded_bytes())[..16]
    );
    let out = Command::new("psql")
        .arg(&admin)
        .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("psql runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || err.contains("already exists"),
        "creating the test database failed: {err}"
    );
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

/// Runs `user add`; returns `(exit code, stdout, stderr)`.
pub fn user_add(data: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    if let Some(url) = pg_database(data) {
        cmd.env("VERSTAK_DATABASE_URL", url);
    }
    let out = cmd
        .args(["user", "add", "--data"])
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn add_user(data: &Path, name: &str, pw: &str) {
    let email = format!("{name}@example.test");
    let (code, out, err) = user_add(
        data,
        &["--username", name, "--password", pw, "--email", &email],
    );
    assert_eq!(code, 0, "user add failed: {out} {err}");
}

/// The op of the conformance notation `op(id)`.
pub fn op(id: &str) -> Value {
    json!({"op_id": id, "entity_type": "file", "entity_id": "Docs/one.txt", "op_type": "create",
           "payload_json": "{\"path\":\"Docs/one.txt\",\"content\":\"hello\"}", "client_sequence": 1,
           "created_at": "2026-07-10T00:00:00Z"})
}

/// Builds a multipart body from `(name, filename, bytes)` parts.
/// The `server_sequence` of each op of a pull answer, in order.
pub fn seqs(v: &Value) -> Vec<i64> {
    v["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["server_sequence"].as_i64().unwrap())
        .collect()
}

pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "XtestBoundary7MA4YWxk";
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disp = match filename {
            Some(f) => {
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n")
            }
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n"),
        };
        body.extend_from_slice(disp.as_bytes());
        body.extend_from_slice(b"Content-Type: application/octet-stream\r\n\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

pub fn blob_path(data: &Path, sha: &str) -> PathBuf {
    data.join("blobs")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(sha)
}
