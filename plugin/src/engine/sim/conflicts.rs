//! Conflicts are never silent (issue 14 item 5): every conflict copy a run keeps is listed in
//! the status (which copy is local, the other device, when) until it is dismissed or the copy
//! is gone, and a run's counts are true (`pushed` sent, `pulled` received from others).
//! [`check_conflicts`] is also the random simulation's invariant.

use std::collections::BTreeSet;

use super::Sim;
use crate::engine::conflict_list::Conflict;
use crate::engine::event::Action;
use crate::engine::status::Status;

fn quiet(devices: usize) -> Sim {
    let mut sim = Sim::new(1, devices);
    sim.faults = false;
    sim
}

pub(super) fn status(sim: &mut Sim, d: usize) -> Status {
    sim.answer(d, Action::Status).expect("status").status()
}

fn conflicts(sim: &mut Sim, d: usize) -> Vec<Conflict> {
    status(sim, d).conflicts
}

/// Whether the schedule in `sim.log` deleted, renamed or moved `path` or a folder above it,
/// so that a copy there may rightly be unlisted: a copy the user deleted is resolved, and an
/// edit elsewhere that wins over the delete brings it back as a plain file.
fn touched(sim: &Sim, path: &str) -> bool {
    let under = |dir: &str| path == dir || path.starts_with(&format!("{dir}/"));
    sim.log.iter().any(|line| {
        let words: Vec<&str> = line.splitn(3, ' ').collect();
        match words.as_slice() {
            [_, "delete", p] => under(p),
            [_, "rename", rest] | ["desktop", "move", rest] => rest.split(" -> ").any(&under),
            ["desktop", "trash", p] => under(p),
            _ => false,
        }
    })
}

/// Every conflict a device lists has its copy in that device's vault, and every conflict copy
/// in the (converged) vaults that no user or desktop op deleted or moved is listed by the
/// device that made it.
pub(super) fn check_conflicts(sim: &mut Sim) -> Result<(), String> {
    let mut listed = BTreeSet::new();
    for d in 0..sim.devs.len() {
        let files = sim.devs[d].vault.files();
        for c in conflicts(sim, d) {
            if !files.contains_key(&c.copy_path) {
                return Err(format!("device {d} lists {c:?}, but the copy is gone"));
            }
            listed.insert(c.copy_path);
        }
    }
    if std::env::var("SIM_STATS").is_ok() {
        eprintln!("listed {}", listed.len());
    }
    for d in 0..sim.devs.len() {
        for path in sim.devs[d].vault.files().keys() {
            if path.contains(" (conflict ") && !listed.contains(path) && !touched(sim, path) {
                return Err(format!("the conflict copy {path:?} is listed nowhere"));
            }
        }
    }
    Ok(())
}

#[test]
fn one_new_file_is_one_sent_and_one_received_elsewhere() {
    let mut sim = quiet(2);
    sim.write_user(0, "n.md", "hello\n");
    let s = sim.sync(0).unwrap();
    assert_eq!((s.pushed, s.pulled), (1, 0), "its own echo is not received");
    let s = sim.sync(1).unwrap();
    assert_eq!((s.pushed, s.pulled), (0, 1));
    let s = sim.sync(0).unwrap();
    assert_eq!((s.pushed, s.pulled), (0, 0));
    assert!(conflicts(&mut sim, 0).is_empty() && conflicts(&mut sim, 1).is_empty());
}

#[test]
fn a_kept_local_version_is_listed_until_dismissed() {
    let mut sim = quiet(2);
    sim.write_user(0, "n.md", "base\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    sim.write_user(0, "n.md", "zero\n");
    sim.write_user(1, "n.md", "one\n");
    sim.sync(0).unwrap();
    let s = sim.sync(1).unwrap();
    assert_eq!(
        (s.pushed, s.pulled),
        (1, 1),
        "the copy sent, device 0's edit received"
    );
    let copy = s.kept_both[0].copy_path.clone();
    let other = status(&mut sim, 0).device_id;
    let list = conflicts(&mut sim, 1);
    assert_eq!(list.len(), 1, "{list:?}");
    let c = &list[0];
    assert_eq!(
        (c.path.as_str(), c.copy_path.as_str()),
        ("n.md", copy.as_str())
    );
    assert!(c.local_is_copy, "device 1's version went to the copy");
    assert_eq!(c.remote_device_id, other);
    assert!(c.at.starts_with("2026-07-21T14:05:"), "{}", c.at);
    // It stays through later runs, and the device that won lists nothing.
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    assert_eq!(conflicts(&mut sim, 1), list);
    assert!(conflicts(&mut sim, 0).is_empty());
    check_conflicts(&mut sim).unwrap();

    sim.act(1, Action::DismissConflicts(vec!["unknown".into()]))
        .unwrap();
    assert_eq!(
        conflicts(&mut sim, 1).len(),
        1,
        "unknown ids change nothing"
    );
    sim.act(1, Action::DismissConflicts(vec![c.id.clone()]))
        .unwrap();
    assert!(conflicts(&mut sim, 1).is_empty());
    sim.sync(1).unwrap();
    assert!(
        conflicts(&mut sim, 1).is_empty(),
        "a dismissed conflict stays dismissed"
    );
    assert!(
        sim.devs[1].vault.files().contains_key(&copy),
        "the files stay"
    );
}

#[test]
fn a_deleted_copy_resolves_its_conflict() {
    let mut sim = quiet(2);
    sim.write_user(0, "n.md", "base\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    sim.write_user(0, "n.md", "zero\n");
    sim.write_user(1, "n.md", "one\n");
    sim.sync(0).unwrap();
    let copy = sim.sync(1).unwrap().kept_both[0].copy_path.clone();
    assert_eq!(conflicts(&mut sim, 1).len(), 1);
    // The user keeps device 0's version: the copy is deleted, on the other device even.
    sim.sync(0).unwrap();
    sim.devs[0].vault.nodes.remove(&copy);
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    assert!(!sim.devs[1].vault.files().contains_key(&copy));
    assert!(conflicts(&mut sim, 1).is_empty());
}

#[test]
fn an_incoming_version_kept_as_a_copy_is_listed_as_the_remote_one() {
    let mut sim = quiet(2);
    // Device 0 publishes a file where device 1 has a folder of the same name.
    sim.write_user(0, "x.md", "file\n");
    sim.write_user(1, "x.md/inner.md", "inside\n");
    sim.sync(0).unwrap();
    let s = sim.sync(1).unwrap();
    assert_eq!(s.kept_both.len(), 1, "{s:?}");
    let list = conflicts(&mut sim, 1);
    assert_eq!(list.len(), 1);
    assert!(
        !list[0].local_is_copy,
        "the incoming version went to the copy"
    );
    assert_eq!(list[0].path, "x.md");
    assert_eq!(list[0].copy_path, s.kept_both[0].copy_path);
    sim.sync(0).unwrap();
    check_conflicts(&mut sim).unwrap();
}
