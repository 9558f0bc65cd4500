//! A push of many ops answers and stores exactly what the same ops pushed one per push do:
//! accepted ids, duplicates and collisions (also of an op id repeated inside one push),
//! conflicts, gapless sequences, compaction classes (an entity touched several times in one
//! push, barriers in the middle of a push), tombstones and the scope's marks. On PostgreSQL a
//! push is a few statements over arrays (`store/ops_pg.rs`) whose in-memory bookkeeping this
//! compares with the one-op pushes, whose every step reads the database.

mod common;

use common::*;
use serde_json::{Value, json};

/// One op of the history: `(op_id, op_type, entity_type, entity_id, last_seen_server_seq)`;
/// the payload is made from the op id and the entity, so a reused id with another entity is
/// a collision.
type Spec = (&'static str, &'static str, &'static str, &'static str, i64);

fn op_of((id, op_type, et, eid, seen): Spec) -> Value {
    let payload = json!({"path": eid, "content": format!("{id} {eid}")}).to_string();
    json!({"op_id": id, "entity_type": et, "entity_id": eid, "op_type": op_type,
           "payload_json": payload, "client_sequence": 0, "last_seen_server_seq": seen,
           "created_at": "2026-07-10T00:00:00Z"})
}

/// What the other device stores first (sequences 1–4).
const BEFORE: [Spec; 4] = [
    ("p1", "create", "file", "a.md", 0),
    ("p2", "create", "file", "c.md", 0),
    ("p3", "update", "file", "c.md", 0),
    ("p4", "create", "folder", "F", 0),
];

/// The pushing device's ops.
const HISTORY: [Spec; 31] = [
    ("h1", "update", "file", "a.md", 0),
    ("h2", "create", "file", "b.md", 0),
    ("h3", "update", "file", "b.md", 0),
    ("h4", "update", "file", "c.md", 1),
    ("h5", "update", "file", "b.md", 0),
    ("h6", "delete", "file", "b.md", 0),
    ("h7", "create", "file", "b.md", 0),
    ("h8", "update", "file", "c.md", 1),
    ("h2", "create", "file", "b.md", 0), // a duplicate
    ("h3", "update", "file", "x.md", 0), // a collision
    ("h11", "move", "file", "a.md", 0),  // a barrier
    ("h12", "update", "file", "a.md", 0),
    ("h13", "create", "plugin-record", "r1", 0),
    ("h14", "update", "plugin-record", "r1", 0),
    ("h15", "delete", "plugin-record", "r1", 0),
    ("h16", "update", "workspace-tree-order", "w", 0),
    ("h17", "update", "workspace-tree-order", "w", 0),
    ("h18", "create", "folder", "G", 0),
    ("h19", "delete", "folder", "G", 0), // a barrier
    ("h20", "create", "file", "d.md", 0),
    ("h21", "create", "file", "d.md", 0),
    ("h22", "update", "file", "d.md", 0),
    ("h23", "delete", "file", "a.md", 0),
    ("h24", "update", "file", "c.md", 3),
    ("h25", "create", "file", "e.md", 0),
    ("h25", "create", "file", "e.md", 0), // repeated right away: a duplicate
    ("h26", "create", "file", "f.md", 0),
    ("h26", "create", "file", "g.md", 0), // repeated with other content: a collision
    ("h27", "update", "file", "e.md", 2),
    ("h28", "delete", "file", "e.md", 0),
    ("h29", "update", "folder", "F", 0), // a barrier
];

/// Everything a vault's pushes answered and stored, for comparison.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// The accepted op ids, each once.
    accepted: Vec<Value>,
    conflicts: Vec<Value>,
    /// `(op_id, server_sequence, compaction, op_type)` in sequence order.
    ops: Vec<Vec<Option<String>>>,
    tombstones: Vec<Vec<Option<String>>>,
    marks: Vec<Vec<Option<String>>>,
}

/// Stores [`BEFORE`] from another device, then [`HISTORY`] in pushes of `chunk` ops.
fn run(s: &TestServer, vault: &str, chunk: usize) -> Outcome {
    let (other, other_id) = s.pair("u", vault);
    let (mine, _) = s.pair("u", vault);
    let r = s.push(&other, BEFORE.iter().copied().map(op_of).collect(), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let (mut accepted, mut conflicts) = (Vec::new(), Vec::new());
    for part in HISTORY.chunks(chunk) {
        let r = s.push(&mine, part.iter().copied().map(op_of).collect(), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        // A push lists an op id once; one-op pushes list a repeated id again.
        for id in v["accepted"].as_array().cloned().unwrap_or_default() {
            if !accepted.contains(&id) {
                accepted.push(id);
            }
        }
        // Every conflict is with the other device, whose id differs per vault.
        for mut c in v["conflicts"].as_array().cloned().unwrap_or_default() {
            assert_eq!(c["device_id"], json!(other_id));
            c["device_id"] = json!("other");
            conflicts.push(c);
        }
    }
    let q = |sql: &str| s.sql_rows(&sql.replace("VAULT", vault));
    Outcome {
        accepted,
        conflicts,
        ops: q(
            "SELECT op_id, server_sequence, compaction, op_type FROM server_ops
                WHERE vault_id = 'VAULT' ORDER BY server_sequence",
        ),
        tombstones: q("SELECT entity_type, entity_id, op_id FROM server_tombstones
                       WHERE vault_id = 'VAULT' ORDER BY entity_type, entity_id"),
        marks: q(
            "SELECT s.last_sequence, s.last_barrier, d.last_push_sequence
                  FROM server_scopes s JOIN server_device_sync d
                    ON d.user_id = s.user_id AND d.vault_id = s.vault_id
                  WHERE s.vault_id = 'VAULT' ORDER BY d.last_push_sequence",
        ),
    }
}

#[test]
fn a_push_of_many_ops_stores_what_one_op_pushes_store() {
    let s = TestServer::start();
    s.add_user("u");
    let one = run(&s, "one", 1);
    // The classes the per-op walk gives (sequences 1–4 are the other device's ops): superseded
    // (1) are the ops a later update or delete of their entity replaced with no barrier between.
    let classes: Vec<(&str, &str)> = one
        .ops
        .iter()
        .map(|r| (r[0].as_deref().unwrap(), r[2].as_deref().unwrap()))
        .collect();
    let want = [
        ("p1", "1"),
        ("p2", "1"),
        ("p3", "1"),
        ("p4", "0"),
        ("h1", "0"),
        ("h2", "1"),
        ("h3", "1"),
        ("h4", "1"),
        ("h5", "1"),
        ("h6", "0"),
        ("h7", "0"),
        ("h8", "0"),
        ("h11", "2"),
        ("h12", "0"),
        ("h13", "1"),
        ("h14", "1"),
        ("h15", "0"),
        ("h16", "1"),
        ("h17", "0"),
        ("h18", "0"),
        ("h19", "2"),
        ("h20", "1"),
        ("h21", "1"),
        ("h22", "0"),
        ("h23", "0"),
        ("h24", "0"),
        ("h25", "1"),
        ("h26", "0"),
        ("h27", "1"),
        ("h28", "0"),
        ("h29", "2"),
    ];
    assert_eq!(classes, want);
    let seqs: Vec<String> = one.ops.iter().map(|r| r[1].clone().unwrap()).collect();
    let gapless: Vec<String> = (1..=want.len()).map(|i| i.to_string()).collect();
    assert_eq!(seqs, gapless);
    // h4 and h8 (cursor 1) conflict with p2 and p3 each; h24 (cursor 3) and h27 (another
    // entity) with nothing.
    let conflicting: Vec<&str> = one
        .conflicts
        .iter()
        .map(|c| c["op_id"].as_str().unwrap())
        .collect();
    assert_eq!(conflicting, ["p2", "p3", "p2", "p3"]);
    assert_eq!(one.accepted.len(), 27, "{:?}", one.accepted);
    for (vault, chunk) in [("four", 4), ("seven", 7), ("all", HISTORY.len())] {
        assert_eq!(run(&s, vault, chunk), one, "pushes of {chunk}");
    }
}

/// Devices of one vault pushing batches at once through every node (two processes on one
/// PostgreSQL in the scale-out suite): sequences stay gapless and strictly increasing, each
/// device's ops keep their order, and every entity ends with exactly one head, its latest op
/// (all ops are updates of a few shared files, so each earlier one was superseded, by a push
/// of the same device or of another).
#[test]
fn concurrent_batches_through_every_node_keep_sequences_and_classes() {
    const DEVICES: usize = 4;
    const PUSHES: usize = 6;
    const OPS: usize = 10;
    let s = TestServer::start();
    s.add_user("u");
    let tokens: Vec<String> = (0..DEVICES).map(|_| s.pair("u", "v").0).collect();
    let nodes: Vec<String> = (0..s.nodes()).map(|i| s.addr_of(i).to_owned()).collect();
    std::thread::scope(|sc| {
        for (d, token) in tokens.iter().enumerate() {
            let nodes = &nodes;
            sc.spawn(move || {
                let auth = format!("Bearer {token}");
                for p in 0..PUSHES {
                    let ops: Vec<Value> = (0..OPS)
                        .map(|i| {
                            let id = format!("d{d}-p{p}-{i}");
                            op_of((leak(id), "update", "file", FILES[(d + i) % 3], 0))
                        })
                        .collect();
                    let body = json!({"ops": ops}).to_string();
                    let r = request(
                        &nodes[(d + p) % nodes.len()],
                        "POST",
                        "/api/v1/sync/push",
                        &[
                            ("Authorization", &auth),
                            ("Content-Type", "application/json"),
                        ],
                        body.as_bytes(),
                    );
                    assert_eq!(r.status, 200, "{}", r.text());
                }
            });
        }
    });
    let rows = s.sql_rows(
        "SELECT op_id, server_sequence, entity_id, compaction FROM server_ops
         WHERE vault_id = 'v' ORDER BY server_sequence",
    );
    let total = DEVICES * PUSHES * OPS;
    let seqs: Vec<String> = rows.iter().map(|r| r[1].clone().unwrap()).collect();
    let gapless: Vec<String> = (1..=total).map(|i| i.to_string()).collect();
    assert_eq!(seqs, gapless);
    for d in 0..DEVICES {
        let mine: Vec<String> = rows
            .iter()
            .filter_map(|r| r[0].clone().filter(|id| id.starts_with(&format!("d{d}-"))))
            .collect();
        let sent: Vec<String> = (0..PUSHES)
            .flat_map(|p| (0..OPS).map(move |i| format!("d{d}-p{p}-{i}")))
            .collect();
        assert_eq!(mine, sent, "device {d}'s ops in its order");
    }
    for file in FILES {
        let classes: Vec<&str> = rows
            .iter()
            .filter(|r| r[2].as_deref() == Some(file))
            .map(|r| r[3].as_deref().unwrap())
            .collect();
        let (last, earlier) = classes.split_last().unwrap();
        assert_eq!(*last, "0", "{file}: the latest op is its head");
        assert!(earlier.iter().all(|c| *c == "1"), "{file}: {classes:?}");
    }
}

const FILES: [&str; 3] = ["x.md", "y.md", "z.md"];

/// A `'static` op id for [`op_of`] (a test's few hundred ids).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
