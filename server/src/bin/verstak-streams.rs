//! `verstak-streams`: holds many idle live event streams (`GET /api/v1/sync/events`) open
//! against a sync server and measures what they cost: the server's RSS and CPU, and the
//! latency of `/api/v1/health` while they idle; then how fast a push reaches one user's streams.
//!
//! With `--spawn BIN` it makes a temp data directory, adds one user per `--per-user` streams
//! with `BIN user add`, starts `BIN` on an ephemeral port and pairs one device per user. The
//! streams come from `--ips` loopback source addresses (127.0.0.2, 127.0.0.3, …), so neither
//! the per-IP connection cap nor the per-IP stream limit (both 256) is hit, while the default
//! per-user limit (32) is respected. It prints one line per phase.

#[path = "loadgen/client.rs"]
#[allow(dead_code)] // shared with verstak-loadgen, which uploads blobs too
mod client;

use client::Conn;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::mpsc;
use verstak_sync_proto::{PairResponse, PushOp, PushRequest, events::EVENTS, paths};

const USAGE: &str = "usage: verstak-streams --spawn SERVER_BIN [--streams 10000] [--per-user 32] \
[--ips 50] [--burst 256 (streams opened at once)] [--seconds 30 (idle phase)] [--health-rate 20 (requests/s while idle)] [--pushes 20]";

struct Args {
    spawn: String,
    streams: usize,
    per_user: usize,
    ips: usize,
    burst: usize,
    seconds: u64,
    health_rate: u64,
    pushes: usize,
}

fn usage_exit(problem: &str) -> ! {
    eprintln!("verstak-streams: {problem}\n{USAGE}");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        spawn: String::new(),
        streams: 10_000,
        per_user: 32,
        ips: 50,
        burst: 256,
        seconds: 30,
        health_rate: 20,
        pushes: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(f) = it.next() {
        if f == "--help" || f == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let v = it
            .next()
            .unwrap_or_else(|| usage_exit(&format!("{f} needs a value")));
        let num = || -> usize {
            v.parse()
                .unwrap_or_else(|_| usage_exit(&format!("{f} needs a number, not {v:?}")))
        };
        match f.as_str() {
            "--spawn" => a.spawn = v.clone(),
            "--streams" => a.streams = num().max(1),
            "--per-user" => a.per_user = num().max(1),
            "--ips" => a.ips = num().clamp(1, 250),
            "--burst" => a.burst = num().max(1),
            "--seconds" => a.seconds = num().max(1) as u64,
            "--health-rate" => a.health_rate = num().max(1) as u64,
            "--pushes" => a.pushes = num(),
            _ => usage_exit(&format!("unknown option {f}")),
        }
    }
    if a.spawn.is_empty() {
        usage_exit("--spawn is required");
    }
    a
}

const PASSWORD: &str = "streams-pw-1";

/// Adds `users` users with `user add` and starts the server.
fn spawn_server(bin: &str, users: usize, per_user: usize) -> (Child, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    if per_user > 32 {
        // Above the default per-user limit: a quicker set-up with fewer users.
        let yml = format!("events:\n  max_streams_per_user: {per_user}\n");
        std::fs::write(dir.path().join("config.yml"), yml).expect("config.yml");
    }
    let add = |i: usize| {
        let ok = Command::new(bin)
            .args(["user", "add", "--data"])
            .arg(dir.path())
            .args(["--username", &format!("st{i}"), "--password", PASSWORD])
            .stdout(Stdio::null())
            .status()
            .expect("user add");
        assert!(ok.success(), "user add st{i}");
    };
    // One at a time: concurrent `user add` processes would contend for the database lock.
    (0..users).for_each(add);
    let mut child = Command::new(bin)
        .arg("--data")
        .arg(dir.path())
        .args(["--port", "0"])
        .env("RUST_LOG", "warn,verstak_sync_server::server=info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = loop {
        let line = lines.next().expect("server exited").expect("read stderr");
        if let Some(p) = line.find("listening on ") {
            break line[p + 13..].trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    (child, addr, dir)
}

/// Kills the spawned server when dropped, also on panic.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `VmRSS` and `VmHWM` of `pid`, in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let st = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        st.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn pct(lat: &mut [Duration], p: f64) -> f64 {
    if lat.is_empty() {
        return 0.0;
    }
    lat.sort();
    let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
    lat[i].as_secs_f64() * 1000.0
}

/// Raises the soft open-file limit to the hard one: each stream is a socket here too.
fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer; then raising only the soft limit to the hard one.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

async fn pair(addr: &str, user: usize, device: &str) -> String {
    let mut c = Conn::connect(addr).await;
    let body = format!(
        "{{\"login\":\"st{user}\",\"password\":\"{PASSWORD}\",\"device_name\":\"{device}\",\"vault_id\":\"v\"}}"
    );
    let (st, b) = c
        .request(
            "POST",
            paths::PAIR,
            &[("Content-Type", "application/json")],
            body.into_bytes(),
        )
        .await;
    assert_eq!(st, 200, "pair: {}", String::from_utf8_lossy(&b));
    let p: PairResponse = serde_json::from_slice(&b).expect("pair response");
    p.device_token
}

/// Opens one stream from `src` and keeps reading it: every `event: sequence` it sees is
/// reported on `seen` with the stream's index; heartbeats are counted.
async fn hold_stream(
    addr: SocketAddr,
    src: IpAddr,
    token: String,
    index: usize,
    seen: mpsc::UnboundedSender<(usize, Instant)>,
    pings: Arc<AtomicU64>,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let sock = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    sock.bind(SocketAddr::new(src, 0))
        .map_err(|e| e.to_string())?;
    let mut s = sock.connect(addr).await.map_err(|e| e.to_string())?;
    let req = format!(
        "GET {EVENTS} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nLast-Event-ID: 0\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 1024];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before the head".into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(String::from_utf8_lossy(&head)
            .lines()
            .next()
            .unwrap_or("")
            .to_owned());
    }
    Ok(tokio::spawn(async move {
        let mut small = [0u8; 256];
        while let Ok(n) = s.read(&mut small).await {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&small[..n]);
            if text.contains("event: sequence") {
                let _ = seen.send((index, Instant::now()));
            }
            pings.fetch_add(text.matches(": ping").count() as u64, Relaxed);
        }
    }))
}

/// `/api/v1/health` at `rate` per second for `secs` on one keep-alive connection.
async fn health_latency(addr: &str, rate: u64, secs: u64) -> Vec<Duration> {
    let mut c = Conn::connect(addr).await;
    let every = Duration::from_secs_f64(1.0 / rate as f64);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut due = Instant::now();
    let mut lat = Vec::new();
    while Instant::now() < end {
        tokio::time::sleep_until(due.into()).await;
        let (st, _) = c.request("GET", paths::HEALTH, &[], vec![]).await;
        lat.push(due.elapsed());
        assert_eq!(st, 200);
        due += every;
    }
    lat
}

fn main() {
    let a = parse_args();
    raise_nofile();
    let users = a.streams.div_ceil(a.per_user);
    let t0 = Instant::now();
    let (child, addr, _dir) = spawn_server(&a.spawn, users, a.per_user);
    let pid = child.id();
    let _reap = Reap(child);
    println!(
        "{users} users added, server on {addr} ({:.1} s)",
        t0.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(a, users, addr, pid));
}

async fn run(a: Args, users: usize, addr: String, pid: u32) {
    let target: SocketAddr = addr.parse().expect("address");
    let t0 = Instant::now();
    let mut tokens = Vec::with_capacity(users);
    for chunk in (0..users).collect::<Vec<_>>().chunks(4) {
        let pairs = chunk.iter().map(|&u| pair(&addr, u, "streams"));
        tokens.extend(futures_util::future::join_all(pairs).await);
    }
    let pusher = pair(&addr, 0, "pusher").await;
    println!(
        "{} devices paired ({:.1} s)",
        users + 1,
        t0.elapsed().as_secs_f64()
    );

    let (rss0, _) = rss_mib(pid);
    let mut base = health_latency(&addr, a.health_rate, 5).await;
    println!(
        "no streams   RSS {rss0:.1} MiB   health p50 {:.2} ms  p99 {:.2} ms",
        pct(&mut base, 0.5),
        pct(&mut base, 0.99)
    );

    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let pings = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut readers = Vec::with_capacity(a.streams);
    for start in (0..a.streams).step_by(a.burst) {
        let batch = (start..(start + a.burst).min(a.streams)).map(|i| {
            let src = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % a.ips) as u8));
            let token = tokens[i / a.per_user].clone();
            hold_stream(target, src, token, i, seen_tx.clone(), pings.clone())
        });
        for r in futures_util::future::join_all(batch).await {
            readers.push(r.unwrap_or_else(|e| panic!("stream refused: {e}")));
        }
    }
    let opened = t0.elapsed().as_secs_f64();
    println!(
        "{} streams open in {opened:.1} s ({:.0}/s, {} at a time): server RSS {:.1} MiB",
        readers.len(),
        readers.len() as f64 / opened,
        a.burst,
        rss_mib(pid).0
    );

    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let mut lat = health_latency(&addr, a.health_rate, a.seconds).await;
    let idle = t0.elapsed().as_secs_f64();
    let cpu = (cpu_seconds(pid) - cpu0) / idle * 100.0;
    let (rss, hwm) = rss_mib(pid);
    let per_stream = (rss - rss0) * 1024.0 / readers.len() as f64;
    let health_p99 = pct(&mut lat, 0.99);
    println!(
        "{} idle streams, {idle:.0} s: server RSS {rss:.1} MiB (peak {hwm:.1}; {per_stream:.1} KiB per stream), CPU {cpu:.2}%, \
health p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms ({} requests), heartbeats received {}",
        readers.len(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        pct(&mut lat, 1.0),
        lat.len(),
        pings.load(Relaxed)
    );

    // Fan-out: a push by user 0's second device reaches all of user 0's streams.
    let fan = a.per_user.min(a.streams);
    let mut c = Conn::connect(&addr).await;
    let mut all = Vec::new();
    let mut first = Vec::new();
    while seen.try_recv().is_ok() {}
    for n in 0..a.pushes {
        let body = serde_json::to_vec(&PushRequest {
            device_id: String::new(),
            idempotency_key: String::new(),
            ops: vec![PushOp {
                op_id: format!("p{n}"),
                entity_type: "file".into(),
                entity_id: "a.md".into(),
                op_type: "update".into(),
                payload_json: format!("{{\"path\":\"a.md\",\"content\":\"{n}\"}}"),
                created_at: "2026-12-01T00:00:00Z".into(),
                ..Default::default()
            }],
        })
        .expect("json");
        let sent = Instant::now();
        let (st, b) = c.authed("POST", paths::PUSH, &pusher, body).await;
        assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
        let mut got = 0;
        while got < fan {
            let (i, at) = tokio::time::timeout(Duration::from_secs(10), seen.recv())
                .await
                .expect("every stream of user 0 hears the push")
                .expect("channel");
            assert!(i < fan, "stream {i} of another user heard user 0's push");
            let d = at - sent;
            if got == 0 {
                first.push(d);
            }
            all.push(d);
            got += 1;
        }
    }
    if a.pushes > 0 {
        println!(
            "push → event on {fan} streams ({} pushes): first p50 {:.2} ms, all p50 {:.2} ms  p99 {:.2} ms",
            a.pushes,
            pct(&mut first, 0.5),
            pct(&mut all, 0.5),
            pct(&mut all, 0.99)
        );
    }
    // The targets, as rows for scripts/bench.sh's summary.
    let n = readers.len();
    let mb = rss * 1.048_576;
    let met = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("\n| Measure | Result | Target | |\n|---|---|---|---|");
    println!(
        "| server RSS, {n} idle event streams | {mb:.0} MB | ≤ 150 MB | {} |",
        met(mb <= 150.0)
    );
    println!(
        "| `/api/v1/health` p99 with {n} idle streams | {health_p99:.1} ms | < 50 ms | {} |",
        met(health_p99 < 50.0)
    );
    drop(readers);
}
