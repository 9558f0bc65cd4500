//! Compacted joins (docs/compacted-joins.md) through the real host, component and server
//! binary: a vault edited over fifty rounds (with a delete, a rename, a file created and
//! deleted) is joined by a new device and caught up by one that slept through half of it.
//! Both end with the writer's files byte for byte, without conflict copies, and the new device
//! pulls about one op per live file instead of the whole history.

mod common;

use common::device::{Device, VAULT, conflict_copies, setup};

const NOTES: usize = 30;
const ROUNDS: usize = 50;

fn note(i: usize, round: usize) -> String {
    format!("# Note {i}\n\nround {round}\n{}\n", "text ".repeat(i + 1))
}

#[test]
fn devices_join_a_vault_after_fifty_edit_rounds_with_identical_files() {
    let (server, devs) = setup(&["writer", "sleeper"]);
    let (w, sleeper) = (&devs[0], &devs[1]);
    for i in 0..NOTES {
        w.write(&format!("Notes/n{i:02}.md"), note(i, 0));
    }
    w.write("Other/old.md", "old");
    w.sync();
    sleeper.sync();
    for round in 1..=ROUNDS {
        for i in (0..NOTES).filter(|i| (i + round) % 3 != 0) {
            let path = if i == 5 && round > 20 {
                "Moved/n05.md".to_string()
            } else {
                format!("Notes/n{i:02}.md")
            };
            w.write(&path, note(i, round));
        }
        match round {
            10 => w.remove("Other/old.md"),
            20 => w.rename("Notes/n05.md", "Moved/n05.md"),
            30 => w.write("tmp.md", "short-lived"),
            31 => w.remove("tmp.md"),
            _ => {}
        }
        w.sync();
        if round == ROUNDS / 2 {
            sleeper.sync();
        }
    }
    let want = w.files();
    assert!(want.contains_key("Moved/n05.md") && !want.contains_key("Notes/n05.md"));
    assert!(!want.contains_key("Other/old.md") && !want.contains_key("tmp.md"));

    let fresh = Device::new("fresh");
    fresh.configure(&server.url(), "ann", VAULT);
    let joined = fresh.sync();
    assert_eq!(fresh.files(), want);
    assert!(conflict_copies(&fresh).is_empty());
    // Every op of the history is about 1,000; a compacted join pulls each live file's latest
    // op, plus at most the last 100 sequences in full (history.compact_min_backlog).
    let live = want.len() as u64;
    assert!(
        joined.pulled <= live + 100,
        "pulled {} ops for {live} files",
        joined.pulled
    );
    assert!(joined.server_sequence > 900, "{}", joined.server_sequence);

    let caught_up = sleeper.sync();
    assert_eq!(sleeper.files(), want);
    assert!(conflict_copies(sleeper).is_empty());
    assert!(
        caught_up.pulled <= live + 100,
        "pulled {}",
        caught_up.pulled
    );

    // And everyone keeps converging afterwards.
    fresh.write("Notes/n01.md", "edited on the new device\n");
    fresh.sync();
    w.sync();
    sleeper.sync();
    assert_eq!(w.read("Notes/n01.md"), "edited on the new device\n");
    assert_eq!(sleeper.files(), w.files());
}
