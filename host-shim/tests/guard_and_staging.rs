//! Issue 14 items 6 and 11 against the real server binary and the real component: "Keep the
//! files" clears the mass-deletion warning for good, and a blob that fails verification leaves
//! nothing in the staging folder.

mod common;

use common::device::{Device, setup, sha256_file, write_random_file};
use verstak_sync_host::bindings::exports::verstak::sync::sync_provider::Direction;

const GUARD_WARNING: &str = "mass deletion awaiting confirmation";

#[test]
fn keeping_the_files_clears_the_mass_deletion_warning_for_good() {
    let (_server, devices) = setup(&["alpha", "beta"]);
    let [a, b]: &[Device; 2] = devices.as_slice().try_into().unwrap();
    for i in 0..12 {
        a.write(&format!("f{i}.md"), format!("x{i}\n"));
    }
    a.sync();
    b.sync();
    for i in 0..12 {
        a.remove(&format!("f{i}.md"));
    }
    let err = a.try_sync().unwrap_err();
    assert!(err.message.contains(GUARD_WARNING), "{err}");
    assert!(a.status().last_warning.starts_with(GUARD_WARNING));

    a.session().restore_deletions(Direction::Outgoing).unwrap();
    let st = a.status();
    assert_eq!(st.last_warning, "", "{st:?}");
    assert_eq!(a.files().len(), 12, "the files are back");
    a.sync();
    assert_eq!(a.status().last_warning, "");
    assert_eq!(a.status().status_label, "connected");
}

#[test]
fn a_blob_that_fails_verification_leaves_nothing_staged() {
    let (server, devices) = setup(&["alpha", "beta"]);
    let [a, b]: &[Device; 2] = devices.as_slice().try_into().unwrap();
    write_random_file(&a.path("photo.bin"), 300_000, 7);
    let hash = sha256_file(&a.path("photo.bin"));
    a.sync();

    // The server's copy rots: same size, other bytes.
    let blob = server
        .data()
        .join("blobs")
        .join(&hash[..2])
        .join(&hash[2..4])
        .join(&hash);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();

    let outcome = b.try_sync();
    let st = b.status();
    let said = format!("{outcome:?} {} {}", st.last_error, st.last_warning);
    assert!(said.contains("download blob: SHA-256 mismatch"), "{said}");
    assert!(!b.exists("photo.bin"));
    let staging = b.path(".verstak/plugin-data/verstak.sync/staging");
    let left: Vec<_> = std::fs::read_dir(&staging)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "staged bytes left behind: {left:?}");
}
