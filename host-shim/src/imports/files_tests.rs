//! Tests of the `files` import, calling the `Host` methods on a `HostState` over a temp vault.

use super::*;
use crate::imports::testing::{all_but, code, denied, full, state_with};
use sha2::{Digest, Sha256};
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn h(bytes: &[u8]) -> Expect {
    Expect::Hash(sha(bytes))
}

/// Every entry of a folder, recursively, relative to it (to prove nothing else was touched).
fn tree(dir: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        out.push(name.clone());
        if e.file_type().unwrap().is_dir() {
            out.extend(tree(&e.path()).into_iter().map(|n| format!("{name}/{n}")));
        }
    }
    out.sort();
    out
}

#[test]
fn every_function_needs_its_permission() {
    let (_v, mut s) = state_with(&all_but("files.read"));
    denied(s.list_dir("".into()), "files.read");
    denied(s.read("a".into(), 0, 1), "files.read");
    denied(s.hash("a".into()), "files.read");
    denied(s.copy("a".into(), "b".into(), sha(b"")), "files.read");
    denied(s.stage_copy("a".into(), "k".into()), "files.read");

    let (_v, mut s) = state_with(&all_but("files.write"));
    denied(s.write("a".into(), vec![], Expect::Absent), "files.write");
    denied(s.copy("a".into(), "b".into(), sha(b"")), "files.write");
    denied(s.rename("a".into(), "b".into()), "files.write");
    denied(s.mkdir("a".into()), "files.write");
    denied(
        s.commit_stage("k".into(), "a".into(), Expect::Absent),
        "files.write",
    );

    let (_v, mut s) = state_with(&all_but("files.delete"));
    denied(s.trash("a".into(), Expect::Absent), "files.delete");
    denied(s.remove_dir("a".into()), "files.delete");

    let (_v, mut s) = state_with(&all_but("storage.namespace"));
    denied(s.stage_write("k".into(), 0, vec![]), "storage.namespace");
    denied(s.stage_copy("a".into(), "k".into()), "storage.namespace");
    denied(s.delete_stage("k".into()), "storage.namespace");
}

#[test]
fn the_permission_is_checked_before_the_path() {
    let (_v, mut s) = state_with(&[]);
    denied(s.read("../etc/passwd".into(), 0, 1), "files.read");
    denied(
        s.write("/etc/passwd".into(), vec![1], Expect::Absent),
        "files.write",
    );
}

#[test]
fn escapes_are_refused_everywhere_and_touch_nothing() {
    let (vault, mut s) = full();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret"), b"s").unwrap();
    symlink("/tmp", vault.path().join("tmp-link")).unwrap();
    symlink(outside.path(), vault.path().join("out")).unwrap();
    symlink(
        outside.path().join("secret"),
        vault.path().join("secret-link"),
    )
    .unwrap();
    fs::create_dir_all(vault.path().join(".verstak")).unwrap();
    fs::write(vault.path().join(".verstak/config"), b"c").unwrap();
    fs::write(vault.path().join("ok.md"), b"ok").unwrap();
    let before_vault = tree(vault.path());
    let escapes = [
        "../x",
        "/etc/passwd",
        "a/../../x",
        ".verstak/config",
        "a/.verstak/b",
        ".VERSTAK/config",
        "tmp-link",
        "tmp-link/x",
        "out/secret",
        "out/new",
        "secret-link",
        "a\0b",
        "a//b",
        "a/",
        "a\\b",
        "./ok.md",
    ];
    for p in escapes {
        let o = |r: Result<_, HostError>| code(r, ErrorCode::OutsideVault);
        o(s.read(p.into(), 0, 10).map(|_| ()));
        o(s.hash(p.into()).map(|_| ()));
        o(s.list_dir(p.into()).map(|_| ()));
        o(s.write(p.into(), b"pwned".to_vec(), Expect::Absent)
            .map(|_| ()));
        o(s.write(p.into(), b"pwned".to_vec(), h(b"s")).map(|_| ()));
        o(s.copy("ok.md".into(), p.into(), sha(b"ok")).map(|_| ()));
        o(s.copy(p.into(), "copy.md".into(), sha(b"s")).map(|_| ()));
        o(s.rename("ok.md".into(), p.into()));
        o(s.rename(p.into(), "moved".into()));
        o(s.trash(p.into(), h(b"s")));
        o(s.mkdir(p.into()));
        o(s.remove_dir(p.into()));
        o(s.stage_copy(p.into(), "k".into()).map(|_| ()));
        o(s.commit_stage("k".into(), p.into(), Expect::Absent)
            .map(|_| ()));
    }
    assert_eq!(
        tree(vault.path()),
        before_vault,
        "nothing inside the vault changed"
    );
    assert_eq!(
        tree(outside.path()),
        ["secret"],
        "nothing was written through a symlink"
    );
    assert_eq!(fs::read(outside.path().join("secret")).unwrap(), b"s");
}

#[test]
fn write_is_atomic_and_honours_expect() {
    let (vault, mut s) = full();
    let meta = s
        .write("Notes/deep/a.md".into(), b"one".to_vec(), Expect::Absent)
        .unwrap();
    assert_eq!(meta.size, 3);
    assert!(meta.mtime_ms > 0);
    let file = vault.path().join("Notes/deep/a.md");
    assert_eq!(fs::read(&file).unwrap(), b"one");

    code(
        s.write("Notes/deep/a.md".into(), b"two".to_vec(), Expect::Absent),
        ErrorCode::Changed,
    );
    code(
        s.write("Notes/deep/a.md".into(), b"two".to_vec(), h(b"not one")),
        ErrorCode::Changed,
    );
    assert_eq!(
        fs::read(&file).unwrap(),
        b"one",
        "a changed answer leaves the old content"
    );

    s.write("Notes/deep/a.md".into(), b"two".to_vec(), h(b"one"))
        .unwrap();
    assert_eq!(fs::read(&file).unwrap(), b"two");
    assert_eq!(
        tree(&vault.path().join("Notes/deep")),
        ["a.md"],
        "no temp file is left behind"
    );

    fs::create_dir(vault.path().join("dir")).unwrap();
    code(
        s.write("dir".into(), b"x".to_vec(), h(b"")),
        ErrorCode::Changed,
    );
    code(
        s.write("dir".into(), b"x".to_vec(), Expect::Absent),
        ErrorCode::Changed,
    );
}

#[test]
fn read_returns_ranges_and_caps_the_length() {
    let (vault, mut s) = full();
    fs::write(vault.path().join("a.txt"), b"hello world").unwrap();
    assert_eq!(s.read("a.txt".into(), 0, 5).unwrap(), b"hello");
    assert_eq!(s.read("a.txt".into(), 6, 100).unwrap(), b"world");
    assert_eq!(s.read("a.txt".into(), 100, 10).unwrap(), b"");
    code(
        s.read("a.txt".into(), 0, MAX_READ_BYTES + 1),
        ErrorCode::TooLarge,
    );
    code(s.read("missing".into(), 0, 1), ErrorCode::NotFound);
    fs::create_dir(vault.path().join("d")).unwrap();
    code(s.read("d".into(), 0, 1), ErrorCode::Io);
}

#[test]
fn hash_streams_a_file_and_reports_size_and_mtime() {
    let (vault, mut s) = full();
    // Several hash_copy buffers long, and not a multiple of one.
    let big: Vec<u8> = (0..3_000_001u32).map(|i| (i % 251) as u8).collect();
    fs::create_dir(vault.path().join("n")).unwrap();
    fs::write(vault.path().join("n/big.bin"), &big).unwrap();
    fs::write(vault.path().join("empty"), b"").unwrap();
    let d = s.hash("n/big.bin".into()).unwrap();
    assert_eq!(
        (d.size, d.sha256.as_str()),
        (big.len() as u64, sha(&big).as_str())
    );
    let listed = s.list_dir("n".into()).unwrap();
    assert_eq!(
        d.mtime_ms, listed[0].mtime_ms,
        "the same mtime the listing reports"
    );
    let e = s.hash("empty".into()).unwrap();
    assert_eq!((e.size, e.sha256), (0, sha(b"")));

    code(s.hash("missing.md".into()), ErrorCode::NotFound);
    code(s.hash("n/missing/x.md".into()), ErrorCode::NotFound);
    assert_eq!(
        code(s.hash("n".into()), ErrorCode::Io),
        "n is not a regular file"
    );

    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret"), b"s").unwrap();
    symlink(outside.path().join("secret"), vault.path().join("link")).unwrap();
    symlink(
        vault.path().join("n/big.bin"),
        vault.path().join("inner-link"),
    )
    .unwrap();
    fs::create_dir_all(vault.path().join(".verstak")).unwrap();
    fs::write(vault.path().join(".verstak/config"), b"c").unwrap();
    for p in [
        "link",
        "inner-link",
        ".verstak/config",
        "../secret",
        "/etc/passwd",
    ] {
        code(s.hash(p.into()), ErrorCode::OutsideVault);
    }
}

#[test]
fn special_files_are_refused_without_blocking() {
    let (v, mut s) = full();
    let fifo = std::ffi::CString::new(v.path().join("pipe").into_os_string().into_encoded_bytes())
        .unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    // Opening a FIFO for reading blocks until a writer comes; these calls must return at once.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send([
            code(s.read("pipe".into(), 0, 1), ErrorCode::Io),
            code(s.hash("pipe".into()), ErrorCode::Io),
            code(
                s.copy("pipe".into(), "copied".into(), sha(b"")),
                ErrorCode::Io,
            ),
            code(s.stage_copy("pipe".into(), "k".into()), ErrorCode::Io),
        ]);
    });
    let messages = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("no call blocks on the FIFO");
    for m in messages {
        assert_eq!(m, "pipe is not a regular file");
    }
    assert!(!v.path().join("copied").exists());
}

#[test]
fn list_hides_the_reserved_folder_and_reports_symlinks_as_other() {
    let (vault, mut s) = full();
    fs::create_dir_all(vault.path().join(".verstak/trash")).unwrap();
    fs::create_dir_all(vault.path().join("sub/.Verstak")).unwrap();
    fs::write(vault.path().join("b.md"), b"12345").unwrap();
    fs::create_dir(vault.path().join("a")).unwrap();
    symlink("/tmp", vault.path().join("c")).unwrap();
    let got: Vec<_> = s
        .list_dir("".into())
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.kind, e.size))
        .collect();
    assert_eq!(got.len(), 4);
    assert_eq!((got[0].0.as_str(), got[0].1), ("a", EntryKind::Dir));
    assert_eq!(
        (got[1].0.as_str(), got[1].1, got[1].2),
        ("b.md", EntryKind::File, 5)
    );
    assert_eq!((got[2].0.as_str(), got[2].1), ("c", EntryKind::Other));
    assert_eq!(got[3].0, "sub");
    assert!(s.list_dir("sub".into()).unwrap().is_empty());
    code(s.list_dir("missing".into()), ErrorCode::NotFound);
}

#[test]
fn copy_checks_the_source_hash_and_never_replaces() {
    let (vault, mut s) = full();
    fs::write(vault.path().join("a.bin"), b"data").unwrap();
    let meta = s
        .copy("a.bin".into(), "x/b.bin".into(), sha(b"data"))
        .unwrap();
    assert_eq!(meta.size, 4);
    assert_eq!(fs::read(vault.path().join("x/b.bin")).unwrap(), b"data");
    code(
        s.copy("a.bin".into(), "x/b.bin".into(), sha(b"data")),
        ErrorCode::AlreadyExists,
    );
    code(
        s.copy("a.bin".into(), "c.bin".into(), sha(b"other")),
        ErrorCode::Changed,
    );
    assert!(!vault.path().join("c.bin").exists());
    code(
        s.copy("missing".into(), "d.bin".into(), sha(b"")),
        ErrorCode::NotFound,
    );
    assert_eq!(tree(&vault.path().join("x")), ["b.bin"]);
}

#[test]
fn new_files_fsync_their_folder_before_anything_is_replaced_or_the_state_is_written() {
    use crate::bindings::verstak::sync::storage::Host as Storage;
    let (vault, mut s) = full();
    let pending = |s: &HostState| {
        s.unsynced_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
    };
    s.write("a/one.md".into(), b"1".to_vec(), Expect::Absent)
        .unwrap();
    s.copy("a/one.md".into(), "b/two.md".into(), sha(b"1"))
        .unwrap();
    assert_eq!(pending(&s), ["a", "b"]);
    // Replacing content first makes every earlier new file durable (a conflict copy, say).
    s.write("a/one.md".into(), b"2".to_vec(), h(b"1")).unwrap();
    assert!(pending(&s).is_empty());

    s.write("c/three.md".into(), b"3".to_vec(), Expect::Absent)
        .unwrap();
    s.rename("b/two.md".into(), "b/2.md".into()).unwrap();
    assert!(pending(&s).is_empty(), "a rename settles them first");

    s.write("d/four.md".into(), b"4".to_vec(), Expect::Absent)
        .unwrap();
    Storage::set_cache(&mut s, "base-x".into(), "x".into()).unwrap();
    assert_eq!(pending(&s), ["d"], "a cache document records no file");
    s.write("e/five.md".into(), b"5".to_vec(), Expect::Absent)
        .unwrap();
    fs::remove_dir_all(vault.path().join("e")).unwrap();
    Storage::set(&mut s, "engine-state".into(), "{}".into()).unwrap();
    assert!(
        pending(&s).is_empty(),
        "the state write settles them (a removed one quietly)"
    );
    assert_eq!(fs::read(vault.path().join("d/four.md")).unwrap(), b"4");
}

/// The temp folder's entries (queued files live there until they are placed).
fn temps(s: &HostState) -> usize {
    fs::read_dir(s.vault.root.join(s.vault.temp_rel())).map_or(0, |d| d.count())
}

#[test]
fn during_a_call_new_files_are_placed_in_a_batch_before_anything_sees_the_vault() {
    use crate::bindings::verstak::sync::storage::Host as Storage;
    let (vault, mut s) = full();
    s.begin_call_writes();
    let meta = s
        .write("a/one.md".into(), b"one".to_vec(), Expect::Absent)
        .unwrap();
    assert_eq!(meta.size, 3);
    s.write("b/two.md".into(), b"two".to_vec(), Expect::Absent)
        .unwrap();
    assert!(
        !vault.path().join("a/one.md").exists(),
        "queued, not placed"
    );
    assert_eq!(temps(&s), 2);
    // Any other call settles the queue first: a hash sees the file it asks about.
    let digest = s.hash("a/one.md".into()).unwrap();
    assert_eq!(digest.sha256, sha(b"one"));
    assert_eq!(
        digest.mtime_ms, meta.mtime_ms,
        "the link keeps the written mtime"
    );
    assert_eq!(fs::read(vault.path().join("b/two.md")).unwrap(), b"two");
    assert_eq!(temps(&s), 0);

    // A durable state write settles too; a cache document does not.
    s.write("c/three.md".into(), b"3".to_vec(), Expect::Absent)
        .unwrap();
    Storage::set_cache(&mut s, "base-x".into(), "x".into()).unwrap();
    assert!(!vault.path().join("c/three.md").exists());
    Storage::set(&mut s, "engine-state".into(), "{}".into()).unwrap();
    assert_eq!(fs::read(vault.path().join("c/three.md")).unwrap(), b"3");

    // A file already there is refused at once, as an immediate write does.
    code(
        s.write("c/three.md".into(), b"x".to_vec(), Expect::Absent),
        ErrorCode::Changed,
    );
    // The end of the call places what is left and turns batching off.
    s.write("d/four.md".into(), b"4".to_vec(), Expect::Absent)
        .unwrap();
    s.end_call_writes();
    assert_eq!(fs::read(vault.path().join("d/four.md")).unwrap(), b"4");
    s.write("e/five.md".into(), b"5".to_vec(), Expect::Absent)
        .unwrap();
    assert!(
        vault.path().join("e/five.md").exists(),
        "immediate outside a call"
    );
}

#[test]
fn a_queued_file_whose_path_got_taken_is_never_placed_and_no_state_is_saved() {
    use crate::bindings::verstak::sync::storage::Host as Storage;
    let (vault, mut s) = full();
    s.begin_call_writes();
    s.write("a/mine.md".into(), b"remote".to_vec(), Expect::Absent)
        .unwrap();
    s.write("a/other.md".into(), b"other".to_vec(), Expect::Absent)
        .unwrap();
    // The user creates the same path while it is queued.
    fs::create_dir_all(vault.path().join("a")).unwrap();
    fs::write(vault.path().join("a/mine.md"), b"user").unwrap();
    code(
        Storage::set(&mut s, "engine-state".into(), "{}".into()),
        ErrorCode::Io,
    );
    assert_eq!(fs::read(vault.path().join("a/mine.md")).unwrap(), b"user");
    assert_eq!(fs::read(vault.path().join("a/other.md")).unwrap(), b"other");
    assert_eq!(temps(&s), 0, "the refused temp file is removed");
    // Nothing that could claim the file was written is saved for the rest of the call.
    code(
        Storage::append(&mut s, "engine-journal".into(), "x".into()),
        ErrorCode::Io,
    );
    assert_eq!(Storage::get(&mut s, "engine-state".into()).unwrap(), None);
    s.end_call_writes();
    s.begin_call_writes();
    Storage::set(&mut s, "engine-state".into(), "{}".into()).unwrap();
}

#[test]
fn a_full_queue_is_placed_at_once() {
    use crate::imports::write_behind::MAX_QUEUED_FILES;
    let (vault, mut s) = full();
    s.begin_call_writes();
    for i in 0..MAX_QUEUED_FILES {
        s.write(format!("n/{i}.md"), vec![b'x'], Expect::Absent)
            .unwrap();
    }
    assert!(vault.path().join("n/0.md").exists());
    assert_eq!(temps(&s), 0);
    s.end_call_writes();
}

/// The staging folder's entries.
fn stages(s: &HostState) -> Vec<String> {
    let dir = s.vault.root.join(s.vault.staging_rel());
    if dir.exists() { tree(&dir) } else { vec![] }
}

#[test]
fn during_a_call_a_commit_to_a_free_path_is_queued_with_the_new_files() {
    use crate::bindings::verstak::sync::storage::Host as Storage;
    let (vault, mut s) = full();
    s.begin_call_writes();
    s.stage_write("dl-1".into(), 0, b"blob one".to_vec())
        .unwrap();
    s.stage_write("dl-2".into(), 0, b"blob two".to_vec())
        .unwrap();
    let meta = s
        .commit_stage("dl-1".into(), "b/one.bin".into(), Expect::Absent)
        .unwrap();
    assert_eq!(meta.size, 8);
    s.commit_stage("dl-2".into(), "b/two.bin".into(), Expect::Absent)
        .unwrap();
    assert!(
        !vault.path().join("b/one.bin").exists(),
        "queued, not placed"
    );
    assert_eq!(stages(&s), ["dl-1", "dl-2"], "still under their keys");
    // Reusing a queued key places the queue first, so the new bytes never reach the vault.
    s.stage_write("dl-1".into(), 0, b"next".to_vec()).unwrap();
    assert_eq!(
        fs::read(vault.path().join("b/one.bin")).unwrap(),
        b"blob one"
    );
    assert_eq!(
        fs::read(vault.path().join("b/two.bin")).unwrap(),
        b"blob two"
    );
    assert_eq!(stages(&s), ["dl-1"]);
    let placed = fs::metadata(vault.path().join("b/one.bin")).unwrap();
    assert_eq!(placed.permissions().mode() & 0o777, 0o644);
    assert_eq!(
        mtime_ms(&cap_std::fs::Metadata::from_just_metadata(placed)),
        meta.mtime_ms
    );
    // A commit of a key queued already finds nothing under the key, as it would at once.
    s.commit_stage("dl-1".into(), "b/three.bin".into(), Expect::Absent)
        .unwrap();
    code(
        s.commit_stage("dl-1".into(), "b/four.bin".into(), Expect::Absent),
        ErrorCode::NotFound,
    );
    // A path taken meanwhile: the staging file stays under its key, and no state is saved.
    s.stage_write("dl-3".into(), 0, b"remote".to_vec()).unwrap();
    s.commit_stage("dl-3".into(), "b/mine.bin".into(), Expect::Absent)
        .unwrap();
    fs::write(vault.path().join("b/mine.bin"), b"user").unwrap();
    code(
        Storage::set(&mut s, "engine-state".into(), "{}".into()),
        ErrorCode::Io,
    );
    assert_eq!(fs::read(vault.path().join("b/mine.bin")).unwrap(), b"user");
    assert_eq!(fs::read(vault.path().join("b/three.bin")).unwrap(), b"next");
    assert_eq!(stages(&s), ["dl-3"]);
    s.end_call_writes();
    // A path that is taken already is refused at once, queued or not.
    s.begin_call_writes();
    code(
        s.commit_stage("dl-3".into(), "b/mine.bin".into(), Expect::Absent),
        ErrorCode::Changed,
    );
    s.delete_stage("dl-3".into()).unwrap();
    assert!(stages(&s).is_empty());
    s.end_call_writes();
}

#[test]
fn a_queued_stage_is_placed_before_the_key_is_deleted_or_sent() {
    let (vault, mut s) = full();
    s.begin_call_writes();
    s.stage_write("k".into(), 0, b"bytes".to_vec()).unwrap();
    s.commit_stage("k".into(), "x.bin".into(), Expect::Absent)
        .unwrap();
    s.delete_stage("k".into()).unwrap();
    assert_eq!(fs::read(vault.path().join("x.bin")).unwrap(), b"bytes");
    s.end_call_writes();
}

#[test]
fn a_vault_folder_replaced_between_calls_is_seen_by_the_next_call() {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("vault");
    fs::create_dir(&root).unwrap();
    let (_unused, mut s) = full();
    s.vault = crate::vault::VaultDirs::open(&root, "verstak.sync").unwrap();
    s.begin_call_writes();
    s.write("one.md".into(), b"1".to_vec(), Expect::Absent)
        .unwrap();
    s.stage_write("k".into(), 0, b"staged".to_vec()).unwrap();
    s.end_call_writes();
    assert_eq!(fs::read(root.join("one.md")).unwrap(), b"1");

    // The user moves the vault away and puts another folder in its place.
    fs::rename(&root, parent.path().join("moved")).unwrap();
    fs::create_dir(&root).unwrap();
    s.begin_call_writes();
    code(s.hash("one.md".into()), ErrorCode::NotFound);
    s.write("two.md".into(), b"2".to_vec(), Expect::Absent)
        .unwrap();
    code(
        s.commit_stage("k".into(), "k.bin".into(), Expect::Absent),
        ErrorCode::NotFound,
    );
    s.stage_write("k".into(), 0, b"again".to_vec()).unwrap();
    s.commit_stage("k".into(), "k.bin".into(), Expect::Absent)
        .unwrap();
    s.end_call_writes();
    assert_eq!(
        tree(&root)
            .iter()
            .filter(|n| !n.starts_with(".verstak"))
            .collect::<Vec<_>>(),
        ["k.bin", "two.md"]
    );
    assert_eq!(fs::read(root.join("k.bin")).unwrap(), b"again");
    assert!(!parent.path().join("moved/two.md").exists());
}

#[test]
fn temp_and_staging_folders_removed_during_a_call_are_made_again() {
    let (vault, mut s) = full();
    let data = vault.path().join(".verstak/plugin-data/verstak.sync");
    s.begin_call_writes();
    s.write("a/one.md".into(), b"1".to_vec(), Expect::Absent)
        .unwrap();
    s.stage_write("k".into(), 0, b"staged".to_vec()).unwrap();
    s.hash("a/one.md".into()).unwrap();
    fs::remove_dir_all(data.join("tmp")).unwrap();
    fs::remove_dir_all(data.join("staging")).unwrap();
    fs::remove_dir_all(vault.path().join("a")).unwrap();
    s.write("a/two.md".into(), b"2".to_vec(), Expect::Absent)
        .unwrap();
    s.stage_write("k".into(), 0, b"staged again".to_vec())
        .unwrap();
    s.commit_stage("k".into(), "a/k.bin".into(), Expect::Absent)
        .unwrap();
    fs::write(vault.path().join("g.md"), b"g").unwrap();
    s.hash("g.md".into()).unwrap();
    fs::remove_dir_all(data.join("staging")).unwrap();
    assert_eq!(s.stage_copy("g.md".into(), "k2".into()).unwrap().size, 1);
    s.end_call_writes();
    assert_eq!(fs::read(vault.path().join("a/two.md")).unwrap(), b"2");
    assert_eq!(
        fs::read(vault.path().join("a/k.bin")).unwrap(),
        b"staged again"
    );
    assert_eq!(stages(&s), ["k2"]);
    assert!(tree(&data.join("tmp")).is_empty(), "no temp file left");
}

#[test]
fn during_a_call_a_path_under_a_file_fails_at_once_and_later_state_is_saved() {
    use crate::bindings::verstak::sync::storage::Host as Storage;
    let (vault, mut s) = full();
    fs::write(vault.path().join("x"), b"file").unwrap();
    s.begin_call_writes();
    assert!(
        s.write("x/y.md".into(), b"y".to_vec(), Expect::Absent)
            .is_err()
    );
    s.stage_write("k".into(), 0, b"k".to_vec()).unwrap();
    assert!(
        s.commit_stage("k".into(), "x/k.bin".into(), Expect::Absent)
            .is_err()
    );
    Storage::set(&mut s, "engine-state".into(), "{}".into()).unwrap();
    s.end_call_writes();
    assert_eq!(stages(&s), ["k"]);
}

#[test]
fn a_symlink_planted_during_a_call_is_still_refused() {
    let (vault, mut s) = full();
    let outside = tempfile::tempdir().unwrap();
    s.begin_call_writes();
    s.write("a/one.md".into(), b"1".to_vec(), Expect::Absent)
        .unwrap();
    s.hash("a/one.md".into()).unwrap();
    fs::remove_dir_all(vault.path().join("a")).unwrap();
    symlink(outside.path(), vault.path().join("a")).unwrap();
    code(
        s.write("a/two.md".into(), b"2".to_vec(), Expect::Absent),
        ErrorCode::OutsideVault,
    );
    s.stage_write("k".into(), 0, b"x".to_vec()).unwrap();
    code(
        s.commit_stage("k".into(), "a/k.bin".into(), Expect::Absent),
        ErrorCode::OutsideVault,
    );
    s.end_call_writes();
    assert!(tree(outside.path()).is_empty());
}

#[test]
fn rename_moves_into_new_folders_but_never_over_something() {
    let (vault, mut s) = full();
    fs::write(vault.path().join("a.md"), b"a").unwrap();
    fs::write(vault.path().join("b.md"), b"b").unwrap();
    s.rename("a.md".into(), "new/dir/a.md".into()).unwrap();
    assert_eq!(fs::read(vault.path().join("new/dir/a.md")).unwrap(), b"a");
    code(
        s.rename("b.md".into(), "new/dir/a.md".into()),
        ErrorCode::AlreadyExists,
    );
    assert_eq!(fs::read(vault.path().join("b.md")).unwrap(), b"b");
    code(s.rename("a.md".into(), "z.md".into()), ErrorCode::NotFound);
    s.rename("new".into(), "renamed".into()).unwrap();
    assert!(vault.path().join("renamed/dir/a.md").exists());
}

#[test]
fn trash_is_restorable_and_honours_expect() {
    let (vault, mut s) = full();
    fs::create_dir(vault.path().join("n")).unwrap();
    fs::write(vault.path().join("n/a.md"), b"keep me").unwrap();
    code(s.trash("n/a.md".into(), h(b"other")), ErrorCode::Changed);
    code(s.trash("n/a.md".into(), Expect::Absent), ErrorCode::Changed);
    assert_eq!(fs::read(vault.path().join("n/a.md")).unwrap(), b"keep me");
    assert!(
        !vault.path().join(".verstak/trash").exists()
            || tree(&vault.path().join(".verstak/trash/files")).is_empty()
    );

    s.trash("n/a.md".into(), h(b"keep me")).unwrap();
    assert!(!vault.path().join("n/a.md").exists());
    let ids: Vec<_> = fs::read_dir(vault.path().join(".verstak/trash/files"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        fs::read(ids[0].join("n/a.md")).unwrap(),
        b"keep me",
        "the trashed file keeps its vault path"
    );

    s.trash("n/gone.md".into(), h(b"x")).unwrap();
    fs::write(vault.path().join("n/a.md"), b"again").unwrap();
    s.trash("n/a.md".into(), h(b"again")).unwrap();
    assert_eq!(
        fs::read_dir(vault.path().join(".verstak/trash/files"))
            .unwrap()
            .count(),
        2,
        "trash ids are unique"
    );
}

#[test]
fn mkdir_and_remove_dir() {
    let (vault, mut s) = full();
    s.mkdir("a/b/c".into()).unwrap();
    s.mkdir("a/b/c".into()).unwrap();
    assert!(vault.path().join("a/b/c").is_dir());
    fs::write(vault.path().join("a/f"), b"").unwrap();
    code(s.mkdir("a/f".into()), ErrorCode::AlreadyExists);
    code(s.mkdir("a/f/g".into()), ErrorCode::AlreadyExists);
    code(s.remove_dir("a/b".into()), ErrorCode::NotEmpty);
    s.remove_dir("a/b/c".into()).unwrap();
    s.remove_dir("a/b/c".into()).unwrap();
    assert!(!vault.path().join("a/b/c").exists());
}

#[test]
fn staging_round_trip_with_hashes() {
    let (vault, mut s) = full();
    s.stage_write("up-1".into(), 0, b"hello ".to_vec()).unwrap();
    s.stage_write("up-1".into(), 6, b"world".to_vec()).unwrap();
    let file = vault
        .path()
        .join(".verstak/plugin-data/verstak.sync/staging/up-1");
    // What the removed `stage-hash` import reported, read from the staging file itself.
    let staged = fs::read(&file).unwrap();
    assert_eq!((staged.len(), sha(&staged)), (11, sha(b"hello world")));
    code(
        s.stage_write("up-1".into(), 100, b"x".to_vec()),
        ErrorCode::InvalidInput,
    );
    s.stage_write("up-1".into(), 0, b"short".to_vec()).unwrap();
    assert_eq!(
        sha(&fs::read(&file).unwrap()),
        sha(b"short"),
        "offset 0 truncates"
    );

    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(vault.path().join("big.bin"), &big).unwrap();
    let staged = s.stage_copy("big.bin".into(), "blob".into()).unwrap();
    assert_eq!(
        (staged.size, staged.sha256.clone()),
        (big.len() as u64, sha(&big))
    );

    fs::write(vault.path().join("dest.bin"), b"old").unwrap();
    code(
        s.commit_stage("blob".into(), "dest.bin".into(), Expect::Absent),
        ErrorCode::Changed,
    );
    code(
        s.commit_stage("blob".into(), "dest.bin".into(), h(b"not old")),
        ErrorCode::Changed,
    );
    assert_eq!(fs::read(vault.path().join("dest.bin")).unwrap(), b"old");
    let meta = s
        .commit_stage("blob".into(), "dest.bin".into(), h(b"old"))
        .unwrap();
    assert_eq!(meta.size, big.len() as u64);
    assert_eq!(fs::read(vault.path().join("dest.bin")).unwrap(), big);
    assert!(
        !file.with_file_name("blob").exists(),
        "the committed staging file is gone"
    );

    s.commit_stage("up-1".into(), "new/dir/f.txt".into(), Expect::Absent)
        .unwrap();
    assert_eq!(
        fs::read(vault.path().join("new/dir/f.txt")).unwrap(),
        b"short"
    );
    assert_eq!(
        fs::metadata(vault.path().join("new/dir/f.txt"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o644
    );
    code(
        s.commit_stage("up-1".into(), "other".into(), Expect::Absent),
        ErrorCode::NotFound,
    );

    s.stage_write("gone".into(), 0, b"x".to_vec()).unwrap();
    s.delete_stage("gone".into()).unwrap();
    s.delete_stage("gone".into()).unwrap();
    assert_eq!(
        tree(
            &vault
                .path()
                .join(".verstak/plugin-data/verstak.sync/staging")
        ),
        Vec::<String>::new()
    );
}

#[test]
fn staging_keys_are_validated() {
    let (_v, mut s) = full();
    for bad in ["", ".", "..", "../x", "a/b", &"k".repeat(129)] {
        code(
            s.stage_write(bad.into(), 0, b"x".to_vec()),
            ErrorCode::InvalidInput,
        );
        code(s.delete_stage(bad.into()), ErrorCode::InvalidInput);
    }
}

#[test]
fn temp_files_live_under_verstak_and_stale_ones_are_swept() {
    // A host killed between creating its temp file and placing it used to leave
    // `.verstak-write-*.tmp` beside the note; temp files now live in `<data>/tmp/`.
    let (vault, mut s) = full();
    let tmp = vault.path().join(".verstak/plugin-data/verstak.sync/tmp");
    fs::create_dir_all(&tmp).unwrap();
    let stale = tmp.join(".verstak-write-dead.tmp");
    let fresh = tmp.join(".verstak-write-busy.tmp");
    for f in [&stale, &fresh] {
        fs::write(f, b"left by a killed host").unwrap();
    }
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();

    s.write("notes/a.md".into(), b"a".to_vec(), Expect::Absent)
        .unwrap();
    s.copy("notes/a.md".into(), "notes/b.md".into(), sha(b"a"))
        .unwrap();

    assert_eq!(
        tree(&vault.path().join("notes")),
        ["a.md", "b.md"],
        "no temp file beside the notes"
    );
    assert_eq!(
        tree(&tmp),
        [".verstak-write-busy.tmp"],
        "the stale temp was swept, a recent one kept"
    );
}

#[test]
fn folders_are_made_when_missing_even_if_removed_between_writes() {
    // Folders are created only when an operation finds them missing (fewer syscalls per file):
    // removing the temp, staging or destination folders between writes must not matter.
    let (vault, mut s) = full();
    let data = vault.path().join(".verstak/plugin-data/verstak.sync");
    s.write("a/b/one.md".into(), b"1".to_vec(), Expect::Absent)
        .unwrap();
    s.stage_write("k".into(), 0, b"staged".to_vec()).unwrap();
    s.commit_stage("k".into(), "a/b/two.md".into(), Expect::Absent)
        .unwrap();
    fs::remove_dir_all(data.join("tmp")).unwrap();
    fs::remove_dir_all(data.join("staging")).unwrap();
    fs::remove_dir_all(vault.path().join("a")).unwrap();

    s.write("a/b/one.md".into(), b"1 again".to_vec(), Expect::Absent)
        .unwrap();
    s.copy("a/b/one.md".into(), "c/d/copy.md".into(), sha(b"1 again"))
        .unwrap();
    s.stage_write("k".into(), 0, b"staged again".to_vec())
        .unwrap();
    s.commit_stage("k".into(), "e/f/two.md".into(), Expect::Absent)
        .unwrap();
    fs::write(vault.path().join("g.md"), b"g").unwrap();
    fs::remove_dir_all(data.join("staging")).unwrap();
    assert_eq!(s.stage_copy("g.md".into(), "k2".into()).unwrap().size, 1);
    assert_eq!(
        fs::read(vault.path().join("a/b/one.md")).unwrap(),
        b"1 again"
    );
    assert_eq!(
        fs::read(vault.path().join("c/d/copy.md")).unwrap(),
        b"1 again"
    );
    assert_eq!(
        fs::read(vault.path().join("e/f/two.md")).unwrap(),
        b"staged again"
    );
    // A file in the way of a folder is still an error, and nothing is left behind.
    fs::write(vault.path().join("x"), b"file").unwrap();
    assert!(
        s.write("x/y.md".into(), b"y".to_vec(), Expect::Absent)
            .is_err()
    );
    assert!(tree(&data.join("tmp")).is_empty(), "no temp file left");
}
