//! Issue 13: the vault trash is listed and restorable. Through the real component, host binary
//! and server: a file deleted on device A lands in B's trash when B syncs, `trash --json` lists
//! it, `trash restore` brings back the exact bytes (never over a file that is there now), and
//! the next sync on B brings it back on A.

mod common;

use common::device::{setup, write_random_file};
use common::host_cli;
use std::path::Path;

fn run_cli(vault: &Path, args: &[&str]) -> (i32, String, String) {
    let out = host_cli(vault).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn trash_json(vault: &Path) -> Vec<serde_json::Value> {
    let (code, out, err) = run_cli(vault, &["trash", "--json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn a_remote_delete_lands_in_the_trash_and_restore_brings_it_back_everywhere() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    write_random_file(&a.path("Notes/pic.bin"), 70_000, 7);
    a.write("top.md", "top\n");
    let bytes = std::fs::read(a.path("Notes/pic.bin")).unwrap();
    a.sync();
    b.sync();
    assert_eq!(std::fs::read(b.path("Notes/pic.bin")).unwrap(), bytes);

    assert!(trash_json(b.root()).is_empty());
    let (_, out, _) = run_cli(b.root(), &["trash"]);
    assert_eq!(out.trim(), "the trash is empty");

    a.remove("Notes/pic.bin");
    a.remove("top.md");
    a.sync();
    b.sync();
    assert!(!b.exists("Notes/pic.bin") && !b.exists("top.md"));

    let list = trash_json(b.root());
    assert_eq!(list.len(), 2, "{list:?}");
    let pic = list
        .iter()
        .find(|e| e["path"] == "Notes/pic.bin")
        .expect("listed");
    assert_eq!(pic["size"], 70_000);
    let at = pic["trashed_at"].as_str().unwrap();
    assert!(at.ends_with('Z') && at.len() == 20, "{at}");
    let ms = pic["trashed_ms"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!((0..120_000).contains(&(now - ms)), "trashed just now");
    let id = pic["id"].as_str().unwrap().to_string();
    let (_, text, _) = run_cli(b.root(), &["trash"]);
    assert!(
        text.contains(&id) && text.contains("Notes/pic.bin"),
        "{text}"
    );

    // Restore: exact bytes back at the path, gone from the trash.
    let (code, out, err) = run_cli(b.root(), &["trash", "restore", &id]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("restored Notes/pic.bin"), "{out}");
    assert_eq!(std::fs::read(b.path("Notes/pic.bin")).unwrap(), bytes);
    assert_eq!(trash_json(b.root()).len(), 1);

    // The next sync on B uploads it, and A receives it.
    b.sync();
    a.sync();
    assert_eq!(std::fs::read(a.path("Notes/pic.bin")).unwrap(), bytes);

    // A path that is taken now keeps its file: the restored one lands beside it.
    a.write("top.md", "new top\n");
    a.sync();
    b.sync();
    let top = trash_json(b.root());
    let top_id = top[0]["id"].as_str().unwrap();
    let (code, out, err) = run_cli(b.root(), &["trash", "restore", "--json", top_id]);
    assert_eq!(code, 0, "{err}");
    let restored: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(restored[0]["restored_to"], "top (restored).md");
    assert_eq!(b.read("top.md"), "new top\n");
    assert_eq!(b.read("top (restored).md"), "top\n");
    b.sync();
    a.sync();
    assert_eq!(a.read("top (restored).md"), "top\n");
    assert!(trash_json(b.root()).is_empty());
}

#[test]
fn an_unknown_id_fails_with_a_code_and_moves_nothing() {
    let vault = tempfile::tempdir().unwrap();
    let (code, _, err) = run_cli(vault.path(), &["trash", "restore", "nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("trash-not-found"), "{err}");
}
