//! Live sync (issue 12) through the real CLI (`watch`), the real component and the real
//! server binary: changes travel without any manual sync, through the file watcher and the
//! server's event stream, or the interval when the stream is unavailable; a burst of writes
//! makes a few syncs; server restarts and dropped streams lose nothing; a revoked device's
//! `watch` stops with `revoked` (exit status 3).
//!
//! Deadlines here only bound a hang; speed is measured by `scripts/bench.sh`.

mod common;

use common::device::{Device, PASSWORD, VAULT, conflict_copies, setup};
use common::host_cli;
use common::server::Server;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(120);

/// `verstak-sync-host watch` for one device, its standard error collected line by line.
struct Watch {
    name: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Watch {
    /// Starts `watch` and waits for its first sync.
    fn start(d: &Device, args: &[&str]) -> Watch {
        Watch::run(d, &[&["watch"], args].concat())
    }

    /// Starts `serve` (no page opens it) and waits for its live loop's first sync.
    fn serve(d: &Device) -> Watch {
        Watch::run(d, &["serve", "--port", "0"])
    }

    fn run(d: &Device, args: &[&str]) -> Watch {
        let mut child = host_cli(d.root())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let w = Watch {
            name: d.name.clone(),
            child,
            lines,
        };
        w.wait_line("(start, full scan)");
        w
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The lines of finished syncs.
    fn syncs(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains(": pushed ") || l.contains(": sync failed"))
            .collect()
    }

    fn wait_line(&self, needle: &str) {
        wait_for(&format!("{}: a line with {needle:?}", self.name), || {
            self.lines().iter().any(|l| l.contains(needle))
        });
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{}: watch did not stop: {:#?}",
                self.name,
                self.lines()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn has(d: &Device, rel: &str, content: &str) -> bool {
    std::fs::read_to_string(d.path(rel)).is_ok_and(|c| c == content)
}

fn token(d: &Device) -> String {
    std::fs::read_to_string(
        d.root()
            .join(".verstak/plugin-data/verstak.sync/engine/device-token.json"),
    )
    .unwrap()
    .trim()
    .to_string()
}

#[test]
fn edits_travel_both_ways_through_the_watcher_and_the_event_stream() {
    let (_server, devices) = setup(&["a", "b"]);
    let (a, b) = (&devices[0], &devices[1]);
    // No --poll: the interval is minutes, so only the stream can bring a change in seconds.
    let wa = Watch::start(a, &[]);
    let wb = Watch::start(b, &[]);

    a.write("notes/one.md", "from a");
    wait_for("one.md on b", || has(b, "notes/one.md", "from a"));
    // The file lands before the run that wrote it prints its line.
    wait_for("b's pull because the stream told it", || {
        wb.syncs()
            .iter()
            .any(|l| !l.contains("pulled 0") && l.contains("(remote change"))
    });
    // B can pull and print before A's run, whose push B pulled, prints its own line.
    wait_for("a scanned only what the watcher saw", || {
        wa.syncs()
            .iter()
            .any(|l| l.contains("(local change, ") && !l.contains("full scan"))
    });

    b.write("notes/one.md", "from a, edited on b");
    wait_for("b's edit on a", || {
        has(a, "notes/one.md", "from a, edited on b")
    });
    a.remove("notes/one.md");
    wait_for("the delete on b", || !b.exists("notes/one.md"));
    assert!(conflict_copies(a).is_empty() && conflict_copies(b).is_empty());
    for w in [&wa, &wb] {
        assert!(
            w.syncs().iter().all(|l| !l.contains("sync failed")),
            "{:#?}",
            w.lines()
        );
    }
}

/// Holds one event stream of `d` open (the server's per-user limit is 1 in the test).
fn hold_stream(server: &Server, d: &Device) -> TcpStream {
    let mut s = TcpStream::connect(&server.addr).unwrap();
    write!(
        s,
        "GET /api/v1/sync/events HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nAccept: text/event-stream\r\n\r\n",
        server.addr,
        token(d)
    )
    .unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200", "the blocking stream is open");
    s
}

#[test]
fn without_the_stream_the_watcher_and_the_interval_carry_a_change() {
    let server = Server::start_with_config("events:\n  max_streams_per_user: 1\n");
    server.add_user("ann", PASSWORD);
    let devices: Vec<Device> = ["a", "b", "other"].iter().map(|n| Device::new(n)).collect();
    for d in &devices {
        d.configure(&server.url(), "ann", VAULT);
    }
    let (a, b) = (&devices[0], &devices[1]);
    // Another device holds the user's only stream: both hosts get 429 and fall back.
    let _held = hold_stream(&server, &devices[2]);
    let _wa = Watch::start(a, &["--poll", "1"]);
    let wb = Watch::start(b, &["--poll", "1"]);

    a.write("x.md", "no stream needed");
    wait_for("x.md on b", || has(b, "x.md", "no stream needed"));
    wait_for("b's pull on the interval", || {
        wb.syncs()
            .iter()
            .any(|l| !l.contains("pulled 0") && l.contains("(interval"))
    });
}

#[test]
fn a_burst_of_1000_writes_is_coalesced_into_a_few_syncs() {
    let (_server, devices) = setup(&["a", "b"]);
    let (a, b) = (&devices[0], &devices[1]);
    let wa = Watch::start(a, &[]);
    let before = wa.syncs().len();
    for i in 0..1000 {
        a.write(&format!("burst/{i:04}.md"), format!("line {i}"));
    }
    let pushed = |w: &Watch| -> u64 {
        w.syncs()
            .iter()
            .filter_map(|l| {
                l.split("pushed ")
                    .nth(1)?
                    .split(',')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    };
    wait_for("all 1000 files pushed", || pushed(&wa) >= 1000);
    let syncs = wa.syncs().len() - before;
    assert!(
        (1..=10).contains(&syncs),
        "1000 writes made {syncs} syncs: {:#?}",
        wa.lines()
    );
    b.sync();
    assert_eq!(
        b.files().keys().filter(|p| p.starts_with("burst/")).count(),
        1000
    );
}

#[test]
fn server_restarts_and_dropped_streams_lose_nothing() {
    let (mut server, devices) = setup(&["a", "b"]);
    let (a, b) = (&devices[0], &devices[1]);
    // No --poll: with an interval of minutes, only a stream that reconnects (and then resumes
    // from the cursor) brings the changes over in time.
    let wa = Watch::start(a, &[]);
    let wb = Watch::start(b, &[]);
    a.write("before.md", "1");
    wait_for("before.md on b", || has(b, "before.md", "1"));

    // Killed: the streams drop without a word; writes on both sides while it is down.
    server.restart_same_port(false, || {
        a.write("while-down-a.md", "2");
        b.write("while-down-b.md", "3");
    });
    wait_for("both files on both sides", || {
        has(b, "while-down-a.md", "2") && has(a, "while-down-b.md", "3")
    });
    // Stopped gracefully: the streams are closed with `server_shutdown`.
    server.restart_same_port(true, || a.write("after-shutdown.md", "4"));
    a.write("after-restart.md", "5");
    wait_for("the last files on b", || {
        has(b, "after-shutdown.md", "4") && has(b, "after-restart.md", "5")
    });
    b.write("last.md", "6");
    wait_for("last.md on a", || has(a, "last.md", "6"));
    assert_eq!(a.files(), b.files());
    assert!(conflict_copies(a).is_empty() && conflict_copies(b).is_empty());
    for w in [&wa, &wb] {
        assert!(
            w.syncs().iter().all(|l| !l.contains("(interval")),
            "no interval pull was needed: {:#?}",
            w.lines()
        );
    }
}

#[test]
fn a_revoked_devices_watch_stops_with_revoked() {
    let (server, devices) = setup(&["a", "b"]);
    let (a, b) = (&devices[0], &devices[1]);
    let _wa = Watch::start(a, &[]);
    let mut wb = Watch::start(b, &[]);
    let body = serde_json::json!({"device_id": b.status().device_id, "password": PASSWORD});
    let (status, reply) = server.post(
        "/api/client/revoke-device",
        Some(&token(a)),
        &body.to_string(),
    );
    assert_eq!(status, 200, "{reply}");
    let exit = wb.wait_exit();
    assert_eq!(exit.code(), Some(3), "{:#?}", wb.lines());
    assert!(
        wb.lines().last().is_some_and(|l| l.contains("revoked")),
        "{:#?}",
        wb.lines()
    );
    assert!(b.status().revoked);
}

#[test]
fn serve_syncs_live_with_no_page_open() {
    let (_server, devices) = setup(&["a", "b"]);
    let (a, b) = (&devices[0], &devices[1]);
    b.session().set_interval(5).unwrap(); // Auto-sync on, as the panel's checkbox sets it
    let sb = Watch::serve(b);
    a.write("from-a.md", "pulled by serve");
    a.sync();
    wait_for("from-a.md on b", || has(b, "from-a.md", "pulled by serve"));
    b.write("from-b.md", "pushed by serve");
    wait_for("b's push", || {
        sb.syncs()
            .iter()
            .any(|l| l.contains("pushed 1") && l.contains("(local change"))
    });
    a.sync();
    assert!(has(a, "from-b.md", "pushed by serve"));
}
