//! Issue 14 item 2: one remote op that cannot be applied locally never stalls the vault. It
//! is set aside with a warning naming it, everything else keeps syncing, and it is retried on
//! later syncs.

use super::Sim;
use crate::engine::machine::Engine;
use crate::engine::saved::SavedState;

fn quiet(devices: usize) -> Sim {
    let mut sim = Sim::new(1, devices);
    sim.faults = false;
    sim
}

fn state(sim: &Sim, d: usize) -> SavedState {
    sim.devs[d].engine.state().unwrap().clone()
}

fn warning(sim: &Sim, d: usize) -> String {
    state(sim, d).last_warning
}

#[test]
fn a_name_too_long_here_is_set_aside_and_applied_once_it_fits() {
    let mut sim = quiet(2);
    sim.devs[1].vault.max_name = Some(255);
    // 200 Cyrillic letters: 400 bytes, legal where names count characters.
    let long = format!("Заметки/{}.md", "я".repeat(200));
    sim.write_user(0, &long, "long\n");
    sim.write_user(0, "ok.md", "fine\n");
    sim.sync(0).unwrap();

    let s = sim.sync(1).unwrap();
    assert!(s.skipped >= 1, "{s:?}");
    assert!(sim.devs[1].vault.files().contains_key("ok.md"));
    assert!(warning(&sim, 1).contains(&long), "{}", warning(&sim, 1));
    assert_eq!(state(&sim, 1).set_aside.len(), 1);

    // Local edits keep being pushed, and remote ones keep arriving.
    sim.write_user(1, "mine.md", "from one\n");
    assert_eq!(sim.sync(1).unwrap().pushed, 1);
    sim.write_user(0, "ok.md", "fine\nagain\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    assert_eq!(sim.devs[1].vault.files()["ok.md"], b"fine\nagain\n");
    assert_eq!(
        state(&sim, 1).set_aside.len(),
        1,
        "tried again, still aside"
    );

    // The state (with its set-aside list) survives a restart.
    let json = state(&sim, 1).to_json();
    let engine = Engine::new(super::config(1, 9, 1), Some(&json), None).unwrap();
    assert_eq!(engine.state().unwrap().set_aside.len(), 1);

    // The condition changes: the next sync applies it.
    sim.devs[1].vault.max_name = None;
    sim.sync(1).unwrap();
    assert_eq!(sim.devs[1].vault.files()[&long], b"long\n");
    assert!(state(&sim, 1).set_aside.is_empty());
    assert_eq!(warning(&sim, 1), "");
    sim.quiesce();
    sim.check().unwrap();
}

#[test]
fn names_with_control_or_bidi_characters_are_never_written() {
    let mut sim = quiet(2);
    let bad = [
        "two\nlines.md",
        "cr\r.md",
        "evil\u{202E}gpj.exe",
        "Dir\n/x.md",
    ];
    for b in bad {
        sim.write_user(0, b, "x\n");
    }
    sim.write_user(0, "ok.md", "fine\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    let files = sim.devs[1].vault.files();
    assert_eq!(files.keys().collect::<Vec<_>>(), ["ok.md"]);
    assert!(
        !sim.devs[1].vault.nodes.keys().any(|k| k.contains('\n')),
        "no folder either"
    );
    assert!(warning(&sim, 1).contains("set aside"));
    // Still refused on the next sync, which otherwise works.
    sim.write_user(1, "mine.md", "one\n");
    assert_eq!(sim.sync(1).unwrap().pushed, 1);
    assert_eq!(
        state(&sim, 1).set_aside.len(),
        bad.len() + 1,
        "with the folder"
    );
}
