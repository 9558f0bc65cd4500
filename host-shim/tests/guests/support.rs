//! Support for `sandbox.rs` and `api_version.rs`: the guest components (built once per test
//! binary), runtimes over manifests with permissions removed, a canned HTTP server, a foreign
//! listener that must never see a connection, and file-tree snapshots to prove nothing outside
//! the vault changed.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use verstak_sync_host::limits::Limits;
use verstak_sync_host::runtime::Runtime;
use verstak_sync_host::session::{Failure, Session};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-shim sits in the workspace")
        .to_path_buf()
}

/// `host-shim/tests/guests/hostile`, built for wasm32-wasip2 into `target/guests` (under
/// `$CARGO_TARGET_DIR` when set) once per test binary (its own target dir, so it never waits on
/// the workspace build's lock).
pub fn hostile_component() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_guest("hostile", "hostile_guest"))
}

/// `host-shim/tests/guests/old-api`: a component of the frozen API 0.1.0, built like the hostile one.
#[allow(dead_code)] // used by `api_version.rs` only
pub fn old_api_component() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_guest("old-api", "old_api_guest"))
}

/// Builds the guest crate `tests/guests/<dir>` and returns its `<lib>.wasm`.
fn build_guest(dir: &str, lib: &str) -> PathBuf {
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/guests/{dir}/Cargo.toml"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace().join("target"), |d| workspace().join(d))
        .join("guests");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo:?} to build the {dir} guest: {e}"));
    assert!(
        out.status.success(),
        "building the {dir} guest failed ({}); reproduce with\n  CARGO_TARGET_DIR={} cargo build --release --target wasm32-wasip2 --manifest-path {}\n(needs `rustup target add wasm32-wasip2`)\n{}",
        out.status,
        target.display(),
        manifest.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let wasm = target.join(format!("wasm32-wasip2/release/{lib}.wasm"));
    assert!(
        wasm.is_file(),
        "cargo built the {dir} guest but {} is missing",
        wasm.display()
    );
    wasm
}

/// Limits for attacks that should finish quickly: a small memory cap, a generous deadline.
pub const QUICK: Limits = Limits {
    memory_bytes: 64 << 20,
    call_deadline: std::time::Duration::from_secs(30),
};

/// The hostile component under the repository's manifest minus `without`, with `limits`.
pub fn runtime(without: &[&str], limits: Limits) -> Runtime {
    let repo = workspace().join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&repo).unwrap()).unwrap();
    m["permissions"]
        .as_array_mut()
        .unwrap()
        .retain(|p| !without.iter().any(|w| p == w));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifest.json");
    std::fs::write(&path, m.to_string()).unwrap();
    Runtime::load(hostile_component(), &path, limits)
        .expect("the hostile component links against the real host")
}

/// The hostile component with every permission and [`QUICK`] limits, shared by the tests of
/// one binary (compiling it costs about a second).
pub fn full() -> &'static Runtime {
    static FULL: OnceLock<Runtime> = OnceLock::new();
    FULL.get_or_init(|| runtime(&[], QUICK))
}

/// Runs one attack through `set-ignore`: no origin is allowed for the call.
pub fn attack(session: &mut Session<'_>, args: &[&str]) -> Failure {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    unpack(
        session
            .set_ignore(&args)
            .expect_err("the hostile guest always reports through its sync-error"),
    )
}

/// Runs one attack through `test-connection(url, …)`: `url`'s origin is allowed for the call.
pub fn attack_via(session: &mut Session<'_>, url: &str, args: &[&str]) -> Failure {
    unpack(
        session
            .test_connection(url, args[0], &args[1..].join("\n"))
            .expect_err("the hostile guest always reports through its sync-error"),
    )
}

/// The guest's report (code `local_io`, message `<report code>\n<text>`) as `{code, message}`;
/// a failure of the host itself (`timeout`, `memory_exceeded`, `plugin_trap`) stays as it is.
fn unpack(f: Failure) -> Failure {
    match f.message.split_once('\n') {
        Some((code, message)) if f.code == "local_io" => Failure {
            code: code.to_string(),
            message: message.to_string(),
        },
        _ => f,
    }
}

/// Asserts the host's answer code, with the whole attempt in the failure message.
#[track_caller]
pub fn refused(f: &Failure, code: &str, what: &str) {
    if std::env::var_os("SANDBOX_VERBOSE").is_some() {
        eprintln!("{what} -> {}: {}", f.code, f.message);
    }
    assert_eq!(f.code, code, "{what}: {}", f.message);
}

/// Every file below `root` (symlinks as their target), for before/after comparisons.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
            if ft.is_symlink() {
                out.insert(
                    rel,
                    std::fs::read_link(e.path())
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                );
            } else if ft.is_dir() {
                out.insert(rel.join(""), vec![]);
                walk(root, &e.path(), out);
            } else {
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Like [`snapshot`] but without the host's reserved `.verstak/`.
pub fn user_files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot(root)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".verstak"))
        .collect()
}

/// A listener nobody should reach: non-blocking, so `assert_untouched` sees any connection.
pub struct Foreign {
    listener: TcpListener,
}

impl Foreign {
    pub fn new() -> Foreign {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Foreign { listener }
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    #[track_caller]
    pub fn assert_untouched(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok((_, peer)) => panic!("a connection from {peer} reached the foreign listener"),
            Err(e) => panic!("the foreign listener failed: {e}"),
        }
    }
}

/// One more than the 16 MiB the `network` import accepts.
pub const OVER_CAP: usize = (16 << 20) + 1;

/// A tiny HTTP server with canned answers by path, one connection at a time:
/// `/ok`, `/redirect?to=URL` (302), `/big-length`, `/big-chunked`, `/big-close` (bodies over the
/// cap, framed three ways), `/huge-head` (a header line without end) and `/many-headers`.
pub struct Canned {
    port: u16,
}

impl Canned {
    pub fn start() -> Canned {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = serve(conn); // the client may hang up early on purpose
                });
            }
        });
        Canned { port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

fn serve(mut conn: TcpStream) -> std::io::Result<()> {
    let mut head = vec![];
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split(' ').nth(1).unwrap_or("/");
    let big = vec![b'x'; 1 << 20];
    match target.split('?').next().unwrap_or("") {
        "/ok" => conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")?,
        "/redirect" => {
            let to = target.split_once("?to=").map_or("", |(_, t)| t);
            conn.write_all(
                format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n")
                    .as_bytes(),
            )?
        }
        "/big-length" => {
            conn.write_all(
                format!("HTTP/1.1 200 OK\r\nContent-Length: {OVER_CAP}\r\n\r\n").as_bytes(),
            )?;
            send_bytes(&mut conn, &big, OVER_CAP, |c, b| c.write_all(b))?
        }
        "/big-chunked" => {
            conn.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")?;
            send_bytes(&mut conn, &big, OVER_CAP, |c, b| {
                c.write_all(format!("{:x}\r\n", b.len()).as_bytes())?;
                c.write_all(b)?;
                c.write_all(b"\r\n")
            })?;
            conn.write_all(b"0\r\n\r\n")?
        }
        "/big-close" => {
            conn.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")?;
            send_bytes(&mut conn, &big, OVER_CAP, |c, b| c.write_all(b))?
        }
        "/huge-head" => {
            conn.write_all(b"HTTP/1.1 200 OK\r\nX-Filler: ")?;
            send_bytes(&mut conn, &big, 16 << 20, |c, b| c.write_all(b))?
        }
        "/many-headers" => {
            conn.write_all(b"HTTP/1.1 200 OK\r\n")?;
            for i in 0..100_000 {
                conn.write_all(format!("X-Filler-{i}: y\r\n").as_bytes())?;
            }
        }
        _ => conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?,
    }
    conn.flush()
}

/// Writes `total` bytes from repeats of `block` through `write`.
fn send_bytes(
    conn: &mut TcpStream,
    block: &[u8],
    total: usize,
    mut write: impl FnMut(&mut TcpStream, &[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut left = total;
    while left > 0 {
        let n = left.min(block.len());
        write(conn, &block[..n])?;
        left -= n;
    }
    Ok(())
}
