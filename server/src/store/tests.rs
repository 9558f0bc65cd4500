//! Unit tests of the synchronous store functions on a temp-file database, and of the writer's
//! group commit (a failing job rolls back only itself).

use rusqlite::Connection;
use verstak_sync_proto::{PushOp, PushResponse};

use super::ops::{PushInput, PushOutcome, pull, push};
use super::retention::{Retention, run};
use super::{Db, Scope, blobs, migrate, open_connection};

fn db() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let mut c = open_connection(&path, false).unwrap();
    migrate::migrate(&mut c, &path).unwrap();
    (dir, c)
}

fn scope(u: &str) -> Scope {
    Scope {
        user_id: u.into(),
        vault_id: "v".into(),
    }
}

fn op(id: &str, payload: &str) -> PushOp {
    PushOp {
        op_id: id.into(),
        entity_type: "file".into(),
        entity_id: "e".into(),
        op_type: "create".into(),
        payload_json: payload.into(),
        ..Default::default()
    }
}

fn input(u: &str, key: &str, ops: Vec<PushOp>) -> PushInput {
    PushInput {
        scope: scope(u),
        device_id: "dev_1".into(),
        idempotency_key: key.into(),
        fingerprint: crate::sync_rules::fingerprint(&ops),
        ops,
    }
}

fn stored(o: PushOutcome) -> PushResponse {
    match o {
        PushOutcome::Stored { body, .. } => serde_json::from_slice(&body).unwrap(),
        other => panic!("not stored: {other:?}"),
    }
}

#[test]
fn push_assigns_per_scope_sequences_and_pull_pages() {
    let (_d, c) = db();
    let r = stored(
        push(
            &c,
            &input("u1", "", vec![op("a", "{}"), op("b", "{}")]),
            "t",
        )
        .unwrap(),
    );
    assert_eq!(r.accepted_ids(), ["a", "b"]);
    stored(push(&c, &input("u2", "", vec![op("a", "{}")]), "t").unwrap());
    let p = pull(&c, &scope("u1"), 0, 1).unwrap();
    assert_eq!(
        (
            p.ops.len(),
            p.has_more,
            p.page_last_sequence,
            p.server_sequence
        ),
        (1, true, 1, 2)
    );
    let p = pull(&c, &scope("u2"), 0, 10).unwrap();
    assert_eq!((p.ops[0].server_sequence, p.server_sequence), (1, 1));
}

#[test]
fn idempotency_replays_and_rejects() {
    let (_d, c) = db();
    let first = push(&c, &input("u", "k", vec![op("a", "{}")]), "t").unwrap();
    let PushOutcome::Stored { body, .. } = first else {
        panic!()
    };
    match push(&c, &input("u", "k", vec![op("a", "{}")]), "t").unwrap() {
        PushOutcome::Replay(b) => assert_eq!(b, body),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        push(&c, &input("u", "k", vec![op("b", "{}")]), "t").unwrap(),
        PushOutcome::KeyReused
    ));
}

#[test]
fn blob_attach_enforces_quota_and_is_idempotent() {
    let (_d, c) = db();
    let q = blobs::Quota {
        vault_max: 10,
        user_max: 15,
    };
    let s = scope("u");
    let ok =
        |sha: &str, size| blobs::attach(&c, &s, (sha, size), q, || Ok(true), || {}, "t").unwrap();
    assert_eq!(ok("aa", 10), blobs::Attach::Added);
    assert_eq!(ok("aa", 10), blobs::Attach::Existing);
    assert_eq!(ok("bb", 1), blobs::Attach::QuotaExceeded);
    let other = Scope {
        user_id: "u".into(),
        vault_id: "w".into(),
    };
    let r = blobs::attach(&c, &other, ("cc", 6), q, || Ok(true), || {}, "t").unwrap();
    assert_eq!(
        r,
        blobs::Attach::QuotaExceeded,
        "user quota counts all scopes"
    );
    assert_eq!(blobs::ref_size(&c, &s, "aa").unwrap(), Some(10));
    assert_eq!(
        blobs::ref_size(&c, &scope("someone-else"), "aa").unwrap(),
        None
    );
}

#[test]
fn retention_keeps_ops_and_drops_old_keys() {
    let (_d, c) = db();
    stored(
        push(
            &c,
            &input("u", "k", vec![op("a", "{}")]),
            "2000-01-01T00:00:00Z",
        )
        .unwrap(),
    );
    c.execute(
        "UPDATE server_idempotency_keys SET created_at = '2000-01-01T00:00:00Z'",
        [],
    )
    .unwrap();
    run(
        &c,
        Retention {
            idempotency_hours: 24,
            audit_days: 90,
        },
    )
    .unwrap();
    let keys: i64 = c
        .query_row("SELECT COUNT(*) FROM server_idempotency_keys", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(keys, 0);
    assert_eq!(pull(&c, &scope("u"), 0, 10).unwrap().ops.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_write_job_rolls_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("server.db")).unwrap();
    let bad = db.write(|c| {
        c.execute(
            "INSERT INTO server_smtp_config (key, value) VALUES ('x', '1')",
            [],
        )?;
        Err::<(), _>(super::StoreError::Refused("nope".into()))
    });
    let good = db.write(|c| {
        c.execute(
            "INSERT INTO server_smtp_config (key, value) VALUES ('y', '2')",
            [],
        )?;
        Ok(())
    });
    let (b, g) = tokio::join!(bad, good);
    assert!(b.is_err() && g.is_ok());
    let keys: Vec<String> = db
        .read(|c| {
            let mut st = c.prepare("SELECT key FROM server_smtp_config ORDER BY key")?;
            let rows = st
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(rows)
        })
        .await
        .unwrap();
    assert_eq!(keys, ["y"]);
    db.close().await;
}

/// Not a test: the SQL floor of push. `cargo test --release -p verstak-sync-server --lib
/// push_sql_throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn push_sql_throughput() {
    let (_d, c) = db();
    if std::env::var_os("BENCH_SYNC_OFF").is_some() {
        c.execute_batch("PRAGMA synchronous = OFF").unwrap();
    }
    let start = std::time::Instant::now();
    let batches = 300;
    for b in 0..batches {
        let ops = (0..100)
            .map(|i| {
                let mut o = op(
                    &format!("b{b}-{i}"),
                    "{\"path\":\"Notes/a.md\",\"content\":\"lorem ipsum dolor\"}",
                );
                o.entity_id = format!("Notes/{}.md", i % 17);
                o
            })
            .collect();
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        stored(
            push(
                &c,
                &input(&format!("user{}", b % 32), "", ops),
                "2026-01-01T00:00:00Z",
            )
            .unwrap(),
        );
        c.execute_batch("COMMIT").unwrap();
    }
    let el = start.elapsed().as_secs_f64();
    println!(
        "{:.0} ops/s ({:.1} µs/op, one commit per push)",
        (batches * 100) as f64 / el,
        el * 1e6 / (batches * 100) as f64
    );
}
