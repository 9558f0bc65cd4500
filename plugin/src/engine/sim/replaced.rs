//! Issue 13 stories: a synced local version that a pulled edit overwrites is listed in the
//! status (`replaced`), written before the overwrite; a local edit that was never synced is
//! merged or kept as a conflict copy instead, and never listed.

use super::Sim;
use super::conflicts::status;
use crate::engine::command::Command;
use crate::engine::event::{Action, Event};
use crate::engine::hash::ContentHash;
use crate::engine::replaced_list::REPLACED_KEY;
use crate::engine::replaced_list::Replaced;

fn quiet(devices: usize) -> Sim {
    let mut sim = Sim::new(1, devices);
    sim.faults = false;
    sim
}

fn replaced(sim: &mut Sim, d: usize) -> Vec<Replaced> {
    status(sim, d).replaced
}

fn sha(text: &str) -> String {
    ContentHash::of(text.as_bytes()).as_str().to_string()
}

/// `n.md` with `v1` on both devices, synced.
fn shared(sim: &mut Sim) {
    sim.write_user(0, "n.md", "v1\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    assert_eq!(sim.devs[1].vault.files()["n.md"], b"v1\n");
}

#[test]
fn a_pulled_edit_over_the_synced_version_is_listed() {
    let mut sim = quiet(2);
    shared(&mut sim);
    let a = status(&mut sim, 0).device_id;
    sim.write_user(0, "n.md", "v2\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    assert_eq!(sim.devs[1].vault.files()["n.md"], b"v2\n");
    let got = replaced(&mut sim, 1);
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert_eq!(
        (
            r.path.as_str(),
            r.sha256.clone(),
            r.size,
            r.by_device.clone()
        ),
        ("n.md", sha("v1\n"), 3, a)
    );
    let v2 = sim.server.ops.last().unwrap().server_sequence;
    assert_eq!(r.version, v2, "the version that replaced it");
    assert!(r.at_ms > 0);
    assert!(
        replaced(&mut sim, 0).is_empty(),
        "the editing device replaced nothing"
    );
    // The list survives later syncs that replace nothing.
    sim.sync(1).unwrap();
    assert_eq!(replaced(&mut sim, 1), got);
}

#[test]
fn two_versions_in_one_pull_replace_twice_newest_first() {
    let mut sim = quiet(2);
    shared(&mut sim);
    sim.write_user(0, "n.md", "v2\n");
    sim.sync(0).unwrap();
    sim.write_user(0, "n.md", "v3\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    assert_eq!(sim.devs[1].vault.files()["n.md"], b"v3\n");
    let got = replaced(&mut sim, 1);
    let shas: Vec<_> = got.iter().map(|r| r.sha256.clone()).collect();
    assert_eq!(shas, [sha("v2\n"), sha("v1\n")], "newest first");
    assert!(got[0].version > got[1].version, "{got:?}");
}

#[test]
fn an_unsynced_local_edit_is_merged_or_kept_never_listed() {
    let mut sim = quiet(2);
    shared(&mut sim);
    sim.write_user(0, "n.md", "v1\nfrom a\n");
    sim.sync(0).unwrap();
    sim.write_user(1, "n.md", "from b\nv1\n");
    sim.sync(1).unwrap();
    assert!(
        replaced(&mut sim, 1).is_empty(),
        "a merge replaces no synced version"
    );

    sim.write_user(0, "m.md", "base\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    sim.write_user(0, "m.md", "mine\n");
    sim.sync(0).unwrap();
    sim.write_user(1, "m.md", "theirs\n");
    sim.sync(1).unwrap();
    assert!(
        !status(&mut sim, 1).conflicts.is_empty(),
        "kept as a conflict copy"
    );
    assert!(
        replaced(&mut sim, 1).is_empty(),
        "a conflict keeps a copy instead"
    );
}

#[test]
fn the_entry_is_durable_before_the_file_is_overwritten() {
    let mut sim = quiet(2);
    shared(&mut sim);
    sim.write_user(0, "n.md", "v2\n");
    sim.sync(0).unwrap();
    let d = 1;
    sim.devs[d]
        .engine
        .handle(sim.now, Event::Start(Action::Sync));
    let mut seen = Vec::new();
    loop {
        let cmd = sim.devs[d].engine.poll_command().expect("not stalled");
        match &cmd {
            Command::StorageWrite {
                key, durable: true, ..
            } if key == REPLACED_KEY => seen.push("list".to_string()),
            Command::WriteFile { path, .. } | Command::CommitStage { to: path, .. } => {
                seen.push(format!("write {path}"))
            }
            _ => {}
        }
        if let Command::Finished(r) = cmd {
            r.unwrap();
            break;
        }
        let id = cmd.id().unwrap();
        let dev = &mut sim.devs[d];
        let result = dev.vault.exec(&cmd, &mut sim.server);
        dev.engine.handle(sim.now, Event::Reply { id, result });
    }
    assert_eq!(seen, ["list", "write n.md"]);
}
