//! The real `verstak-sync-server` binary for the host's integration tests.
//!
//! [`Server::start`] runs `target/debug/verstak-sync-server --data <temp> --port 0`, reads its
//! ready line (`… listening on <addr>`) with a deadline, and kills the process on drop.
//! [`Server::add_user`] uses the binary's `user add`; [`Server::get`]/[`Server::post`] are a
//! tiny HTTP/1.1 client (one request per connection) for the few raw calls the tests make.
//! [`Server::restart`] stops it (gracefully or with SIGKILL) and starts it on the same data.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `target/debug/verstak-sync-server`, beside this test's `target/debug/deps/<test>`.
pub fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let debug = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps/");
    let bin = debug.join("verstak-sync-server");
    assert!(
        bin.is_file(),
        "the sync server binary is missing at {}; build it first with `cargo build -p verstak-sync-server`",
        bin.display()
    );
    bin
}

pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (child, addr) = spawn(dir.path(), 0);
        Server { child, addr, dir }
    }

    /// Like [`Server::start`], with `yaml` as the data dir's `config.yml`.
    pub fn start_with_config(yaml: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.yml"), yaml).unwrap();
        let (child, addr) = spawn(dir.path(), 0);
        Server { child, addr, dir }
    }

    /// Like [`Server::restart`], on the same port, so devices paired with [`Server::url`]
    /// reach the new process directly.
    /// `while_down` runs between the stop and the start.
    pub fn restart_same_port(&mut self, graceful: bool, while_down: impl FnOnce()) {
        self.stop(graceful);
        while_down();
        let port: u16 = self.addr.rsplit(':').next().unwrap().parse().unwrap();
        let (child, addr) = spawn(self.dir.path(), port);
        self.child = child;
        self.addr = addr;
    }

    /// Stops the process (SIGTERM and a graceful shutdown when `graceful`, else SIGKILL) and
    /// starts it again on the same data dir. The new process listens on a new port: [`Server::addr`]
    /// changes, so devices reach a restarted server only through a fixed front such as the
    /// tests' fault proxy.
    pub fn restart(&mut self, graceful: bool) {
        self.stop(graceful);
        let (child, addr) = spawn(self.dir.path(), 0);
        self.child = child;
        self.addr = addr;
    }

    /// Kills the process now (SIGKILL); dropping the server afterwards is harmless.
    pub fn kill(&mut self) {
        self.stop(false);
    }

    fn stop(&mut self, graceful: bool) {
        if graceful {
            let pid = libc::pid_t::try_from(self.child.id()).expect("pids fit pid_t");
            // SAFETY: signals our own child, which has not been reaped yet (we own `child`).
            unsafe { libc::kill(pid, libc::SIGTERM) };
            // In-flight requests get up to 20 s (server-api §1.8); then it must be gone.
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if self.child.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    /// Creates a confirmed user with `verstak-sync-server user add`.
    pub fn add_user(&self, username: &str, password: &str) {
        let out = Command::new(server_binary())
            .args(["user", "add", "--data"])
            .arg(self.data())
            .args(["--username", username, "--password", password])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "user add failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, None, "")
    }

    pub fn post(&self, path: &str, bearer: Option<&str>, json: &str) -> (u16, String) {
        self.request("POST", path, bearer, json)
    }

    fn request(&self, method: &str, path: &str, bearer: Option<&str>, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let auth = bearer
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let ctype = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/json\r\n"
        };
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}{ctype}Content-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_string()
        };
        (status, body)
    }

    /// The sum of one counter of `/metrics` over the label sets whose text contains `filter`.
    pub fn metric(&self, name: &str, filter: &str) -> u64 {
        let (status, text) = self.get("/metrics");
        assert_eq!(status, 200, "/metrics from loopback: {text}");
        text.lines()
            .filter(|l| {
                l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']) && l.contains(filter)
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

/// Runs the binary on `data` with `--port 0` and waits (with a deadline) for its ready line.
fn spawn(data: &Path, port: u16) -> (Child, String) {
    let mut child = Command::new(server_binary())
        .arg("--data")
        .arg(data)
        .args(["--port", &port.to_string()])
        .env_remove("VERSTAK_PORT")
        .env_remove("VERSTAK_LISTEN")
        .env("RUST_LOG", "warn,verstak_sync_server=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sync server starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining after the ready line so the server never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let addr = loop {
        assert!(
            Instant::now() < deadline,
            "no ready line from the sync server within 30 s: {seen:#?}"
        );
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => match line.find("listening on ") {
                Some(pos) => break line[pos + "listening on ".len()..].trim().to_string(),
                None => seen.push(line),
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("the sync server exited with {status}: {seen:#?}");
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("the sync server exited: {seen:#?}")
            }
        }
    };
    (child, addr)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
