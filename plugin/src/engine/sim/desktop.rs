//! Issue 14 items 3 and 4: ops the Go desktop publishes for its workspace tree. A folder trash
//! (`workspace-folder trash`) is a folder delete under the delete-versus-edit rules; a folder
//! rename or move carries an unpushed local edit inside to the new path.

use serde_json::json;
use verstak_sync_proto::paths;

use super::Sim;
use crate::engine::command::Command;

fn quiet(devices: usize) -> Sim {
    let mut sim = Sim::new(1, devices);
    sim.faults = false;
    sim
}

fn text(sim: &Sim, d: usize, path: &str) -> Option<String> {
    let files = sim.devs[d].vault.files();
    files
        .get(path)
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

fn has_dir(sim: &Sim, d: usize, path: &str) -> bool {
    matches!(sim.devs[d].vault.nodes.get(path), Some(super::Node::Dir))
}

/// Both devices hold `Old stuff/{a,b}.md` and `Old stuff/sub/c.md`.
fn old_stuff() -> Sim {
    let mut sim = quiet(2);
    sim.write_user(0, "Old stuff/a.md", "a\n");
    sim.write_user(0, "Old stuff/b.md", "b\n");
    sim.write_user(0, "Old stuff/sub/c.md", "c\n");
    sim.write_user(0, "keep.md", "keep\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    sim
}

#[test]
fn a_desktop_folder_trash_deletes_the_folder_everywhere() {
    let mut sim = old_stuff();
    sim.desktop_op(
        "workspace-folder",
        "trash",
        json!({"folderId": "f1", "path": "Old stuff"}),
    );
    for d in 0..2 {
        let s = sim.sync(d).unwrap();
        assert_eq!(s.skipped, 0, "{s:?}");
        assert!(!has_dir(&sim, d, "Old stuff"), "device {d}");
        assert_eq!(text(&sim, d, "keep.md").as_deref(), Some("keep\n"));
        assert_eq!(sim.devs[d].vault.trash.len(), 3, "restorable");
    }
    sim.dropped.extend(["a", "b", "c"].map(String::from));
    sim.quiesce();
    sim.check().unwrap();
    assert_eq!(sim.devs[0].vault.files().len(), 1);
}

#[test]
fn a_desktop_folder_trash_keeps_an_unsynced_edit_inside() {
    let mut sim = old_stuff();
    sim.write_user(1, "Old stuff/b.md", "b\nedited\n");
    sim.desktop_op("workspace-folder", "trash", json!({"path": "Old stuff"}));
    sim.sync(1).unwrap();
    assert_eq!(
        text(&sim, 1, "Old stuff/b.md").as_deref(),
        Some("b\nedited\n")
    );
    assert!(text(&sim, 1, "Old stuff/a.md").is_none());
    assert!(!has_dir(&sim, 1, "Old stuff/sub"));
    sim.dropped.extend(["a", "c"].map(String::from));
    sim.quiesce();
    sim.check().unwrap();
    assert_eq!(
        text(&sim, 0, "Old stuff/b.md").as_deref(),
        Some("b\nedited\n"),
        "the edit comes back to the other device"
    );
    assert!(text(&sim, 0, "Old stuff/a.md").is_none());
}

/// Both devices hold `Main/Notes/n1.md` and `Main/n2.md`; device 1 edits n1 without syncing.
fn main_with_an_edit() -> Sim {
    let mut sim = quiet(2);
    sim.write_user(0, "Main/Notes/n1.md", "one\n");
    sim.write_user(0, "Main/n2.md", "two\n");
    sim.sync(0).unwrap();
    sim.sync(1).unwrap();
    sim.write_user(1, "Main/Notes/n1.md", "one\nedited\n");
    sim.write_user(1, "Main/Notes/new.md", "new\n");
    sim
}

fn no_op_under(sim: &Sim, after: usize, dir: &str) {
    let later = &sim.server.ops[after..];
    let bad: Vec<_> = later
        .iter()
        .filter(|o| o.entity_id == dir || o.entity_id.starts_with(&format!("{dir}/")))
        .map(|o| format!("{} {}", o.op_type, o.entity_id))
        .collect();
    assert!(bad.is_empty(), "ops under the old path: {bad:?}");
}

#[test]
fn a_desktop_workspace_rename_carries_an_unpushed_edit_to_the_new_path() {
    let mut sim = main_with_an_edit();
    sim.desktop_op(
        "workspace",
        "rename",
        json!({"workspaceId": "w1", "path": "Main renamed", "previousPath": "Main", "name": "Main renamed"}),
    );
    let mark = sim.server.ops.len();
    let s = sim.sync(1).unwrap();
    assert_eq!(s.skipped, 0, "{s:?}");
    assert!(!has_dir(&sim, 1, "Main"));
    assert_eq!(
        text(&sim, 1, "Main renamed/Notes/n1.md").as_deref(),
        Some("one\nedited\n")
    );
    assert_eq!(s.pushed, 2, "the edit and the new file, under the new path");
    no_op_under(&sim, mark, "Main");

    sim.sync(0).unwrap();
    assert_eq!(
        text(&sim, 0, "Main renamed/Notes/n1.md").as_deref(),
        Some("one\nedited\n")
    );
    assert_eq!(
        text(&sim, 0, "Main renamed/n2.md").as_deref(),
        Some("two\n")
    );
    sim.dropped.insert("one".into());
    sim.quiesce();
    sim.check().unwrap();
    assert!(!has_dir(&sim, 0, "Main"));
}

#[test]
fn a_desktop_folder_move_carries_an_unpushed_edit_to_the_new_path() {
    let mut sim = main_with_an_edit();
    sim.desktop_op(
        "workspace-folder",
        "move",
        json!({"folderId": "f1", "path": "Main/Archive/Notes", "previousPath": "Main/Notes"}),
    );
    let mark = sim.server.ops.len();
    sim.sync(1).unwrap();
    assert_eq!(
        text(&sim, 1, "Main/Archive/Notes/n1.md").as_deref(),
        Some("one\nedited\n")
    );
    assert_eq!(
        text(&sim, 1, "Main/Archive/Notes/new.md").as_deref(),
        Some("new\n")
    );
    no_op_under(&sim, mark, "Main/Notes");
    sim.quiesce();
    sim.check().unwrap();
    assert!(!has_dir(&sim, 0, "Main/Notes"));
}

#[test]
fn a_local_folder_delete_follows_a_desktop_move_of_it() {
    let mut sim = old_stuff();
    sim.devs[1]
        .vault
        .nodes
        .retain(|p, _| !p.starts_with("Old stuff"));
    sim.desktop_op(
        "workspace-folder",
        "rename",
        json!({"path": "Older", "previousPath": "Old stuff"}),
    );
    sim.sync(1).unwrap();
    sim.dropped.extend(["a", "b", "c"].map(String::from));
    sim.quiesce();
    sim.check().unwrap();
    for d in 0..2 {
        assert!(
            !has_dir(&sim, d, "Old stuff") && !has_dir(&sim, d, "Older"),
            "{d}"
        );
    }
}

/// Seed 40 of the random simulation, shrunk: a device applies a desktop folder move on disk
/// and crashes before it records that; the user then puts a new file at the old path. After
/// the restart the move's source and target both exist, so the move is not redone, yet the
/// server's tree moved: the device must count its files as synced at the new path, or its
/// delete of a file inside goes out under the old path and the other devices keep the file.
#[test]
fn a_desktop_move_done_before_a_crash_keeps_the_server_tree_moved() {
    let mut sim = old_stuff();
    sim.devs[1].vault.nodes.remove("Old stuff/b.md");
    sim.desktop_op(
        "workspace-folder",
        "move",
        json!({"path": "Older", "previousPath": "Old stuff"}),
    );
    sim.crash_after(1, |c| matches!(c, Command::Rename { .. }));
    assert!(has_dir(&sim, 1, "Older"), "the rename was done on disk");
    sim.write_user(1, "Old stuff/new.md", "new\n");
    sim.sync(1).unwrap();
    sim.dropped.insert("b".into());
    sim.quiesce();
    sim.check().unwrap();
    for d in 0..2 {
        assert_eq!(text(&sim, d, "Older/a.md").as_deref(), Some("a\n"), "{d}");
        assert_eq!(text(&sim, d, "Older/sub/c.md").as_deref(), Some("c\n"));
        assert_eq!(text(&sim, d, "Old stuff/new.md").as_deref(), Some("new\n"));
        assert!(text(&sim, d, "Older/b.md").is_none(), "the delete followed");
    }
}

/// Seed 735 of the random simulation, shrunk: a device applies a desktop folder trash on disk
/// and crashes before it records that. After the restart the folder is gone here, and the
/// server's too: what the device knew under it must be forgotten, not published as deletes.
/// Such a late folder delete would come after another device's new file in the folder (kept
/// there by the delete-versus-edit rule) and trash it everywhere but here.
#[test]
fn a_desktop_trash_done_before_a_crash_publishes_no_late_deletes() {
    let mut sim = old_stuff();
    sim.write_user(0, "Old stuff/new.md", "new\n");
    sim.desktop_op("workspace-folder", "trash", json!({"path": "Old stuff"}));
    sim.crash_after(
        1,
        |c| matches!(c, Command::RemoveDir { path, .. } if path.as_str() == "Old stuff"),
    );
    assert!(!has_dir(&sim, 1, "Old stuff"), "the trash was done on disk");
    let mark = sim.server.ops.len();
    sim.run_until(1, |c| super::is_request(c, paths::PUSH));
    sim.sync(0).unwrap();
    sim.finish(1);
    let late: Vec<_> = sim.server.ops[mark..]
        .iter()
        .filter(|o| o.device_id.starts_with("dev_1") && o.op_type.as_str() == "delete")
        .map(|o| o.entity_id.clone())
        .collect();
    assert!(late.is_empty(), "late deletes: {late:?}");
    sim.dropped.extend(["a", "b", "c"].map(String::from));
    sim.quiesce();
    sim.check().unwrap();
    for d in 0..2 {
        assert_eq!(
            text(&sim, d, "Old stuff/new.md").as_deref(),
            Some("new\n"),
            "{d}"
        );
        assert!(text(&sim, d, "Old stuff/a.md").is_none(), "{d}");
    }
}
