//! Compacted joins (docs/compacted-joins.md) against the real binary: a pull from an old
//! cursor gets each entity's latest op (plus what a device that had the entity needs), nothing
//! for what was created and deleted after its cursor; barriers keep their order; a device with
//! its own ops after the cursor, or only a small backlog, gets every op as before.

mod common;

use common::*;
use serde_json::{Value, json};

/// `history.compact_min_backlog: 0`: every pull that may be compacted is.
const ALWAYS: &str = "history:\n  compact_min_backlog: 0\n";

/// One op: `(op_type, entity_type, entity_id, payload)`; op ids are `o<n>` by position.
fn ops(list: &[(&str, &str, &str, &str)], first: usize) -> Vec<Value> {
    list.iter()
        .enumerate()
        .map(|(i, (op_type, et, eid, payload))| {
            json!({"op_id": format!("o{}", first + i), "entity_type": et, "entity_id": eid,
                   "op_type": op_type, "payload_json": payload, "client_sequence": 0,
                   "created_at": "2026-07-10T00:00:00Z"})
        })
        .collect()
}

fn text(path: &str, content: &str) -> String {
    json!({"path": path, "content": content}).to_string()
}

/// Pulls every page from `since` with `limit`; returns the sequences and the last page.
fn pull_all(s: &TestServer, token: &str, since: i64, limit: i64) -> (Vec<i64>, Value) {
    let mut cursor = since;
    let mut all = Vec::new();
    loop {
        let r = s.pull(token, cursor, limit);
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        let got = seqs(&v);
        assert!(got.len() as i64 <= limit.max(1));
        assert!(got.windows(2).all(|w| w[0] < w[1]) && got.iter().all(|q| *q > cursor));
        let last = v["page_last_sequence"].as_i64().unwrap();
        assert_eq!(last, got.last().copied().unwrap_or(cursor));
        all.extend(got);
        if !v["has_more"].as_bool().unwrap() {
            return (all, v);
        }
        assert!(last > cursor, "has_more without progress");
        cursor = last;
    }
}

/// The history of the first test, pushed one op per push by the writer.
fn file_history() -> Vec<(&'static str, &'static str, &'static str, String)> {
    vec![
        ("create", "file", "a.md", text("a.md", "v1")), // 1
        ("create", "file", "gone.md", text("gone.md", "g")), // 2
        ("update", "file", "a.md", text("a.md", "v2")), // 3
        ("create", "file", "tmp.md", text("tmp.md", "t")), // 4
        ("update", "file", "tmp.md", text("tmp.md", "t2")), // 5
        ("delete", "file", "tmp.md", text("tmp.md", "")), // 6
        ("delete", "file", "gone.md", text("gone.md", "")), // 7
        ("create", "file", "b.md", text("b.md", "b1")), // 8
        ("delete", "file", "b.md", text("b.md", "")),   // 9
        ("create", "file", "b.md", text("b.md", "b2")), // 10
        ("update", "file", "a.md", text("a.md", "v3")), // 11
        ("create", "file", "x.md", text("x.md", "x")),  // 12
        ("create", "file", "y.md", text("y.md", "y")),  // 13
    ]
}

fn push_each(s: &TestServer, token: &str, list: &[(&str, &str, &str, String)], first: usize) {
    for (i, (op_type, et, eid, payload)) in list.iter().enumerate() {
        let one = ops(&[(op_type, et, eid, payload.as_str())], first + i);
        let r = s.push(token, one, None);
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

#[test]
fn joins_from_zero_and_middle_cursors_get_the_compacted_set() {
    let s = TestServer::start_with(Some(ALWAYS), &[]);
    let (writer, _) = s.user_device("ann", "v");
    push_each(&s, &writer, &file_history(), 1);
    let (joiner, _) = s.pair("ann", "v");

    // From 0: a's latest update, b's re-creation, x and y; nothing of tmp.md or gone.md.
    let (got, last) = pull_all(&s, &joiner, 0, 100);
    assert_eq!(got, [10, 11, 12, 13]);
    assert_eq!(last["server_sequence"], 13);
    assert_eq!(last["page_last_sequence"], 13);
    let body = s.pull(&joiner, 0, 0).json();
    let a = &body["ops"][1];
    // Delivered ops are the stored ops, byte for byte, with their own sequence and type.
    assert_eq!(
        (a["op_id"].as_str(), a["op_type"].as_str()),
        (Some("o11"), Some("update"))
    );
    assert_eq!(a["payload_json"], text("a.md", "v3"));

    // From 3 (had a v2 and gone.md): gone.md's delete; tmp.md came and went after the cursor.
    assert_eq!(pull_all(&s, &joiner, 3, 100).0, [7, 10, 11, 12, 13]);
    // From 8 (had b.md b1): its delete and its re-creation, in order.
    assert_eq!(pull_all(&s, &joiner, 8, 100).0, [9, 10, 11, 12, 13]);
    // Up to date, or one behind: exactly what a plain pull gives.
    assert_eq!(pull_all(&s, &joiner, 13, 100).0, Vec::<i64>::new());
    assert_eq!(pull_all(&s, &joiner, 12, 100).0, [13]);

    // Pagination across compacted pages: same set, no repeats, the cursor contract kept.
    for limit in [1, 2, 3] {
        assert_eq!(
            pull_all(&s, &joiner, 0, limit).0,
            [10, 11, 12, 13],
            "{limit}"
        );
        assert_eq!(
            pull_all(&s, &joiner, 3, limit).0,
            [7, 10, 11, 12, 13],
            "{limit}"
        );
    }
}

#[test]
fn a_trailing_delete_is_still_delivered_so_the_cursor_reaches_the_head() {
    let s = TestServer::start_with(Some(ALWAYS), &[]);
    let (writer, _) = s.user_device("ann", "v");
    let list = vec![
        ("create", "file", "keep.md", text("keep.md", "k")),
        ("create", "file", "tmp.md", text("tmp.md", "t")),
        ("delete", "file", "tmp.md", text("tmp.md", "")),
    ];
    push_each(&s, &writer, &list, 1);
    let (joiner, _) = s.pair("ann", "v");
    let (got, last) = pull_all(&s, &joiner, 0, 100);
    assert_eq!(got, [1, 3]);
    assert_eq!(last["page_last_sequence"], last["server_sequence"]);
}

#[test]
fn barriers_keep_what_came_before_them() {
    let s = TestServer::start_with(Some(ALWAYS), &[]);
    let (writer, _) = s.user_device("ann", "v");
    let moved = json!({"folderId": "f1", "path": "e", "previousPath": "d"}).to_string();
    let list = vec![
        ("create", "file", "d/f.md", text("d/f.md", "1")), // 1
        ("update", "file", "d/f.md", text("d/f.md", "2")), // 2: carried by the move
        ("move", "workspace-folder", "f1", moved),         // 3
        ("create", "file", "d/f.md", text("d/f.md", "3")), // 4
        ("update", "file", "d/f.md", text("d/f.md", "4")), // 5
        ("create", "folder", "F", text("F", "")),          // 6
        ("create", "file", "F/a.md", text("F/a.md", "a")), // 7
        ("delete", "folder", "F", text("F", "")),          // 8: removes F/a.md too
        ("create", "file", "z.md", text("z.md", "z")),     // 9
    ];
    push_each(&s, &writer, &list, 1);
    let (joiner, _) = s.pair("ann", "v");
    assert_eq!(pull_all(&s, &joiner, 0, 100).0, [2, 3, 5, 6, 7, 8, 9]);
    assert_eq!(pull_all(&s, &joiner, 0, 2).0, [2, 3, 5, 6, 7, 8, 9]);
}

#[test]
fn own_ops_after_the_cursor_and_small_backlogs_get_every_op() {
    let s = TestServer::start_with(Some("history:\n  compact_min_backlog: 4\n"), &[]);
    let (writer, _) = s.user_device("ann", "v");
    let list: Vec<_> = (1..=6)
        .map(|i| {
            let op = if i == 1 { "create" } else { "update" };
            (op, "file", "a.md", text("a.md", &i.to_string()))
        })
        .collect();
    push_each(&s, &writer, &list, 1);
    // A new device six behind: compacted to the latest update.
    let (joiner, _) = s.pair("ann", "v");
    assert_eq!(pull_all(&s, &joiner, 0, 100).0, [6]);
    // Four behind (the threshold): every op, as before.
    assert_eq!(pull_all(&s, &joiner, 2, 100).0, [3, 4, 5, 6]);
    // Five behind: compacted.
    assert_eq!(pull_all(&s, &joiner, 1, 100).0, [6]);

    // The writer pushed after every cursor below 6: its echoes and what raced with them
    // keep their full order, however far behind it is.
    assert_eq!(pull_all(&s, &writer, 0, 100).0, [1, 2, 3, 4, 5, 6]);

    // A device that pushed before the cursor is compacted like any other.
    let (other, _) = s.pair("ann", "v");
    push_each(
        &s,
        &other,
        &[("create", "file", "b.md", text("b.md", "b"))],
        7,
    );
    for i in 8..=13 {
        push_each(
            &s,
            &writer,
            &[("update", "file", "a.md", text("a.md", &i.to_string()))],
            i,
        );
    }
    assert_eq!(pull_all(&s, &other, 7, 100).0, [13]);
    assert_eq!(pull_all(&s, &other, 6, 100).0, (7..=13).collect::<Vec<_>>());
}

#[test]
fn default_settings_answer_small_backlogs_in_full() {
    let s = TestServer::start();
    let (writer, _) = s.user_device("ann", "v");
    push_each(&s, &writer, &file_history(), 1);
    let (joiner, _) = s.pair("ann", "v");
    let (got, _) = pull_all(&s, &joiner, 0, 5);
    assert_eq!(got, (1..=13).collect::<Vec<_>>());
}
