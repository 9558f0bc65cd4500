//! Push and pull (spec §4.7, §4.8, §5; checklist S4 to S10, D1 to D3, D8, H13).

mod common;

use common::*;
use serde_json::{Value, json};

fn ids(v: &Value) -> Vec<String> {
    v["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["op_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn push_then_pull_round_trip() {
    let s = TestServer::start();
    let (t, d) = s.user_device("a", "vault-a");
    let r = s.push(&t, vec![op("op-1")], None);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        "{\"accepted\":[\"op-1\"],\"conflicts\":null,\"count\":1}\n"
    );
    let p = s.pull(&t, 0, 0).json();
    assert_eq!(p["server_sequence"], 1);
    assert_eq!(p["has_more"], false);
    assert_eq!(p["page_last_sequence"], 1);
    let o = &p["ops"][0];
    assert_eq!(o["op_id"], "op-1");
    assert_eq!(o["device_id"], d.as_str()); // S7: the body's device_id "x" is ignored
    assert_eq!(o["entity_type"], "file");
    assert_eq!(o["entity_id"], "Docs/one.txt");
    assert_eq!(o["op_type"], "create");
    assert_eq!(o["payload_json"], op("op-1")["payload_json"]);
    assert_eq!(o["server_sequence"], 1);
    assert_eq!(o["created_at"], "2026-07-10T00:00:00Z");
    assert_eq!(o.as_object().unwrap().len(), 8);
    let after = s.pull(&t, 1, 0).json();
    assert_eq!(
        after,
        json!({"has_more":false,"ops":[],"page_last_sequence":1,"server_sequence":1})
    );
    let empty = s.push(&t, vec![], None);
    assert_eq!(
        empty.json(),
        json!({"accepted":null,"conflicts":null,"count":0})
    );
    // An empty pull body is invalid JSON; `{}` is fine.
    let auth = format!("Bearer {t}");
    s.req(
        "POST",
        "/api/v1/sync/pull",
        &[("Authorization", &auth)],
        b"",
    )
    .assert_error(400, "invalid_json", "invalid JSON request");
    s.pull(&t, -1, 0).assert_error(
        400,
        "invalid_request",
        "sequence and page_limit must be non-negative",
    );
}

#[test]
fn tenants_and_vaults_are_isolated() {
    let s = TestServer::start();
    let (ta, _) = s.user_device("a", "vault-a");
    let (tb, _) = s.user_device("b", "vault-a");
    // D1 / D3: same op id in two scopes; per-scope sequences.
    assert_eq!(
        s.push(&ta, vec![op("same-id"), op("a2"), op("a3")], None)
            .json()["count"],
        3
    );
    assert_eq!(
        s.push(&tb, vec![op("same-id")], None).json()["accepted"],
        json!(["same-id"])
    );
    assert_eq!(s.push(&ta, vec![op("a4")], None).json()["count"], 1);
    let pb = s.pull(&tb, 0, 0).json();
    assert_eq!((ids(&pb), seqs(&pb)), (vec!["same-id".to_owned()], vec![1]));
    assert_eq!(pb["server_sequence"], 1);
    assert_eq!(seqs(&s.pull(&ta, 0, 0).json()), vec![1, 2, 3, 4]);
    // S8: the same idempotency key in two scopes is independent.
    assert_eq!(
        s.push(&ta, vec![op("op-user-a")], Some("same-key")).json()["accepted"],
        json!(["op-user-a"])
    );
    assert_eq!(
        s.push(&tb, vec![op("op-user-b")], Some("same-key")).json()["accepted"],
        json!(["op-user-b"])
    );
    // S9: b's push on the same entity sees no conflicts from a.
    let mut o = op("b-edit");
    o["last_seen_server_seq"] = json!(1);
    assert_eq!(s.push(&tb, vec![o], None).json()["conflicts"], Value::Null);
    // S10: two vaults of one user.
    let (ta2, _) = s.pair("a", "vault-b");
    s.push(&ta2, vec![op("op-vault-b")], None);
    assert!(!ids(&s.pull(&ta, 0, 0).json()).contains(&"op-vault-b".to_owned()));
    assert_eq!(ids(&s.pull(&ta2, 0, 0).json()), vec!["op-vault-b"]);
    // S6: a fresh user sees nothing.
    let (tc, _) = s.user_device("c", "vault-a");
    let pc = s.pull(&tc, 0, 0).json();
    assert_eq!(
        (
            pc["ops"].as_array().unwrap().len(),
            pc["server_sequence"].as_i64()
        ),
        (0, Some(0))
    );
}

#[test]
fn duplicates_and_idempotency_keys() {
    let s = TestServer::start();
    let (t, _) = s.user_device("a", "v");
    // D2: identical duplicate is acknowledged; colliding one is not and changes nothing.
    s.push(&t, vec![op("x")], None);
    let again = s.push(&t, vec![op("x")], None).json();
    assert_eq!(
        (again["accepted"].clone(), again["count"].clone()),
        (json!(["x"]), json!(1))
    );
    let mut changed = op("x");
    changed["payload_json"] = json!("{\"content\":\"other\"}");
    let r = s.push(&t, vec![changed], None).json();
    assert_eq!(
        (r["accepted"].clone(), r["count"].clone()),
        (Value::Null, json!(0))
    );
    let p = s.pull(&t, 0, 0).json();
    assert_eq!(ids(&p), vec!["x"]);
    assert_eq!(p["ops"][0]["payload_json"], op("x")["payload_json"]);
    // Same id twice in one request: stored once, listed once.
    let r = s.push(&t, vec![op("y"), op("y")], None).json();
    assert_eq!(r["accepted"], json!(["y"]));

    // D8: key replay is byte-identical; a different body with the key is 409.
    let first = s.push(&t, vec![op("k1")], Some("k"));
    let body = json!({"idempotency_key":"k","device_id":"other","ops":[op("k1")]});
    let replay = s.post("/api/v1/sync/push", Some(&t), &body);
    assert_eq!(
        (replay.status, replay.body.clone()),
        (200, first.body.clone())
    );
    s.push(&t, vec![op("k2")], Some("k")).assert_error(
        409,
        "idempotency_key_reused",
        "idempotency key was already used with a different request",
    );
    assert_eq!(s.pull(&t, 0, 0).json()["server_sequence"], 3);
}

/// Two devices of one vault; the first pushed `e1` (a create) and `e2` (an update) of
/// `Docs/one.txt`. Returns the server, the first device's token and id, the second's token.
fn two_devices_after_a_create_and_an_update() -> (TestServer, String, String, String) {
    let s = TestServer::start();
    s.add_user("a");
    let (t1, d1) = s.pair("a", "v");
    let (t2, _) = s.pair("a", "v");
    s.push(&t1, vec![op("e1")], None);
    let mut upd = op("e2");
    upd["op_type"] = json!("update");
    s.push(&t1, vec![upd], None);
    (s, t1, d1, t2)
}

#[test]
fn conflicts_are_informational() {
    let (s, t1, d1, t2) = two_devices_after_a_create_and_an_update();
    let mut del = op("e3");
    del["op_type"] = json!("delete");
    s.push(&t1, vec![del], None);
    let mut mine = op("mine");
    mine["last_seen_server_seq"] = json!(1);
    let r = s.push(&t2, vec![mine], None).json();
    assert_eq!(r["accepted"], json!(["mine"]));
    assert_eq!(
        r["conflicts"],
        json!([{"device_id": d1, "entity_id":"Docs/one.txt","entity_type":"file","op_id":"e2","op_type":"update","server_sequence":2}])
    );
    // No check when last_seen_server_seq is 0.
    assert_eq!(
        s.push(&t2, vec![op("zero")], None).json()["conflicts"],
        Value::Null
    );
    // Deletes are returned by pull like any op; tombstones are stored.
    assert_eq!(ids(&s.pull(&t2, 2, 1).json()), vec!["e3"]);
    let n = s.sql_i64("SELECT COUNT(*) FROM server_tombstones");
    assert_eq!(n, 1);
}

/// D8 with everything a response can carry: a replay is byte-identical when the request had
/// a colliding op, a repeated op and conflicts (the server keeps only what the request does
/// not say, and rebuilds the answer from the replayed request).
#[test]
fn a_replay_rebuilds_collisions_repeats_and_conflicts_byte_for_byte() {
    let (s, t1, _, t2) = two_devices_after_a_create_and_an_update();
    let mut collide = op("e1");
    collide["payload_json"] = json!("{\"content\":\"other\"}");
    let mut mine = op("mine");
    mine["last_seen_server_seq"] = json!(1);
    let ops = vec![collide, mine.clone(), op("twice"), op("twice")];
    let first = s.push(&t2, ops.clone(), Some("key-all"));
    assert_eq!(first.status, 200);
    let v = first.json();
    assert_eq!(v["accepted"], json!(["mine", "twice"]));
    assert_eq!(v["conflicts"].as_array().map(Vec::len), Some(1));
    let replay = s.push(&t2, ops, Some("key-all"));
    assert_eq!((replay.status, &replay.body), (200, &first.body));
    // Nothing was stored twice.
    assert_eq!(s.pull(&t1, 0, 0).json()["server_sequence"], 4);
    // The record is small; a whole response stored by a reference server replays as stored.
    let kept = s.sql_str(
        "SELECT response_json FROM server_idempotency_keys WHERE idempotency_key = 'key-all'",
    );
    assert!(
        kept.starts_with("#1 ") && kept.len() < first.body.len(),
        "{kept}"
    );
    let whole = "{\"accepted\":[\"mine\"],\"conflicts\":null,\"count\":1}\n";
    s.sql_exec(&format!(
        "UPDATE server_idempotency_keys SET response_json = '{whole}' WHERE idempotency_key = 'key-all'"
    ));
    let replay = s.push(&t2, vec![], Some("key-all"));
    assert_eq!(replay.status, 409, "a different request is still refused");
    let ops = vec![mine];
    let stored = s.push(&t2, ops.clone(), Some("key-one"));
    s.sql_exec(&format!(
        "UPDATE server_idempotency_keys SET response_json = '{whole}' WHERE idempotency_key = 'key-one'"
    ));
    let replay = s.push(&t2, ops, Some("key-one"));
    assert_eq!((replay.status, replay.text()), (200, whole.to_string()));
    assert_eq!(stored.status, 200);
}

#[test]
fn pagination_follows_page_last_sequence() {
    let s = TestServer::start_with(Some("limits:\n  max_pull_page: 2\n"), &[]);
    let (t, _) = s.user_device("a", "v");
    for i in 1..=5 {
        s.push(&t, vec![op(&format!("p{i}"))], None);
    }
    let (mut cursor, mut all, mut pages) = (0, vec![], vec![]);
    loop {
        let p = s.pull(&t, cursor, 2).json();
        all.extend(seqs(&p));
        pages.push((
            p["ops"].as_array().unwrap().len(),
            p["has_more"].as_bool().unwrap(),
        ));
        cursor = p["page_last_sequence"].as_i64().unwrap();
        if !p["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(pages, vec![(2, true), (2, true), (1, false)]);
    assert_eq!(all, vec![1, 2, 3, 4, 5]);
    // page_limit 0 or above the maximum means the maximum.
    assert_eq!(s.pull(&t, 0, 50).json()["ops"].as_array().unwrap().len(), 2);
}

#[test]
fn blob_references_are_checked_at_push() {
    let s = TestServer::start();
    let (t, _) = s.user_device("a", "v");
    let (tb, _) = s.user_device("b", "v");
    let data = b"referenced bytes";
    let sha = sha256_hex(data);
    assert_eq!(s.upload(&t, data).status, 200);
    let file_op = |id: &str, payload: String| {
        let mut o = op(id);
        o["payload_json"] = json!(payload);
        o
    };
    let good = format!(
        r#"{{"path":"a.bin","blob":{{"sha256":"{sha}","size":{}}}}}"#,
        data.len()
    );
    assert_eq!(
        s.push(&t, vec![file_op("b1", good.clone())], None).json()["count"],
        1
    );
    s.push(&tb, vec![file_op("b1", good)], None).assert_error(
        400,
        "blob_not_owned",
        "blob must be uploaded before its operation",
    );
    let wrong = format!(r#"{{"blob":{{"sha256":"{sha}","size":3}}}}"#);
    s.push(&t, vec![file_op("b2", wrong)], None).assert_error(
        400,
        "invalid_blob_reference",
        "blob size does not match uploaded content",
    );
    s.push(
        &t,
        vec![file_op("b3", r#"{"dataBase64":"AAAA"}"#.into())],
        None,
    )
    .assert_error(
        400,
        "inline_binary_forbidden",
        "binary file payload must reference a blob",
    );
    s.push(&t, vec![file_op("b4", "[1]".into())], None)
        .assert_error(
            400,
            "invalid_payload",
            "operation payload_json must be valid JSON",
        );
    s.push(
        &t,
        vec![file_op(
            "b5",
            r#"{"blob":{"sha256":"ABC","size":1}}"#.into(),
        )],
        None,
    )
    .assert_error(400, "invalid_blob_reference", "invalid blob reference");
    // A failing op rejects the whole push: nothing from it is stored.
    let bad = file_op("b7", r#"{"dataBase64":"AAAA"}"#.into());
    assert_eq!(s.push(&t, vec![op("b6"), bad], None).status, 400);
    assert_eq!(s.pull(&t, 0, 0).json()["server_sequence"], 1);
}

#[test]
fn acknowledged_pushes_survive_sigkill() {
    let mut s = TestServer::start();
    let (t, _) = s.user_device("a", "v");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let addr = s.addr.clone();
    let token = t.clone();
    let pusher = std::thread::spawn(move || {
        for i in 0.. {
            let id = format!("crash-{i}");
            let body = json!({"ops": [op(&id)]}).to_string();
            let auth = format!("Bearer {token}");
            let r = std::panic::catch_unwind(|| {
                request(
                    &addr,
                    "POST",
                    "/api/v1/sync/push",
                    &[("Authorization", &auth)],
                    body.as_bytes(),
                )
            });
            match r {
                Ok(resp) if resp.status == 200 => {
                    if tx.send(id).is_err() {
                        break;
                    }
                }
                _ => break,
            }
        }
    });
    let acked: Vec<String> = (0..40)
        .map(|_| rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap())
        .collect();
    s.child.kill().unwrap(); // SIGKILL, mid-stream
    s.child.wait().unwrap();
    drop(rx);
    let _ = pusher.join();
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    let s2 = TestServer::start_in(dir, &[]);
    let mut stored = Vec::new();
    let mut cursor = 0;
    loop {
        let p = s2.pull(&t, cursor, 0).json();
        stored.extend(ids(&p));
        cursor = p["page_last_sequence"].as_i64().unwrap();
        if !p["has_more"].as_bool().unwrap() {
            break;
        }
    }
    for id in &acked {
        assert!(stored.contains(id), "acknowledged op {id} was lost");
    }
}

/// One push of the kill test: its idempotency key, its two ops, whether it got a 200.
struct Sent {
    key: String,
    ops: [String; 2],
    acked: bool,
}

/// An op on an entity of its own (nothing supersedes it, so every pull returns it).
fn own_op(id: &str) -> Value {
    let path = format!("Docs/{id}.txt");
    json!({"op_id": id, "entity_type": "file", "entity_id": path, "op_type": "create",
           "payload_json": json!({"path": path, "content": id}).to_string(),
           "client_sequence": 1, "created_at": "2026-07-10T00:00:00Z"})
}

/// Every op of the scope, paging through node `node`: `(server_sequence, op_id)` in order.
fn pull_all(s: &TestServer, node: usize, token: &str) -> Vec<(i64, String)> {
    let (mut out, mut cursor) = (Vec::new(), 0);
    loop {
        let r = s.pull_on(node, token, cursor, 0);
        assert_eq!(r.status, 200, "{}", r.text());
        let p = r.json();
        out.extend(seqs(&p).into_iter().zip(ids(&p)));
        cursor = p["page_last_sequence"].as_i64().unwrap();
        if !p["has_more"].as_bool().unwrap() {
            return out;
        }
    }
}

/// Issue 16: four devices push through two nodes at once and node 0 is SIGKILLed mid-stream.
/// Every push that got a 200 is pulled back whole and in its order through node 1, the
/// sequences are gapless and strictly increasing, no push is stored in part, and retrying the
/// unanswered pushes with their idempotency keys stores each op exactly once.
#[test]
fn a_node_killed_mid_push_loses_nothing_acknowledged() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let Some(mut s) = TestServer::start_nodes(2, None, &[]) else {
        return;
    };
    s.add_user("a");
    let tokens: Vec<String> = (0..4).map(|_| s.pair("a", "v").0).collect();
    let (acks, stop) = (AtomicUsize::new(0), AtomicBool::new(false));
    // The workers share addresses, not `s` (its log receiver stays with this thread).
    let addrs = [s.addr_of(0).to_owned(), s.addr_of(1).to_owned()];
    let sent: Vec<Vec<Sent>> = std::thread::scope(|scope| {
        let workers: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(w, token)| {
                let (addrs, acks, stop) = (&addrs, &acks, &stop);
                scope.spawn(move || {
                    let auth = format!("Bearer {token}");
                    let mut sent = Vec::new();
                    for n in 0.. {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let ops = [format!("w{w}-{n}-a"), format!("w{w}-{n}-b")];
                        let key = format!("key-w{w}-{n}");
                        let body = json!({"ops": [own_op(&ops[0]), own_op(&ops[1])],
                                          "idempotency_key": key})
                        .to_string();
                        // A request to the killed node fails to connect or read: not acked.
                        let r = common::http::try_request_host(
                            &addrs[(w + n) % 2],
                            &addrs[0],
                            "POST",
                            "/api/v1/sync/push",
                            &[
                                ("Authorization", &auth),
                                ("Content-Type", "application/json"),
                            ],
                            body.as_bytes(),
                        );
                        let acked = matches!(&r, Ok(r) if r.status == 200);
                        if acked {
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        sent.push(Sent { key, ops, acked });
                    }
                    sent
                })
            })
            .collect();
        let wait_acks = |n: usize| {
            let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while acks.load(Ordering::SeqCst) < n {
                assert!(
                    std::time::Instant::now() < end,
                    "fewer than {n} pushes acknowledged"
                );
                std::thread::park_timeout(std::time::Duration::from_millis(5));
            }
        };
        wait_acks(60);
        // SIGKILL (by pid: the workers share `s`) while they keep pushing; node 1 goes on.
        let pid = s.child.id();
        let st = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let after = acks.load(Ordering::SeqCst);
        wait_acks(after + 40);
        stop.store(true, Ordering::SeqCst);
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    s.kill_node(0);
    let all: Vec<&Sent> = sent.iter().flatten().collect();
    assert!(all.iter().any(|p| !p.acked), "no push met the killed node");

    let (reader, _) = s.pair("a", "v");
    let stored = pull_all(&s, 1, &reader);
    let seq: Vec<i64> = stored.iter().map(|(q, _)| *q).collect();
    assert_eq!(
        seq,
        (1..=seq.len() as i64).collect::<Vec<_>>(),
        "gapless and increasing"
    );
    let at = |id: &str| stored.iter().find(|(_, o)| o == id).map(|(q, _)| *q);
    for (w, pushes) in sent.iter().enumerate() {
        let mut last = 0;
        for p in pushes {
            let (a, b) = (at(&p.ops[0]), at(&p.ops[1]));
            // Atomic: both ops of a push or neither, next to each other.
            assert_eq!(a.is_some(), b.is_some(), "push {} stored in part", p.key);
            if let (Some(a), Some(b)) = (a, b) {
                assert_eq!(b, a + 1, "push {} is not contiguous", p.key);
                // A device's pushes are stored in the order it sent them.
                assert!(a > last, "device {w}: push {} out of order", p.key);
                last = b;
            } else {
                assert!(!p.acked, "acknowledged push {} was lost", p.key);
            }
        }
    }

    // Retrying every unanswered push with its key stores each op exactly once.
    for (w, pushes) in sent.iter().enumerate() {
        for p in pushes.iter().filter(|p| !p.acked) {
            let body = vec![own_op(&p.ops[0]), own_op(&p.ops[1])];
            let r = s.push_on(1, &tokens[w], body, Some(&p.key));
            assert_eq!(r.status, 200, "retry of {}: {}", p.key, r.text());
        }
    }
    let stored = pull_all(&s, 1, &reader);
    let seq: Vec<i64> = stored.iter().map(|(q, _)| *q).collect();
    assert_eq!(
        seq,
        (1..=seq.len() as i64).collect::<Vec<_>>(),
        "gapless and increasing"
    );
    let mut ids: Vec<&str> = stored.iter().map(|(_, o)| o.as_str()).collect();
    ids.sort_unstable();
    let mut want: Vec<&str> = all
        .iter()
        .flat_map(|p| p.ops.iter().map(String::as_str))
        .collect();
    want.sort_unstable();
    assert_eq!(ids, want, "each op exactly once");
}
