//! Issue 12: `sync-changed(paths)` scans only the hinted paths and decides the same as a full
//! scan when the hint holds exactly the changed paths; a bad or oversized hint falls back to a
//! full scan.

use std::collections::{BTreeMap, BTreeSet};

use super::vault::Node;
use super::{Rng, Sim};
use crate::engine::event::Action;
use crate::engine::saved::SavedState;

fn quiet(seed: u64) -> Sim {
    let mut sim = Sim::new(seed, 2);
    sim.faults = false;
    sim
}

const DIRS: [&str; 5] = ["", "a/", "a/b/", "c/", "c/d/e/"];
const NAMES: [&str; 6] = ["n0.md", "n1.md", "x.dat", "y.md", ".DS_Store", "t.tmp"];

fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from[rng.below(from.len() as u64) as usize]
}

/// One random change to device `d`'s vault, the way a user makes it.
fn change(sim: &mut Sim, d: usize, rng: &mut Rng, n: u64) {
    let v = &mut sim.devs[d].vault;
    let nodes: Vec<String> = v.nodes.keys().cloned().collect();
    let some = |rng: &mut Rng| {
        nodes
            .get(rng.below(nodes.len().max(1) as u64) as usize)
            .cloned()
    };
    let fresh = format!("{}{}", pick(rng, &DIRS), pick(rng, &NAMES));
    let text = format!("line {n}\n");
    match rng.below(9) {
        0..=2 => {
            let _ = v.put(&fresh, text.into_bytes());
        }
        3 | 4 => {
            if let Some(p) = some(rng)
                && matches!(v.nodes.get(&p), Some(Node::File(..)))
            {
                let _ = v.put(&p, format!("edited {n}\n").into_bytes());
            }
        }
        5 => {
            if let Some(p) = some(rng) {
                let under = format!("{p}/");
                v.nodes.retain(|k, _| *k != p && !k.starts_with(&under));
            }
        }
        6 => {
            // A rename (of a file or a folder with what is inside).
            if let Some(p) = some(rng) {
                let to = format!("r{n}");
                let under = format!("{p}/");
                let moved: Vec<(String, Node)> = v
                    .nodes
                    .iter()
                    .filter(|(k, _)| **k == p || k.starts_with(&under))
                    .map(|(k, n)| (format!("{to}{}", &k[p.len()..]), n.clone()))
                    .collect();
                v.nodes.retain(|k, _| *k != p && !k.starts_with(&under));
                v.nodes.extend(moved);
            }
        }
        7 => {
            // A file replaced by a folder with a file inside.
            if let Some(p) = some(rng)
                && matches!(v.nodes.get(&p), Some(Node::File(..)))
            {
                v.nodes.remove(&p);
                let _ = v.put(&format!("{p}/inner.md"), text.into_bytes());
            }
        }
        _ => {
            let dir = format!("{}new{n}", pick(rng, &DIRS));
            let _ = v.put(&format!("{dir}/deep/f.md"), text.into_bytes());
        }
    }
}

/// The paths whose node differs between two vault states: what an exact watcher reports.
fn changed(before: &BTreeMap<String, Node>, after: &BTreeMap<String, Node>) -> Vec<String> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect()
}

/// The decisions of a run, without what legitimately differs between two runs: the journal
/// generation and the warning text.
fn decided(st: &SavedState) -> SavedState {
    let mut st = st.clone();
    st.journal = 0;
    st.last_warning.clear();
    st
}

#[test]
fn a_hint_with_exactly_the_changed_paths_decides_as_a_full_scan() {
    let seeds: Vec<u64> = match std::env::var("SEED") {
        Ok(s) => vec![s.parse().expect("SEED is a number")],
        Err(_) => (1..=30).collect(),
    };
    for seed in seeds {
        // Two identical worlds: one syncs with hints, the other with full scans.
        let (mut hinted, mut full) = (quiet(seed), quiet(seed));
        let mut rngs = (Rng(seed), Rng(seed));
        for round in 0..8u64 {
            let before = hinted.devs[0].vault.nodes.clone();
            let count = 1 + rngs.0.below(6);
            rngs.1.below(6);
            for i in 0..count {
                let n = round * 100 + i;
                change(&mut hinted, 0, &mut rngs.0, n);
                change(&mut full, 0, &mut rngs.1, n);
            }
            // Device 1 edits too, so the runs also pull and merge.
            if round % 3 == 1 {
                for sim in [&mut hinted, &mut full] {
                    sim.write_user(1, &format!("from1/{round}.md"), "remote\n");
                    sim.act(1, Action::Sync).unwrap();
                }
            }
            let paths = changed(&before, &hinted.devs[0].vault.nodes);
            let a = hinted.act(0, Action::SyncChanged(paths.clone()));
            let b = full.act(0, Action::Sync);
            let ctx = format!("seed {seed} round {round} hint {paths:?}");
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{ctx}");
            let (sa, sb) = (
                decided(hinted.devs[0].engine.state().unwrap()),
                decided(full.devs[0].engine.state().unwrap()),
            );
            assert_eq!(sa.local, sb.local, "{ctx}");
            assert_eq!(sa, sb, "{ctx}");
            assert_eq!(hinted.server.ops, full.server.ops, "{ctx}");
            assert_eq!(
                hinted.devs[0].vault.nodes, full.devs[0].vault.nodes,
                "{ctx}"
            );
        }
    }
}

#[test]
fn a_hint_lists_only_the_hinted_folders() {
    let mut sim = quiet(1);
    for dir in ["a", "b", "c", "d"] {
        for i in 0..5 {
            sim.write_user(0, &format!("{dir}/n{i}.md"), &format!("{dir} {i}\n"));
        }
    }
    sim.act(0, Action::Sync).unwrap();
    sim.write_user(0, "b/n1.md", "b 1 edited\n");
    let k = sim.command_kinds(0, Action::SyncChanged(vec!["b/n1.md".into()]));
    let lists = k.iter().filter(|k| **k == "ListDir").count();
    assert_eq!(lists, 1, "only b/ is listed: {k:?}");
    assert_eq!(k.iter().filter(|k| **k == "HashFile").count(), 1, "{k:?}");
    assert_eq!(sim.server.ops.last().unwrap().entity_id, "b/n1.md");

    // An empty hint scans nothing and still pulls and pushes.
    let k = sim.command_kinds(0, Action::SyncChanged(vec![]));
    assert!(!k.contains(&"ListDir"), "{k:?}");
    assert!(k.contains(&"Http"), "{k:?}");
}

#[test]
fn an_invalid_or_oversized_hint_scans_everything() {
    let mut sim = quiet(1);
    for i in 0..5 {
        sim.write_user(0, &format!("d{i}/n.md"), &format!("{i}\n"));
    }
    sim.act(0, Action::Sync).unwrap();
    sim.write_user(0, "d3/n.md", "changed\n");
    // An invalid path: the whole vault is listed (root + five folders), the change found.
    let bad = vec!["../outside".to_string(), "d0/n.md".into()];
    let k = sim.command_kinds(0, Action::SyncChanged(bad));
    assert_eq!(k.iter().filter(|k| **k == "ListDir").count(), 6, "{k:?}");
    assert_eq!(sim.server.ops.last().unwrap().entity_id, "d3/n.md");
    // Too many paths for a vault this size.
    sim.write_user(0, "d4/n.md", "changed\n");
    let many: Vec<String> = (0..65).map(|i| format!("nothing/{i}")).collect();
    let k = sim.command_kinds(0, Action::SyncChanged(many));
    assert_eq!(k.iter().filter(|k| **k == "ListDir").count(), 6, "{k:?}");
    assert_eq!(sim.server.ops.last().unwrap().entity_id, "d4/n.md");
}
