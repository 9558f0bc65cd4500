//! Issue 14 item 5: conflicts are never silent. Through the real component, host binary and
//! server: a kept conflict copy is in `status` (text and JSON) and in the panel bridge's
//! status until `conflicts dismiss` or the bridge's `sync.dismissConflicts`, and the sync
//! counts are true (one new file is one sent, nothing received).

mod common;

use common::device::setup;
use common::{host_cli, runtime};
use std::path::Path;
use verstak_sync_host::bridge::Bridge;

fn run_cli(vault: &Path, args: &[&str]) -> (i32, String, String) {
    let out = host_cli(vault).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(vault: &Path, args: &[&str]) -> serde_json::Value {
    let (code, out, err) = run_cli(vault, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

#[test]
fn the_cli_shows_a_conflict_until_it_is_dismissed_and_counts_what_it_sent() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);

    // One new file: one sent, nothing received (its own echo is not "received").
    a.write("n.md", "base\n");
    let (code, out, err) = run_cli(a.root(), &["sync"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("synced: pushed 1, pulled 0,"), "{out}");
    let (_, out, _) = run_cli(b.root(), &["sync"]);
    assert!(out.starts_with("synced: pushed 0, pulled 1,"), "{out}");
    let (_, out, _) = run_cli(a.root(), &["sync"]);
    assert!(out.starts_with("synced: pushed 0, pulled 0,"), "{out}");

    // Both edit the same line; B syncs second and keeps its own version as the copy.
    a.write("n.md", "alpha's line\n");
    b.write("n.md", "beta's line\n");
    a.sync();
    let summary = json(b.root(), &["sync", "--json"]);
    assert_eq!(
        (summary["pushed"].as_u64(), summary["pulled"].as_u64()),
        (Some(1), Some(1))
    );
    let copy = summary["keptBoth"][0]["copyPath"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(copy.starts_with("n (conflict beta "), "{copy}");
    assert_eq!(b.read(&copy), "beta's line\n");

    let (code, out, err) = run_cli(b.root(), &["status"]);
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("1 conflict: "))
        .unwrap_or_else(|| panic!("no conflict line in:\n{out}"));
    assert!(
        line.starts_with(&format!(
            "1 conflict: n.md — this device's version kept as '{copy}' (with dev_"
        )),
        "{line}"
    );
    let status = json(b.root(), &["status", "--json"]);
    let list = status["conflicts"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{status}");
    let alpha_id = json(a.root(), &["status", "--json"])["deviceId"].clone();
    assert_eq!(list[0]["path"], "n.md");
    assert_eq!(list[0]["copyPath"], copy.as_str());
    assert_eq!(list[0]["localIsCopy"], true);
    assert_eq!(list[0]["remoteDeviceId"], alpha_id);
    assert!(list[0]["at"].as_str().unwrap().ends_with('Z'), "{status}");
    // A sees the copy arrive as a plain file, and has no conflict of its own.
    a.sync();
    assert_eq!(a.read(&copy), "beta's line\n");
    assert_eq!(
        json(a.root(), &["status", "--json"])["conflicts"],
        serde_json::json!([])
    );

    // Still there after more syncs; `conflicts` lists it with its id.
    b.sync();
    let id = list[0]["id"].as_str().unwrap().to_string();
    let (_, out, _) = run_cli(b.root(), &["conflicts"]);
    assert!(
        out.starts_with(&format!("1 conflict:\n  {id}  n.md — ")),
        "{out}"
    );
    let (code, out, _) = run_cli(b.root(), &["conflicts", "dismiss", "c_nope"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "dismissed 0 conflict(s); the files stay as they are\n")
    );
    let (code, out, err) = run_cli(b.root(), &["conflicts", "dismiss", "--all"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "dismissed 1 conflict(s); the files stay as they are\n");
    let (_, out, _) = run_cli(b.root(), &["status"]);
    assert!(!out.contains("conflict"), "{out}");
    assert_eq!(
        json(b.root(), &["conflicts", "--json"]),
        serde_json::json!({ "conflicts": [] })
    );
    assert_eq!(b.read(&copy), "beta's line\n", "the files stay");
    b.sync();
    assert_eq!(
        json(b.root(), &["status", "--json"])["conflicts"],
        serde_json::json!([])
    );

    // Neither an id nor --all: a usage error.
    let (code, _, err) = run_cli(b.root(), &["conflicts", "dismiss"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn the_bridge_serves_the_conflicts_and_dismisses_them_for_the_panel() {
    let (_server, d) = setup(&["alpha", "beta"]);
    let (a, b) = (&d[0], &d[1]);
    a.write("n.md", "base\n");
    a.sync();
    b.sync();
    a.write("n.md", "alpha's line\n");
    b.write("n.md", "beta's line\n");
    a.sync();

    let bridge = Bridge::new(runtime(), b.root()).unwrap();
    let reply = bridge.call("sync.now", &[]);
    assert_eq!(reply[1], "", "{reply}");
    assert_eq!(reply[0]["keptBoth"].as_array().unwrap().len(), 1, "{reply}");
    let status = bridge.call("sync.status", &[]);
    let list = status[0]["conflicts"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{status}");
    assert_eq!(list[0]["localIsCopy"], true);

    // A fresh bridge (a reloaded panel) still sees it.
    drop(bridge);
    let bridge = Bridge::new(runtime(), b.root()).unwrap();
    assert_eq!(
        bridge.call("sync.status", &[])[0]["conflicts"],
        serde_json::json!(list)
    );
    let reply = bridge.call(
        "sync.dismissConflicts",
        &[serde_json::json!([list[0]["id"]])],
    );
    assert_eq!(reply, serde_json::json!([null, ""]));
    assert_eq!(
        bridge.call("sync.status", &[])[0]["conflicts"],
        serde_json::json!([])
    );
}
