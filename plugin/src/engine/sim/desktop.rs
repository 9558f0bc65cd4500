//! Issue 14 items 3 and 4: ops the Go desktop publishes for its workspace tree. A folder trash
//! (`workspace-folder trash`) is a folder delete under the delete-versus-edit rules; a folder
//! rename or move carries an unpushed local edit inside to the new path.

use serde_json::json;

use super::Sim;

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
