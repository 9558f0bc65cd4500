//! When the live loop syncs, and how: a pure state machine over plain data and `Instant`s
//! (no clock, no IO), so every rule below has a table test.
//!
//! Inputs arrive through `handle_*`; [`Schedule::poll`] says what to do at `now`: start a sync
//! of some [`SyncKind`], or wait until a time (or for the next input).
//!
//! * **Local changes** (the file watcher): a sync [`DEBOUNCE`] after the last change of a
//!   burst, but at most [`MAX_DELAY`] after its first, so a thousand writes make a few syncs and
//!   an endless trickle still syncs every second. The run scans only the changed paths
//!   (`sync-changed`) when the watcher ran without a gap since the last completed sync.
//! * **Remote changes** (a `sequence` event newer than the last known server sequence): a sync
//!   at once; it scans only what the watcher saw (usually nothing), then pulls.
//! * **Gaps**: the start, a watcher overflow or error, more than [`MAX_PATHS`] changed paths, or
//!   a failed run make the next sync a full `sync-now`; so does the hourly safety rescan.
//! * **Interval**: only while the server's event stream is down (or absent), the settings'
//!   interval pulls as before; while it is up, an idle host makes no request but the stream.
//! * **Failures** back off as `watch::next_delay` says (1, 2, 4, 8, 15 minutes); triggers wait
//!   for the backoff, except that the stream coming back up proves the server reachable again.

use crate::watch;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Quiet time after the last local change before a sync starts.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(200);
/// The longest a local change waits while changes keep coming.
pub(crate) const MAX_DELAY: Duration = Duration::from_millis(1000);
/// A full rescan at least this often (the safety net, as Syncthing's hourly rescan).
pub(crate) const FULL_RESCAN: Duration = Duration::from_secs(3600);
/// More changed paths than this make a full sync (cheaper than a long path list).
pub(crate) const MAX_PATHS: usize = 10_000;

/// What a sync scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SyncKind {
    /// The whole vault (`sync-now`).
    Full,
    /// Only these paths (`sync-changed`); may be empty (a pull for a remote change).
    Changed(Vec<String>),
}

/// Why a sync starts (printed with its line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    Start,
    Local,
    Remote,
    Interval,
    Hourly,
    Retry,
}

impl Reason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Start => "start",
            Reason::Local => "local change",
            Reason::Remote => "remote change",
            Reason::Interval => "interval",
            Reason::Hourly => "hourly rescan",
            Reason::Retry => "retry",
        }
    }
}

/// What to do at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    Sync(SyncKind, Reason),
    /// Nothing is due before this time (`None`: only an input can change that).
    Wait(Option<Instant>),
}

#[derive(Debug)]
pub(crate) struct Schedule {
    pending: BTreeSet<String>,
    /// A change may have gone unseen: the next sync scans everything.
    gap: bool,
    first_change: Option<Instant>,
    last_change: Option<Instant>,
    remote_due: bool,
    /// The newest server sequence this device has synced to.
    cursor: i64,
    stream_up: bool,
    never_synced: bool,
    last_full: Instant,
    /// Where the fallback interval counts from: the last run's end or the stream's loss.
    interval_from: Instant,
    failures: u32,
    retry_at: Option<Instant>,
    /// The fallback pull interval while the stream is down.
    interval: Duration,
    /// The settings' interval in minutes, for the failure backoff.
    interval_min: u32,
    /// The longest retry wait after failures (`watch --poll`), if shorter than the backoff.
    retry_cap: Option<Duration>,
}

impl Schedule {
    pub(crate) fn new(now: Instant, interval: Duration, interval_min: u32) -> Schedule {
        Schedule {
            pending: BTreeSet::new(),
            gap: true,
            first_change: None,
            last_change: None,
            remote_due: false,
            cursor: 0,
            stream_up: false,
            never_synced: true,
            last_full: now,
            interval_from: now,
            failures: 0,
            retry_at: None,
            interval,
            interval_min,
            retry_cap: None,
        }
    }

    /// Retries after failures wait at most `cap` (`watch --poll`).
    pub(crate) fn set_retry_cap(&mut self, cap: Option<Duration>) {
        self.retry_cap = cap;
    }

    pub(crate) fn cursor(&self) -> i64 {
        self.cursor
    }

    #[cfg(test)]
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    #[cfg(test)]
    /// Paths waiting for the next sync (what the status shows as pending changes).
    pub(crate) fn pending(&self) -> &BTreeSet<String> {
        &self.pending
    }

    /// A new interval from the settings (minutes) or the command line.
    pub(crate) fn set_interval(&mut self, interval: Duration, interval_min: u32) {
        self.interval = interval;
        self.interval_min = interval_min;
    }

    /// The watcher saw these vault paths change.
    pub(crate) fn handle_changed(&mut self, now: Instant, paths: impl IntoIterator<Item = String>) {
        let before = self.pending.len();
        let mut any = false;
        for p in paths {
            any = true;
            self.pending.insert(p);
        }
        // A repeated write to a pending path still extends the burst: the file is being written.
        if self.pending.len() > before || (any && self.first_change.is_some()) {
            self.first_change.get_or_insert(now);
            self.last_change = Some(now);
        }
        if self.pending.len() > MAX_PATHS {
            self.pending.clear();
            self.gap = true;
        }
    }

    /// The watcher overflowed or failed: changes may have gone unseen.
    pub(crate) fn handle_gap(&mut self, now: Instant) {
        self.gap = true;
        self.first_change.get_or_insert(now);
        self.last_change = Some(now);
    }

    /// Drops pending paths that turned out to need no sync (the engine's own writes).
    pub(crate) fn retain_pending(&mut self, keep: impl FnMut(&String) -> bool) {
        self.pending.retain(keep);
        if self.pending.is_empty() && !self.gap {
            self.first_change = None;
            self.last_change = None;
        }
    }

    /// The server reached `seq` (a `sequence` event).
    pub(crate) fn handle_remote(&mut self, seq: i64) {
        if seq > self.cursor {
            self.remote_due = true;
        }
    }

    /// The event stream is connected (`true`) or down (`false`).
    pub(crate) fn handle_stream(&mut self, now: Instant, up: bool) {
        if up && !self.stream_up {
            // Connected again: the server is reachable, so a failed run is retried now rather
            // than after the backoff. What others pushed meanwhile needs nothing here: the
            // stream resumes from the cursor and opens with the newer sequence.
            self.retry_at = None;
        }
        if !up && self.stream_up {
            // The interval fallback starts counting when the stream goes away.
            self.interval_from = now;
        }
        self.stream_up = up;
    }

    #[cfg(test)]
    /// True when local changes wait for a sync (for the status).
    pub(crate) fn has_local_changes(&self) -> bool {
        !self.pending.is_empty() || (self.gap && self.first_change.is_some())
    }

    fn local_due(&self) -> Option<Instant> {
        let (first, last) = (self.first_change?, self.last_change?);
        Some((last + DEBOUNCE).min(first + MAX_DELAY))
    }

    /// What is due at `now`.
    pub(crate) fn poll(&self, now: Instant) -> Next {
        let kind = |full: bool| {
            if full || self.gap {
                SyncKind::Full
            } else {
                SyncKind::Changed(self.pending.iter().cloned().collect())
            }
        };
        let hourly = self.last_full + FULL_RESCAN;
        let mut due: Vec<(Instant, Reason, bool)> = vec![(hourly, Reason::Hourly, true)];
        if self.never_synced {
            due.push((now, Reason::Start, true));
        }
        if self.remote_due {
            due.push((now, Reason::Remote, false));
        }
        if let Some(at) = self.local_due() {
            due.push((at, Reason::Local, false));
        }
        if !self.stream_up {
            due.push((self.interval_from + self.interval, Reason::Interval, false));
        }
        let Some(&(at, mut reason, full)) = due.iter().min_by_key(|(at, _, _)| *at) else {
            return Next::Wait(None);
        };
        let at = match self.retry_at {
            Some(retry) if retry > at => {
                reason = Reason::Retry;
                retry
            }
            _ => at,
        };
        if at > now {
            return Next::Wait(Some(at));
        }
        Next::Sync(kind(full || hourly <= now), reason)
    }

    /// A sync of `kind` starts: what it covers is no longer pending.
    pub(crate) fn handle_started(&mut self, kind: &SyncKind) {
        if let SyncKind::Changed(paths) = kind {
            for p in paths {
                self.pending.remove(p);
            }
        } else {
            self.pending.clear();
        }
        self.gap = false;
        self.remote_due = false;
        self.first_change = None;
        self.last_change = None;
    }

    /// The sync ended: `Ok(server sequence)` or a failure.
    pub(crate) fn handle_finished(
        &mut self,
        now: Instant,
        kind: &SyncKind,
        result: Result<i64, ()>,
    ) {
        self.interval_from = now;
        match result {
            Ok(seq) => {
                self.never_synced = false;
                self.cursor = self.cursor.max(seq);
                self.failures = 0;
                self.retry_at = None;
                if *kind == SyncKind::Full {
                    self.last_full = now;
                }
            }
            Err(()) => {
                // What the failed run covered may be half done: scan everything next time.
                self.gap = true;
                self.first_change.get_or_insert(now);
                self.last_change.get_or_insert(now);
                self.failures += 1;
                let backoff = watch::next_delay(self.interval_min, self.failures);
                let wait = self.retry_cap.map_or(backoff, |cap| backoff.min(cap));
                self.retry_at = Some(now + wait);
            }
        }
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
