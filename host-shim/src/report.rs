//! What the CLI prints for people: the status, a sync summary, the held deletions, the
//! conflicts, and a live progress line.

use crate::bindings::SyncStatus;
use crate::bindings::exports::verstak::sync::sync_provider::{
    Conflict, Direction, Guard, SyncSummary,
};
use crate::state::ProgressHandle;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn or_dash(v: &str) -> &str {
    if v.is_empty() { "-" } else { v }
}

pub fn print_status(s: &SyncStatus) {
    println!("Status:      {}", s.status_label);
    println!("Server:      {}", or_dash(&s.server_url));
    let device = if s.device_id.is_empty() {
        "-".to_string()
    } else {
        format!("{} ({})", s.device_name, s.device_id)
    };
    println!("Device:      {device}");
    println!("Vault:       {}", or_dash(&s.effective_vault_id));
    println!("Last sync:   {}", or_dash(&s.last_sync_at));
    println!("Pending:     {} local change(s)", s.unpushed_ops);
    let interval = if s.sync_interval == 0 {
        "off".to_string()
    } else {
        format!("every {} min", s.sync_interval)
    };
    println!("Auto-sync:   {interval}");
    if !s.last_error.is_empty() {
        println!("Last error:  {}", s.last_error);
    }
    if !s.last_warning.is_empty() {
        println!("Warning:     {}", s.last_warning);
    }
    if let Some(g) = &s.guard {
        println!(
            "Held:        {} deletion(s) of {} file(s) await confirmation",
            g.deletions, g.files
        );
    }
    for line in conflict_lines(&s.conflicts, false) {
        println!("{line}");
    }
    if let Some(newest) = s.replaced.first() {
        // Briefly: the newest one and how to get it back; the panel lists them all.
        println!(
            "Replaced:    {} local file(s) by other devices' edits, newest {} (by {}, version {}); `history PATH` keeps the old version",
            s.replaced.len(),
            newest.path,
            or_dash(&newest.by_device),
            newest.version
        );
    }
}

/// `N conflict(s)` as a heading.
fn conflicts_count(n: usize) -> String {
    if n == 1 {
        "1 conflict".into()
    } else {
        format!("{n} conflicts")
    }
}

/// One conflict in words: which version went where, the other device and when.
fn conflict_text(c: &Conflict) -> String {
    let whose = if c.local_is_copy {
        "this device's version"
    } else {
        "the other device's version"
    };
    let device = if c.remote_device_id.is_empty() {
        "another device"
    } else {
        &c.remote_device_id
    };
    format!(
        "{} — {whose} kept as '{}' (with {device}, {})",
        c.path, c.copy_path, c.at
    )
}

/// The conflicts as lines (none when there are none); `ids` puts each id first, for
/// `conflicts dismiss ID`.
fn conflict_lines(list: &[Conflict], ids: bool) -> Vec<String> {
    let item = |c: &Conflict| {
        if ids {
            format!("{}  {}", c.id, conflict_text(c))
        } else {
            conflict_text(c)
        }
    };
    match list {
        [] => vec![],
        [one] if !ids => vec![format!("1 conflict: {}", item(one))],
        many => {
            let mut lines = vec![format!("{}:", conflicts_count(many.len()))];
            lines.extend(many.iter().map(|c| format!("  {}", item(c))));
            lines
        }
    }
}

/// What `conflicts` shows: each listed conflict with its id, or that there are none.
pub fn print_conflicts(list: &[Conflict]) {
    if list.is_empty() {
        println!("no conflicts");
        return;
    }
    for line in conflict_lines(list, true) {
        println!("{line}");
    }
    println!(
        "  `conflicts dismiss ID…` or `conflicts dismiss --all` removes them from the list; the files stay"
    );
}

/// `trash`: one line per trashed file, newest first, and how to restore.
pub fn print_trash(list: &[crate::trash::TrashEntry]) {
    if list.is_empty() {
        println!("the trash is empty");
        return;
    }
    for e in list {
        println!(
            "{}  {}  {}  ({} bytes)",
            e.id,
            e.trashed_at(),
            e.path,
            e.size
        );
    }
    println!("  `trash restore ID…` moves them back; the next sync uploads them");
}

pub fn print_summary(s: &SyncSummary) {
    println!(
        "synced: pushed {}, pulled {}, server sequence {}",
        s.pushed, s.pulled, s.server_sequence
    );
    for m in &s.merged {
        println!("  merged  {m}");
    }
    for k in &s.kept_both {
        println!("  kept both  {} and {}", k.path, k.copy_path);
    }
    if s.skipped > 0 {
        println!(
            "  skipped {} change(s) this engine does not understand",
            s.skipped
        );
    }
    if let Some(g) = &s.guard {
        println!(
            "  held {} deletion(s) of {} file(s): review them with `deletions`",
            g.deletions, g.files
        );
    }
}

/// What `deletions` shows: the held deletions and the two ways out, or that nothing is held.
pub fn print_held(guard: Option<&Guard>) {
    for line in held_lines(guard) {
        println!("{line}");
    }
}

fn held_lines(guard: Option<&Guard>) -> Vec<String> {
    let Some(g) = guard else {
        return vec!["no deletions are held".into()];
    };
    let what = match g.direction {
        Direction::Outgoing => format!(
            "held (outgoing): {} file(s) deleted here, of {} synced file(s), are not deleted on the server yet",
            g.deletions, g.files
        ),
        Direction::Incoming => format!(
            "held (incoming): the server deletes {} of the {} file(s) here; nothing was deleted yet",
            g.deletions, g.files
        ),
    };
    vec![
        what,
        "  `deletions confirm` applies the deletions; `deletions restore` keeps the files".into(),
    ]
}

/// The line before the summary of `deletions confirm` / `deletions restore`.
pub fn print_resolved(guard: &Guard, confirm: bool) {
    println!("{}", resolved_line(guard, confirm));
}

fn resolved_line(g: &Guard, confirm: bool) -> String {
    let direction = match g.direction {
        Direction::Outgoing => "outgoing",
        Direction::Incoming => "incoming",
    };
    if confirm {
        format!("confirmed {} {direction} deletion(s)", g.deletions)
    } else {
        format!("restored: kept {} file(s) ({direction})", g.deletions)
    }
}

/// `HH:MM:SS` UTC, for log lines.
pub fn clock(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// A thread that redraws one progress line on stderr until stopped.
pub struct ProgressLine {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl ProgressLine {
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        eprint!("\r\x1b[2K");
    }
}

pub fn spawn_progress_line(progress: ProgressHandle) -> ProgressLine {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            if let Some(p) = progress.latest() {
                eprint!(
                    "\r\x1b[2K{} {}/{} files, {}",
                    p.phase,
                    p.done,
                    p.total,
                    human_bytes(p.bytes)
                );
                let _ = std::io::stderr().flush();
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    ProgressLine { stop, thread }
}

/// `watch`'s output: one line per sync on standard error (the journal under systemd).
pub struct WatchLines;

impl crate::live::Observer for WatchLines {
    fn finished(&self, run: &crate::live::Run<'_>) {
        let scanned = match run.scanned {
            None => "full scan".to_string(),
            Some(1) => "1 path".to_string(),
            Some(n) => format!("{n} paths"),
        };
        match run.result {
            Ok(s) => eprintln!(
                "{}: pushed {}, pulled {}, server sequence {} ({}, {scanned})",
                clock(run.started),
                s.pushed,
                s.pulled,
                s.server_sequence,
                run.reason
            ),
            Err(e) => eprintln!(
                "{}: sync failed ({}: {}); retrying with backoff ({}, {scanned})",
                clock(run.started),
                e.code,
                e.message,
                run.reason
            ),
        }
    }

    fn notice(&self, text: &str) {
        eprintln!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_clock_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
        assert_eq!(
            clock(UNIX_EPOCH + Duration::from_secs(3 * 3600 + 4 * 60 + 5)),
            "03:04:05Z"
        );
    }

    #[test]
    fn conflicts_read_well() {
        let c = |path: &str, local_is_copy| Conflict {
            id: "c_0123456789abcdef".into(),
            path: path.into(),
            copy_path: "n (conflict laptop 2026-12-05 2300).md".into(),
            local_is_copy,
            remote_device_id: "dev_other".into(),
            at: "2026-12-05T23:00:00Z".into(),
        };
        assert!(conflict_lines(&[], false).is_empty());
        assert_eq!(
            conflict_lines(&[c("n.md", true)], false),
            [
                "1 conflict: n.md — this device's version kept as 'n (conflict laptop 2026-12-05 2300).md' (with dev_other, 2026-12-05T23:00:00Z)"
            ]
        );
        let two = conflict_lines(&[c("n.md", true), c("m.md", false)], false);
        assert_eq!(two[0], "2 conflicts:");
        assert!(two[2].starts_with("  m.md — the other device's version kept as"));
        let with_ids = conflict_lines(&[c("n.md", true)], true);
        assert_eq!(with_ids[0], "1 conflict:");
        assert!(with_ids[1].starts_with("  c_0123456789abcdef  n.md — "));
    }

    #[test]
    fn held_deletions_read_well() {
        assert_eq!(held_lines(None), ["no deletions are held"]);
        let out = Guard {
            direction: Direction::Outgoing,
            deletions: 12,
            files: 14,
        };
        assert_eq!(
            held_lines(Some(&out))[0],
            "held (outgoing): 12 file(s) deleted here, of 14 synced file(s), are not deleted on the server yet"
        );
        let inc = Guard {
            direction: Direction::Incoming,
            ..out
        };
        assert_eq!(
            held_lines(Some(&inc))[0],
            "held (incoming): the server deletes 12 of the 14 file(s) here; nothing was deleted yet"
        );
        assert_eq!(
            resolved_line(&out, true),
            "confirmed 12 outgoing deletion(s)"
        );
        assert_eq!(
            resolved_line(&inc, false),
            "restored: kept 12 file(s) (incoming)"
        );
    }
}
