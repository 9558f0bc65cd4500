//! Test harness: starts the real `verstak-sync-server` binary on `--port 0` with a temp data
//! directory, reads the ready line for the bound address, and speaks HTTP/1.1 over plain TCP.
//!
//! The tiny client ([`http`]) sends exactly the bytes a test asks for (no path normalisation,
//! optional Content-Type), which the conformance checks need. `TestServer` kills the child on
//! drop. Nothing here sleeps to wait: the ready line is polled with a deadline.
//!
//! Backends: with [`PG_ENV`] set (`scripts/pg.sh start` prints a URL) every data directory gets
//! a PostgreSQL database of its own; with [`NODES_ENV`]`=2` as well, each `TestServer` is two
//! processes on that data and database, and its request helpers alternate between them (node
//! 0's address as `Host`, as behind a load balancer). Tests read and change rows through
//! [`TestServer::sql_rows`] and friends (rusqlite on SQLite, `psql` on PostgreSQL); tests of
//! SQLite's own files return early through [`skip_on_pg`]. `scripts/test-scaleout.sh` runs the
//! suite that way.

#![allow(dead_code)]

pub mod http;
pub mod smtp;
pub mod sse;
pub mod web;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

#[allow(unused_imports)]
pub use http::{Resp, request};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_verstak-sync-server");
pub const PW: &str = "pw12345678";

pub struct TestServer {
    /// Node 0: the process tests that talk raw TCP (`addr`) or read `/proc` use.
    pub child: Child,
    pub addr: String,
    pub dir: tempfile::TempDir,
    /// The log lines of every node, in one receiver.
    pub log: mpsc::Receiver<String>,
    /// Further nodes on the same data directory and database (`VERSTAK_TEST_NODES=2`).
    pub more: Vec<Node>,
    /// Round-robin position of the request helpers.
    turn: AtomicUsize,
    /// Nodes killed by [`TestServer::kill_node`]: the helpers pass them by, as a balancer's
    /// health check would.
    gone: Vec<usize>,
}

/// A further server process of a [`TestServer`].
pub struct Node {
    pub child: Child,
    pub addr: String,
}

/// With PostgreSQL (see [`PG_ENV`]), `VERSTAK_TEST_NODES=2` starts two server processes per
/// [`TestServer`] on one data directory and one database, and the request helpers alternate
/// between them, as behind a load balancer.
pub const NODES_ENV: &str = "VERSTAK_TEST_NODES";

/// How many server processes a [`TestServer`] starts: 1 unless PostgreSQL and [`NODES_ENV`].
pub fn nodes_wanted() -> usize {
    if !on_pg() {
        return 1;
    }
    std::env::var(NODES_ENV)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_usize)
        .max(1)
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

    /// Starts [`nodes_wanted`] processes (one when `args` fix a port, which only one can bind).
    pub fn start_in_env(dir: tempfile::TempDir, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let fixed_port = args.windows(2).any(|w| {
            (w[0] == "--port" && w[1] != "0") || (w[0] == "--listen" && !w[1].ends_with(":0"))
        });
        let n = if fixed_port { 1 } else { nodes_wanted() };
        Self::start_n(dir, args, envs, n)
    }

    /// Starts `n` nodes on a fresh data directory and one PostgreSQL database, whatever
    /// [`NODES_ENV`] says; `None` (saying why) without PostgreSQL, where nodes cannot share.
    pub fn start_nodes(n: usize, config: Option<&str>, args: &[&str]) -> Option<Self> {
        if !on_pg() {
            eprintln!("skipped: several nodes need PostgreSQL (set {PG_ENV})");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        if let Some(c) = config {
            std::fs::write(dir.path().join("config.yml"), c).unwrap();
        }
        Some(Self::start_n(dir, args, &[], n))
    }

    fn start_n(dir: tempfile::TempDir, args: &[&str], envs: &[(&str, &str)], n: usize) -> Self {
        let (child, addr, log0) = spawn_env(dir.path(), args, envs);
        if n == 1 {
            return Self::from_parts(child, addr, dir, log0);
        }
        // Started one after the other: each may write config.yml (`--admin-user`) on start.
        let (tx, log) = mpsc::channel();
        forward(log0, tx.clone());
        let mut more = Vec::new();
        for _ in 1..n {
            let (child, addr, rx) = spawn_env(dir.path(), args, envs);
            forward(rx, tx.clone());
            more.push(Node { child, addr });
        }
        TestServer {
            child,
            addr,
            dir,
            log,
            more,
            turn: AtomicUsize::new(0),
            gone: Vec::new(),
        }
    }

    /// A one-node server from a process a test spawned itself.
    pub fn from_parts(
        child: Child,
        addr: String,
        dir: tempfile::TempDir,
        log: mpsc::Receiver<String>,
    ) -> Self {
        TestServer {
            child,
            addr,
            dir,
            log,
            more: Vec::new(),
            turn: AtomicUsize::new(0),
            gone: Vec::new(),
        }
    }

    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    /// How many server processes serve this data.
    pub fn nodes(&self) -> usize {
        1 + self.more.len()
    }

    /// The address of node `i` (0 is [`TestServer::addr`]).
    pub fn addr_of(&self, i: usize) -> &str {
        match i {
            0 => &self.addr,
            i => &self.more[i - 1].addr,
        }
    }

    fn child_of(&mut self, i: usize) -> &mut Child {
        match i {
            0 => &mut self.child,
            i => &mut self.more[i - 1].child,
        }
    }

    /// The node the next request goes to (round robin).
    fn next_node(&self) -> usize {
        loop {
            let i = self.turn.fetch_add(1, Ordering::Relaxed) % self.nodes();
            if !self.gone.contains(&i) || self.gone.len() == self.nodes() {
                return i;
            }
        }
    }

    /// A request to the next node in turn. Every node gets node 0's address as `Host`, as
    /// behind a load balancer, so links the server builds are the same on each.
    pub fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        self.req_on(self.next_node(), method, path, headers, body)
    }

    /// A request to node `i`.
    pub fn req_on(
        &self,
        i: usize,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        http::request_host(self.addr_of(i), &self.addr, method, path, headers, body)
    }

    /// `POST path` with a JSON body and an optional bearer token.
    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.post_on(self.next_node(), path, token, body)
    }

    /// [`TestServer::post`] to node `i`.
    pub fn post_on(&self, i: usize, path: &str, token: Option<&str>, body: &Value) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut h: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
        if let Some(a) = &auth {
            h.push(("Authorization", a));
        }
        self.req_on(i, "POST", path, &h, body.to_string().as_bytes())
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.get_on(self.next_node(), path, token)
    }

    /// [`TestServer::get`] from node `i`.
    pub fn get_on(&self, i: usize, path: &str, token: Option<&str>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let h: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        self.req_on(i, "GET", path, &h, b"")
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
        self.push_on(self.next_node(), token, ops, key)
    }

    /// [`TestServer::push`] through node `i`.
    pub fn push_on(&self, i: usize, token: &str, ops: Vec<Value>, key: Option<&str>) -> Resp {
        let mut body = json!({"device_id": "x", "ops": ops});
        if let Some(k) = key {
            body["idempotency_key"] = json!(k);
        }
        self.post_on(i, "/api/v1/sync/push", Some(token), &body)
    }

    pub fn pull(&self, token: &str, since: i64, limit: i64) -> Resp {
        self.pull_on(self.next_node(), token, since, limit)
    }

    /// [`TestServer::pull`] through node `i`.
    pub fn pull_on(&self, i: usize, token: &str, since: i64, limit: i64) -> Resp {
        self.post_on(
            i,
            "/api/v1/sync/pull",
            Some(token),
            &json!({"since_sequence": since, "page_limit": limit}),
        )
    }

    /// Multipart upload with the field `file` and the filename `blob.bin`.
    pub fn upload(&self, token: &str, bytes: &[u8]) -> Resp {
        self.post_multipart(
            "/api/v1/blobs/",
            token,
            &[("file", Some("blob.bin"), bytes)],
        )
    }

    /// POST of a multipart body built from `(name, filename, bytes)` parts, with the device token.
    pub fn post_multipart(
        &self,
        path: &str,
        token: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Resp {
        let (ct, body) = multipart(parts);
        let auth = format!("Bearer {token}");
        self.req(
            "POST",
            path,
            &[("Authorization", &auth), ("Content-Type", &ct)],
            &body,
        )
    }

    /// Sends SIGTERM to every node not killed by [`TestServer::kill_node`] (by pid).
    pub fn sigterm(&self) {
        for i in (0..self.nodes()).filter(|i| !self.gone.contains(i)) {
            let pid = match i {
                0 => self.child.id(),
                i => self.more[i - 1].child.id(),
            };
            let st = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .unwrap();
            assert!(st.success());
        }
    }

    /// SIGKILLs node `i` (if still running) and reaps it; later requests go to the others.
    pub fn kill_node(&mut self, i: usize) {
        let child = self.child_of(i);
        let _ = child.kill();
        child.wait().unwrap();
        self.gone.push(i);
    }

    /// Waits (with a deadline) for every node to exit; returns the exit code, the first one
    /// that is not 0 when they differ.
    pub fn wait_exit(&mut self, deadline: Duration) -> Option<i32> {
        let end = std::time::Instant::now() + deadline;
        let mut codes = Vec::new();
        for i in 0..self.nodes() {
            let child = self.child_of(i);
            loop {
                if let Some(st) = child.try_wait().unwrap() {
                    codes.push(st.code());
                    break;
                }
                if std::time::Instant::now() >= end {
                    return None;
                }
                std::thread::park_timeout(Duration::from_millis(20));
            }
        }
        codes
            .iter()
            .copied()
            .find(|c| *c != Some(0))
            .unwrap_or(Some(0))
    }

    /// The rows of a query on this server's database (SQLite `server.db` or its PostgreSQL
    /// database): each column as text, NULL as `None`. Inline values with [`q`].
    pub fn sql_rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        sql_rows(self.data(), sql)
    }

    /// The first column of every row (NULL is a test failure).
    pub fn sql_col(&self, sql: &str) -> Vec<String> {
        self.sql_rows(sql)
            .into_iter()
            .map(|r| r[0].clone().unwrap_or_else(|| panic!("NULL from {sql}")))
            .collect()
    }

    /// The first column of the one row a query returns, NULL as `None`.
    pub fn sql_opt(&self, sql: &str) -> Option<String> {
        let rows = self.sql_rows(sql);
        assert!(!rows.is_empty(), "no row from {sql}");
        rows[0][0].clone()
    }

    /// The first column of the one row a query returns, as text.
    pub fn sql_str(&self, sql: &str) -> String {
        self.sql_opt(sql)
            .unwrap_or_else(|| panic!("NULL from {sql}"))
    }

    /// The first column of the one row a query returns, as an integer.
    pub fn sql_i64(&self, sql: &str) -> i64 {
        let v = self.sql_str(sql);
        v.parse()
            .unwrap_or_else(|e| panic!("{v:?} from {sql} is not an integer: {e}"))
    }

    /// Runs one statement that returns no rows; returns the number of rows it changed.
    pub fn sql_exec(&self, sql: &str) -> usize {
        sql_exec(self.data(), sql)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        for i in 0..self.nodes() {
            let child = self.child_of(i);
            let _ = child.kill();
            let _ = child.wait();
        }
        // A failing test shows what the servers logged last (their errors say why).
        if std::thread::panicking() {
            std::thread::park_timeout(Duration::from_millis(50));
            // Backtrace frames (indented) left out: the lines before them say what failed.
            let lines: Vec<String> = self
                .log
                .try_iter()
                .filter(|l| !l.starts_with(' ') && l != "stack backtrace:")
                .collect();
            let from = lines.len().saturating_sub(40);
            for l in &lines[from..] {
                eprintln!("server log: {l}");
            }
        }
    }
}

/// Passes a node's log lines on to the test server's one receiver.
fn forward(rx: mpsc::Receiver<String>, tx: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in rx {
            if tx.send(line).is_err() {
                // Keep draining so the node never blocks on a full pipe.
            }
        }
    });
}

/// Whether a test of SQLite's own files skips: it does on PostgreSQL, saying why.
pub fn skip_on_pg(reason: &str) -> bool {
    if on_pg() {
        eprintln!("skipped on PostgreSQL: {reason}");
    }
    on_pg()
}

/// Where uploads are spooled while they arrive: `<data>/blobs`, or `<data>/uploads` with S3.
pub fn upload_spool(data: &Path) -> PathBuf {
    data.join(if on_s3() { "uploads" } else { "blobs" })
}

/// Whether a test of the local blob folder itself skips: it does when every server keeps its
/// blobs in S3 ([`S3_ENV`]), saying why.
pub fn skip_on_s3(reason: &str) -> bool {
    if on_s3() {
        eprintln!("skipped with blobs in S3: {reason}");
    }
    on_s3()
}

/// `s` as an SQL string literal (both databases take `''` for a quote, backslashes as is).
pub fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The rows of a query on the database of `data`; see [`TestServer::sql_rows`].
pub fn sql_rows(data: &Path, sql: &str) -> Vec<Vec<Option<String>>> {
    let Some(url) = pg_url(data) else {
        let c = sqlite(data);
        let mut st = c.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let n = st.column_count();
        let mut rows = st.query([]).unwrap();
        let mut out = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            out.push((0..n).map(|i| sqlite_text(r.get_ref(i).unwrap())).collect());
        }
        return out;
    };
    let out = psql(
        &url,
        sql,
        &[
            "-q",
            "-F",
            FIELD,
            "-R",
            RECORD,
            "-P",
            &format!("null={NULL}"),
        ],
    );
    if out.is_empty() {
        return Vec::new();
    }
    out.strip_suffix('\n')
        .unwrap_or(&out)
        .split(RECORD)
        .map(|r| {
            r.split(FIELD)
                .map(|f| (f != NULL).then(|| f.to_owned()))
                .collect()
        })
        .collect()
}

/// Runs one statement on the database of `data`; see [`TestServer::sql_exec`].
pub fn sql_exec(data: &Path, sql: &str) -> usize {
    let Some(url) = pg_url(data) else {
        return sqlite(data)
            .execute(sql, [])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    };
    // psql prints the command tag (`UPDATE 2`, `INSERT 0 1`): its last word is the count.
    let out = psql(&url, sql, &[]);
    out.split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no row count from {sql}: {out:?}"))
}

/// psql's separators: control characters no test stores.
const FIELD: &str = "\u{1f}";
const RECORD: &str = "\u{1e}";
const NULL: &str = "\u{1}";

/// Runs `sql` on the database at `url` through `psql` (unaligned, tuples only, stopping at the
/// first error); its output.
pub fn psql(url: &str, sql: &str, args: &[&str]) -> String {
    let out = Command::new("psql")
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .args(["-d", url, "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn sqlite(data: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(data.join("server.db")).unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c
}

fn sqlite_text(v: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Some(hex::encode(b)),
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
    if let Some(url) = s3_store(data)
        && !args.contains(&"--blob-store")
    {
        cmd.arg("--blob-store").arg(url);
    }
    if !args.iter().any(|a| *a == "--port" || *a == "--listen") {
        cmd.args(["--port", "0"]);
    }
    cmd.args(args);
    cmd.env_remove("VERSTAK_PORT")
        .env_remove("VERSTAK_LISTEN")
        .env("RUST_LOG", "info");
    spawn_ready(cmd)
}

/// Spawns a server command exactly as prepared, drains its stderr into the returned receiver
/// and waits for its ready line.
pub fn spawn_ready(mut cmd: Command) -> (Child, String, mpsc::Receiver<String>) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
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

/// Set to `1` together with `VERSTAK_TEST_BLOB_STORE` (`s3://bucket/prefix`, from
/// `scripts/garage.sh`), every test server keeps its blobs in that bucket, under a prefix of
/// its data directory's own (so the nodes of one `TestServer` share it); checks of files in
/// `<data>/blobs` then skip through [`on_s3`].
pub const S3_ENV: &str = "VERSTAK_TEST_S3_EVERYWHERE";

/// Whether every test server keeps its blobs in S3 (see [`S3_ENV`]).
pub fn on_s3() -> bool {
    std::env::var(S3_ENV).is_ok_and(|v| v == "1")
        && std::env::var("VERSTAK_TEST_BLOB_STORE").is_ok_and(|u| !u.is_empty())
}

/// The `--blob-store` URL for servers on `data` in S3 mode.
pub fn s3_store(data: &Path) -> Option<String> {
    if !on_s3() {
        return None;
    }
    let base = std::env::var("VERSTAK_TEST_BLOB_STORE").unwrap();
    let hash = sha256_hex(data.as_os_str().as_encoded_bytes());
    Some(format!("{}/d-{}", base.trim_end_matches('/'), &hash[..16]))
}

/// Whether the suite runs against PostgreSQL; tests of SQLite's own files skip then.
pub fn on_pg() -> bool {
    std::env::var(PG_ENV).is_ok_and(|u| !u.is_empty())
}

/// The database URL for servers on `data`, in PostgreSQL mode (see [`PG_ENV`]); the
/// database is created on first use.
pub fn pg_database(data: &Path) -> Option<String> {
    create_database(&data_database(data))
}

/// The URL of `data`'s database in PostgreSQL mode (named for the directory's path).
pub fn pg_url(data: &Path) -> Option<String> {
    database_url(&data_database(data))
}

fn data_database(data: &Path) -> String {
    format!(
        "t_{}",
        &sha256_hex(data.as_os_str().as_encoded_bytes())[..16]
    )
}

/// The URL of database `name` on the test PostgreSQL server; `None` outside PostgreSQL mode.
fn database_url(name: &str) -> Option<String> {
    let admin = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())?;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

/// Creates database `name` on the test PostgreSQL server (an existing one is kept); its URL,
/// or `None` outside PostgreSQL mode.
pub fn create_database(name: &str) -> Option<String> {
    let url = database_url(name)?;
    let admin = std::env::var(PG_ENV).unwrap();
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
    Some(url)
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
