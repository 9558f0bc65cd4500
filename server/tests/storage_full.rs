//! A full disk (issue 15 item 3): the real server on a small tmpfs. Once the file system is
//! full, pushes and uploads answer 507 `storage_full` (logged as one line, no backtrace, even
//! with `RUST_BACKTRACE=1`), readiness is `degraded`; when space returns the same push succeeds
//! without a restart, and every acknowledged op survives a restart.
//!
//! Mounting needs root (CI runs as root). Without it the test prints why and passes.

mod common;

use common::*;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted on a temp directory, unmounted on drop.
struct SmallFs {
    dir: tempfile::TempDir,
}

impl SmallFs {
    fn mount(size: &str) -> Result<SmallFs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(SmallFs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system holding `dir` with one file; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    for chunk in [1 << 20, 4096, 1] {
        let buf = vec![0u8; chunk];
        while f.write_all(&buf).and_then(|_| f.flush()).is_ok() {}
    }
    path
}

/// `n` file ops with about `kib` KiB of text each.
fn big_ops(prefix: &str, n: usize, kib: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let path = format!("Docs/{prefix}{i}.txt");
            let payload = json!({"path": path, "content": "x".repeat(kib * 1024)}).to_string();
            json!({"op_id": format!("{prefix}{i}"), "entity_type": "file", "entity_id": path,
                   "op_type": "create", "payload_json": payload, "client_sequence": i + 1,
                   "created_at": "2026-07-10T00:00:00Z"})
        })
        .collect()
}

fn pulled_ids(s: &TestServer, token: &str) -> Vec<String> {
    let v = s.pull(token, 0, 100).json();
    v["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["op_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn disk_full_answers_507_and_recovers_by_itself() {
    if skip_on_pg("fills the file system under the SQLite file and its WAL") {
        return;
    }
    let fs = match SmallFs::mount("24m") {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("skipped: cannot mount a tmpfs ({why}); run as root to test a full disk");
            return;
        }
    };
    let dir = tempfile::tempdir_in(fs.path()).unwrap();
    let mut s = TestServer::start_in_env(dir, &[], &[("RUST_BACKTRACE", "1")]);
    let (t, _) = s.user_device("ann", "v");
    let first = s.push(&t, big_ops("a", 2, 4), Some("k1"));
    assert_eq!(first.status, 200, "{}", first.text());

    let filler = fill(fs.path());
    // 12 ops of 100 KiB: the WAL must grow by more than a megabyte.
    let batch = big_ops("b", 12, 100);
    let r = s.push(&t, batch.clone(), Some("k2"));
    r.assert_error(
        507,
        "storage_full",
        "server storage is full; nothing was stored, try again later",
    );
    let up = s.upload(&t, &vec![7u8; 256 * 1024]);
    up.assert_error(
        507,
        "storage_full",
        "server storage is full; nothing was stored, try again later",
    );
    let h = s.get("/readyz", None);
    assert_eq!(h.status, 503, "{}", h.text());
    assert_eq!(h.json()["status"], "degraded");
    assert_eq!(h.json()["blob_storage_writable"], false);
    assert_eq!(
        pulled_ids(&s, &t),
        ["a0", "a1"],
        "a refused push stored nothing"
    );

    // Space returns: no restart, the same push goes through.
    std::fs::remove_file(filler).unwrap();
    let h = s.get("/readyz", None);
    assert_eq!((h.status, h.json()["status"].clone()), (200, json!("ok")));
    let r = s.push(&t, batch, Some("k2"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.upload(&t, &vec![7u8; 256 * 1024]).status, 200);

    // The log: one line per refused request, no backtrace, no 500.
    let log: Vec<String> = s.log.try_iter().collect();
    let full_lines = log.iter().filter(|l| l.contains("storage full")).count();
    assert!(full_lines >= 2, "{log:#?}");
    assert!(
        !log.iter()
            .any(|l| l.contains("backtrace") || l.contains("internal error")),
        "{log:#?}"
    );

    // Every acknowledged op survives a restart.
    s.sigterm();
    assert_eq!(s.wait_exit(std::time::Duration::from_secs(30)), Some(0));
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    let s = TestServer::start_in(dir, &[]);
    let mut ids = pulled_ids(&s, &t);
    ids.sort();
    let mut want: Vec<String> = ["a0", "a1"].map(String::from).to_vec();
    want.extend((0..12).map(|i| format!("b{i}")));
    want.sort();
    assert_eq!(ids, want);
}
