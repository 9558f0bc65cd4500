//! Issue 14 stories: a guard's warning goes with the guard, progress never goes backwards, a
//! hostile server's endless pull is bounded, and a blob that fails verification leaves no
//! staged bytes.

use super::Sim;
use crate::engine::event::Action;
use crate::engine::guard::Direction;

fn quiet(devices: usize) -> Sim {
    let mut sim = Sim::new(1, devices);
    sim.faults = false;
    sim
}

/// Device 0 deletes twelve synced files: the outgoing guard holds them.
fn held_outgoing(sim: &mut Sim) {
    for i in 0..12 {
        sim.write_user(0, &format!("f{i}.md"), &format!("x{i}\n"));
    }
    sim.act(0, Action::Sync).unwrap();
    sim.act(1, Action::Sync).unwrap();
    for i in 0..12 {
        sim.devs[0].vault.nodes.remove(&format!("f{i}.md"));
    }
    let err = sim.act(0, Action::Sync).unwrap_err();
    assert_eq!(err.to_string(), "mass deletion awaiting confirmation");
    let warning = sim.devs[0].engine.status().last_warning;
    assert!(
        warning.starts_with("mass deletion awaiting confirmation"),
        "{warning}"
    );
}

#[test]
fn keeping_the_files_clears_the_outgoing_guard_warning_for_good() {
    let mut sim = quiet(2);
    held_outgoing(&mut sim);
    sim.act(0, Action::RestoreDeletions(Direction::Outgoing))
        .unwrap();
    let st = sim.devs[0].engine.status();
    assert_eq!((st.guard, st.last_warning.as_str()), (None, ""));
    assert_eq!(sim.devs[0].vault.files().len(), 12, "the files are back");
    sim.act(0, Action::Sync).unwrap();
    assert_eq!(sim.devs[0].engine.status().last_warning, "");
}

#[test]
fn keeping_the_files_clears_the_incoming_guard_warning_for_good() {
    let mut sim = quiet(2);
    held_outgoing(&mut sim);
    sim.act(0, Action::ConfirmDeletions(Direction::Outgoing))
        .unwrap();
    let held = sim.act(1, Action::Sync).unwrap();
    assert!(held.guard.is_some());
    assert!(
        sim.devs[1]
            .engine
            .status()
            .last_warning
            .starts_with("mass deletion awaiting confirmation")
    );
    sim.act(1, Action::RestoreDeletions(Direction::Incoming))
        .unwrap();
    let st = sim.devs[1].engine.status();
    assert_eq!((st.guard, st.last_warning.as_str()), (None, ""));
    sim.act(1, Action::Sync).unwrap();
    assert_eq!(sim.devs[1].engine.status().last_warning, "");
    assert_eq!(sim.devs[1].vault.files().len(), 12, "the files are kept");
}
