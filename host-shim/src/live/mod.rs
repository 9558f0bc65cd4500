//! Live sync: a change reaches the server, and the server's changes reach the vault, within
//! about a second, at near-zero idle cost. `watch` runs this loop headless; `serve` runs the
//! same loop beside the panel's bridge.
//!
//! The pieces, and what calls what:
//!
//! * [`fswatch`] watches the vault and sends the changed vault paths (or a gap) as [`Input`]s;
//! * [`stream`] keeps the server's event stream open and sends remote sequences, its own
//!   health and the server's closing reason as [`Input`]s;
//! * [`schedule::Schedule`] (pure) folds the inputs and says when to sync and what to scan;
//! * [`run`] (this file) is the one thread that owns the inputs' channel: it feeds the
//!   schedule, drops the engine's own writes ([`writes`]) before a run, runs the sync through
//!   a [`Syncer`] (`sync-changed` with the watched paths, or `sync-now` after a gap), and
//!   reports each run to an [`Observer`] (one printed line in `watch`, a pushed status in
//!   `serve`).
//!
//! The loop ends only when retrying is pointless until the user acts (the device was revoked,
//! the vault is not configured): [`Stopped`] carries the code.

pub(crate) mod fswatch;
pub(crate) mod schedule;
pub(crate) mod sse;
pub(crate) mod stream;
pub(crate) mod writes;

pub use writes::WriteLog;

use crate::bindings::SyncStatus;
use crate::bindings::exports::verstak::sync::sync_provider::SyncSummary;
use crate::session::Failure;
use crate::vault::VaultDirs;
use crate::watch;
use schedule::{Next, Reason, Schedule, SyncKind};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

/// What the watcher, the stream and the host tell the loop.
#[derive(Debug)]
pub enum Input {
    /// These vault paths changed.
    Changed(Vec<String>),
    /// The watcher may have missed changes.
    Gap,
    /// The server is at this sequence (another device pushed).
    Remote(i64),
    StreamUp,
    StreamDown,
    /// The server has no event stream (an older server).
    StreamAbsent,
    /// The server closed the stream with this code (revoked, blocked, shutting down).
    Closed(String),
    /// The pairing or the settings changed (the panel configured, disconnected, …): read the
    /// status again and resume if the loop was parked.
    Reconfigured,
}

/// Runs syncs for the loop: the CLI's `Session`, or the bridge in `serve`.
pub trait Syncer {
    /// `Changed` runs `sync-changed`, `Full` runs `sync-now`.
    fn sync(&mut self, paths: Option<&[String]>) -> Result<SyncSummary, Failure>;
    fn status(&mut self) -> Result<SyncStatus, Failure>;
}

/// One finished run, as the observer sees it.
pub struct Run<'a> {
    pub started: SystemTime,
    /// Why it ran: `start`, `local change`, `remote change`, `interval`, `hourly rescan`, `retry`.
    pub reason: &'static str,
    /// How many paths it scanned; `None` for a full scan.
    pub scanned: Option<usize>,
    pub result: &'a Result<SyncSummary, Failure>,
}

/// Told about each run and about notices worth one line.
pub trait Observer {
    fn finished(&self, run: &Run<'_>);
    fn notice(&self, text: &str);
}

/// Why the loop ended: retrying is pointless until the user acts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Stopped {
    /// `revoked`, `not_configured`, `not_permitted`, `memory_exceeded`.
    pub code: String,
    pub message: String,
}

/// How the loop runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Pull this often while the event stream is down, instead of the settings' interval;
    /// also the longest retry wait after failures.
    pub poll: Option<Duration>,
    /// `serve`: wait for [`Input::Reconfigured`] instead of ending on a terminal failure, and
    /// while the vault is not paired or auto-sync is off in the settings (interval 0; `watch`
    /// then uses the default interval instead: running it asks for auto-sync).
    pub park: bool,
}

/// The channel the loop reads; `serve` keeps a sender to tell it [`Input::Reconfigured`].
pub fn channel() -> (Sender<Input>, Receiver<Input>) {
    mpsc::channel()
}

struct Loop<'a, S: Syncer, O: Observer> {
    syncer: &'a mut S,
    observer: &'a O,
    dirs: &'a VaultDirs,
    writes: WriteLog,
    options: Options,
    schedule: Schedule,
    stream: stream::StreamShared,
    stream_started: bool,
    /// The server has no event stream: never ask again.
    stream_absent: bool,
    watcher: bool,
    parked: bool,
}

/// Runs the live loop until a terminal failure (or forever with `options.park`).
pub fn run<S: Syncer, O: Observer>(
    syncer: &mut S,
    observer: &O,
    dirs: &VaultDirs,
    writes: WriteLog,
    options: Options,
    (tx, rx): (Sender<Input>, Receiver<Input>),
) -> Stopped {
    writes.enable();
    let watcher = match fswatch::start(&dirs.root, tx.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            observer.notice(&format!(
                "cannot watch the vault ({e}); local changes are found on the interval only"
            ));
            None
        }
    };
    let now = Instant::now();
    let mut lp = Loop {
        syncer,
        observer,
        dirs,
        writes,
        schedule: Schedule::new(now, Duration::from_secs(300), 0),
        options,
        stream: stream::StreamShared::default(),
        stream_started: false,
        stream_absent: false,
        watcher: watcher.is_some(),
        parked: false,
    };
    lp.schedule.set_retry_cap(lp.options.poll);
    let status = lp.read_settings();
    lp.park_if_off(status.as_ref());
    let stopped = lp.drive(&tx, &rx);
    lp.stream.stop.store(true, Ordering::SeqCst);
    drop(watcher);
    stopped
}

impl<S: Syncer, O: Observer> Loop<'_, S, O> {
    /// Reads the interval (and whether there is anything to sync) from the local status.
    fn read_settings(&mut self) -> Option<SyncStatus> {
        let status = self.syncer.status().ok()?;
        let minutes = status.sync_interval;
        let interval = self
            .options
            .poll
            .unwrap_or_else(|| watch::next_delay(minutes, 0));
        self.schedule.set_interval(interval, minutes);
        Some(status)
    }

    /// `serve` only: nothing to do while unpaired, revoked or with auto-sync off.
    fn park_if_off(&mut self, status: Option<&SyncStatus>) {
        if !self.options.park {
            return;
        }
        let on = status.is_some_and(|s| s.configured && !s.revoked && s.sync_interval > 0);
        if !on && !self.parked {
            self.observer.notice(
                "auto-sync waits: the vault is not paired or auto-sync is off in the settings",
            );
        }
        self.parked = !on;
    }

    fn drive(&mut self, tx: &Sender<Input>, rx: &Receiver<Input>) -> Stopped {
        loop {
            while let Ok(input) = rx.try_recv() {
                self.apply(input);
            }
            let now = Instant::now();
            let next = if self.parked {
                Next::Wait(None)
            } else {
                self.schedule.poll(now)
            };
            let until = match next {
                Next::Wait(until) => until,
                Next::Sync(..) => {
                    if let Some(stopped) = self.sync_due(tx) {
                        if !self.options.park {
                            return stopped;
                        }
                        self.observer.notice(&format!(
                            "auto-sync paused: {stopped}; it resumes when the vault is configured again"
                        ));
                        self.parked = true;
                    }
                    continue;
                }
            };
            let input = match until {
                Some(t) => match rx.recv_timeout(t.saturating_duration_since(now)) {
                    Ok(i) => i,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => unreachable!("the loop holds a sender"),
                },
                None => rx.recv().expect("the loop holds a sender"),
            };
            self.apply(input);
        }
    }

    fn apply(&mut self, input: Input) {
        let now = Instant::now();
        match input {
            Input::Changed(paths) => self.schedule.handle_changed(now, paths),
            Input::Gap => self.schedule.handle_gap(now),
            Input::Remote(seq) => self.schedule.handle_remote(seq),
            // Without a watcher the interval must keep finding local changes.
            Input::StreamUp => self.schedule.handle_stream(now, self.watcher),
            Input::StreamDown => self.schedule.handle_stream(now, false),
            Input::StreamAbsent => {
                self.stream_absent = true;
                self.schedule.handle_stream(now, false);
                self.observer.notice(
                    "the server has no event stream (an older server): remote changes are pulled on the interval",
                );
            }
            Input::Closed(code) => {
                tracing::info!("the server closed the event stream: {code}");
                self.schedule.handle_stream(now, false);
                // Revoked or blocked: a sync lets the engine record why (a revoked device ends
                // the loop). A shutting-down server is simply reconnected to.
                if code != "server_shutdown" {
                    self.schedule.handle_remote(i64::MAX);
                }
            }
            Input::Reconfigured => {
                let was_parked = self.parked;
                self.parked = false;
                if !self.stream.running.load(Ordering::SeqCst) {
                    self.stream_started = false;
                }
                let status = self.read_settings();
                self.park_if_off(status.as_ref());
                if was_parked && !self.parked {
                    self.observer.notice("auto-sync resumed");
                    self.schedule.handle_gap(now);
                }
            }
        }
    }

    /// Runs the due sync, if it is still due once the engine's own writes are dropped.
    fn sync_due(&mut self, tx: &Sender<Input>) -> Option<Stopped> {
        let root = self.dirs.root.clone();
        let writes = self.writes.clone();
        self.schedule.retain_pending(|p| !writes.is_own(&root, p));
        let Next::Sync(mut kind, reason) = self.schedule.poll(Instant::now()) else {
            return None;
        };
        if !self.watcher {
            kind = SyncKind::Full;
        }
        self.writes.clear();
        self.schedule.handle_started(&kind);
        let started = SystemTime::now();
        let result = match &kind {
            SyncKind::Full => self.syncer.sync(None),
            SyncKind::Changed(paths) => self.syncer.sync(Some(paths)),
        };
        let now = Instant::now();
        self.schedule.handle_finished(
            now,
            &kind,
            result.as_ref().map(|s| s.server_sequence).map_err(|_| ()),
        );
        self.stream
            .cursor
            .store(self.schedule.cursor(), Ordering::SeqCst);
        self.observer.finished(&Run {
            started,
            reason: reason_str(reason),
            scanned: match &kind {
                SyncKind::Full => None,
                SyncKind::Changed(p) => Some(p.len()),
            },
            result: &result,
        });
        let status = self.read_settings();
        if let Err(e) = &result {
            let revoked = status.as_ref().is_some_and(|s| s.revoked);
            if watch::is_terminal(&e.code, revoked) {
                return Some(if revoked {
                    Stopped {
                        code: "revoked".into(),
                        message:
                            "this device was revoked on the server; pair it again with configure"
                                .into(),
                    }
                } else {
                    Stopped {
                        code: e.code.clone(),
                        message: e.message.clone(),
                    }
                });
            }
        } else if !self.stream_started && !self.stream_absent {
            // Paired and synced once: the token and the server's URL are on disk now.
            self.stream_started = true;
            stream::spawn(self.dirs.clone(), self.stream.clone(), tx.clone());
        }
        None
    }
}

fn reason_str(r: Reason) -> &'static str {
    r.as_str()
}
