//! Issue 14 item 1: identical content never produces a conflict copy, whatever made the engine
//! read the remote history again (a re-pair, a revoke and reconnect, a lost engine state, a
//! state restored from a backup). Each story ends with the same bytes everywhere and no copy.

use super::server::PASSWORD;
use super::{Sim, config};
use crate::engine::event::Action;
use crate::engine::journal::{JOURNAL_KEY, STATE_KEY};
use crate::engine::machine::Engine;

fn quiet(devices: usize) -> Sim {
    let mut sim = Sim::new(1, devices);
    sim.faults = false;
    sim
}

fn copies(sim: &Sim, d: usize) -> Vec<String> {
    let files = sim.devs[d].vault.files();
    files
        .into_keys()
        .filter(|p| p.contains("(conflict "))
        .collect()
}

/// The engine state's documents (snapshot, journal) of device `d`, as a backup holds them.
fn backup(sim: &Sim, d: usize) -> (Option<String>, Option<String>) {
    let storage = &sim.devs[d].vault.storage;
    (
        storage.get(STATE_KEY).cloned(),
        storage.get(JOURNAL_KEY).cloned(),
    )
}

/// Device `d` restarts with `state` as its engine state's documents (`None`: the snapshot is
/// lost, and the journal left behind must not be taken for a state).
fn restart_with(sim: &mut Sim, d: usize, state: Option<(Option<String>, Option<String>)>) {
    let dev = &mut sim.devs[d];
    let (snapshot, journal) = match state {
        Some(docs) => docs,
        None => (None, dev.vault.storage.get(JOURNAL_KEY).cloned()),
    };
    for (key, doc) in [(STATE_KEY, &snapshot), (JOURNAL_KEY, &journal)] {
        match doc {
            Some(s) => dev.vault.storage.insert(key.into(), s.clone()),
            None => dev.vault.storage.remove(key),
        };
    }
    dev.restarts += 1;
    let cfg = config(d, dev.restarts, 1);
    dev.engine = Engine::new(cfg, snapshot.as_deref(), journal.as_deref()).unwrap();
}

/// Lines the stories overwrite on purpose (not losses for `Sim::check`).
fn overwritten(sim: &mut Sim, lines: &[&str]) {
    sim.dropped.extend(lines.iter().map(|l| l.to_string()));
}

/// Asserts no device holds a conflict copy and all hold the same files.
fn converged_without_copies(sim: &mut Sim) {
    sim.quiesce();
    sim.check().unwrap();
    for d in 0..sim.devs.len() {
        assert_eq!(copies(sim, d), Vec::<String>::new(), "device {d}");
    }
}

/// Text and binary files with two versions each (the binary one cannot be merged).
fn two_versions(sim: &mut Sim, d: usize) {
    sim.write_user(d, "n.md", "v1\n");
    sim.write_user(d, "Pics/p.dat", "\0one\n");
    sim.sync(d).unwrap();
    sim.write_user(d, "n.md", "v2\n");
    sim.write_user(d, "Pics/p.dat", "\0two\n");
    sim.sync(d).unwrap();
    overwritten(sim, &["v1", "\0one", "\0two"]);
}

#[test]
fn re_pairing_the_same_vault_adopts_identical_files() {
    let mut sim = quiet(2);
    two_versions(&mut sim, 0);
    sim.sync(1).unwrap();
    sim.act(0, Action::ResetKey).unwrap();
    sim.act(0, sim.configure(PASSWORD)).unwrap();
    let s = sim.sync(0).unwrap();
    assert!(s.kept_both.is_empty(), "{:?}", s.kept_both);
    assert_eq!(s.pushed, 0, "nothing new to publish");
    converged_without_copies(&mut sim);
}

#[test]
fn a_revoked_device_that_pairs_again_adopts_identical_files() {
    let mut sim = quiet(2);
    two_versions(&mut sim, 0);
    sim.sync(1).unwrap();
    sim.server.devices[1].revoked = true;
    assert!(sim.act(1, Action::Sync).is_err());
    sim.act(1, sim.configure(PASSWORD)).unwrap();
    let s = sim.sync(1).unwrap();
    assert!(s.kept_both.is_empty(), "{:?}", s.kept_both);
    converged_without_copies(&mut sim);
}

#[test]
fn a_lost_engine_state_adopts_identical_files() {
    let mut sim = quiet(2);
    two_versions(&mut sim, 0);
    sim.sync(1).unwrap();
    restart_with(&mut sim, 1, None);
    let s = sim.sync(1).unwrap();
    assert!(s.kept_both.is_empty(), "{:?}", s.kept_both);
    converged_without_copies(&mut sim);
}

#[test]
fn a_state_restored_from_a_backup_adopts_identical_files() {
    let mut sim = quiet(2);
    sim.write_user(0, "n.md", "v1\n");
    sim.write_user(0, "p.dat", "\0one\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    let backup = backup(&sim, 1);
    for v in ["two", "three"] {
        sim.write_user(0, "n.md", &format!("v1\n{v}\n"));
        sim.write_user(0, "p.dat", &format!("\0{v}\n"));
        sim.sync(0).unwrap();
    }
    sim.sync(1).unwrap();
    overwritten(&mut sim, &["two", "\0one", "\0two", "\0three"]);
    restart_with(&mut sim, 1, Some(backup));
    let s = sim.sync(1).unwrap();
    assert!(s.kept_both.is_empty(), "{:?}", s.kept_both);
    converged_without_copies(&mut sim);
}

/// Without a look-ahead (an unguarded pull fetches page by page), the older version still
/// makes a copy first; once the later, identical version arrives, the unpublished copy goes.
#[test]
fn a_copy_made_before_the_identical_version_arrived_is_dropped() {
    let mut sim = quiet(2);
    sim.write_user(0, "n.md", "v1\n");
    sim.write_user(0, "p.dat", "\0one\n");
    sim.sync(0).unwrap();
    for i in 0..6 {
        sim.write_user(0, &format!("f{i}.md"), "filler\n");
    }
    sim.sync(0).unwrap();
    sim.write_user(0, "n.md", "v2\n");
    sim.write_user(0, "p.dat", "\0two\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    overwritten(&mut sim, &["v1", "\0one", "\0two"]);
    restart_with(&mut sim, 1, None);
    // A decision for the incoming direction makes this run's pull go page by page.
    let s = sim
        .act(
            1,
            Action::ConfirmDeletions(crate::engine::guard::Direction::Incoming),
        )
        .unwrap();
    assert!(s.kept_both.is_empty(), "{:?}", s.kept_both);
    assert_eq!(copies(&sim, 1), Vec::<String>::new());
    converged_without_copies(&mut sim);
}

/// A device that lost its state reads its own old ops back: they prove its files are versions
/// the server had, so a newer version from another device replaces them without a copy.
#[test]
fn a_lost_state_recognizes_its_own_versions() {
    let mut sim = quiet(2);
    two_versions(&mut sim, 0);
    sim.sync(1).unwrap();
    sim.write_user(1, "n.md", "v3\n");
    sim.write_user(1, "Pics/p.dat", "\0three\n");
    sim.sync(1).unwrap();
    overwritten(&mut sim, &["v2", "\0three"]);
    restart_with(&mut sim, 0, None);
    let s = sim.sync(0).unwrap();
    assert!(s.kept_both.is_empty(), "{:?}", s.kept_both);
    assert_eq!(sim.devs[0].vault.files()["n.md"], b"v3\n");
    converged_without_copies(&mut sim);
}
