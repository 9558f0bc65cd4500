//! `cargo bench -p verstak-sync-host --bench sync` (run it through `scripts/bench.sh`, which builds
//! the release binaries, the engine component and the hash guest first).
//!
//! A benchmark, not a test: it prints measured numbers next to the targets and never fails on
//! time. Everything runs through the real pieces, release builds:
//! * the real server binary (`target/release/verstak-sync-server --port 0`) on 127.0.0.1;
//! * the real engine component in the real host: [`Runtime`] + [`Session`] in this process (the
//!   component compiled once, as `serve` and `watch` run it), and the `verstak-sync-host` CLI as
//!   a child process for the per-invocation cost and for peak RSS (`VmHWM`, sampled);
//! * hashing a vault's files the way the engine does: a scan in the real component asks the
//!   host's `files.hash` import, which streams and hashes natively. Measured as the extra time of
//!   a sync after every file's mtime was bumped (all files rehashed, nothing to push) over a
//!   no-change sync, against opening, reading and hashing the same files natively. Once for a
//!   vault of 1 MiB files (throughput) and once for the small-note vault (per-file costs);
//! * for information, why the import exists: SHA-256 over 256 MiB of in-memory data natively
//!   (`sha2`, as the host links it) and inside wasmtime (`host-shim/benches/guests/hash`, a
//!   bench-only component with the engine's `sha2`), plus the same loop natively with sha2's
//!   software backend (`native-soft-hash`, same crate).
//!
//! Binaries are taken from `$CARGO_TARGET_DIR` (default `target/`).
//!
//! Options: `--files N` and `--mib M` (vault size, default 10000 and 100), `--skip-memory`,
//! `--hash-mib M` (size of both hashing measurements, default 256), `--runs N` (repeats of the
//! small syncs, median shown, default 5), `--upload-scaling` (only the first-upload rows: a
//! fresh vault of 10,000 and of 20,000 files, 10 KiB average, uploaded by a new device; time and
//! bytes the host process wrote, from `/proc/self/io`), `--component PATH` (another engine
//! build, e.g. an older one to compare with).

#[path = "common/server.rs"]
mod server;
use server::Server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use verstak_sync_host::limits::Limits;
use verstak_sync_host::runtime::Runtime;
use verstak_sync_host::session::Session;

const USER: &str = "bench";
const PASSWORD: &str = "bench-password-for-local-runs";

struct Opts {
    files: usize,
    mib: usize,
    hash_mib: u32,
    runs: usize,
    memory: bool,
    upload_scaling: bool,
    component: Option<PathBuf>,
}

fn opts() -> Opts {
    let mut o = Opts {
        files: 10_000,
        mib: 100,
        hash_mib: 256,
        runs: 5,
        memory: true,
        upload_scaling: false,
        component: None,
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
            "--mib" => o.mib = num(),
            "--hash-mib" => o.hash_mib = num() as u32,
            "--runs" => o.runs = num().max(1),
            "--skip-memory" => o.memory = false,
            "--upload-scaling" => o.upload_scaling = true,
            "--component" => o.component = args.next().map(PathBuf::from),
            "--bench" => {} // passed by `cargo bench`
            other => eprintln!("ignoring argument {other:?}"),
        }
    }
    o
}

/// One line of the result table.
struct Row {
    what: String,
    measured: String,
    target: String,
    verdict: &'static str,
}

fn row(
    rows: &mut Vec<Row>,
    what: impl Into<String>,
    measured: String,
    target: Option<(&str, bool)>,
) {
    let (target, verdict) = match target {
        Some((t, ok)) => (t.to_string(), if ok { "met" } else { "MISSED" }),
        None => ("-".to_string(), "info"),
    };
    let r = Row {
        what: what.into(),
        measured,
        target,
        verdict,
    };
    eprintln!(
        "  {:<62} {:>16}  {:>10}  {}",
        r.what, r.measured, r.target, r.verdict
    );
    rows.push(r);
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let o = opts();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |d| root.join(d));
    let release = target.join("release");
    let server_bin = release.join("verstak-sync-server");
    let host_bin = release.join("verstak-sync-host");
    let component = o
        .component
        .clone()
        .unwrap_or_else(|| target.join("wasm32-wasip2/release/verstak_sync_plugin.wasm"));
    let guest = target.join("wasm32-wasip2/release/verstak_bench_hash_guest.wasm");
    let manifest = root.join("manifest.json");
    let needed = if o.upload_scaling {
        vec![&server_bin, &component]
    } else {
        vec![&server_bin, &host_bin, &component, &guest]
    };
    for p in needed {
        anyhow::ensure!(
            p.is_file(),
            "{} is missing: run scripts/bench.sh (it builds everything first)",
            p.display()
        );
    }
    let tmp = tempfile::Builder::new()
        .prefix("verstak-bench-")
        .tempdir()?;
    let mut rows = Vec::new();
    eprintln!("machine: {}", machine());
    eprintln!("load average at start: {}", loadavg());
    if o.upload_scaling {
        upload_scaling(&mut rows, tmp.path(), &server_bin, &component, &manifest)?;
        print_table(&rows);
        return Ok(());
    }

    // Server.
    let server = fresh_server(&server_bin, &tmp.path().join("server"))?;
    let url = server.url.clone();
    eprintln!("server: {url}");

    // Hashing first, while the machine is quietest (no server work yet).
    hashing(
        &mut rows,
        &guest,
        &release.join("native-soft-hash"),
        o.hash_mib,
    )?;

    // The vault and two devices.
    let a = tmp.path().join("device-a");
    let b = tmp.path().join("device-b");
    std::fs::create_dir_all(&b)?;
    let t = Instant::now();
    let (n, bytes) = generate_vault(&a, o.files, o.mib << 20)?;
    eprintln!(
        "generated {n} files, {:.1} MiB in {}",
        bytes as f64 / 1048576.0,
        secs(t.elapsed())
    );

    let t = Instant::now();
    let runtime = Runtime::load(&component, &manifest, Limits::default())?;
    row(
        &mut rows,
        "component load + compile (once per host process)",
        secs(t.elapsed()),
        None,
    );
    let mut sa = Session::new(&runtime, &a).with_device_name(Some("bench-a".into()));
    let mut sb = Session::new(&runtime, &b).with_device_name(Some("bench-b".into()));
    sa.configure(&url, USER, PASSWORD, "bench")?;
    sb.configure(&url, USER, PASSWORD, "bench")?;

    let label = format!("{n} files / {:.0} MiB", bytes as f64 / 1048576.0);
    let (d, s) = timed(|| sa.sync_now())?;
    row(
        &mut rows,
        format!("A: first sync, uploads {label}"),
        secs(d),
        None,
    );
    eprintln!("    pushed {} pulled {}", s.pushed, s.pulled);
    let (d, s) = timed(|| sb.sync_now())?;
    row(
        &mut rows,
        format!("B: initial sync of {label} (second device)"),
        secs(d),
        Some(("<= 3 s", d <= Duration::from_secs(3))),
    );
    eprintln!("    pushed {} pulled {}", s.pushed, s.pulled);
    anyhow::ensure!(count_files(&b)? >= n, "device B did not receive every file");

    let mut no_change = Vec::new();
    for _ in 0..o.runs {
        no_change.push(timed(|| sb.sync_now())?.0);
    }
    let d = median(no_change);
    row(
        &mut rows,
        format!("B: no-change sync (median of {})", o.runs),
        secs(d),
        Some(("<= 0.5 s", d <= Duration::from_millis(500))),
    );
    let d = median(
        (0..o.runs)
            .map(|_| timed(|| sa.sync_now()).map(|r| r.0))
            .collect::<Result<_, _>>()?,
    );
    row(
        &mut rows,
        format!("A: no-change sync (median of {})", o.runs),
        secs(d),
        Some(("<= 0.5 s", d <= Duration::from_millis(500))),
    );

    let (mut push, mut pull) = (Vec::new(), Vec::new());
    for i in 0..o.runs {
        let f = a.join(format!("d{:03}/note-{:05}.md", i % 100, i));
        let mut file = std::fs::OpenOptions::new().append(true).open(&f)?;
        writeln!(file, "edited in bench run {i}")?;
        drop(file);
        let (d, s) = timed(|| sa.sync_now())?;
        anyhow::ensure!(s.pushed >= 1, "the edit was not pushed");
        push.push(d);
        let (d, s) = timed(|| sb.sync_now())?;
        anyhow::ensure!(s.pulled >= 1, "the edit was not pulled");
        pull.push(d);
    }
    let d = median(push);
    row(
        &mut rows,
        format!("A: one file changed, push (median of {})", o.runs),
        secs(d),
        Some(("<= 0.5 s", d <= Duration::from_millis(500))),
    );
    let d = median(pull);
    row(
        &mut rows,
        format!("B: one file changed, pull (median of {})", o.runs),
        secs(d),
        Some(("<= 0.5 s", d <= Duration::from_millis(500))),
    );
    drop(sb);

    // Hashing as the engine does it: through the component's scan and the `files.hash` import.
    let h = tmp.path().join("device-hash");
    let hash_files = write_mib_files(&h, o.hash_mib)?;
    let mut sh = Session::new(&runtime, &h).with_device_name(Some("bench-hash".into()));
    sh.configure(&url, USER, PASSWORD, "bench-hash")?;
    let (d, _) = timed(|| sh.sync_now())?;
    eprintln!(
        "    hash vault: first sync (upload of {} MiB) took {}",
        o.hash_mib,
        secs(d)
    );
    let label = format!("{} files of 1 MiB", hash_files.len());
    component_hashing(&mut rows, &mut sh, &hash_files, &label, true)?;
    drop(sh);
    let label = format!(
        "A's {n} files ({:.0} KiB average)",
        bytes as f64 / 1024.0 / n.max(1) as f64
    );
    component_hashing(&mut rows, &mut sa, &vault_files(&a)?, &label, false)?;
    drop(sa);
    drop(runtime);

    // A third device's initial sync by the CLI under strace: connections and syscalls per file.
    let c = tmp.path().join("device-c");
    std::fs::create_dir_all(&c)?;
    if let Err(e) = traced_initial_sync(&mut rows, &host_bin, &component, &c, &url, n) {
        row(
            &mut rows,
            "syscalls per received file",
            format!("not measured: {e:#}"),
            None,
        );
    }
    let _ = std::fs::remove_dir_all(&c);

    // The CLI as a user runs it: a process per sync, so the component is compiled every time.
    let (d, rss) = run_cli(&host_bin, &component, &b, &["sync"])?;
    row(
        &mut rows,
        "B: no-change sync via a CLI process (start, load the cached compiled component, sync)",
        secs(d),
        Some(("<= 0.5 s", d <= Duration::from_millis(500))),
    );
    row(&mut rows, "    its peak RSS", mib(rss), None);

    if o.memory {
        // A server of their own: the pairings so far used up the pair rate limit (§6.9, 5 per
        // 15 minutes from one address).
        let memory_runs = fresh_server(&server_bin, &tmp.path().join("server-memory"))
            .and_then(|s| memory(&mut rows, tmp.path(), &host_bin, &component, &s.url));
        if let Err(e) = memory_runs {
            row(&mut rows, "memory runs", format!("failed: {e:#}"), None);
        }
    }

    print_table(&rows);
    drop(server);
    Ok(())
}

fn print_table(rows: &[Row]) {
    eprintln!("load average at end: {}", loadavg());
    println!();
    println!("machine: {}", machine());
    println!("load average (1/5/15 min) at end: {}", loadavg());
    println!();
    println!("| measurement | measured | target | |");
    println!("|---|---:|---:|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} |",
            r.what.trim(),
            r.measured,
            r.target,
            r.verdict
        );
    }
}

/// Bytes this process has caused to be written to storage (`write_bytes` of `/proc/self/io`).
fn written_bytes() -> anyhow::Result<u64> {
    let io = std::fs::read_to_string("/proc/self/io")?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no write_bytes in /proc/self/io"))
}

/// First upload of a fresh 10,000- and 20,000-file vault (10 KiB average, the generator's mix)
/// by a new device, each against its own server: time, and bytes the host wrote (the vault
/// itself is written before the clock starts; the server is another process).
fn upload_scaling(
    rows: &mut Vec<Row>,
    tmp: &Path,
    server_bin: &Path,
    component: &Path,
    manifest: &Path,
) -> anyhow::Result<()> {
    let runtime = Runtime::load(component, manifest, Limits::default())?;
    let mut first = None;
    for files in [10_000usize, 20_000] {
        let server = fresh_server(server_bin, &tmp.join(format!("server-up-{files}")))?;
        let dir = tmp.join(format!("upload-{files}"));
        let (n, bytes) = generate_vault(&dir, files, files * 10 * 1024)?;
        let mut s = Session::new(&runtime, &dir).with_device_name(Some("bench-up".into()));
        s.configure(&server.url, USER, PASSWORD, "bench-up")?;
        let before = written_bytes()?;
        let (d, sum) = timed(|| s.sync_now())?;
        let wrote = written_bytes()? - before;
        anyhow::ensure!(sum.pushed as usize >= n, "pushed {} of {n}", sum.pushed);
        let label = format!("{n} files / {:.0} MiB", bytes as f64 / 1048576.0);
        let target = match first {
            None => Some(("<= 4 s", d <= Duration::from_secs(4))),
            Some(t) => Some(("<= 2.2x", d.as_secs_f64() <= 2.2 * t)),
        };
        row(rows, format!("first upload of {label}"), secs(d), target);
        let ratio = wrote as f64 / bytes as f64;
        row(
            rows,
            format!("    host bytes written during it ({ratio:.2}x the vault)"),
            mib(wrote),
            Some(("<= 2x", ratio <= 2.0)),
        );
        first.get_or_insert(d.as_secs_f64());
        drop(s);
        drop(server);
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

fn timed<T, E: std::fmt::Display>(
    f: impl FnOnce() -> Result<T, E>,
) -> anyhow::Result<(Duration, T)> {
    let t = Instant::now();
    let r = f().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((t.elapsed(), r))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

// ---------------------------------------------------------------------------------------------
// Hashing through the component: a rescan of `files` against hashing them natively.

/// Times the hashing a scan does through the component (the extra time of a sync that rehashes
/// every file over a no-change sync) against native open + read + SHA-256 of the same files.
/// The ratio is the hashing target when `target` is set, information otherwise.
fn component_hashing(
    rows: &mut Vec<Row>,
    session: &mut Session<'_>,
    files: &[PathBuf],
    label: &str,
    target: bool,
) -> anyhow::Result<()> {
    let total: u64 = files
        .iter()
        .map(|f| f.metadata().map(|m| m.len()))
        .sum::<Result<_, _>>()?;
    let (mut through, mut whole, mut native) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..3u64 {
        let (quiet, _) = timed(|| session.sync_now())?;
        // A new mtime on every file: the next scan rehashes all of them; the content, hence
        // the sync's outcome, stays the same.
        let when = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i);
        for f in files {
            std::fs::File::options()
                .write(true)
                .open(f)?
                .set_modified(when)?;
        }
        let (rescan, s) = timed(|| session.sync_now())?;
        anyhow::ensure!(
            s.pushed == 0 && s.pulled == 0,
            "a rescan of unchanged content synced something"
        );
        through.push(rescan.saturating_sub(quiet));
        whole.push(rescan);
        let t = Instant::now();
        for f in files {
            std::hint::black_box(hash_file_natively(f)?);
        }
        native.push(t.elapsed());
    }
    let (c, w, n) = (median(through), median(whole), median(native));
    let mib_n = total as f64 / 1048576.0;
    let rate = |d: Duration| format!("{:.0} MiB/s", mib_n / d.as_secs_f64().max(1e-9));
    row(
        rows,
        format!("hash {label} ({mib_n:.0} MiB) via component scan + files.hash"),
        rate(c),
        None,
    );
    row(
        rows,
        "    the whole rescan sync (list, hash, pull, save state)",
        format!("{} ({})", secs(w), rate(w)),
        None,
    );
    row(
        rows,
        "    the same files natively (open, read, sha2)",
        rate(n),
        None,
    );
    let ratio = c.as_secs_f64() / n.as_secs_f64();
    let what = format!("    hashing time ratio component / native ({label})");
    row(
        rows,
        what,
        format!("{ratio:.2}"),
        target.then_some(("<= 1.5", ratio <= 1.5)),
    );
    Ok(())
}

/// What the host's `files.hash` does for one file: stream it through SHA-256 in 256 KiB reads.
fn hash_file_natively(path: &Path) -> anyhow::Result<[u8; 32]> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 256 << 10];
    let mut h = Sha256::new();
    loop {
        match f.read(&mut buf)? {
            0 => return Ok(h.finalize().into()),
            n => h.update(&buf[..n]),
        }
    }
}

/// `mib` files of 1 MiB pseudo-random bytes each, in folders of 64.
fn write_mib_files(dir: &Path, mib: u32) -> anyhow::Result<Vec<PathBuf>> {
    let mut rng = Rng(0x0bad_5eed_1234_5678);
    let mut block: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();
    let mut out = Vec::new();
    for i in 0..mib as usize {
        let sub = dir.join(format!("h{:02}", i / 64));
        std::fs::create_dir_all(&sub)?;
        block[..8].copy_from_slice(&rng.next().to_le_bytes());
        let f = sub.join(format!("chunk-{i:04}.bin"));
        std::fs::write(&f, &block)?;
        out.push(f);
    }
    Ok(out)
}

/// Every file of a vault, outside `.verstak`.
fn vault_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if e.file_type()?.is_dir() {
            out.extend(vault_files(&e.path())?);
        } else {
            out.push(e.path());
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Hashing in memory (information: why the import exists): sha2 natively vs inside wasmtime.

/// Kept identical to `sha256_mib` in `benches/guests/hash/src/lib.rs` (the guest side).
fn fill_and_hash(mib: u32, seed: u8) -> [u8; 32] {
    let mut buf = vec![0u8; 1 << 20];
    let mut x = u32::from(seed) | 1;
    for b in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let mut h = Sha256::new();
    for _ in 0..mib {
        h.update(&buf);
    }
    h.finalize().into()
}

fn hashing(rows: &mut Vec<Row>, guest: &Path, soft_bin: &Path, mib_n: u32) -> anyhow::Result<()> {
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Config, Engine, Store};
    // The engine component's configuration (`Runtime::load`): default Cranelift settings plus
    // epoch interruption, whose checks in loops are part of the real cost.
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let component = Component::from_file(&engine, guest)?;
    let mut linker = Linker::<()>::new(&engine);
    linker.define_unknown_imports_as_traps(&component)?;
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = linker.instantiate(&mut store, &component)?;
    let f = instance.get_typed_func::<(u32, u8), (String,)>(&mut store, "sha256-mib")?;
    let mut call = |mib: u32| -> anyhow::Result<String> {
        let (hex,) = f.call(&mut store, (mib, 7))?;
        Ok(hex)
    };
    call(1)?; // warm-up: first-touch of linear memory
    let mut wasm = Vec::new();
    let mut native = Vec::new();
    let mut same = true;
    let mut want = String::new();
    for _ in 0..3 {
        let t = Instant::now();
        let n = fill_and_hash(mib_n, 7);
        native.push(t.elapsed());
        let t = Instant::now();
        let w = call(mib_n)?;
        wasm.push(t.elapsed());
        want = hex::encode(n);
        same &= want == w;
    }
    anyhow::ensure!(same, "wasm and native SHA-256 disagree");
    // The same loop natively with sha2's software backend (what the wasm build compiles to).
    let mut soft = Vec::new();
    if soft_bin.is_file() {
        for _ in 0..3 {
            let out = Command::new(soft_bin).arg(mib_n.to_string()).output()?;
            let text = String::from_utf8_lossy(&out.stdout);
            let mut it = text.split_whitespace();
            let secs: f64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
            anyhow::ensure!(
                it.next() == Some(want.as_str()),
                "the software-backend SHA-256 differs"
            );
            soft.push(Duration::from_secs_f64(secs));
        }
    }
    let (n, w) = (median(native), median(wasm));
    let rate = |d: Duration| format!("{:.0} MiB/s", f64::from(mib_n) / d.as_secs_f64());
    let sha_ni = std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|c| c.contains(" sha_ni"));
    row(
        rows,
        format!(
            "SHA-256 of {mib_n} MiB, native sha2 as the host links it (SHA-NI on this CPU: {})",
            if sha_ni { "yes" } else { "no" }
        ),
        rate(n),
        None,
    );
    row(
        rows,
        format!("SHA-256 of {mib_n} MiB, same sha2 in wasmtime (software backend)"),
        rate(w),
        None,
    );
    let ratio = w.as_secs_f64() / n.as_secs_f64();
    row(
        rows,
        "hashing time ratio pure-wasm sha2 / native (why files.hash exists)",
        format!("{ratio:.2}"),
        None,
    );
    if !soft.is_empty() {
        let s = median(soft);
        row(
            rows,
            format!("SHA-256 of {mib_n} MiB, native sha2 software backend (force-soft)"),
            rate(s),
            None,
        );
        row(
            rows,
            "hashing time ratio wasm / native software backend",
            format!("{:.2}", w.as_secs_f64() / s.as_secs_f64()),
            None,
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Memory: peak RSS of the CLI process.

/// A server on a new data directory with the bench user.
fn fresh_server(server_bin: &Path, data: &Path) -> anyhow::Result<Server> {
    let st = Command::new(server_bin)
        .args(["user", "add", "--data"])
        .arg(data)
        .args(["--username", USER, "--password", PASSWORD])
        .output()?;
    anyhow::ensure!(
        st.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    Server::start(server_bin, data)
}

fn memory(
    rows: &mut Vec<Row>,
    tmp: &Path,
    host: &Path,
    component: &Path,
    url: &str,
) -> anyhow::Result<()> {
    // A 1 GiB file: over the engine's 256 MiB file limit (§4.7), so it is listed, reported as
    // too large and never read. Then a 256 MiB file (the largest the engine syncs): hashed,
    // staged, uploaded by one device and downloaded by another.
    let cases: [(&str, u64, &str); 2] = [
        (
            "big-1g",
            1 << 30,
            "1 GiB file (skipped: over the 256 MiB limit)",
        ),
        ("big-256m", 256 << 20, "256 MiB file, upload"),
    ];
    for (name, size, label) in cases {
        let v = tmp.join(name);
        std::fs::create_dir_all(&v)?;
        write_big(&v.join(format!("{name}.bin")), size)?;
        configure_cli(host, component, &v, url, name)?;
        let (d, rss) = run_cli(host, component, &v, &["sync"])?;
        row(
            rows,
            format!("peak RSS, CLI sync of a vault with a {label}"),
            mib(rss),
            Some(("< 150 MiB", rss < 150 << 20)),
        );
        eprintln!("    took {}", secs(d));
        if size == 256 << 20 {
            let w = tmp.join(format!("{name}-pull"));
            std::fs::create_dir_all(&w)?;
            configure_cli(host, component, &w, url, name)?;
            let (d, rss) = run_cli(host, component, &w, &["sync"])?;
            anyhow::ensure!(
                w.join(format!("{name}.bin")).metadata()?.len() == size,
                "the 256 MiB file was not downloaded"
            );
            row(
                rows,
                "peak RSS, CLI sync of a vault with a 256 MiB file, download",
                mib(rss),
                Some(("< 150 MiB", rss < 150 << 20)),
            );
            eprintln!("    took {}", secs(d));
        }
        std::fs::remove_dir_all(&v)?;
    }
    Ok(())
}

fn configure_cli(
    host: &Path,
    component: &Path,
    vault: &Path,
    url: &str,
    vault_id: &str,
) -> anyhow::Result<()> {
    let out = Command::new(host)
        .arg("--vault")
        .arg(vault)
        .arg("--component")
        .arg(component)
        .args([
            "configure",
            "--server",
            url,
            "--username",
            USER,
            "--password",
            PASSWORD,
            "--vault-id",
            vault_id,
        ])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "configure: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// C's initial sync of the vault by a CLI process under `strace -f -c` (not timed: tracing
/// slows it down): the TCP connections it opened and its file and descriptor syscalls per
/// received file (`strace -e trace=file,desc`; the process's start and the engine's own state
/// files count too, spread over the files).
fn traced_initial_sync(
    rows: &mut Vec<Row>,
    host: &Path,
    component: &Path,
    vault: &Path,
    url: &str,
    files: usize,
) -> anyhow::Result<()> {
    configure_cli(host, component, vault, url, "bench")?;
    let summary = vault.with_extension("strace");
    let out = Command::new("strace")
        .args(["-f", "-c", "-e", "trace=file,desc,network", "-o"])
        .arg(&summary)
        .arg(host)
        .arg("--vault")
        .arg(vault)
        .arg("--component")
        .arg(component)
        .arg("sync")
        .stdout(Stdio::null())
        .output()
        .map_err(|e| anyhow::anyhow!("strace: {e} (apt-get install strace)"))?;
    anyhow::ensure!(
        out.status.success(),
        "traced sync: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    anyhow::ensure!(
        count_files(vault)? >= files,
        "device C did not receive every file"
    );
    // `% time  seconds  usecs/call  calls  [errors]  syscall`
    let mut calls = std::collections::BTreeMap::<String, (u64, u64)>::new();
    for line in std::fs::read_to_string(&summary)?.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if !(5..=6).contains(&f.len()) || f.last() == Some(&"total") {
            continue;
        }
        let (Ok(n), name) = (f[3].parse::<u64>(), f[f.len() - 1]) else {
            continue;
        };
        let errors = if f.len() == 6 {
            f[4].parse().unwrap_or(0)
        } else {
            0
        };
        calls.insert(name.to_string(), (n, errors));
    }
    let count =
        |names: &[&str]| -> u64 { names.iter().map(|n| calls.get(*n).map_or(0, |c| c.0)).sum() };
    let network = [
        "connect",
        "socket",
        "socketpair",
        "setsockopt",
        "getsockopt",
        "recvfrom",
        "sendto",
        "shutdown",
        "getpeername",
        "getsockname",
        "bind",
        "listen",
        "accept4",
    ];
    let file_desc: u64 = calls
        .iter()
        .filter(|(name, _)| !network.contains(&name.as_str()))
        .map(|(_, c)| c.0)
        .sum();
    let per = |n: u64| format!("{:.1}", n as f64 / files.max(1) as f64);
    let connects = count(&["connect"]);
    row(
        rows,
        format!("C: TCP connections opened by an initial sync of {files} files (CLI)"),
        connects.to_string(),
        Some(("<= 4", connects <= 4)),
    );
    row(
        rows,
        "    file + descriptor syscalls per received file",
        per(file_desc),
        None,
    );
    row(
        rows,
        "    of which opens / closes / statx / failed mkdirs",
        format!(
            "{} / {} / {} / {}",
            per(count(&["open", "openat", "openat2"])),
            per(count(&["close"])),
            per(count(&["statx", "newfstatat", "fstat", "stat", "lstat"])),
            per(calls.get("mkdir").map_or(0, |c| c.1) + calls.get("mkdirat").map_or(0, |c| c.1)),
        ),
        None,
    );
    let _ = std::fs::remove_file(&summary);
    Ok(())
}

/// Runs the host CLI and returns its wall time and peak RSS.
fn run_cli(
    host: &Path,
    component: &Path,
    vault: &Path,
    args: &[&str],
) -> anyhow::Result<(Duration, u64)> {
    let t = Instant::now();
    let child = Command::new(host)
        .arg("--vault")
        .arg(vault)
        .arg("--component")
        .arg(component)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let (status, rss) = wait_rusage(child)?;
    let d = t.elapsed();
    anyhow::ensure!(
        status == 0,
        "verstak-sync-host {args:?} exited with {status}"
    );
    Ok((d, rss))
}

/// Waits for the child, sampling its `VmHWM` (peak resident set of its own address space) from
/// `/proc/<pid>/status` every 2 ms. `getrusage`/`wait4`'s `ru_maxrss` is not used: Linux carries
/// the parent's peak RSS into the child at fork/exec, so it reports this bench process's size.
/// `VmHWM` never decreases, so the last sample misses at most the final 2 ms of growth.
fn wait_rusage(mut child: Child) -> anyhow::Result<(i32, u64)> {
    let mut stderr = child.stderr.take();
    let drain = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(e, &mut s);
        }
        s
    });
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak = peak.max(kib * 1024);
        }
        if let Some(st) = child.try_wait()? {
            break st;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let err = drain.join().unwrap_or_default();
    let code = status.code().unwrap_or(-1);
    if code != 0 {
        eprintln!("{err}");
    }
    Ok((code, peak))
}

// ---------------------------------------------------------------------------------------------
// Vault generation.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `files` files in folders of 100: 90 % Markdown text, 10 % binary; sizes drawn so the total
/// is close to `total` bytes (text ≈ 36 % of the bytes, binary the rest).
fn generate_vault(dir: &Path, files: usize, total: usize) -> anyhow::Result<(usize, u64)> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let binaries = files / 10;
    let texts = files - binaries;
    let text_avg = (total as f64 * 0.36 / texts.max(1) as f64) as u64;
    let bin_avg = (total as f64 * 0.64 / binaries.max(1) as f64) as u64;
    const WORDS: [&str; 16] = [
        "vault", "note", "sync", "device", "merge", "server", "blob", "text", "folder", "link",
        "draft", "idea", "meeting", "todo", "done", "review",
    ];
    let mut bytes = 0u64;
    for i in 0..files {
        let sub = dir.join(format!("d{:03}", i % 100));
        std::fs::create_dir_all(&sub)?;
        if i < texts {
            let size = text_avg / 2 + rng.below(text_avg.max(1));
            let mut s = format!("# Note {i}\n\n");
            while (s.len() as u64) < size {
                for _ in 0..(4 + rng.below(10)) {
                    s.push_str(WORDS[rng.below(16) as usize]);
                    s.push(' ');
                }
                s.push('\n');
            }
            std::fs::write(sub.join(format!("note-{i:05}.md")), &s)?;
            bytes += s.len() as u64;
        } else {
            let size = bin_avg / 2 + rng.below(bin_avg.max(1));
            let data: Vec<u8> = (0..size).map(|_| rng.next() as u8).collect();
            std::fs::write(sub.join(format!("blob-{i:05}.bin")), &data)?;
            bytes += size;
        }
    }
    Ok((files, bytes))
}

/// A file of `size` pseudo-random bytes (1 MiB blocks that differ from each other).
fn write_big(path: &Path, size: u64) -> anyhow::Result<()> {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut block: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        let stamp = rng.next().to_le_bytes();
        block[..8].copy_from_slice(&stamp);
        f.write_all(&block[..n])?;
        left -= n as u64;
    }
    f.flush()?;
    Ok(())
}

fn count_files(dir: &Path) -> anyhow::Result<usize> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if e.file_type()?.is_dir() {
            n += count_files(&e.path())?;
        } else {
            n += 1;
        }
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// The server process and the machine.

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!(
        "{cores} cores ({cpu}), {:.0} GiB RAM",
        mem as f64 / 1048576.0
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
