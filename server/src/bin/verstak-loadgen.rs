//! `verstak-loadgen`: drives N concurrent paired devices against a sync server over keep-alive
//! HTTP/1.1, speaking only the wire protocol, and prints throughput and latency.
//!
//! Phases, each `--seconds` long: push (batches of 100 ops), pull (pages of 100 from random
//! cursors), blob upload (1 MiB), blob download. With `--spawn BIN` it creates a temp data
//! directory, adds one user per device with `BIN user add`, starts `BIN` on an ephemeral port
//! (trusting 127.0.0.1 as a proxy so pairing can use distinct `X-Forwarded-For` addresses),
//! and reports the server's CPU use from `/proc`. `--nodes N` starts N server processes on one
//! PostgreSQL database (set `VERSTAK_DATABASE_URL`) and spreads the devices over them;
//! `--addr` takes a comma-separated list for servers started elsewhere.

#[path = "loadgen/client.rs"]
mod client;

use client::Conn;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use verstak_sync_proto::{
    EntityType, OpType, PairResponse, PullResponse, PushOp, PushRequest, PushResponse, paths,
};

struct Args {
    addr: Option<String>,
    spawn: Option<String>,
    nodes: usize,
    devices: usize,
    seconds: u64,
    push_rate: u64,
    password: String,
}

const USAGE: &str = "usage: verstak-loadgen (--addr HOST:PORT[,HOST:PORT…] | --spawn SERVER_BIN [--nodes 1]) [--devices 32] \
[--seconds 10] [--push-rate 40000 (ops/s of the open-loop push phase; 0 skips it)] [--password P]";

/// Prints `problem` and the usage, and exits 2.
fn usage_exit(problem: &str) -> ! {
    eprintln!("verstak-loadgen: {problem}\n{USAGE}");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        addr: None,
        spawn: None,
        nodes: 1,
        devices: 32,
        seconds: 10,
        push_rate: 40_000,
        password: "loadgen-pw-1".into(),
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
        let num = |v: &str| -> u64 {
            v.parse()
                .unwrap_or_else(|_| usage_exit(&format!("{f} needs a number, not {v:?}")))
        };
        match f.as_str() {
            "--addr" => a.addr = Some(v),
            "--spawn" => a.spawn = Some(v),
            "--nodes" => a.nodes = num(&v).max(1) as usize,
            "--devices" => a.devices = num(&v).max(1) as usize,
            "--seconds" => a.seconds = num(&v).max(1),
            "--push-rate" => a.push_rate = num(&v),
            "--password" => a.password = v,
            _ => usage_exit(&format!("unknown option {f}")),
        }
    }
    if a.addr.is_none() == a.spawn.is_none() {
        usage_exit("give exactly one of --addr and --spawn");
    }
    if a.nodes > 1 && std::env::var_os("VERSTAK_DATABASE_URL").is_none() {
        usage_exit("--nodes above 1 needs VERSTAK_DATABASE_URL (a PostgreSQL database they share)");
    }
    a
}

/// Adds the users and starts `nodes` servers on one data directory (and, through the
/// environment, one database).
fn spawn_servers(
    bin: &str,
    nodes: usize,
    devices: usize,
    password: &str,
) -> (Vec<Child>, Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    for i in 0..devices {
        let ok = Command::new(bin)
            .args(["user", "add", "--data"])
            .arg(dir.path())
            .args(["--username", &format!("lg{i}"), "--password", password])
            .stdout(Stdio::null())
            .status()
            .expect("user add");
        assert!(ok.success());
    }
    let (children, addrs) = (0..nodes).map(|_| start_node(bin, dir.path())).unzip();
    (children, addrs, dir)
}

fn start_node(bin: &str, data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(bin)
        .arg("--data")
        .arg(data)
        .args(["--port", "0", "--trusted-proxies", "127.0.0.1"])
        .env(
            "RUST_LOG",
            // The node's address comes from its "listening on" line: always logged.
            match std::env::var("LOADGEN_SERVER_LOG") {
                Ok(filter) => format!("{filter},verstak_sync_server::server=info"),
                Err(_) => "warn,verstak_sync_server::server=info".into(),
            },
        )
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
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if std::env::var_os("LOADGEN_SERVER_LOG").is_some() {
                eprintln!("{line}");
            }
        }
    });
    (child, addr)
}

/// Kills the spawned servers when dropped, also on panic.
struct Reap(Vec<Child>);

impl Drop for Reap {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

struct Report {
    requests: u64,
    items: u64,
    bytes: u64,
    lat: Vec<Duration>,
}

fn pct(lat: &mut [Duration], p: f64) -> f64 {
    if lat.is_empty() {
        return 0.0;
    }
    lat.sort();
    let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
    lat[i].as_secs_f64() * 1000.0
}

/// Runs one phase: device `i` talks to `addrs[i % addrs.len()]`; CPU is summed over `pids`.
async fn phase<F, Fut>(
    name: &str,
    tokens: &[String],
    addrs: &[String],
    secs: u64,
    pids: &[u32],
    f: F,
) where
    F: Fn(Conn, String, usize, Arc<AtomicBool>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Report> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_all = || pids.iter().map(|p| cpu_seconds(*p)).sum::<f64>();
    let cpu0 = cpu_all();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let addr = addrs[i % addrs.len()].clone();
        let (f, t, stop) = (f.clone(), t.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let conn = Conn::connect(&addr).await;
            f(conn, t, i, stop).await
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Report {
        requests: 0,
        items: 0,
        bytes: 0,
        lat: vec![],
    };
    for t in tasks {
        let r = t.await.expect("worker");
        all.requests += r.requests;
        all.items += r.items;
        all.bytes += r.bytes;
        all.lat.extend(r.lat);
    }
    let el = start.elapsed().as_secs_f64();
    let cpu = if pids.is_empty() {
        "n/a".into()
    } else {
        format!("{:.0}%", (cpu_all() - cpu0) / el * 100.0)
    };
    println!(
        "{name:<10} {:>10.0} items/s {:>8.1} MB/s {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  server CPU {cpu}",
        all.items as f64 / el,
        all.bytes as f64 / el / 1e6,
        all.requests as f64 / el,
        pct(&mut all.lat, 0.50),
        pct(&mut all.lat, 0.99),
    );
}

/// One device pushing batches of 100 ops until `stop`, numbered from `batch`: back to back, or
/// on a schedule (first send, interval).
async fn push_loop(
    mut c: Conn,
    token: String,
    dev: usize,
    stop: Arc<AtomicBool>,
    mut batch: u64,
    schedule: Option<(Instant, Duration)>,
) -> Report {
    let mut r = Report {
        requests: 0,
        items: 0,
        bytes: 0,
        lat: vec![],
    };
    let mut due = schedule.map_or_else(Instant::now, |(first, _)| first);
    while !stop.load(Ordering::Relaxed) {
        if schedule.is_some() {
            tokio::time::sleep_until(due.into()).await;
            if stop.load(Ordering::Relaxed) {
                break;
            }
        } else {
            due = Instant::now();
        }
        let body = serde_json::to_vec(&PushRequest {
            device_id: String::new(),
            idempotency_key: String::new(),
            ops: ops(dev, batch),
        })
        .expect("json");
        let n = body.len() as u64;
        let (st, b) = c.authed("POST", "/api/v1/sync/push", &token, body).await;
        r.lat.push(due.elapsed());
        assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
        let p: PushResponse = serde_json::from_slice(&b).expect("push response");
        r.items += p.count as u64;
        r.bytes += n;
        r.requests += 1;
        batch += 1;
        if let Some((_, every)) = schedule {
            due += every;
        }
    }
    r
}

fn ops(device: usize, batch: u64) -> Vec<PushOp> {
    (0..100)
        .map(|i| PushOp {
            op_id: format!("d{device}-b{batch}-{i}"),
            entity_type: EntityType::File,
            entity_id: format!("Notes/{}.md", i % 17),
            op_type: OpType::Update,
            payload_json: format!("{{\"path\":\"Notes/{}.md\",\"content\":\"line {batch} {i} lorem ipsum dolor sit amet\"}}", i % 17),
            client_sequence: batch as i64 * 100 + i,
            last_seen_server_seq: 0,
            created_at: "2026-11-22T00:00:00Z".into(),
        })
        .collect()
}

fn main() {
    let a = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (children, addrs, _dir) = match (&a.addr, &a.spawn) {
        (Some(list), _) => (vec![], list.split(',').map(str::to_owned).collect(), None),
        (None, Some(bin)) => {
            let (c, addrs, d) = spawn_servers(bin, a.nodes, a.devices, &a.password);
            (c, addrs, Some(d))
        }
        _ => unreachable!("parse_args checks --addr and --spawn"),
    };
    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let _reap = Reap(children);
    let addr = addrs[0].clone();
    rt.block_on(async {
        let mut tokens = Vec::new();
        let mut c = Conn::connect(&addr).await;
        for i in 0..a.devices {
            let body = serde_json::json!({"login": format!("lg{i}"), "password": a.password,
                "device_name": "loadgen", "vault_id": format!("vault-{i}")});
            let xff = format!("10.77.{}.{}", i / 250, i % 250 + 1);
            let (st, b) = c
                .request(
                    "POST",
                    "/api/client/pair",
                    &[("X-Forwarded-For", &xff)],
                    body.to_string().into_bytes(),
                )
                .await;
            assert_eq!(st, 200, "pair failed: {}", String::from_utf8_lossy(&b));
            let p: PairResponse = serde_json::from_slice(&b).expect("pair response");
            tokens.push(p.device_token);
        }
        println!(
            "{} devices paired against {}; {} s per phase",
            a.devices,
            addrs.join(", "),
            a.seconds
        );
        phase(
            "push",
            &tokens,
            &addrs,
            a.seconds,
            &pids,
            move |c, t, dev, stop| push_loop(c, t, dev, stop, 0, None),
        )
        .await;
        if a.push_rate > 0 {
            // Open loop: each device pushes on a fixed schedule that adds up to `push_rate` ops/s,
            // and latency counts from the scheduled send time, so a stalled server cannot hide
            // its delay by slowing the senders down.
            let every = Duration::from_secs_f64(100.0 * a.devices as f64 / a.push_rate as f64);
            let devices = a.devices;
            let name = format!("push@{}k", a.push_rate / 1000);
            phase(
                &name,
                &tokens,
                &addrs,
                a.seconds,
                &pids,
                move |c, t, dev, stop| {
                    // Devices start spread over one interval, not all at once.
                    let first = Instant::now() + every.mul_f64(dev as f64 / devices as f64);
                    push_loop(c, t, dev, stop, 1 << 32, Some((first, every)))
                },
            )
            .await;
        }
        phase(
            "pull",
            &tokens,
            &addrs,
            a.seconds,
            &pids,
            |mut c, t, dev, stop| async move {
                let mut r = Report {
                    requests: 0,
                    items: 0,
                    bytes: 0,
                    lat: vec![],
                };
                let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ dev as u64;
                let mut max = 1i64;
                while !stop.load(Ordering::Relaxed) {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let since = (seed % max.max(1) as u64) as i64;
                    let body =
                        format!("{{\"since_sequence\":{since},\"page_limit\":100}}").into_bytes();
                    let t0 = Instant::now();
                    let (st, b) = c.authed("POST", "/api/v1/sync/pull", &t, body).await;
                    r.lat.push(t0.elapsed());
                    assert_eq!(st, 200);
                    let p: PullResponse = serde_json::from_slice(&b).expect("pull response");
                    max = (p.server_sequence - 100).max(1);
                    r.items += p.ops.len() as u64;
                    r.bytes += b.len() as u64;
                    r.requests += 1;
                }
                r
            },
        )
        .await;
        let shas = Arc::new(std::sync::Mutex::new(vec![
            Vec::<String>::new();
            tokens.len()
        ]));
        let up = shas.clone();
        phase(
            "blob-up",
            &tokens,
            &addrs,
            a.seconds,
            &pids,
            move |mut c, t, dev, stop| {
                let up = up.clone();
                async move {
                    let mut r = Report {
                        requests: 0,
                        items: 0,
                        bytes: 0,
                        lat: vec![],
                    };
                    let mut blob = vec![0u8; 1 << 20];
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        blob[..16].copy_from_slice(
                            &[(dev as u64).to_le_bytes(), n.to_le_bytes()].concat(),
                        );
                        let t0 = Instant::now();
                        let sha = c.upload(&t, &blob).await;
                        r.lat.push(t0.elapsed());
                        up.lock().expect("lock")[dev].push(sha);
                        r.items += 1;
                        r.bytes += blob.len() as u64;
                        r.requests += 1;
                        n += 1;
                    }
                    r
                }
            },
        )
        .await;
        let down = shas.clone();
        phase(
            "blob-down",
            &tokens,
            &addrs,
            a.seconds,
            &pids,
            move |mut c, t, dev, stop| {
                let list = down.lock().expect("lock")[dev].clone();
                async move {
                    let mut r = Report {
                        requests: 0,
                        items: 0,
                        bytes: 0,
                        lat: vec![],
                    };
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) && !list.is_empty() {
                        let t0 = Instant::now();
                        let (st, b) = c
                            .authed(
                                "GET",
                                &format!("{}{}", paths::BLOBS, list[i % list.len()]),
                                &t,
                                vec![],
                            )
                            .await;
                        r.lat.push(t0.elapsed());
                        assert_eq!(st, 200);
                        r.items += 1;
                        r.bytes += b.len() as u64;
                        r.requests += 1;
                        i += 1;
                    }
                    r
                }
            },
        )
        .await;
    });
}
