//! Issue 4: crashes of the CLI at chosen points, and shape changes (file ↔ folder) through the
//! real component, host and server. Fresh sessions per step; outcomes checked on disk.

mod common;

use common::device::{conflict_copies, setup, write_random_file};
use common::*;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn spawn_sync(vault: &Path) -> Child {
    host_cli(vault)
        .arg("sync")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// SIGKILLs `child` as soon as `point()` holds; false when the child ended first.
fn kill_when(mut child: Child, mut point: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut hit = false;
    while Instant::now() < deadline {
        if point() {
            hit = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::park_timeout(Duration::from_millis(1));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    hit && status.code().is_none()
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn a_sync_killed_while_applying_pulled_files_converges_without_echoes_or_copies() {
    let (server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    for i in 0..300 {
        a.write(&format!("many/n{i:03}.md"), format!("note {i}\n"));
    }
    a.sync();
    let ops = server.metric("verstak_sync_ops_accepted_total", "");

    let many = b.path("many");
    assert!(
        kill_when(spawn_sync(b.root()), || count_files(&many) >= 40),
        "B was killed halfway through the pull"
    );
    let got = count_files(&many);
    assert!(got < 300, "killed before the end ({got} files)");

    let s = b.sync();
    assert_eq!(b.files(), a.files());
    assert!(conflict_copies(b).is_empty());
    assert_eq!(
        s.pushed, 0,
        "files that came from the server are not published back"
    );
    assert_eq!(
        server.metric("verstak_sync_ops_accepted_total", ""),
        ops,
        "the server stored no new op"
    );
    assert_eq!(a.sync().pushed, 0);
}

#[test]
fn a_sync_killed_mid_download_converges_and_leaves_no_temp_files() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    write_random_file(&a.path("big/blob.bin"), 40 << 20, 99);
    a.write("small.md", "s\n");
    a.sync();

    // Kill once the download is staging (something under the plugin's staging folder).
    let staging = b.path(".verstak/plugin-data/verstak.sync/staging");
    assert!(
        kill_when(spawn_sync(b.root()), || count_files(&staging) > 0),
        "B was killed during the download"
    );

    b.sync();
    assert_eq!(
        b.files(),
        a.files(),
        "no temp or partial file is left in the vault"
    );
    assert!(conflict_copies(b).is_empty());
    assert_eq!(b.sync().pushed, 0);
}

#[test]
fn a_sync_killed_after_the_push_was_accepted_does_not_duplicate_ops() {
    let (server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    for i in 0..150 {
        a.write(&format!("n{i:03}.md"), format!("note {i}\n"));
    }
    // Kill as soon as the server stored the first push batch (the response may be lost).
    assert!(
        kill_when(spawn_sync(a.root()), || server
            .metric("verstak_sync_ops_accepted_total", "")
            > 0),
        "A was killed after a push"
    );
    a.sync();
    b.sync();
    assert_eq!(b.files(), a.files());
    assert_eq!(
        server.metric("verstak_sync_ops_accepted_total", ""),
        150,
        "every file was stored exactly once"
    );
    assert_eq!(a.status().unpushed_ops, 0);
}

#[test]
fn a_file_replaced_by_a_folder_and_back_converges() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("thing", "a file\n");
    a.write("dir/inner.md", "inner\n");
    a.sync();
    b.sync();

    a.remove("thing");
    a.write("thing/now a folder.md", "x\n");
    std::fs::remove_dir_all(a.path("dir")).unwrap();
    a.write("dir", "now a file\n");
    a.sync();
    b.sync();
    assert_eq!(b.files(), a.files());
    assert_eq!(b.folders(), a.folders());
    assert!(conflict_copies(b).is_empty());
}

#[test]
fn an_edit_of_a_file_renamed_elsewhere_keeps_both_names() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("draft.md", "v1\n");
    a.sync();
    b.sync();
    a.rename("draft.md", "final.md");
    a.sync();
    b.write("draft.md", "v2 from beta\n");
    b.sync();
    a.sync();
    for x in [a, b] {
        assert_eq!(
            x.read("draft.md"),
            "v2 from beta\n",
            "{}: the edit survives",
            x.name
        );
        assert_eq!(
            x.read("final.md"),
            "v1\n",
            "{}: the rename survives",
            x.name
        );
    }
    assert_eq!(a.files(), b.files());
}

#[test]
fn two_clashes_in_a_row_get_distinct_conflict_copies() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("n.txt", "base\n");
    a.sync();
    b.sync();
    for round in 0..2 {
        a.write("n.txt", format!("alpha {round}\n"));
        b.write("n.txt", format!("beta {round}\n"));
        a.sync();
        b.sync();
    }
    a.sync();
    let copies = conflict_copies(b);
    assert_eq!(copies.len(), 2, "{copies:?}");
    let mut kept: Vec<String> = copies.iter().map(|c| b.read(c)).collect();
    kept.sort();
    assert_eq!(kept, ["beta 0\n", "beta 1\n"]);
    assert_eq!(b.read("n.txt"), "alpha 1\n");
    assert_eq!(a.files(), b.files());
}
