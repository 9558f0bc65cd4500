//! Issue 6: a seeded simulation of three devices and one server through the real component,
//! the real `verstak-sync-host` CLI and the real server binary, with injected faults.
//!
//! Each step picks a device and either changes its vault on disk (create a text or binary file,
//! edit, rename, delete, create a folder, move or delete a folder) or runs one sync of it as a
//! CLI child process behind the fault proxy ([`common::proxy`]). A sync may lose a response
//! after the server committed, deliver a request twice, have its host SIGKILLed at a chosen
//! request (before or after the server saw it) or after a random delay, or see the server
//! restarted (SIGTERM or SIGKILL) in the middle of a request, a push among them. Now and then
//! the server restarts between syncs. A failed sync is fine; later ones must recover.
//!
//! The oracle is the one of the engine's in-process simulation (`plugin/src/engine/sim`):
//! every line a user writes is a unique token; a token is deliberately removed only when a
//! user deletes its line, its file or its folder. After the chaos the proxy heals, every device
//! syncs round-robin until a whole round moves nothing, and then:
//! * the three vaults hold the same files with the same bytes, and the same folders;
//! * every token written and not deliberately removed is in some file (at its path, in a
//!   merge, or in a conflict copy);
//! * every file name is a name users write, or a conflict copy of one (plugin-contract §5.4.2);
//! * no device has unpushed ops or a pending guard.
//!
//! A failure prints the seed and the step log. `SIM_FAULTS_SEED=<n>` replays one seed,
//! `SIM_FAULTS_SEEDS=<k>` runs k seeds from 1 (or from `SIM_FAULTS_FIRST`), `SIM_FAULTS_STEPS=<n>`
//! sets the steps per seed; `SIM_FAULTS_LOG=1` prints the step log of passing seeds too.
//! The schedule is a function of the seed; only the kill-after-delay points and what a
//! SIGKILLed server managed to commit depend on timing.

mod common;

use common::device::{Device, PASSWORD, VAULT};
use common::proxy::{Fault, Plan, Proxy, Trigger};
use common::server::Server;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use verstak_sync_host::bindings::exports::verstak::sync::sync_provider::Direction;

/// Seeds of the default run, and the steps of each.
const DEFAULT_SEEDS: u64 = 4;
const DEFAULT_STEPS: usize = 150;

const DIRS: [&str; 4] = ["", "a/", "a/b/", "c/"];
const NAMES: [&str; 5] = ["n0.md", "n1.md", "n2.md", "x.bin", "y.bin"];
const FOLDERS: [&str; 5] = ["a", "a/b", "c", "d", "c/e"];
/// The first line of a binary file: a NUL and invalid UTF-8, so it always goes by blob (§4.6).
const BIN_HEAD: &[u8] = b"\0\xffbin\n";

/// splitmix64, as in the in-process simulation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The user tokens in a file: its lines of the form `d<device>-<n>`.
fn tokens(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|l| std::str::from_utf8(l).ok())
        .filter(|l| {
            l.strip_prefix('d')
                .and_then(|r| r.split_once('-'))
                .is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && a.bytes().all(|c| c.is_ascii_digit())
                        && b.bytes().all(|c| c.is_ascii_digit())
                })
        })
        .map(str::to_string)
        .collect()
}

/// The path a conflict copy was made from (plugin-contract §5.4.2), or `None` when `name` is
/// not a conflict-copy name: `<stem> (conflict <device> <YYYY-MM-DD HHMM>[ n])<.ext>`.
fn conflict_origin(path: &str) -> Option<String> {
    let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
    let at = name.rfind(" (conflict ")?;
    let (stem, rest) = (&name[..at], &name[at + " (conflict ".len()..]);
    let close = rest.find(')')?;
    let (inner, ext) = (&rest[..close], &rest[close + 1..]);
    let parts: Vec<&str> = inner.split(' ').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|c| c.is_ascii_digit());
    let date_at = parts.iter().position(|p| {
        p.len() == 10
            && p.as_bytes()[4] == b'-'
            && p.as_bytes()[7] == b'-'
            && digits(&p.replace('-', ""), 8)
    })?;
    let ok = date_at >= 1
        && parts.get(date_at + 1).is_some_and(|t| digits(t, 4))
        && match parts.len() - date_at {
            2 => true,
            3 => parts[date_at + 2].parse::<u32>().is_ok_and(|n| n >= 2),
            _ => false,
        }
        && (ext.is_empty() || (ext.starts_with('.') && !ext[1..].contains('.')));
    if !ok || stem.is_empty() {
        return None;
    }
    let original = format!("{stem}{ext}");
    Some(if dir.is_empty() {
        original
    } else {
        format!("{dir}/{original}")
    })
}

/// How one CLI sync ended.
enum Outcome {
    Ok(String),
    Failed(String),
    Killed,
}

struct Sim {
    seed: u64,
    rng: Rng,
    server: Arc<Mutex<Server>>,
    proxy: Proxy,
    host: Arc<Mutex<Option<u32>>>,
    log: Arc<Mutex<Vec<String>>>,
    devs: Vec<Device>,
    scratch: tempfile::TempDir,
    next_token: u64,
    added: BTreeSet<String>,
    dropped: BTreeSet<String>,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let server = Server::start();
        server.add_user("ann", PASSWORD);
        let server = Arc::new(Mutex::new(server));
        let host = Arc::new(Mutex::new(None));
        let log = Arc::new(Mutex::new(Vec::new()));
        let proxy = Proxy::start(server.clone(), host.clone(), log.clone());
        let devs: Vec<Device> = ["alpha", "beta", "gamma"]
            .iter()
            .map(|n| Device::new(n))
            .collect();
        for d in &devs {
            d.configure(&proxy.url(), "ann", VAULT);
        }
        Sim {
            seed,
            rng: Rng(seed),
            server,
            proxy,
            host,
            log,
            devs,
            scratch: tempfile::tempdir().unwrap(),
            next_token: 0,
            added: BTreeSet::new(),
            dropped: BTreeSet::new(),
        }
    }

    fn note(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }

    fn token(&mut self, d: usize) -> String {
        self.next_token += 1;
        let t = format!("d{d}-{}", self.next_token);
        self.added.insert(t.clone());
        t
    }

    /// The bytes of a file holding `lines`: text, or binary with a random-length padding line.
    fn content(&mut self, path: &str, lines: &[String]) -> Vec<u8> {
        let mut out = Vec::new();
        if path.ends_with(".bin") {
            out.extend_from_slice(BIN_HEAD);
            out.push(0);
            for _ in 0..self.rng.below(3000) {
                out.push(match (self.rng.next() % 256) as u8 {
                    b'\n' => 0,
                    b => b,
                });
            }
            out.push(b'\n');
        }
        for l in lines {
            out.extend_from_slice(l.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// Writes like an editor that saves atomically: a temp file outside the vault, renamed in.
    fn put(&self, d: usize, rel: &str, bytes: &[u8]) -> bool {
        let target = self.devs[d].path(rel);
        let tmp = self.scratch.path().join("save");
        let ok = std::fs::create_dir_all(target.parent().unwrap()).is_ok()
            && std::fs::write(&tmp, bytes).is_ok()
            && std::fs::rename(&tmp, &target).is_ok();
        if !ok {
            self.note(format!("    (could not write {rel})"));
        }
        ok
    }

    fn drop_tokens_under(&mut self, d: usize, prefix: &str) {
        for (p, _) in self.devs[d].files() {
            if p == prefix || p.starts_with(&format!("{prefix}/")) {
                let bytes = std::fs::read(self.devs[d].path(&p)).unwrap();
                self.dropped.extend(tokens(&bytes));
            }
        }
    }

    /// One random change of device `d`'s vault on disk.
    fn user_op(&mut self, d: usize) {
        let name = self.devs[d].name.clone();
        let files: Vec<String> = self.devs[d].files().into_keys().collect();
        let pick = self.rng.below(14);
        let fresh = format!("{}{}", self.rng.pick(&DIRS), self.rng.pick(&NAMES));
        if files.is_empty() || pick < 3 {
            if self.devs[d].exists(&fresh) {
                return;
            }
            let lines: Vec<String> = (0..1 + self.rng.below(3)).map(|_| self.token(d)).collect();
            let bytes = self.content(&fresh, &lines);
            self.note(format!("{name}: create {fresh} {lines:?}"));
            self.put(d, &fresh, &bytes);
            return;
        }
        let path = self.rng.pick(&files).clone();
        let old = std::fs::read(self.devs[d].path(&path)).unwrap();
        match pick {
            3..=6 => {
                let mut lines = tokens(&old);
                let mut removed = None;
                if !lines.is_empty() && self.rng.chance(40) {
                    let i = self.rng.below(lines.len() as u64) as usize;
                    removed = Some(lines.remove(i));
                }
                let at = self.rng.below(lines.len() as u64 + 1) as usize;
                let t = self.token(d);
                lines.insert(at, t.clone());
                let bytes = self.content(&path, &lines);
                self.note(format!("{name}: edit {path} +{t} -{removed:?}"));
                if self.put(d, &path, &bytes) {
                    self.dropped.extend(removed);
                }
            }
            7..=8 => {
                self.note(format!("{name}: delete {path}"));
                self.dropped.extend(tokens(&old));
                std::fs::remove_file(self.devs[d].path(&path)).unwrap();
            }
            9 => {
                if self.devs[d].exists(&fresh) || fresh.ends_with(".bin") != path.ends_with(".bin")
                {
                    return;
                }
                self.note(format!("{name}: rename {path} -> {fresh}"));
                let to = self.devs[d].path(&fresh);
                if std::fs::create_dir_all(to.parent().unwrap()).is_err()
                    || std::fs::rename(self.devs[d].path(&path), &to).is_err()
                {
                    self.note("    (rename failed)".into());
                }
            }
            10 | 11 => self.folder_move(d),
            12 => {
                let folder = *self.rng.pick(&FOLDERS);
                if self.devs[d].exists(folder) {
                    return;
                }
                self.note(format!("{name}: mkdir {folder}"));
                let _ = std::fs::create_dir_all(self.devs[d].path(folder));
            }
            _ => {
                let folders = self.devs[d].folders();
                if folders.is_empty() || !self.rng.chance(50) {
                    return;
                }
                let folder = self.rng.pick(&folders).clone();
                self.note(format!("{name}: delete folder {folder}"));
                self.drop_tokens_under(d, &folder);
                std::fs::remove_dir_all(self.devs[d].path(&folder)).unwrap();
            }
        }
    }

    fn folder_move(&mut self, d: usize) {
        let folders = self.devs[d].folders();
        if folders.is_empty() {
            return;
        }
        let from = self.rng.pick(&folders).clone();
        let to = *self.rng.pick(&FOLDERS);
        if self.devs[d].exists(to) || to == from || to.starts_with(&format!("{from}/")) {
            return;
        }
        self.note(format!("{}: move folder {from} -> {to}", self.devs[d].name));
        let dest = self.devs[d].path(to);
        if std::fs::create_dir_all(dest.parent().unwrap()).is_err()
            || std::fs::rename(self.devs[d].path(&from), &dest).is_err()
        {
            self.note("    (move failed)".into());
        }
    }

    /// The faults of one sync, drawn from the seed.
    fn plan(&mut self) -> (Plan, Option<Duration>) {
        let mut plan = Plan::default();
        if !self.rng.chance(65) {
            return (plan, None);
        }
        for _ in 0..1 + self.rng.below(2) {
            let fault = match self.rng.below(9) {
                0..=2 => Fault::LoseResponse,
                3 | 4 => Fault::Duplicate {
                    second: self.rng.chance(50),
                },
                5 => Fault::KillHostBefore,
                6 => Fault::KillHostAfter,
                _ => Fault::RestartServer {
                    graceful: self.rng.chance(50),
                    delay_ms: self.rng.below(20),
                },
            };
            let trigger = if self.rng.chance(50) {
                Trigger::Request(self.rng.below(4) as usize)
            } else {
                Trigger::Push(self.rng.below(4).saturating_sub(2) as usize)
            };
            plan.faults.push((trigger, fault));
        }
        if self.rng.chance(15) {
            // A burst the engine's own retry cannot ride out: the run fails, the next recovers.
            let first = self.rng.below(3) as usize;
            for k in first..first + 3 {
                let fault = if self.rng.chance(70) {
                    Fault::LoseResponse
                } else {
                    Fault::RestartServer {
                        graceful: false,
                        delay_ms: self.rng.below(10),
                    }
                };
                plan.faults.push((Trigger::Request(k), fault));
            }
        }
        let delay = self
            .rng
            .chance(15)
            .then(|| Duration::from_millis(self.rng.below(80)));
        (plan, delay)
    }

    /// One `verstak-sync-host sync` of device `d` behind `plan`, SIGKILLed after `kill_after`.
    fn cli_sync(&mut self, d: usize, plan: Plan, kill_after: Option<Duration>) -> Outcome {
        let out = self.scratch.path().join("out");
        let err = self.scratch.path().join("err");
        self.proxy.set_plan(plan);
        let mut child = Command::new(env!("CARGO_BIN_EXE_verstak-sync-host"))
            .arg("--vault")
            .arg(self.devs[d].root())
            .arg("--component")
            .arg(component())
            .arg("--manifest")
            .arg(repo_manifest())
            .args(["sync", "--json"])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        *self.host.lock().unwrap() = Some(child.id());
        let started = Instant::now();
        let status: ExitStatus = loop {
            {
                // Reaped only under the lock, so the proxy never signals a recycled pid.
                let mut slot = self.host.lock().unwrap();
                if let Some(status) = child.try_wait().unwrap() {
                    *slot = None;
                    break status;
                }
                if kill_after.is_some_and(|k| started.elapsed() >= k) {
                    let _ = child.kill();
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "seed {}: a sync of {} hangs\n{}",
                self.seed,
                self.devs[d].name,
                self.log.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        self.proxy.set_plan(Plan::default());
        match status.code() {
            Some(0) => Outcome::Ok(std::fs::read_to_string(out).unwrap().trim().to_string()),
            Some(_) => Outcome::Failed(std::fs::read_to_string(err).unwrap().trim().to_string()),
            None => Outcome::Killed,
        }
    }

    /// Confirms a pending mass-deletion guard of device `d`: the deletes in this simulation are
    /// deliberate. Returns whether there was one.
    fn confirm_guard(&mut self, d: usize) -> bool {
        let Some(guard) = self.devs[d].status().guard else {
            return false;
        };
        let dir = match guard.direction {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
        };
        let r = self.devs[d].session().confirm_deletions(guard.direction);
        self.note(format!(
            "{}: confirm {dir} deletions ({} of {}): {}",
            self.devs[d].name,
            guard.deletions,
            guard.files,
            match r {
                Ok(s) => format!("pushed {} pulled {}", s.pushed, s.pulled),
                Err(e) => format!("failed: {e}"),
            }
        ));
        true
    }

    fn sync_step(&mut self, d: usize) {
        let (plan, kill_after) = self.plan();
        self.note(format!(
            "{}: sync, faults {:?}{}",
            self.devs[d].name,
            plan.faults,
            kill_after.map_or(String::new(), |k| format!(", kill after {k:?}"))
        ));
        let outcome = self.cli_sync(d, plan, kill_after);
        self.note(match outcome {
            Outcome::Ok(json) => format!("    ok {json}"),
            Outcome::Failed(e) => format!("    failed: {e}"),
            Outcome::Killed => "    killed".into(),
        });
        self.confirm_guard(d);
    }

    fn chaos(&mut self, steps: usize) {
        for _ in 0..steps {
            let d = self.rng.below(self.devs.len() as u64) as usize;
            match self.rng.below(100) {
                0..=54 => self.user_op(d),
                55..=96 => self.sync_step(d),
                _ => {
                    let graceful = self.rng.chance(50);
                    self.note(format!("server restart (graceful: {graceful})"));
                    self.server.lock().unwrap().restart(graceful);
                }
            }
        }
    }

    /// Syncs every device round-robin without faults until a whole round changes nothing.
    fn heal(&mut self) -> Result<(), String> {
        self.note("heal".into());
        self.proxy.set_plan(Plan::default());
        for _ in 0..10 {
            let mut quiet = true;
            for d in 0..self.devs.len() {
                let outcome = self.cli_sync(d, Plan::default(), None);
                let line = match outcome {
                    Outcome::Ok(json) => {
                        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
                        let moved = ["pushed", "pulled"]
                            .iter()
                            .any(|k| v[k].as_u64().unwrap_or(0) > 0);
                        let copies = ["keptBoth", "merged"]
                            .iter()
                            .any(|k| v[k].as_array().is_some_and(|a| !a.is_empty()));
                        quiet &= !moved && !copies;
                        format!("    {}: ok {json}", self.devs[d].name)
                    }
                    Outcome::Failed(e) => {
                        quiet = false;
                        format!("    {}: failed: {e}", self.devs[d].name)
                    }
                    Outcome::Killed => {
                        quiet = false;
                        format!("    {}: ended by a signal", self.devs[d].name)
                    }
                };
                self.note(line);
                if self.confirm_guard(d) {
                    quiet = false;
                }
            }
            if quiet {
                return Ok(());
            }
        }
        Err("the devices did not quiesce within 10 rounds".into())
    }

    /// The end-of-run invariants (see the module doc).
    fn check(&self) -> Result<(), String> {
        for d in &self.devs {
            let s = d.status();
            if s.unpushed_ops != 0 || s.guard.is_some() || !s.last_error.is_empty() {
                return Err(format!(
                    "{}: unpushed {}, guard {:?}, last error {:?}",
                    d.name,
                    s.unpushed_ops,
                    s.guard.map(|g| g.deletions),
                    s.last_error
                ));
            }
        }
        let first = self.devs[0].files();
        for d in &self.devs[1..] {
            let files = d.files();
            if files != first {
                return Err(format!(
                    "{} differs from {}:\n{}",
                    d.name,
                    self.devs[0].name,
                    diff(&first, &files)
                ));
            }
            if d.folders() != self.devs[0].folders() {
                return Err(format!(
                    "folders of {} {:?} differ from {} {:?}",
                    d.name,
                    d.folders(),
                    self.devs[0].name,
                    self.devs[0].folders()
                ));
            }
        }
        let mut present = BTreeSet::new();
        for path in first.keys() {
            let bytes = std::fs::read(self.devs[0].path(path)).unwrap();
            present.extend(tokens(&bytes));
            let mut base = path.clone();
            while let Some(origin) = conflict_origin(&base) {
                base = origin;
            }
            let file_name = base.rsplit('/').next().unwrap_or(&base);
            if !NAMES.contains(&file_name) {
                return Err(format!(
                    "{path} is neither a user's file name nor a conflict copy of one"
                ));
            }
        }
        let lost: Vec<&String> = self
            .added
            .difference(&self.dropped)
            .filter(|t| !present.contains(*t))
            .collect();
        if !lost.is_empty() {
            return Err(format!(
                "lost tokens {lost:?}; final files:\n{}",
                diff(&BTreeMap::new(), &first)
            ));
        }
        Ok(())
    }
}

fn diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (k, v) in a {
        if b.get(k) != Some(v) {
            out.push_str(&format!("  - {k}: {v:?}\n"));
        }
    }
    for (k, v) in b {
        if a.get(k) != Some(v) {
            out.push_str(&format!("  + {k}: {v:?}\n"));
        }
    }
    out
}

fn run_seed(seed: u64, steps: usize) -> Result<(), String> {
    let mut sim = Sim::new(seed);
    sim.chaos(steps);
    let result = sim.heal().and_then(|()| sim.check());
    let log = sim.log.lock().unwrap().join("\n");
    let count = |what: &str| log.matches(what).count();
    eprintln!(
        "seed {seed}: {} syncs ({} failed, {} killed), {} proxy faults, {} server restarts, {} merges, {} conflict copies",
        count(": sync, "),
        count("    failed: "),
        count("    killed"),
        count("    proxy: "),
        count("server restart (") + count(": RestartServer"),
        count("\"merged\":[\""),
        count("\"copyPath\""),
    );
    if std::env::var_os("SIM_FAULTS_LOG").is_some() {
        eprintln!("seed {seed} step log:\n{log}");
    }
    result.map_err(|e| format!("{e}\nstep log:\n{log}"))
}

fn env_num(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} is a number")))
}

#[test]
fn random_syncs_with_faults_converge_without_losing_versions() {
    let steps = env_num("SIM_FAULTS_STEPS").map_or(DEFAULT_STEPS, |n| n as usize);
    let seeds: Vec<u64> = match env_num("SIM_FAULTS_SEED") {
        Some(seed) => vec![seed],
        None => {
            let first = env_num("SIM_FAULTS_FIRST").unwrap_or(1);
            (first..first + env_num("SIM_FAULTS_SEEDS").unwrap_or(DEFAULT_SEEDS)).collect()
        }
    };
    for seed in seeds {
        let started = Instant::now();
        if let Err(e) = run_seed(seed, steps) {
            panic!(
                "simulation failed for seed {seed}; replay with SIM_FAULTS_SEED={seed} SIM_FAULTS_STEPS={steps}\n{e}"
            );
        }
        eprintln!("seed {seed}: {steps} steps in {:?}", started.elapsed());
    }
}

#[test]
fn conflict_copy_names_lead_back_to_their_file() {
    let cases = [
        ("n0 (conflict alpha 2026-07-21 1405).md", Some("n0.md")),
        (
            "a/b/x (conflict 3f9a0c1d 2026-07-21 1405 2).bin",
            Some("a/b/x.bin"),
        ),
        (
            "archive.tar (conflict laptop 2026-07-21 1405).gz",
            Some("archive.tar.gz"),
        ),
        (
            "Makefile (conflict laptop 2026-07-21 1405)",
            Some("Makefile"),
        ),
        (
            "n0 (conflict alpha 2026-07-21 1405) (conflict beta 2026-07-21 1406).md",
            Some("n0 (conflict alpha 2026-07-21 1405).md"),
        ),
        ("n0.md", None),
        ("n0 (conflict alpha 2026-07-21).md", None),
        ("n0 (conflict 2026-07-21 1405).md", None),
        ("n0 (conflict alpha 2026-07-21 1405 1).md", None),
    ];
    for (path, want) in cases {
        assert_eq!(conflict_origin(path).as_deref(), want, "{path}");
    }
}
