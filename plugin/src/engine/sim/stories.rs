//! Scenario tests written as stories over `Sim` (no faults).

use super::Sim;
use super::vault::Node;
use crate::engine::command::Command;
use crate::engine::event::Action;
use crate::engine::event::Event;
use crate::engine::hash::ContentHash;
use verstak_sync_proto::paths;

fn quiet(devices: usize) -> Sim {
    let mut sim = Sim::new(1, devices);
    sim.faults = false;
    sim
}

fn text(sim: &Sim, d: usize, path: &str) -> Option<String> {
    sim.devs[d]
        .vault
        .files()
        .get(path)
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

#[test]
fn a_file_created_on_one_device_reaches_the_other() {
    let mut sim = quiet(2);
    sim.write_user(0, "Notes/a.md", "hello\n");
    sim.sync(0).unwrap();
    let s = sim.sync(1).unwrap();
    assert_eq!(text(&sim, 1, "Notes/a.md").as_deref(), Some("hello\n"));
    assert!(s.pulled >= 2, "folder and file ops pulled");
    // Nothing is echoed back.
    assert_eq!(sim.sync(1).unwrap().pushed, 0);
}

#[test]
fn first_sync_uploads_blobs_before_push() {
    let mut sim = quiet(1);
    sim.write_user(0, "p.dat", "\0binary\n");
    sim.devs[0]
        .engine
        .handle(sim.now, Event::Start(Action::Sync));
    let mut kinds = Vec::new();
    loop {
        let Some(cmd) = sim.devs[0].engine.poll_command() else {
            panic!("stalled")
        };
        if let Command::Http { request, .. } = &cmd {
            kinds.push(request.path.clone());
        }
        if let Command::Finished(r) = cmd {
            assert_eq!(r.unwrap().summary().pushed, 1);
            break;
        }
        let id = cmd.id().unwrap();
        let dev = &mut sim.devs[0];
        let result = dev.vault.exec(&cmd, &mut sim.server);
        dev.engine.handle(sim.now, Event::Reply { id, result });
    }
    let upload = kinds
        .iter()
        .position(|p| p == "/api/v1/blobs/")
        .expect("uploaded");
    let push = kinds
        .iter()
        .position(|p| p == "/api/v1/sync/push")
        .expect("pushed");
    assert!(upload < push, "{kinds:?}");
}

/// Three binaries pushed together: one bulk upload where the server has the route, one upload
/// each (after one refused bulk request) where it has not; the other device gets the same files.
#[test]
fn small_blobs_go_up_in_one_bulk_upload_or_one_by_one() {
    for bulk in [true, false] {
        let mut sim = quiet(2);
        sim.server.bulk_upload = bulk;
        let files = ["a.dat", "b.dat", "c.dat"];
        for (i, f) in files.iter().enumerate() {
            sim.devs[0]
                .vault
                .put(f, vec![0, 1, 2, i as u8, 0xff])
                .unwrap();
        }
        sim.sync(0).unwrap();
        let want: Vec<(usize, bool)> = if bulk {
            vec![(3, true)]
        } else {
            vec![(1, false); 3]
        };
        assert_eq!(sim.server.uploads, want, "bulk route: {bulk}");
        sim.sync(1).unwrap();
        for (i, f) in files.iter().enumerate() {
            let got = sim.devs[1].vault.files().get(*f).cloned();
            assert_eq!(
                got,
                Some(vec![0, 1, 2, i as u8, 0xff]),
                "{f}, bulk route: {bulk}"
            );
        }
    }
}

/// Two devices that both hold `base` at a.md, then edit it to `zero` and `one` without syncing.
fn both_edit(base: &str, zero: &str, one: &str) -> Sim {
    let mut sim = quiet(2);
    sim.write_user(0, "a.md", base);
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    sim.write_user(0, "a.md", zero);
    sim.write_user(1, "a.md", one);
    sim
}

#[test]
fn concurrent_edits_of_different_lines_merge() {
    let mut sim = both_edit("1\n2\n3\n4\n", "one\n2\n3\n4\n", "1\n2\n3\nfour\n");
    sim.sync(0).unwrap();
    let s = sim.sync(1).unwrap();
    assert_eq!(s.merged, vec!["a.md".to_string()]);
    sim.sync(0).unwrap();
    assert_eq!(text(&sim, 0, "a.md").as_deref(), Some("one\n2\n3\nfour\n"));
    assert_eq!(text(&sim, 1, "a.md"), text(&sim, 0, "a.md"));
}

#[test]
fn a_base_document_that_does_not_match_its_hash_is_not_merged_against() {
    let mut sim = both_edit("1\n2\n3\n4\n", "one\n2\n3\n4\n", "1\n2\n3\nfour\n");
    // Base packs are written without fsync, so a power loss may leave one damaged. Here the
    // base's entry holds device 1's edit: merged against it, that edit would look unchanged and
    // be lost.
    let base = ContentHash::of(b"1\n2\n3\n4\n");
    let storage = &mut sim.devs[1].vault.storage;
    let (_, pack) = (storage.iter_mut())
        .find(|(k, v)| k.starts_with("bases-") && v.contains(base.as_str()))
        .expect("device 1 stored the base in a pack");
    *pack = crate::engine::base_pack::encode([(&base, "1\n2\n3\nfour\n")].into_iter());
    sim.sync(0).unwrap();
    let s = sim.sync(1).unwrap();
    assert!(s.merged.is_empty(), "merged against a damaged base: {s:?}");
    assert_eq!(s.kept_both.len(), 1);
    let copy = s.kept_both[0].copy_path.clone();
    sim.sync(0).unwrap();
    for d in 0..2 {
        assert_eq!(text(&sim, d, "a.md").as_deref(), Some("one\n2\n3\n4\n"));
        assert_eq!(text(&sim, d, &copy).as_deref(), Some("1\n2\n3\nfour\n"));
    }
}

/// Merge bases go into packs; a pack whose bases are mostly replaced is rewritten with the
/// rest and deleted, and the bases it kept still merge.
#[test]
fn base_packs_are_rewritten_when_mostly_unused_and_their_bases_still_merge() {
    let mut sim = quiet(2);
    let packs = |sim: &Sim| -> Vec<String> {
        let mut keys: Vec<String> = (sim.devs[0].vault.storage.keys())
            .filter(|k| k.starts_with("bases-"))
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    for i in 0..80 {
        sim.write_user(0, &format!("n{i}.md"), &format!("1\n2\n3\n{i}\n"));
    }
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    // One pack per saved push batch (5 ops in this simulation).
    let first = packs(&sim);
    assert!(first.len() > 1 && first.len() <= 16, "{first:?}");
    // 70 bases replaced, every eighth note kept: each pack keeps at most one base of five, so
    // it is deleted or rewritten (GC runs after 64 changes).
    for i in (0..80).filter(|i| i % 8 != 0) {
        sim.write_user(0, &format!("n{i}.md"), &format!("1\n2\n3\n{i} edited\n"));
    }
    sim.sync(0).unwrap();
    let now = packs(&sim);
    assert!(now.iter().all(|k| !first.contains(k)), "{first:?} {now:?}");
    let docs = (sim.devs[0].vault.storage.keys())
        .filter(|k| k.starts_with("base-"))
        .count();
    assert_eq!(docs, 0, "no document per base");
    // n8.md's base came through a rewrite: concurrent edits of different lines merge.
    sim.sync(1).unwrap();
    sim.write_user(0, "n8.md", "one\n2\n3\n8\n");
    sim.write_user(1, "n8.md", "1\n2\nthree\n8\n");
    sim.sync(1).unwrap();
    let s = sim.sync(0).unwrap();
    assert_eq!(s.merged, vec!["n8.md".to_string()]);
    assert_eq!(
        text(&sim, 0, "n8.md").as_deref(),
        Some("one\n2\nthree\n8\n")
    );
}

#[test]
fn conflicting_edits_keep_both_versions() {
    let mut sim = both_edit("base\n", "zero\n", "one\n");
    sim.sync(0).unwrap();
    let s = sim.sync(1).unwrap();
    assert_eq!(s.kept_both.len(), 1);
    let copy = s.kept_both[0].copy_path.clone();
    assert_eq!(copy, "a (conflict device1 2026-07-21 1405).md");
    sim.sync(0).unwrap();
    for d in 0..2 {
        assert_eq!(text(&sim, d, "a.md").as_deref(), Some("zero\n"));
        assert_eq!(text(&sim, d, &copy).as_deref(), Some("one\n"));
    }
}

#[test]
fn delete_versus_edit_keeps_the_edit() {
    let mut sim = quiet(2);
    sim.write_user(0, "a.md", "v1\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    sim.devs[0].vault.nodes.remove("a.md");
    sim.write_user(1, "a.md", "v2\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    sim.sync(0).unwrap();
    assert_eq!(text(&sim, 0, "a.md").as_deref(), Some("v2\n"));
    assert_eq!(text(&sim, 1, "a.md").as_deref(), Some("v2\n"));
}

#[test]
fn mass_deletion_is_held_until_confirmed() {
    let mut sim = quiet(2);
    for i in 0..12 {
        sim.write_user(0, &format!("f{i}.md"), &format!("x{i}\n"));
    }
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    for i in 0..12 {
        sim.devs[0].vault.nodes.remove(&format!("f{i}.md"));
    }
    let err = sim.sync(0).unwrap_err();
    assert_eq!(err.to_string(), "mass deletion awaiting confirmation");
    assert!(sim.devs[0].engine.status().guard.is_some());
    sim.sync(1).unwrap();
    assert_eq!(
        sim.devs[1].vault.files().len(),
        12,
        "nothing deleted remotely yet"
    );
    // The next run confirms (Sim::start turns a pending guard into ConfirmDeletions).
    sim.sync(0).unwrap();
    // The receiving side holds the incoming mass deletion too, until it is confirmed there.
    let held = sim.sync(1).unwrap();
    assert_eq!(held.guard.map(|g| (g.deletions, g.files)), Some((12, 12)));
    assert_eq!(sim.devs[1].vault.files().len(), 12);
    sim.sync(1).unwrap();
    assert_eq!(sim.devs[1].vault.files().len(), 0);
    assert_eq!(sim.devs[1].vault.trash.len(), 12, "deletes go to the trash");
}

#[test]
fn a_file_replaced_by_a_folder_and_a_folder_by_a_file_converge_without_stalling() {
    // The emitter sends creates before deletes (§4.13): the receiver sees `thing/` and
    // `thing/x.md` while its file `thing` still exists, and the file `dir` while its folder
    // `dir/` still exists. The deletes follow in the same pull.
    let mut sim = quiet(2);
    sim.write_user(0, "thing", "a file\n");
    sim.write_user(0, "dir/inner.md", "inner\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    let v = &mut sim.devs[0].vault.nodes;
    v.remove("thing");
    v.remove("dir/inner.md");
    v.remove("dir");
    sim.write_user(0, "thing/x.md", "x\n");
    sim.write_user(0, "dir", "now a file\n");
    sim.sync(0).unwrap();
    let s = sim.sync(1).unwrap();
    assert!(s.kept_both.is_empty(), "{:?}", s.kept_both);
    let shape = |sim: &Sim, d: usize| {
        let dirs: Vec<String> = sim.devs[d]
            .vault
            .nodes
            .iter()
            .filter(|(_, n)| matches!(n, Node::Dir))
            .map(|(p, _)| p.clone())
            .collect();
        (sim.devs[d].vault.files(), dirs)
    };
    assert_eq!(shape(&sim, 1), shape(&sim, 0));
    assert_eq!(
        sim.devs[1].vault.trash.len(),
        2,
        "the replaced file and folder content went to the trash"
    );
    assert_eq!(sim.sync(1).unwrap().pushed, 0);
    sim.sync(0).unwrap();
    assert_eq!(shape(&sim, 1), shape(&sim, 0));
}

#[test]
fn a_run_that_fails_after_the_scan_still_counts_the_local_changes_as_unpushed() {
    let mut sim = quiet(1);
    sim.write_user(0, "a.md", "a\n");
    sim.sync(0).unwrap();
    sim.write_user(0, "b.md", "not pushed yet\n");
    sim.write_user(0, "a.md", "edited\n");
    sim.offline = true;
    assert!(sim.sync(0).is_err());
    assert_eq!(sim.devs[0].engine.status().unpushed_ops, 2);
    sim.offline = false;
    assert_eq!(sim.sync(0).unwrap().pushed, 2);
    assert_eq!(sim.devs[0].engine.status().unpushed_ops, 0);
}

#[test]
fn the_scan_asks_the_glue_for_digests_and_reads_no_file_bytes() {
    let mut sim = quiet(1);
    sim.write_user(0, "Notes/a.md", "a\n");
    let big = vec![0u8; 100]; // binary, over several 7-byte chunks: a blob
    sim.devs[0].vault.put("b.dat", big.clone()).unwrap();
    let kinds = sim.command_kinds(0, Action::Sync);
    let scan = &kinds[..kinds
        .iter()
        .position(|k| *k == "Http")
        .expect("the run talks to the server")];
    assert_eq!(
        scan.iter().filter(|k| **k == "HashFile").count(),
        2,
        "{kinds:?}"
    );
    assert!(
        !scan.contains(&"ReadFile"),
        "the scan reads no bytes: {kinds:?}"
    );

    // Unchanged files are not hashed again; new mtimes with the same content are, and push nothing.
    assert!(!sim.command_kinds(0, Action::Sync).contains(&"HashFile"));
    sim.devs[0].vault.put("b.dat", big).unwrap();
    let kinds = sim.command_kinds(0, Action::Sync);
    assert_eq!(
        kinds.iter().filter(|k| **k == "HashFile").count(),
        1,
        "{kinds:?}"
    );
    assert!(
        !kinds.contains(&"ReadFile") && !kinds.contains(&"StageCopy"),
        "{kinds:?}"
    );
    assert_eq!(sim.sync(0).unwrap().pushed, 0);
}

/// Seed 350 of the random simulation, shrunk: a device keeps its edit of a binary file as a
/// conflict copy and crashes before it records that; after the restart, once the run has
/// scanned, the user puts the copy back in place of the file. Redoing the conflict, the run
/// finds the copy in its snapshot: it must look at the disk again before it counts on it, or
/// the incoming version overwrites the only copy of the edit.
#[test]
fn a_conflict_copy_moved_away_since_the_scan_is_made_again() {
    let mut sim = quiet(2);
    // Binary, so both versions are kept (no merge); the NUL line is no user line.
    let bin = |sim: &mut Sim, d: usize, line: &str| {
        sim.added.insert(line.to_string());
        let bytes = format!("\0bin\n{line}\n").into_bytes();
        sim.devs[d].vault.put("x.dat", bytes).unwrap();
    };
    bin(&mut sim, 0, "base");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    bin(&mut sim, 0, "theirs");
    sim.sync(0).unwrap();
    bin(&mut sim, 1, "mine");
    sim.crash_after(1, |c| matches!(c, Command::CopyFile { .. }));
    let copy = sim.devs[1]
        .vault
        .files()
        .into_keys()
        .find(|p| p.starts_with("x (conflict device1"))
        .expect("the copy was made before the crash");
    sim.run_until(1, |c| super::is_request(c, paths::PULL));
    let Some(Node::File(mine, _)) = sim.devs[1].vault.nodes.remove(&copy) else {
        panic!("the copy is a file");
    };
    sim.devs[1].vault.put("x.dat", mine).unwrap();
    sim.finish(1);
    sim.dropped.insert("base".into());
    sim.quiesce();
    sim.check().unwrap();
    for d in 0..2 {
        let files = sim.devs[d].vault.files();
        assert_eq!(files["x.dat"], b"\0bin\ntheirs\n", "{d}");
        assert!(
            files.values().any(|b| b == b"\0bin\nmine\n"),
            "device {d} keeps the edit"
        );
    }
}

/// A device deletes a folder while another puts a new file in it, and the delete reaches the
/// server second: every other device applies the create, then the folder delete, which trashes
/// the new file there. The deleting device pulls the create while its delete is not echoed
/// yet: the create is earlier than its delete, so (§5.4.3, delete of P pushed, echo not seen)
/// it restores the file and publishes it again, and every device ends with it.
#[test]
fn a_file_created_in_a_folder_another_device_deleted_meanwhile_survives() {
    let mut sim = quiet(2);
    sim.write_user(0, "F/a.md", "a\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    sim.devs[1].vault.nodes.retain(|p, _| !p.starts_with('F'));
    sim.write_user(0, "F/new.md", "new\n");
    sim.run_until(1, |c| super::is_request(c, paths::PUSH));
    sim.sync(0).unwrap();
    sim.finish(1);
    sim.dropped.insert("a".into());
    sim.quiesce();
    sim.check().unwrap();
    for d in 0..2 {
        assert_eq!(text(&sim, d, "F/new.md").as_deref(), Some("new\n"), "{d}");
        assert!(text(&sim, d, "F/a.md").is_none(), "{d}");
    }
}
