//! Benchmarks (not tests): a new device joining a vault of 1,000 notes after 1 and
//! after 50 edit rounds (compacted joins, docs/compacted-joins.md), and the server's disk for
//! both once the history windows have passed (docs/history-retention.md).
//!
//! For each K in {1, 50}: a fresh release server whose `config.yml` sets every history window
//! to 0 (as if they had passed); device A writes the notes (the same Markdown recipe as the
//! `sync` bench: about 4 KiB of words each, 10 folders) and syncs; then K rounds each append a
//! line to every note and sync A. Then three new devices join one after the other
//! (configure + first sync, timed, the median counts; ops pulled counted). Finally the server is stopped gracefully and started again (startup runs
//! retention) and its data directory is measured: file bytes, and the database's used bytes.
//!
//! `cargo bench -p verstak-sync-host --bench join` (run by scripts/bench.sh after `sync`);
//! `BENCH_JOIN_NOTES` and `BENCH_JOIN_ROUNDS` change the size.

#[path = "common/server.rs"]
mod server;
use server::Server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use verstak_sync_host::limits::Limits;
use verstak_sync_host::runtime::Runtime;
use verstak_sync_host::session::Session;

const USER: &str = "bench";
const PASSWORD: &str = "bench-password-for-local-runs";
const WINDOWS_PASSED: &str = "history:\n  keep_all_days: 0\n  keep_daily_days: 0\n  tombstone_days: 0\n  blob_grace_hours: 0\n";

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const WORDS: [&str; 16] = [
    "vault", "note", "sync", "device", "merge", "server", "blob", "text", "folder", "link",
    "draft", "idea", "meeting", "todo", "done", "review",
];

fn line(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..(4 + rng.next() % 10) {
        s.push_str(WORDS[(rng.next() % 16) as usize]);
        s.push(' ');
    }
    s.push('\n');
    s
}

fn note_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("d{:02}", i % 10))
        .join(format!("note-{i:05}.md"))
}

fn write_notes(dir: &Path, n: usize) -> anyhow::Result<()> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..n {
        let p = note_path(dir, i);
        std::fs::create_dir_all(p.parent().expect("has a folder"))?;
        let mut s = format!("# Note {i}\n\n");
        while s.len() < 2048 + (rng.next() % 4096) as usize {
            s.push_str(&line(&mut rng));
        }
        std::fs::write(p, s)?;
    }
    Ok(())
}

fn edit_round(dir: &Path, n: usize, round: usize) -> anyhow::Result<()> {
    let mut rng = Rng(0x1234_5678 + round as u64);
    for i in 0..n {
        let p = note_path(dir, i);
        let mut s = std::fs::read_to_string(&p)?;
        s.push_str(&format!("round {round}: {}", line(&mut rng)));
        std::fs::write(p, s)?;
    }
    Ok(())
}

fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let m = e.metadata()?;
        n += if m.is_dir() {
            dir_bytes(&e.path())?
        } else {
            m.len()
        };
    }
    Ok(n)
}

/// `(page_count - freelist_count) * page_size` and the op count.
fn db_used(data: &Path) -> anyhow::Result<(u64, i64)> {
    let c = rusqlite::Connection::open(data.join("server.db"))?;
    let q = |sql: &str| -> anyhow::Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
    let used = (q("PRAGMA page_count")? - q("PRAGMA freelist_count")?) * q("PRAGMA page_size")?;
    Ok((used as u64, q("SELECT COUNT(*) FROM server_ops")?))
}

struct Run {
    join: Duration,
    pulled: u64,
    ops_before: i64,
    ops_after: i64,
    disk_before: u64,
    disk_after: u64,
    db_used_after: u64,
}

fn run(
    runtime: &Runtime,
    server_bin: &Path,
    tmp: &Path,
    notes: usize,
    rounds: usize,
) -> anyhow::Result<Run> {
    let data = tmp.join(format!("server-{rounds}"));
    std::fs::create_dir_all(&data)?;
    std::fs::write(data.join("config.yml"), WINDOWS_PASSED)?;
    let st = Command::new(server_bin)
        .args(["user", "add", "--data"])
        .arg(&data)
        .args(["--username", USER, "--password", PASSWORD])
        .output()?;
    anyhow::ensure!(st.status.success(), "user add failed");
    let server = Server::start(server_bin, &data)?;
    let (a, b) = (
        tmp.join(format!("a-{rounds}")),
        tmp.join(format!("b-{rounds}")),
    );
    std::fs::create_dir_all(&b)?;
    write_notes(&a, notes)?;
    let mut sa = Session::new(runtime, &a).with_device_name(Some("bench-a".into()));
    sa.configure(&server.url, USER, PASSWORD, "bench")?;
    sa.sync_now().map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = Instant::now();
    for round in 1..=rounds {
        edit_round(&a, notes, round)?;
        sa.sync_now().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    eprintln!(
        "  K={rounds}: {rounds} edit rounds synced in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // Three new devices join one after the other; the median time counts.
    let mut times = Vec::new();
    let mut pulled = 0;
    for j in 0..3 {
        let b = b.join(format!("join-{j}"));
        std::fs::create_dir_all(&b)?;
        let mut sb = Session::new(runtime, &b).with_device_name(Some(format!("bench-b{j}")));
        sb.configure(&server.url, USER, PASSWORD, "bench")?;
        let t = Instant::now();
        let s = sb.sync_now().map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(t.elapsed());
        pulled = s.pulled;
        let same = (0..notes)
            .all(|i| std::fs::read(note_path(&a, i)).ok() == std::fs::read(note_path(&b, i)).ok());
        anyhow::ensure!(same, "the new device does not hold A's notes");
    }
    times.sort();
    let join = times[1];
    eprintln!("  K={rounds}: joins {times:?}");
    let ops_before = db_used(&data)?.1;
    server.stop()?;
    let disk_before = dir_bytes(&data)?;
    // Startup runs retention with every window passed.
    let server = Server::start(server_bin, &data)?;
    server.stop()?;
    let disk_after = dir_bytes(&data)?;
    for e in std::fs::read_dir(&data)? {
        let e = e?;
        let n = if e.metadata()?.is_dir() {
            dir_bytes(&e.path())?
        } else {
            e.metadata()?.len()
        };
        eprintln!("    {}: {}", e.file_name().to_string_lossy(), mib(n));
    }
    let (db_used_after, ops_after) = db_used(&data)?;
    Ok(Run {
        join,
        pulled,
        ops_before,
        ops_after,
        disk_before,
        disk_after,
        db_used_after,
    })
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / 1048576.0)
}

fn main() -> anyhow::Result<()> {
    let notes = env_num("BENCH_JOIN_NOTES", 1000);
    let rounds = env_num("BENCH_JOIN_ROUNDS", 50);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |d| root.join(d));
    let server_bin = target.join("release/verstak-sync-server");
    let component = target.join("wasm32-wasip2/release/verstak_sync_plugin.wasm");
    for p in [&server_bin, &component] {
        anyhow::ensure!(
            p.is_file(),
            "{} is missing: run scripts/bench.sh",
            p.display()
        );
    }
    let runtime = Runtime::load(&component, &root.join("manifest.json"), Limits::default())?;
    let tmp = tempfile::Builder::new().prefix("verstak-join-").tempdir()?;
    eprintln!("join bench: {notes} notes, K = 1 and K = {rounds} edit rounds");
    let one = run(&runtime, &server_bin, tmp.path(), notes, 1)?;
    let many = run(&runtime, &server_bin, tmp.path(), notes, rounds)?;
    let ratio = many.join.as_secs_f64() / one.join.as_secs_f64().max(1e-9);
    let per_live = many.pulled as f64 / notes as f64;
    let disk = many.disk_after as f64 / one.disk_after.max(1) as f64;
    let used = many.db_used_after as f64 / one.db_used_after.max(1) as f64;
    let ok = |b: bool| if b { "met" } else { "MISSED" };
    println!();
    println!("| Measurement | Result | Target |");
    println!("|---|---|---|");
    println!(
        "| join of {notes} notes after 1 round ({} ops stored) | {:.2} s, {} ops pulled | — |",
        one.ops_before,
        one.join.as_secs_f64(),
        one.pulled
    );
    println!(
        "| join of {notes} notes after {rounds} rounds ({} ops stored) | {:.2} s ({ratio:.2}× K=1), {} ops pulled ({per_live:.2} per live note) | ≤ 1.5× — {}; ≤ 1.1 per live entity — {} |",
        many.ops_before,
        many.join.as_secs_f64(),
        many.pulled,
        ok(ratio <= 1.5),
        ok(per_live <= 1.1)
    );
    println!(
        "| server disk, K=1, windows passed | {} (before retention {}), {} ops, database in use {} | — |",
        mib(one.disk_after),
        mib(one.disk_before),
        one.ops_after,
        mib(one.db_used_after)
    );
    println!(
        "| server disk, K={rounds}, windows passed | {} ({disk:.2}× K=1; before retention {}), {} ops, database in use {} ({used:.2}×) | ≤ 2× — {} |",
        mib(many.disk_after),
        mib(many.disk_before),
        many.ops_after,
        mib(many.db_used_after),
        ok(disk <= 2.0)
    );
    Ok(())
}
