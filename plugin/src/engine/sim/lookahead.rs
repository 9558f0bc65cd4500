//! Issue 17: a guarded pull fetches every page once (pages past the memory budget are set
//! aside in storage during the look-ahead), and the incoming mass-deletion guard still sees
//! every delete of a window before anything of it is applied.

use std::collections::BTreeSet;

use super::Sim;
use crate::engine::event::Action;
use crate::engine::guard::Direction;

/// `devices` devices whose look-ahead windows hold `ops` ops and `bytes` payload bytes in
/// memory (pages of 3 ops: the fake server's cap).
fn windowed(devices: usize, ops: usize, bytes: usize) -> Sim {
    let mut sim = Sim::new(1, devices);
    sim.faults = false;
    sim.small_windows(ops, bytes);
    sim
}

/// The pulls device `d` made since `from` (an index into the server's pull log): the
/// `since_sequence` of each, and the ops served in all.
fn pulls_of(sim: &Sim, d: usize, from: usize) -> (Vec<i64>, usize) {
    let device = &sim.server.devices[d].id;
    let mine: Vec<_> = sim.server.pulls[from..]
        .iter()
        .filter(|(dev, _, _)| dev == device)
        .collect();
    (
        mine.iter().map(|(_, since, _)| *since).collect(),
        mine.iter().map(|(_, _, n)| n).sum(),
    )
}

fn notes(sim: &mut Sim, d: usize, dir: &str, n: usize) {
    for i in 0..n {
        sim.write_user(
            d,
            &format!("{dir}/n{i:02}.md"),
            &format!("{dir} note {i}\n"),
        );
    }
}

#[test]
fn a_long_guarded_pull_fetches_every_page_once() {
    // Windows of 12 ops, 200 bytes in memory: most pages are set aside, and 40 files take
    // several windows.
    let mut sim = windowed(2, 12, 200);
    notes(&mut sim, 0, "a", 40);
    sim.act(0, Action::Sync).unwrap();
    let ops = sim.server.ops.len();
    assert!(ops >= 40);

    let from = sim.server.pulls.len();
    let s = sim.act(1, Action::Sync).unwrap();
    assert_eq!(s.pulled as usize, ops);
    let (sinces, served) = pulls_of(&sim, 1, from);
    let unique: BTreeSet<i64> = sinces.iter().copied().collect();
    assert_eq!(
        unique.len(),
        sinces.len(),
        "a page fetched twice: {sinces:?}"
    );
    assert_eq!(served, ops, "ops served for {ops} ops: {sinces:?}");
    assert_eq!(sim.devs[1].vault.files(), sim.devs[0].vault.files());
    let left: Vec<_> = sim.devs[1]
        .vault
        .storage
        .keys()
        .filter(|k| k.starts_with("pull-page-"))
        .collect();
    assert!(left.is_empty(), "set-aside pages left behind: {left:?}");
}

/// Device 0 adds fifteen notes and deletes the twenty old ones (confirming its own guard), so
/// device 1's pull has the deletes after more than a memory budget of creates.
fn creates_then_mass_delete(sim: &mut Sim) {
    notes(sim, 0, "keep", 20);
    sim.act(0, Action::Sync).unwrap();
    sim.act(1, Action::Sync).unwrap();
    notes(sim, 0, "new", 15);
    sim.act(0, Action::Sync).unwrap();
    for i in 0..20 {
        sim.devs[0].vault.nodes.remove(&format!("keep/n{i:02}.md"));
    }
    let _ = sim.act(0, Action::Sync);
    sim.act(0, Action::ConfirmDeletions(Direction::Outgoing))
        .unwrap();
    sim.dropped
        .extend((0..20).map(|i| format!("keep note {i}")));
}

#[test]
fn deletes_past_the_memory_budget_are_counted_before_anything_is_applied() {
    let mut sim = windowed(2, 10_000, 200);
    creates_then_mass_delete(&mut sim);
    let from = sim.server.pulls.len();
    let s = sim.act(1, Action::Sync).unwrap();
    let guard = s.guard.expect("the incoming guard holds the deletes");
    assert_eq!(
        (guard.direction, guard.deletions),
        (Direction::Incoming, 20)
    );
    let files = sim.devs[1].vault.files();
    assert_eq!(files.keys().filter(|p| p.starts_with("keep/")).count(), 20);
    assert_eq!(
        files.keys().filter(|p| p.starts_with("new/")).count(),
        0,
        "nothing of the held pull is applied"
    );
    let (sinces, _) = pulls_of(&sim, 1, from);
    let unique: BTreeSet<i64> = sinces.iter().copied().collect();
    assert_eq!(unique.len(), sinces.len(), "{sinces:?}");
    let left = sim.devs[1]
        .vault
        .storage
        .keys()
        .filter(|k| k.starts_with("pull-page-"))
        .count();
    assert_eq!(left, 0, "a held window leaves nothing set aside");

    sim.act(1, Action::ConfirmDeletions(Direction::Incoming))
        .unwrap();
    assert_eq!(sim.devs[1].vault.files(), sim.devs[0].vault.files());
}

#[test]
fn windows_past_the_first_count_on() {
    // Windows of 12 ops: the twenty deletes come in later windows, and are held once the
    // count over the whole pull reaches the guard's threshold.
    let mut sim = windowed(2, 12, 600);
    creates_then_mass_delete(&mut sim);
    let s = sim.act(1, Action::Sync).unwrap();
    assert_eq!(s.guard.map(|g| g.direction), Some(Direction::Incoming));
    let kept = sim.devs[1]
        .vault
        .files()
        .keys()
        .filter(|p| p.starts_with("keep/"))
        .count();
    assert!((10..20).contains(&kept), "{kept} of 20 kept");
}

#[test]
fn files_created_and_deleted_within_one_pull_do_not_trip_the_guard() {
    let mut sim = windowed(2, 12, 600);
    sim.write_user(0, "stay.md", "stays\n");
    notes(&mut sim, 0, "tmp", 20);
    sim.act(0, Action::Sync).unwrap();
    for i in 0..20 {
        sim.devs[0].vault.nodes.remove(&format!("tmp/n{i:02}.md"));
    }
    let _ = sim.act(0, Action::Sync);
    sim.act(0, Action::ConfirmDeletions(Direction::Outgoing))
        .unwrap();
    sim.dropped.extend((0..20).map(|i| format!("tmp note {i}")));

    // A new device reads the whole history in several windows: the deletes only remove what
    // this same pull created, so nothing it had is at risk.
    let s = sim.act(1, Action::Sync).unwrap();
    assert_eq!(s.guard, None);
    assert_eq!(sim.devs[1].vault.files(), sim.devs[0].vault.files());
}

#[test]
fn a_look_ahead_that_fails_leaves_nothing_set_aside() {
    let mut sim = windowed(2, 10_000, 200);
    notes(&mut sim, 0, "a", 30);
    sim.act(0, Action::Sync).unwrap();
    // Device 1 loses the server in the middle of its look-ahead: after a few pages.
    let d = 1;
    sim.devs[d]
        .engine
        .handle(sim.now, crate::engine::event::Event::Start(Action::Sync));
    let mut pulls = 0;
    let outcome = loop {
        let Some(cmd) = sim.devs[d].engine.poll_command() else {
            // Waiting out a retry back-off.
            let at = sim.devs[d]
                .engine
                .poll_timeout()
                .expect("waits for something");
            sim.now = sim.now.max(at);
            sim.devs[d]
                .engine
                .handle(sim.now, crate::engine::event::Event::Timeout);
            continue;
        };
        if let crate::engine::command::Command::Finished(r) = cmd {
            break r;
        }
        let id = cmd.id().unwrap();
        let is_pull = matches!(&cmd, crate::engine::command::Command::Http { request, .. }
            if request.path == verstak_sync_proto::paths::PULL);
        pulls += usize::from(is_pull);
        let result = if is_pull && pulls > 4 {
            Err(crate::engine::event::IoError::Network(
                "server unreachable".into(),
            ))
        } else {
            sim.devs[d].vault.exec(&cmd, &mut sim.server)
        };
        sim.devs[d]
            .engine
            .handle(sim.now, crate::engine::event::Event::Reply { id, result });
    };
    assert!(outcome.is_err());
    let left = sim.devs[d]
        .vault
        .storage
        .keys()
        .filter(|k| k.starts_with("pull-page-"))
        .count();
    assert_eq!(left, 0);
    assert!(sim.devs[d].vault.files().is_empty(), "nothing applied");
    sim.act(d, Action::Sync).unwrap();
    assert_eq!(sim.devs[1].vault.files(), sim.devs[0].vault.files());
}
