//! Issue #13 through real parts: the real server binary, two real hosts (A and B) running the
//! real component. `history`, `deleted` and `restore` on the command line: four versions and a
//! deletion listed field by field, a restore bringing back the exact bytes on both devices, a
//! binary restored byte for byte, and unsynced local bytes kept when a restore replaces them.

mod common;

use common::device::{Device, setup};
use common::host_cli;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

fn run_cli(vault: &Path, args: &[&str]) -> (i32, String, String) {
    let out = host_cli(vault).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(vault: &Path, args: &[&str]) -> Value {
    let (code, out, err) = run_cli(vault, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn bytes(d: &Device, rel: &str) -> Vec<u8> {
    std::fs::read(d.path(rel)).unwrap()
}

#[test]
fn history_lists_versions_and_the_deletion_and_restore_brings_back_exact_bytes() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    let texts = ["first\n", "first\nsecond\n", "first\nsecond\nthird\n"];
    for t in texts {
        a.write("n.md", t);
        a.sync();
    }
    a.remove("n.md");
    a.sync();
    b.sync();
    assert!(!b.exists("n.md"));

    // Four versions, newest first: the deletion, then the three texts.
    let list = json(b.root(), &["history", "n.md", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 4, "{list:?}");
    let alpha = a.status().device_id;
    let deletion = &list[0];
    assert_eq!(deletion["deleted"], true);
    assert_eq!(deletion["kind"], "deleted");
    assert_eq!(deletion["size"], Value::Null);
    assert_eq!(deletion["sha256"], "");
    assert_eq!(deletion["device_id"], alpha.as_str());
    for (v, text) in list[1..].iter().zip(texts.iter().rev()) {
        assert_eq!(v["deleted"], false, "{v}");
        assert_eq!(v["kind"], "text");
        assert_eq!(v["size"], text.len());
        assert_eq!(v["sha256"], hex(text.as_bytes()));
        assert_eq!(v["device_id"], alpha.as_str());
        assert!(v["device"].as_str().unwrap().starts_with("alpha"), "{v}");
        assert!(v["time"].as_str().unwrap().ends_with('Z'), "{v}");
    }
    let seqs: Vec<i64> = list
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );

    // The table: a header and one row per version.
    let (code, out, err) = run_cli(b.root(), &["history", "n.md"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("VERSION  TIME"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&seqs[0].to_string()) && l.ends_with("deleted")),
        "{out}"
    );

    // The deleted file is listed with its last live version.
    let deleted = json(b.root(), &["deleted", "--json"]);
    let entry = deleted
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "n.md")
        .unwrap_or_else(|| panic!("n.md not in {deleted}"));
    assert_eq!(entry["deletion"]["version"], seqs[0]);
    assert_eq!(entry["last"]["version"], seqs[1]);

    // Restore the first version on B: its exact bytes, on B and then on A.
    let first = seqs[3];
    let (code, out, err) = run_cli(
        b.root(),
        &["restore", "n.md", "--version", &first.to_string()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("restored n.md to version {first}")),
        "{out}"
    );
    assert_eq!(bytes(b, "n.md"), texts[0].as_bytes());
    a.sync();
    assert_eq!(bytes(a, "n.md"), texts[0].as_bytes());
    let after = json(a.root(), &["history", "n.md", "--json"]);
    assert_eq!(
        after.as_array().unwrap().len(),
        5,
        "the restore is a new version"
    );
    assert_eq!(after[0]["sha256"], hex(texts[0].as_bytes()));
    let deleted = json(b.root(), &["deleted", "--json"]);
    assert!(
        !deleted
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "n.md"),
        "{deleted}"
    );
}

#[test]
fn a_binary_version_is_restored_byte_identical_and_local_bytes_are_never_lost() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    let v1: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    a.write("pic.bin", &v1);
    a.sync();
    a.write("pic.bin", [0u8, 1, 2, 3]);
    a.sync();
    b.sync();
    let list = json(b.root(), &["history", "pic.bin", "--json"]);
    let oldest = list.as_array().unwrap().last().unwrap().clone();
    assert_eq!(oldest["kind"], "binary");
    assert_eq!(oldest["size"], v1.len());
    assert_eq!(oldest["sha256"], hex(&v1));

    // B changed the file and did not sync: the restore keeps B's bytes as a conflict copy.
    b.write("pic.bin", b"beta's unsynced bytes");
    let version = oldest["version"].as_i64().unwrap().to_string();
    let r = json(
        b.root(),
        &["restore", "pic.bin", "--version", &version, "--json"],
    );
    assert_eq!(bytes(b, "pic.bin"), v1);
    let copy = r["kept_local"]
        .as_str()
        .expect("the local bytes were kept")
        .to_string();
    assert_eq!(bytes(b, &copy), b"beta's unsynced bytes");
    a.sync();
    assert_eq!(bytes(a, "pic.bin"), v1);
    assert_eq!(bytes(a, &copy), b"beta's unsynced bytes");
}

#[test]
fn errors_have_stable_codes() {
    let (_server, d) = setup(&["alpha"]);
    let a = &d[0];
    a.write("n.md", "x\n");
    a.sync();
    let (code, _, err) = run_cli(a.root(), &["history", "nope.md"]);
    assert_ne!(code, 0);
    assert_eq!(
        err.trim(),
        "error: not_found: nope.md has no stored version on the server"
    );
    let (code, _, err) = run_cli(a.root(), &["restore", "n.md", "--version", "99999"]);
    assert_ne!(code, 0);
    assert_eq!(
        err.trim(),
        "error: not_found: version 99999 of n.md is not a stored version"
    );
    let fresh = tempfile::tempdir().unwrap();
    let (code, _, err) = run_cli(fresh.path(), &["history", "n.md"]);
    assert_ne!(code, 0);
    assert!(err.starts_with("error: not_configured: "), "{err}");
}
