//! Issue #13 in the simulation: the in-memory server's history routes (versions and content,
//! from its op log), and the stories of `restore`: a text and a binary version come back on
//! both devices, unsynced local bytes are never lost, and a crash at any host call of a restore
//! leaves a vault that a retry finishes.

use verstak_sync_proto::history::{self, Version, VersionsResponse};
use verstak_sync_proto::{EntityType, OpType, PulledOp, paths};

use super::Sim;
use super::server::FakeServer;
use crate::engine::codes::ErrorCode;
use crate::engine::command::Command;
use crate::engine::event::{Action, Event, HttpResponse};
use crate::engine::payload::{Incoming, Source};

fn query<'a>(q: &'a str, key: &str) -> Option<String> {
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| decode(v))
    })
}

/// Percent-decoding of a query value (the engine encodes every byte outside A-Z a-z 0-9 -._~).
fn decode(v: &str) -> String {
    let mut out = Vec::new();
    let mut rest = v.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            rest = &tail[2..];
        } else {
            out.push(b);
            rest = tail;
        }
    }
    String::from_utf8(out).unwrap()
}

fn respond(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn not_found() -> HttpResponse {
    let body = serde_json::json!({"code": "not_found", "error": "not found"});
    respond(404, vec![], serde_json::to_vec(&body).unwrap())
}

impl FakeServer {
    /// The file ops of `path`, newest first.
    fn ops_of(&self, path: &str) -> Vec<&PulledOp> {
        let mut ops: Vec<&PulledOp> = self
            .ops
            .iter()
            .filter(|o| o.entity_type == EntityType::File && o.entity_id == path)
            .collect();
        ops.reverse();
        ops
    }

    fn version(&self, op: &PulledOp) -> Version {
        let inc =
            Incoming::parse(&op.payload_json).unwrap_or_else(|_| Incoming::parse("").unwrap());
        let deleted = op.op_type == OpType::Delete;
        let (kind, size) = match &inc.source {
            _ if deleted => (history::KIND_DELETED, None),
            Source::Blob { size, .. } => (history::KIND_BINARY, Some(*size)),
            Source::Inline(b) => (history::KIND_TEXT, Some(b.len() as u64)),
            Source::Missing => (history::KIND_TEXT, Some(0)),
        };
        Version {
            version: op.server_sequence,
            op_id: op.op_id.clone(),
            time: op.created_at.clone(),
            device_id: op.device_id.clone(),
            device: String::new(),
            size,
            sha256: match (&inc.hash, deleted) {
                (Some(h), false) => h.to_string(),
                _ => String::new(),
            },
            kind: kind.into(),
            deleted,
            renamed_from: None,
            renamed_to: None,
        }
    }

    /// `GET /api/v1/history/versions` and `…/content`.
    pub(crate) fn history(&self, target: &str) -> HttpResponse {
        let (route, q) = target.split_once('?').unwrap_or((target, ""));
        let Some(path) = query(q, "path") else {
            return not_found();
        };
        let ops = self.ops_of(&path);
        if ops.is_empty() {
            return not_found();
        }
        match route {
            paths::HISTORY_VERSIONS => {
                let versions = ops.iter().map(|o| self.version(o)).collect();
                let body = VersionsResponse { path, versions };
                respond(200, vec![], serde_json::to_vec(&body).unwrap())
            }
            paths::HISTORY_CONTENT => {
                let n: i64 = query(q, "version")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(-1);
                let Some(op) = ops
                    .iter()
                    .find(|o| o.server_sequence == n && o.op_type != OpType::Delete)
                else {
                    return not_found();
                };
                let inc = Incoming::parse(&op.payload_json).unwrap();
                let sha = inc.hash.as_ref().map(|h| h.to_string()).unwrap_or_default();
                let body = match inc.source {
                    Source::Inline(b) => b,
                    Source::Blob { hash, .. } => self.blobs[hash.as_str()].clone(),
                    Source::Missing => vec![],
                };
                let headers = vec![(history::CONTENT_SHA256_HEADER.to_string(), sha)];
                respond(200, headers, body)
            }
            _ => not_found(),
        }
    }
}

fn quiet(devices: usize) -> Sim {
    let mut sim = Sim::new(7, devices);
    sim.faults = false;
    sim
}

fn file(sim: &Sim, d: usize, path: &str) -> Option<Vec<u8>> {
    sim.devs[d].vault.files().get(path).cloned()
}

/// Device 0 writes `n.md` three times (syncing after each); device 1 pulls. The versions'
/// numbers, oldest first.
fn three_versions(sim: &mut Sim) -> Vec<i64> {
    for text in ["one\n", "one\ntwo\n", "one\ntwo\nthree\n"] {
        sim.write_user(0, "n.md", text);
        sim.act(0, Action::Sync).unwrap();
    }
    sim.act(1, Action::Sync).unwrap();
    let mut seqs = versions(sim, 1, "n.md");
    seqs.reverse();
    seqs
}

fn versions(sim: &mut Sim, d: usize, path: &str) -> Vec<i64> {
    let action = Action::History {
        path: path.into(),
        limit: 0,
    };
    let list = sim.answer(d, action).unwrap().history();
    list.iter().map(|v| v.version).collect()
}

fn restore(sim: &mut Sim, d: usize, path: &str, version: i64) -> crate::engine::answer::Finish {
    let action = Action::Restore {
        path: path.into(),
        version,
    };
    sim.answer(d, action)
}

/// The content of the server's newest op of `path`.
fn server_content(sim: &Sim, path: &str) -> Vec<u8> {
    let op = sim
        .server
        .ops
        .iter()
        .rev()
        .find(|o| o.entity_id == path)
        .unwrap();
    match Incoming::parse(&op.payload_json).unwrap().source {
        Source::Inline(b) => b,
        Source::Blob { hash, .. } => sim.server.blobs[hash.as_str()].clone(),
        Source::Missing => vec![],
    }
}

#[test]
fn a_text_version_comes_back_on_both_devices_as_a_new_version() {
    let mut sim = quiet(2);
    let seqs = three_versions(&mut sim);
    assert_eq!(seqs.len(), 3, "three versions, newest first");
    let r = restore(&mut sim, 1, "n.md", seqs[0]).unwrap().restored();
    assert_eq!(
        (r.path.as_str(), r.version, r.kept_local),
        ("n.md", seqs[0], None)
    );
    assert_eq!(r.summary.pushed, 1, "pushed as a new version");
    assert_eq!(file(&sim, 1, "n.md").unwrap(), b"one\n");
    assert_eq!(server_content(&sim, "n.md"), b"one\n");
    assert_eq!(versions(&mut sim, 1, "n.md").len(), 4);
    sim.act(0, Action::Sync).unwrap();
    assert_eq!(file(&sim, 0, "n.md").unwrap(), b"one\n");
    // Restoring what is already there changes nothing and pushes nothing.
    let again = restore(&mut sim, 1, "n.md", seqs[0]).unwrap().restored();
    assert_eq!(again.summary.pushed, 0);
}

#[test]
fn a_binary_version_comes_back_byte_for_byte() {
    let mut sim = quiet(2);
    let v1: Vec<u8> = (0..=255u8).cycle().take(600).collect();
    sim.devs[0].vault.put("img.bin", v1.clone()).unwrap();
    sim.act(0, Action::Sync).unwrap();
    sim.devs[0].vault.put("img.bin", vec![0, 1, 2]).unwrap();
    sim.act(0, Action::Sync).unwrap();
    sim.act(1, Action::Sync).unwrap();
    let seqs = versions(&mut sim, 1, "img.bin");
    let r = restore(&mut sim, 1, "img.bin", *seqs.last().unwrap()).unwrap();
    assert!(r.restored().kept_local.is_none());
    assert_eq!(file(&sim, 1, "img.bin").unwrap(), v1);
    sim.act(0, Action::Sync).unwrap();
    assert_eq!(file(&sim, 0, "img.bin").unwrap(), v1);
}

#[test]
fn restoring_over_unsynced_local_content_keeps_it_as_a_conflict_copy() {
    let mut sim = quiet(2);
    let seqs = three_versions(&mut sim);
    sim.write_user(1, "n.md", "mine, not pushed\n");
    let r = restore(&mut sim, 1, "n.md", seqs[0]).unwrap().restored();
    let copy = r.kept_local.expect("the local content was kept");
    assert!(copy.starts_with("n (conflict "), "{copy}");
    assert_eq!(file(&sim, 1, "n.md").unwrap(), b"one\n");
    assert_eq!(file(&sim, 1, &copy).unwrap(), b"mine, not pushed\n");
    sim.act(0, Action::Sync).unwrap();
    assert_eq!(file(&sim, 0, &copy).unwrap(), b"mine, not pushed\n");
    assert_eq!(file(&sim, 0, "n.md").unwrap(), b"one\n");
    // The copy is in the conflict list, like every copy a sync keeps.
    let status = sim.answer(1, Action::Status).unwrap().status();
    assert!(status.conflicts.iter().any(|c| c.copy_path == copy));
}

#[test]
fn a_deleted_file_comes_back() {
    let mut sim = quiet(2);
    let seqs = three_versions(&mut sim);
    sim.devs[0].vault.nodes.remove("n.md");
    sim.act(0, Action::Sync).unwrap();
    sim.act(1, Action::Sync).unwrap();
    assert_eq!(file(&sim, 1, "n.md"), None);
    let newest = versions(&mut sim, 1, "n.md")[0];
    let e = restore(&mut sim, 1, "n.md", newest).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    restore(&mut sim, 1, "n.md", seqs[2]).unwrap();
    assert_eq!(file(&sim, 1, "n.md").unwrap(), b"one\ntwo\nthree\n");
    sim.act(0, Action::Sync).unwrap();
    assert_eq!(file(&sim, 0, "n.md").unwrap(), b"one\ntwo\nthree\n");
}

#[test]
fn unknown_paths_and_versions_are_not_found_and_leave_no_error_in_the_status() {
    let mut sim = quiet(2);
    let seqs = three_versions(&mut sim);
    let history = Action::History {
        path: "nope.md".into(),
        limit: 0,
    };
    let e = sim.answer(1, history).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert_eq!(e.to_string(), "nope.md has no stored version on the server");
    let e = restore(&mut sim, 1, "n.md", 999).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);
    assert_eq!(e.to_string(), "version 999 of n.md is not a stored version");
    let e = restore(&mut sim, 1, "../x", seqs[0]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    let status = sim.answer(1, Action::Status).unwrap().status();
    assert_eq!(status.last_error, "");
    assert_eq!(file(&sim, 1, "n.md").unwrap(), b"one\ntwo\nthree\n");
}

#[test]
fn a_crash_at_any_host_call_of_a_restore_loses_nothing_and_a_retry_finishes_it() {
    let mut crashed_runs = 0;
    for k in 0.. {
        let mut sim = quiet(2);
        let seqs = three_versions(&mut sim);
        sim.write_user(1, "n.md", "mine\n");
        let action = Action::Restore {
            path: "n.md".into(),
            version: seqs[0],
        };
        // Run the restore on device 1, crashing just before its host call number `k`.
        sim.devs[1]
            .engine
            .handle(sim.now, Event::Start(action.clone()));
        let mut finished = false;
        for n in 0.. {
            let cmd = sim.devs[1].engine.poll_command().expect("not stalled");
            if let Command::Finished(f) = cmd {
                f.unwrap();
                finished = true;
                break;
            }
            if n == k {
                sim.crash(1);
                break;
            }
            let id = cmd.id().unwrap();
            let dev = &mut sim.devs[1];
            let result = dev.vault.exec(&cmd, &mut sim.server);
            dev.engine.handle(sim.now, Event::Reply { id, result });
        }
        if finished {
            assert!(crashed_runs > 10, "the restore makes host calls");
            return;
        }
        crashed_runs += 1;
        // Whatever the crash left, the local bytes are somewhere in the vault.
        let files = sim.devs[1].vault.files();
        assert!(
            files.values().any(|b| b == b"mine\n"),
            "crash at {k}: local bytes lost"
        );
        // The user retries; then both devices converge on the restored version and the kept bytes.
        restore(&mut sim, 1, "n.md", seqs[0]).unwrap();
        sim.act(0, Action::Sync).unwrap();
        sim.act(1, Action::Sync).unwrap();
        for d in [0, 1] {
            let files = sim.devs[d].vault.files();
            assert_eq!(files["n.md"], b"one\n", "crash at {k}, device {d}");
            assert!(
                files.values().any(|b| b == b"mine\n"),
                "crash at {k}, device {d}"
            );
        }
    }
}
