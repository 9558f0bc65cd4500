//! Live-sync benchmarks (issue 12), not tests: two `verstak-sync-host watch` processes against
//! the real server on loopback, a generated vault of `--files` notes (default 10,000):
//!
//! * **edit → visible**: a note is rewritten on A; the time until B's copy has the new content
//!   (B polls nothing: A's watcher pushes, the server's event stream tells B, B pulls), median
//!   and p99 of `--edits` edits (default 30), each after both hosts went idle;
//! * **idle CPU** of each watching host over `--idle-seconds` (default 60), from
//!   `/proc/<pid>/stat`, and how many syncs (full rescans among them) ran meanwhile;
//! * **host CPU of one watcher-triggered one-file sync**: A's CPU time over the edit phase
//!   divided by the edits (the watcher's work included), and B's per pull.
//!
//! `scripts/bench.sh` builds the release binaries and runs it; docs/performance.md keeps the
//! numbers.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USER: &str = "bench";
const PASSWORD: &str = "bench-password-for-local-runs";

struct Opts {
    files: usize,
    edits: usize,
    idle: u64,
}

fn opts() -> Opts {
    let mut o = Opts {
        files: 10_000,
        edits: 30,
        idle: 60,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = || {
            args.next()
                .and_then(|v| v.parse::<usize>().ok())
                .expect("a number after the option")
        };
        match a.as_str() {
            "--files" => o.files = num(),
            "--edits" => o.edits = num().max(1),
            "--idle-seconds" => o.idle = num() as u64,
            _ => {} // the other bench's options, and cargo's --bench
        }
    }
    o
}

fn target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn run(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd.output()?;
    anyhow::ensure!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A child whose standard error is collected line by line.
struct Proc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn spawn(cmd: &mut Command) -> anyhow::Result<Proc> {
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
        let err = child.stderr.take().expect("piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                sink.lock().expect("not poisoned").push(l);
            }
        });
        Ok(Proc { child, lines })
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("not poisoned").clone()
    }

    fn wait_line(&self, needle: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(600);
        while !self.lines().iter().any(|l| l.contains(needle)) {
            anyhow::ensure!(Instant::now() < deadline, "no {needle:?} line");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// User + system CPU time so far.
    fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let after = stat.rsplit(')').next().unwrap_or("");
        let f: Vec<u64> = after
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        // Fields 14 and 15 (utime, stime), counted after the `(comm)` field.
        let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
        // SAFETY: sysconf has no memory effects.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_micros(ticks * 1_000_000 / hz)
    }

    fn syncs(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains(": pushed ") || l.contains(": sync failed"))
            .collect()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> anyhow::Result<()> {
    let o = opts();
    let t = target();
    let server_bin = t.join("release/verstak-sync-server");
    let host = t.join("release/verstak-sync-host");
    let component = t.join("wasm32-wasip2/release/verstak_sync_plugin.wasm");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifest.json");
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    run(Command::new(&server_bin)
        .args(["user", "add", "--data"])
        .arg(&data)
        .args(["--username", USER, "--password", PASSWORD]))?;
    let server = Proc::spawn(
        Command::new(&server_bin)
            .arg("--data")
            .arg(&data)
            .args(["--port", "0"]),
    )?;
    server.wait_line("listening on ")?;
    let addr = server
        .lines()
        .iter()
        .find_map(|l| {
            l.split("listening on ")
                .nth(1)
                .map(|a| a.trim().to_string())
        })
        .expect("the ready line");
    let url = if addr.starts_with("http") {
        addr
    } else {
        format!("http://{addr}")
    };

    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for d in [&a, &b] {
        std::fs::create_dir_all(d)?;
    }
    for i in 0..o.files {
        let dir = a.join(format!("folder-{:03}", i % 100));
        std::fs::create_dir_all(&dir)?;
        let body = format!("# Note {i}\n\n{}\n", "Some words of a note. ".repeat(40));
        std::fs::write(dir.join(format!("note-{i:05}.md")), body)?;
    }
    let cli = |vault: &Path| {
        let mut c = Command::new(&host);
        c.arg("--vault")
            .arg(vault)
            .arg("--component")
            .arg(&component)
            .arg("--manifest")
            .arg(&manifest);
        c
    };
    for d in [&a, &b] {
        run(cli(d).args([
            "configure",
            "--server",
            &url,
            "--username",
            USER,
            "--password",
            PASSWORD,
            "--vault-id",
            "live-bench",
        ]))?;
    }
    eprintln!("initial sync of {} files …", o.files);
    run(cli(&a).arg("sync"))?;
    run(cli(&b).arg("sync"))?;

    let wa = Proc::spawn(cli(&a).arg("watch"))?;
    let wb = Proc::spawn(cli(&b).arg("watch"))?;
    wa.wait_line("(start, full scan)")?;
    wb.wait_line("(start, full scan)")?;
    std::thread::sleep(Duration::from_secs(3)); // the stream connects, the start settles

    eprintln!("idle for {} s …", o.idle);
    let (sa, sb) = (wa.syncs().len(), wb.syncs().len());
    let (ca, cb) = (wa.cpu(), wb.cpu());
    std::thread::sleep(Duration::from_secs(o.idle));
    let idle_cpu =
        |p: &Proc, before: Duration| (p.cpu() - before).as_secs_f64() / o.idle as f64 * 100.0;
    let (ia, ib) = (idle_cpu(&wa, ca), idle_cpu(&wb, cb));
    let idle_syncs = (wa.syncs().len() - sa) + (wb.syncs().len() - sb);
    let idle_full = wa.syncs()[sa..]
        .iter()
        .chain(&wb.syncs()[sb..])
        .filter(|l| l.contains("full scan"))
        .count();

    eprintln!("{} edits …", o.edits);
    let (ca, cb) = (wa.cpu(), wb.cpu());
    let mut lat = Vec::new();
    for i in 0..o.edits {
        let rel = format!("folder-{:03}/note-{:05}.md", i % 100, (i * 37) % o.files);
        let content = format!("# Edited {i}\n\nEdit number {i} at {:?}\n", Instant::now());
        let start = Instant::now();
        std::fs::write(a.join(&rel), &content)?;
        let deadline = start + Duration::from_secs(60);
        while std::fs::read_to_string(b.join(&rel)).ok().as_deref() != Some(content.as_str()) {
            anyhow::ensure!(Instant::now() < deadline, "edit {i} never reached B");
            std::thread::sleep(Duration::from_millis(2));
        }
        lat.push(start.elapsed());
        // Both hosts finish their runs (and go idle) before the next edit.
        std::thread::sleep(Duration::from_millis(700));
    }
    let per_edit_a = (wa.cpu() - ca) / o.edits as u32;
    let per_edit_b = (wb.cpu() - cb) / o.edits as u32;
    lat.sort();

    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    println!();
    println!(
        "Live sync, {} files, two `watch` hosts on loopback",
        o.files
    );
    println!();
    println!("| measure | result | target |");
    println!("|---|---|---|");
    println!(
        "| edit → visible on the other device, median ({} edits) | {} | ≤ 500 ms |",
        o.edits,
        ms(pct(&lat, 0.5))
    );
    println!(
        "| edit → visible, p99 | {} | ≤ 1,500 ms |",
        ms(pct(&lat, 0.99))
    );
    println!(
        "| idle CPU of a watching host over {} s (A / B) | {ia:.3} % / {ib:.3} % | ≤ 0.05 % |",
        o.idle
    );
    println!("| syncs while idle (full rescans) | {idle_syncs} ({idle_full}) | 0 |");
    println!(
        "| host CPU per one-file watcher-triggered sync (A, push) | {} | ≤ 50 ms |",
        ms(per_edit_a)
    );
    println!(
        "| host CPU per pull of that edit (B) | {} | — |",
        ms(per_edit_b)
    );
    drop((wa, wb, server));
    Ok(())
}
