//! Issue 4: conflicts and deletes through the real component, host and server. Like `sync.rs`,
//! every step runs in a fresh `Session` and outcomes are checked on disk.

mod common;

use common::device::{Device, PASSWORD, VAULT, conflict_copies, setup};
use common::server::Server;
use verstak_sync_host::bindings::exports::verstak::sync::sync_provider::Direction;

#[test]
fn binary_edited_on_both_sides_keeps_both_versions_under_a_non_ascii_name() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("Фото/кот 1.bin", [0u8, 1, 2, 3]);
    a.sync();
    b.sync();
    a.write("Фото/кот 1.bin", [0u8, 1, 2, 3, 0xa]);
    b.write("Фото/кот 1.bin", [0u8, 1, 2, 3, 0xb]);
    a.sync();
    let s = b.sync();
    assert_eq!(s.kept_both.len(), 1, "{s:?}");
    let copy = &s.kept_both[0].copy_path;
    assert!(
        copy.starts_with("Фото/кот 1 (conflict beta ") && copy.ends_with(").bin"),
        "{copy}"
    );
    assert_eq!(
        std::fs::read(b.path("Фото/кот 1.bin")).unwrap(),
        [0u8, 1, 2, 3, 0xa]
    );
    assert_eq!(std::fs::read(b.path(copy)).unwrap(), [0u8, 1, 2, 3, 0xb]);
    a.sync();
    assert_eq!(a.files(), b.files());
}

#[test]
fn the_same_edit_on_both_sides_is_not_a_conflict() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("n.md", "one\n");
    a.sync();
    b.sync();
    a.write("n.md", "two\n");
    b.write("n.md", "two\n");
    a.sync();
    let s = b.sync();
    assert!(s.kept_both.is_empty(), "{s:?}");
    a.sync();
    assert_eq!(a.files(), b.files());
    assert!(conflict_copies(b).is_empty());
}

#[test]
fn first_sync_keeps_a_differing_local_file_as_a_conflict_copy() {
    let server = Server::start();
    server.add_user("ann", PASSWORD);
    let a = Device::new("alpha");
    a.configure(&server.url(), "ann", VAULT);
    a.write("todo.md", "from alpha\n");
    a.sync();

    let c = Device::new("gamma");
    c.write("todo.md", "gamma had this before joining\n");
    c.configure(&server.url(), "ann", VAULT);
    let s = c.sync();
    assert_eq!(c.read("todo.md"), "from alpha\n", "{s:?}");
    let copies = conflict_copies(&c);
    assert_eq!(copies.len(), 1, "{:?}", c.files());
    assert_eq!(c.read(&copies[0]), "gamma had this before joining\n");
    a.sync();
    assert_eq!(a.files(), c.files());
}

#[test]
fn folder_renames_and_deletes_propagate_and_an_edit_inside_a_deleted_folder_survives() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("Projects/old name/a.md", "a\n");
    a.write("Projects/old name/sub/b.md", "b\n");
    a.write("Trash me/c.md", "c\n");
    a.write("Trash me/d.md", "d\n");
    a.sync();
    b.sync();
    assert_eq!(a.folders(), b.folders());

    // A renames a folder: B ends with the new folder only.
    a.rename("Projects/old name", "Projects/new name");
    a.sync();
    b.sync();
    assert_eq!(b.folders(), a.folders(), "no stale folder left behind");
    assert_eq!(b.read("Projects/new name/sub/b.md"), "b\n");

    // A deletes a folder while B edits a file inside it: the edited file and its folder stay.
    std::fs::remove_dir_all(a.path("Trash me")).unwrap();
    a.sync();
    b.write("Trash me/c.md", "c edited on beta\n");
    b.sync();
    a.sync();
    assert_eq!(b.read("Trash me/c.md"), "c edited on beta\n");
    assert_eq!(
        a.read("Trash me/c.md"),
        "c edited on beta\n",
        "the edit came back to A"
    );
    assert!(
        !b.exists("Trash me/d.md"),
        "the unchanged file was deleted on B"
    );
    assert_eq!(a.files(), b.files());
    assert_eq!(a.folders(), b.folders());
}

#[test]
fn restore_deletions_outgoing_brings_the_files_back_from_the_server() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    for i in 0..12 {
        a.write(&format!("n{i:02}.md"), format!("note {i}\n"));
    }
    a.write("big.bin", vec![7u8; 3 << 20]);
    a.sync();
    b.sync();
    let before = a.files();
    for i in 0..12 {
        a.remove(&format!("n{i:02}.md"));
    }
    a.remove("big.bin");
    let err = a.try_sync().unwrap_err();
    assert_eq!(
        err.message, "mass deletion awaiting confirmation",
        "a run that can only delete is held"
    );
    assert!(a.status().guard.is_some());
    let s = a.session().restore_deletions(Direction::Outgoing).unwrap();
    assert!(s.guard.is_none(), "{s:?}");
    assert_eq!(a.files(), before, "every file is back");
    assert!(a.status().guard.is_none());
    assert_eq!(
        a.sync().pushed,
        0,
        "nothing to push: the deletes were dropped"
    );
    b.sync();
    assert_eq!(b.files(), before);
}

#[test]
fn restore_deletions_incoming_keeps_the_files_and_republishes_them() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    for i in 0..12 {
        a.write(&format!("n{i:02}.md"), format!("note {i}\n"));
    }
    a.sync();
    b.sync();
    let before = a.files();
    for i in 0..12 {
        a.remove(&format!("n{i:02}.md"));
    }
    assert!(a.try_sync().is_err(), "held by the outgoing guard");
    a.confirm_deletions(Direction::Outgoing);
    assert!(a.files().is_empty());

    assert!(b.sync().guard.is_some());
    b.session().restore_deletions(Direction::Incoming).unwrap();
    assert_eq!(b.files(), before, "B kept every file");
    a.sync();
    assert_eq!(a.files(), before, "the files were published again");
}

#[test]
fn the_ignore_list_and_the_fixed_exclusions_decide_what_syncs() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("keep.md", "k\n");
    a.write(".DS_Store", "x");
    a.write("sub/Thumbs.db", "x");
    a.write("draft.tmp", "x");
    a.write("notes.md~", "x");
    a.write("secret/one.md", "s\n");
    // The default list: `.DS_Store` and `Thumbs.db` stay home.
    a.sync();
    b.sync();
    assert_eq!(
        b.files().into_keys().collect::<Vec<_>>(),
        ["keep.md", "secret/one.md"]
    );

    // Both vaults replace the list with `secret/`: the former defaults sync, the fixed
    // exclusions never do, and `secret/` stops being tracked without any delete.
    for x in [a, b] {
        x.session().set_ignore(&["secret/".to_string()]).unwrap();
        assert_eq!(x.status().ignore, ["secret/"]);
    }
    a.write("secret/two.md", "s2\n");
    a.sync();
    b.sync();
    assert_eq!(
        b.files().into_keys().collect::<Vec<_>>(),
        [".DS_Store", "keep.md", "secret/one.md", "sub/Thumbs.db"]
    );
    assert_eq!(a.sync().pushed, 0);
    assert!(a.exists("secret/one.md") && a.exists("secret/two.md"));
}

#[test]
fn a_text_file_over_the_payload_limit_goes_as_a_blob() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    let text: String = (0..20_000)
        .map(|i| format!("line {i} of a long note\n"))
        .collect();
    assert!(text.len() > 262_144 && text.len() < 2 << 20);
    a.write("long.md", &text);
    a.sync();
    b.sync();
    assert_eq!(b.read("long.md"), text);
    // It is not inline text (§4.6), so concurrent edits keep both versions rather than merge.
    let a_text = text.replacen("line 5 of", "LINE 5 of", 1);
    let b_text = text.replacen("line 19000 of", "LINE 19000 of", 1);
    a.write("long.md", &a_text);
    b.write("long.md", &b_text);
    a.sync();
    let s = b.sync();
    assert_eq!(s.kept_both.len(), 1, "{s:?}");
    assert_eq!(b.read("long.md"), a_text);
    assert_eq!(b.read(&s.kept_both[0].copy_path), b_text);
    a.sync();
    assert_eq!(a.files(), b.files());
}

#[test]
fn a_revoked_device_paired_again_syncs_and_is_no_longer_revoked() {
    let (server, d) = setup(&["alpha", "beta"]);
    let b = &d[1];
    b.write("mine.md", "m\n");
    let token = std::fs::read_to_string(
        b.path(".verstak/plugin-data/verstak.sync/engine/device-token.json"),
    )
    .unwrap();
    assert_eq!(
        server
            .post("/api/client/revoke-current", Some(token.trim()), "")
            .0,
        200
    );
    assert!(b.try_sync().is_err());
    assert_eq!(b.status().status_label, "revoked");
    b.configure(&server.url(), "ann", VAULT);
    let st = b.status();
    assert!(!st.revoked, "{st:?}");
    b.sync();
    d[0].sync();
    assert_eq!(d[0].read("mine.md"), "m\n");
    assert_eq!(b.status().status_label, "connected");
}

#[test]
fn the_same_new_path_created_on_both_sides_keeps_both() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.sync();
    b.sync();
    a.write("Ideas/new.md", "alpha's idea\n");
    b.write("Ideas/new.md", "beta's idea\n");
    a.sync();
    let s = b.sync();
    assert_eq!(s.kept_both.len(), 1, "{s:?}");
    assert_eq!(b.read("Ideas/new.md"), "alpha's idea\n");
    assert_eq!(b.read(&s.kept_both[0].copy_path), "beta's idea\n");
    a.sync();
    assert_eq!(a.files(), b.files());
}
