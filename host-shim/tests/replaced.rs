//! Issue 13: a synced local version that another device's edit replaces is listed. Through the
//! real component, two real hosts and the real server: B's status (text and JSON) names the
//! replaced file, its old sha256 and size, the version that replaced it and A's device; a local
//! edit that was never synced is kept as a conflict copy instead and not listed.

mod common;

use common::device::{conflict_copies, setup};
use common::host_cli;
use sha2::{Digest, Sha256};

fn status_json(vault: &std::path::Path) -> serde_json::Value {
    let out = host_cli(vault).args(["status", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_pulled_edit_over_the_synced_version_is_listed_on_the_replaced_device_only() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("n.md", "first\n");
    a.sync();
    b.sync();
    assert!(
        status_json(b.root())["replaced"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    a.write("n.md", "second\n");
    let pushed = a.sync().server_sequence;
    b.sync();
    assert_eq!(b.read("n.md"), "second\n");

    let st = status_json(b.root());
    let list = st["replaced"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{st}");
    let r = &list[0];
    assert_eq!(r["path"], "n.md");
    assert_eq!(r["sha256"], hex::encode(Sha256::digest(b"first\n")));
    assert_eq!(r["size"], 6);
    assert_eq!(r["version"], pushed);
    assert_eq!(r["byDevice"], a.status().device_id.as_str());
    assert!(r["atMs"].as_i64().unwrap() > 0);
    assert!(
        status_json(a.root())["replaced"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let out = host_cli(b.root()).arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Replaced:    1 local file(s)") && text.contains("n.md"),
        "{text}"
    );

    // An unsynced local edit meets a remote one: a conflict copy, not a replacement.
    a.write("n.md", "third from a\n");
    a.sync();
    b.write("n.md", "\u{0}binary from b");
    b.sync();
    assert_eq!(conflict_copies(b).len(), 1);
    assert_eq!(
        status_json(b.root())["replaced"].as_array().unwrap().len(),
        1
    );
}
