//! Unit tests of the synchronous store functions on a temp-file database, and of the writer's
//! group commit (a failing job rolls back only itself).

use super::sql::{Conn, params};
use verstak_sync_proto::{PushOp, PushResponse};

use super::ops::{Puller, PushInput, PushOutcome, pull, push};
use super::retention::{Retention, run};
use super::{Db, Scope, blobs, migrate, open_connection};

/// A migrated database in a temporary folder (shared with the store modules' own tests).
pub(crate) fn db() -> (tempfile::TempDir, Conn) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let mut c = open_connection(&path, false).unwrap();
    migrate::migrate(&mut c, &path).unwrap();
    (dir, Conn::Sqlite(c))
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
    PushInput::new(scope(u), "dev_1".into(), key.into(), ops)
}

/// A puller whose pulls are never compacted (the §4.8 answer as written).
fn puller() -> Puller {
    Puller {
        device_id: "dev_reader".into(),
        compact_min_backlog: i64::MAX,
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
    let p = pull(&c, &scope("u1"), &puller(), 0, 1).unwrap();
    assert_eq!(
        (
            p.ops.len(),
            p.has_more,
            p.page_last_sequence,
            p.server_sequence
        ),
        (1, true, 1, 2)
    );
    let p = pull(&c, &scope("u2"), &puller(), 0, 10).unwrap();
    assert_eq!((p.ops[0].server_sequence, p.server_sequence), (1, 1));
}

#[test]
fn a_push_reports_how_far_it_moved_the_sequence_and_a_stream_start_finds_foreign_ops() {
    use super::events::{DeviceState, stream_start};
    let (_d, c) = db();
    let first = push(
        &c,
        &input("u1", "", vec![op("a", "{}"), op("b", "{}")]),
        "t",
    )
    .unwrap();
    assert!(matches!(
        first,
        PushOutcome::Stored {
            advanced: Some((0, 2)),
            ..
        }
    ));
    let again = push(&c, &input("u1", "", vec![op("a", "{}")]), "t").unwrap();
    assert!(matches!(again, PushOutcome::Stored { advanced: None, .. }));
    let s = stream_start(&c, &scope("u1"), "dev_2", 0).unwrap();
    assert_eq!(
        (s.device, s.latest, s.foreign),
        (DeviceState::Gone, 2, Some((2, "dev_1".to_owned())))
    );
    assert_eq!(
        stream_start(&c, &scope("u1"), "dev_2", 2).unwrap().foreign,
        None
    );
    assert_eq!(
        stream_start(&c, &scope("u1"), "dev_1", 0).unwrap().foreign,
        None
    );
    assert_eq!(
        stream_start(&c, &scope("u9"), "dev_1", 0).unwrap().latest,
        0
    );
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

/// The per-scope byte totals the quota check reads follow every change of the refs.
#[test]
fn blob_usage_follows_refs_and_is_filled_when_new() {
    let (d, c) = db();
    let usage = |c: &Conn| -> Vec<(String, String, i64)> {
        let mut st = c
            .prepare("SELECT user_id, vault_id, bytes FROM server_blob_usage ORDER BY 1, 2")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let add = |u: &str, v: &str, sha: &str, size: i64| {
        c.execute(
            "INSERT INTO server_blob_refs (user_id, vault_id, sha256, size, created_at, last_accessed)
             VALUES (?1, ?2, ?3, ?4, 't', 't')",
            super::sql::params![u, v, sha, size],
        )
        .unwrap();
    };
    add("u", "v", "aa", 10);
    add("u", "v", "bb", 5);
    add("u", "w", "aa", 7);
    add("x", "v", "aa", 1);
    c.execute_batch("SAVEPOINT s").unwrap();
    add("u", "v", "cc", 100);
    c.execute_batch("ROLLBACK TO s; RELEASE s").unwrap();
    c.execute("DELETE FROM server_blob_refs WHERE sha256 = 'bb'", [])
        .unwrap();
    c.execute(
        "UPDATE server_blob_refs SET vault_id = 'w' WHERE user_id = 'x'",
        params![],
    )
    .unwrap();
    let expected = vec![
        ("u".to_string(), "v".to_string(), 10),
        ("u".into(), "w".into(), 7),
        ("x".into(), "v".into(), 0),
        ("x".into(), "w".into(), 1),
    ];
    assert_eq!(usage(&c), expected);
    let q = blobs::Quota {
        vault_max: 17,
        user_max: 20,
    };
    let attach = |v: &str, size| {
        let s = Scope {
            user_id: "u".into(),
            vault_id: v.into(),
        };
        blobs::attach(&c, &s, ("dd", size), q, || Ok(true), || {}, "t").unwrap()
    };
    assert_eq!(
        attach("v", 8),
        blobs::Attach::QuotaExceeded,
        "vault: 10 + 8 > 17"
    );
    assert_eq!(
        attach("w", 4),
        blobs::Attach::QuotaExceeded,
        "user: 17 + 4 > 20"
    );
    assert_eq!(attach("w", 3), blobs::Attach::Added);

    // A database from before the totals existed gets them filled on the next open.
    c.execute_batch("DROP TABLE server_blob_usage").unwrap();
    drop(c);
    let path = d.path().join("server.db");
    let mut c = open_connection(&path, false).unwrap();
    migrate::migrate(&mut c, &path).unwrap();
    let c = Conn::Sqlite(c);
    let mut refilled = expected.clone();
    refilled[1].2 = 10;
    refilled.retain(|r| r.2 > 0);
    assert_eq!(usage(&c), refilled);
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
        params![],
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
        .query_row(
            "SELECT COUNT(*) FROM server_idempotency_keys",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(keys, 0);
    assert_eq!(
        pull(&c, &scope("u"), &puller(), 0, 10).unwrap().ops.len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_write_job_rolls_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("server.db")).unwrap();
    let bad = db.write(|c| {
        c.execute(
            "INSERT INTO server_smtp_config (key, value) VALUES ('x', '1')",
            params![],
        )?;
        Err::<(), _>(super::StoreError::Refused("nope".into()))
    });
    let good = db.write(|c| {
        c.execute(
            "INSERT INTO server_smtp_config (key, value) VALUES ('y', '2')",
            params![],
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

/// Not a test: the SQL floor of push, with the writer's settings and group commits of
/// `BENCH_GROUP` pushes (default 16) over 32 scopes; prints ops/s and WAL pages per commit.
/// `BENCH_PAGE` sets the page size of the new database, `BENCH_SQL` runs SQL first (say
/// `CREATE INDEX …`, to see what one index costs), `BENCH_NO_SP` leaves out
/// the writer's savepoint per job (to see what it costs). `cargo test --release -p
/// verstak-sync-server --lib push_sql_throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn push_sql_throughput() {
    let _d = tempfile::tempdir().unwrap();
    let path = _d.path().join("server.db");
    if let Ok(ps) = std::env::var("BENCH_PAGE") {
        let c0 = rusqlite::Connection::open(&path).unwrap();
        c0.execute_batch(&format!(
            "PRAGMA page_size={ps}; CREATE TABLE t(x); DROP TABLE t;"
        ))
        .unwrap();
    }
    let mut c = open_connection(&path, false).unwrap();
    migrate::migrate(&mut c, &path).unwrap();
    if let Ok(x) = std::env::var("BENCH_SQL") {
        c.execute_batch(&x).unwrap();
    }
    let c = Conn::Sqlite(c);
    c.execute_batch(super::sqlite::WRITER_CACHE).unwrap();
    c.execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
    let group: usize = std::env::var("BENCH_GROUP")
        .ok()
        .and_then(|g| g.parse().ok())
        .unwrap_or(16);
    let batches = 2000;
    let (mut in_jobs, mut in_commit) = (0.0, 0.0);
    let start = std::time::Instant::now();
    for g in 0..batches / group {
        let t = std::time::Instant::now();
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        for j in 0..group {
            let b = g * group + j;
            let ops = (0..100)
                .map(|i| {
                    let mut o = op(
                        &format!("d{}-b{b}-{i}", b % 32),
                        "{\"path\":\"Notes/a.md\",\"content\":\"lorem ipsum dolor\"}",
                    );
                    o.entity_id = format!("Notes/{}.md", i % 17);
                    o
                })
                .collect();
            let sp = std::env::var_os("BENCH_NO_SP").is_none();
            if sp {
                c.execute_batch("SAVEPOINT job").unwrap();
            }
            // Ids as long as real ones: 24-hex user, UUID vault (one per user, as vault ids
            // are random: an index that leaves out the user must not see one shared vault),
            // UUID-sized idempotency key.
            let mut inp = input(&format!("{:024x}", 0xa5a5_0000 + b % 32), "", ops);
            inp.scope.vault_id = format!("7f3c1e0a-5b2d-4c8e-9a61-{:012x}", 0x2d4f_8b0c + b % 32);
            inp.idempotency_key = format!("{b:036}");
            stored(push(&c, &inp, "2026-01-01T00:00:00Z").unwrap());
            if sp {
                c.execute_batch("RELEASE job").unwrap();
            }
        }
        let t2 = std::time::Instant::now();
        c.execute_batch("COMMIT").unwrap();
        in_jobs += (t2 - t).as_secs_f64();
        in_commit += t2.elapsed().as_secs_f64();
    }
    let el = start.elapsed().as_secs_f64();
    let n = (batches / group * group * 100) as f64;
    let wal = std::fs::metadata(_d.path().join("server.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    let ps: i64 = c
        .query_row("PRAGMA page_size", params![], |r| r.get(0))
        .unwrap();
    println!(
        "WAL {} pages per commit",
        wal / (ps as u64 + 24) / (batches / group) as u64
    );
    println!(
        "{:.0} ops/s: {:.1} µs/op in jobs, {:.1} µs/op in commits (groups of {group})",
        n / el,
        in_jobs * 1e6 / n,
        in_commit * 1e6 / n
    );
}

/// The 4 → 5 migration classifies a stored history exactly as pushes classify it live.
#[test]
fn migration_classes_match_push_classes() {
    let (_d, c) = db();
    let history = [
        ("file", "a", "create"),
        ("file", "a", "create"),
        ("file", "a", "update"),
        ("file", "b", "create"),
        ("workspace-folder", "w", "move"),
        ("file", "a", "update"),
        ("file", "b", "delete"),
        ("file", "b", "create"),
        ("folder", "F", "create"),
        ("folder", "F", "delete"),
        ("file", "a", "delete"),
        ("plugin-record", "p|d|r", "update"),
        ("plugin-record", "p|d|r", "update"),
        ("file", "c", "create"),
        ("file", "c", "create"),
    ];
    for (i, (et, eid, ot)) in history.iter().enumerate() {
        let one = PushOp {
            op_id: format!("o{i}"),
            entity_type: (*et).into(),
            entity_id: (*eid).into(),
            op_type: (*ot).into(),
            payload_json: "{}".into(),
            ..Default::default()
        };
        stored(push(&c, &input("u", "", vec![one]), "t").unwrap());
    }
    let classes = |c: &Conn| -> Vec<i64> {
        let mut st = c
            .prepare("SELECT compaction FROM server_ops ORDER BY server_sequence")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let live = classes(&c);
    // 4 (b create) and 6 (a update) are followed by their entity only across a barrier.
    assert_eq!(live, [1, 1, 0, 0, 2, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0]);
    let barrier: i64 = c
        .query_row("SELECT last_barrier FROM server_scopes", params![], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(barrier, 10);
    c.execute_batch(
        "UPDATE server_ops SET compaction = 0; UPDATE server_scopes SET last_barrier = 0;",
    )
    .unwrap();
    super::compaction::classify_history(c.sqlite().unwrap()).unwrap();
    assert_eq!(classes(&c), live);
    let again: i64 = c
        .query_row("SELECT last_barrier FROM server_scopes", params![], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(again, 10);
}

/// The writer's connection plans each statement once: with SQLite's query planner stability
/// guarantee on (`open_connection`), a new entity id bound to the head lookup of every pushed
/// op does not make SQLite prepare it again (before, every op of a push re-planned the entity
/// walk of the time).
#[test]
fn a_statement_is_not_re_prepared_when_its_bound_values_change() {
    use rusqlite::StatementStatus;
    let (_dir, c) = db();
    let raw = c.sqlite().unwrap();
    let mut st = raw.prepare(super::chain::HEAD).unwrap();
    for i in 0..20 {
        let entity = format!("Notes/{i}.md");
        let params = rusqlite::params!["u", "v", "file", entity];
        let mut rows = st.query(params).unwrap();
        while rows.next().unwrap().is_some() {}
    }
    assert_eq!(st.get_status(StatementStatus::RePrepare), 0);
}

/// A seeded pseudo-random `0..n`, the same sequence on every run.
fn xorshift(mut state: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    }
}

/// Entity chains (schema 7) give the answers the entity index gave. A random history of
/// pushes from three devices over a few entities of two scopes (conflicts, deletes, barriers),
/// then history retention deleting random ops, then more pushes: after each step every chain
/// and head matches a full scan, each push's conflicts match the §5.6 query run as a scan, and
/// the classes pushes kept match `classify_history` over the whole history.
#[test]
fn entity_chains_answer_like_full_scans() {
    let (_d, c) = db();
    let mut rand = xorshift(0x9e37_79b9_7f4a_7c15);
    let entities = [
        ("file", "a"),
        ("file", "b"),
        ("file", "c"),
        ("folder", "a"),
        ("plugin-record", "p"),
    ];
    let types = ["create", "update", "update", "delete", "move"];
    let scan_conflicts = |c: &Conn, u: &str, dev: &str, op: &PushOp| -> Vec<(String, i64)> {
        let seq: i64 = c
            .query_row(
                "SELECT server_sequence FROM server_ops WHERE user_id = ?1 AND vault_id = 'v' AND op_id = ?2",
                params![u, op.op_id],
                |r| r.get(0),
            )
            .unwrap();
        if op.last_seen_server_seq <= 0 {
            return Vec::new();
        }
        let mut st = c
            .prepare(
                "SELECT op_id, server_sequence FROM server_ops NOT INDEXED
                 WHERE user_id = ?1 AND vault_id = 'v' AND entity_type = ?2 AND entity_id = ?3
                   AND server_sequence > ?4 AND server_sequence < ?5 AND device_id <> ?6
                   AND op_type <> 'delete'
                 ORDER BY server_sequence",
            )
            .unwrap();
        st.query_map(
            params![
                u,
                op.entity_type.as_str(),
                op.entity_id,
                op.last_seen_server_seq,
                seq,
                dev
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let mut round = 0;
    let mut pushes = |c: &Conn, n: usize, rand: &mut dyn FnMut(u64) -> u64| {
        for _ in 0..n {
            round += 1;
            let u = ["u1", "u2"][rand(2) as usize];
            let dev = format!("dev_{}", rand(3));
            let ops: Vec<PushOp> = (0..1 + rand(4))
                .map(|i| {
                    let (et, eid) = entities[rand(5) as usize];
                    PushOp {
                        op_id: format!("r{round}-{i}"),
                        entity_type: et.into(),
                        entity_id: eid.into(),
                        op_type: types[rand(5) as usize].into(),
                        payload_json: "{}".into(),
                        last_seen_server_seq: rand(60) as i64,
                        ..Default::default()
                    }
                })
                .collect();
            let inp = PushInput::new(scope(u), dev.clone(), String::new(), ops.clone());
            let r = stored(push(c, &inp, "t").unwrap());
            let got: Vec<(String, i64)> = r
                .conflicts
                .unwrap_or_default()
                .into_iter()
                .map(|k| (k.op_id, k.server_sequence))
                .collect();
            let want: Vec<(String, i64)> = ops
                .iter()
                .flat_map(|o| scan_conflicts(c, u, &dev, o))
                .collect();
            assert_eq!(got, want, "push {round}");
            assert_eq!(super::chain::broken_links(c), 0, "push {round}");
        }
    };
    pushes(&c, 150, &mut rand);
    for u in ["u1", "u2"] {
        let all: Vec<i64> = c
            .prepare("SELECT server_sequence FROM server_ops WHERE user_id = ?1 ORDER BY 1")
            .unwrap()
            .query_map(params![u], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let doomed: Vec<i64> = all.into_iter().filter(|_| rand(3) == 0).collect();
        super::history::delete_ops(&c, &scope(u), &doomed).unwrap();
        assert_eq!(super::chain::broken_links(&c), 0, "after deleting from {u}");
    }
    // Every op of one entity deleted: its head row goes too.
    let last_a: Vec<i64> = c
        .prepare("SELECT server_sequence FROM server_ops WHERE user_id = 'u1' AND entity_type = 'file' AND entity_id = 'a'")
        .unwrap()
        .query_map(params![], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    super::history::delete_ops(&c, &scope("u1"), &last_a).unwrap();
    assert_eq!(super::chain::broken_links(&c), 0);
    pushes(&c, 60, &mut rand);
    let classes = |c: &Conn| -> Vec<i64> {
        c.prepare("SELECT compaction FROM server_ops ORDER BY user_id, server_sequence")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    // Before any deletion, classes of the live pushes equal the migration's; deletions keep
    // them (retention removes whole superseded versions), so compare on a fresh history.
    let (_d2, fresh) = db();
    pushes(&fresh, 150, &mut xorshift(7));
    let live = classes(&fresh);
    fresh
        .execute_batch("UPDATE server_ops SET compaction = 0")
        .unwrap();
    super::compaction::classify_history(fresh.sqlite().unwrap()).unwrap();
    assert_eq!(classes(&fresh), live);
}

/// A pushed again op is a duplicate whatever its id holds (the SQLite push looks its ids up
/// through a JSON array): quotes, backslashes, a NUL, line separators, non-ASCII.
#[test]
fn odd_op_ids_are_recognised_again() {
    let (_d, c) = db();
    let ids = [
        "a\u{0}b",
        "q\"uote",
        "back\\slash",
        "line\u{2028}sep",
        "тетрадь",
        "a",
    ];
    let ops: Vec<PushOp> = ids.iter().map(|id| op(id, "{}")).collect();
    let first = stored(push(&c, &input("u", "", ops.clone()), "t").unwrap());
    assert_eq!(first.count, ids.len() as i64);
    match push(&c, &input("u", "", ops), "t").unwrap() {
        PushOutcome::Stored {
            stats, advanced, ..
        } => {
            assert_eq!((stats.stored, stats.duplicates), (0, ids.len() as u64));
            assert_eq!(advanced, None);
        }
        other => panic!("not stored: {other:?}"),
    }
}

/// A chain walk on a reader's connection reads one state (`chain::consistent`): history
/// retention deleting, and so unlinking, ops between the walk's reads does not break it.
#[test]
fn a_walk_on_a_reader_reads_one_state() {
    let (d, c) = db();
    let s = scope("u");
    for i in 0..5 {
        let mut o = op(&format!("v{i}"), "{}");
        o.op_type = "update".into();
        stored(push(&c, &input("u", "", vec![o]), "t").unwrap());
    }
    let reader = Conn::Sqlite(open_connection(&d.path().join("server.db"), true).unwrap());
    let first = std::cell::Cell::new(true);
    let walk = |r: &Conn| -> Result<Vec<i64>, super::StoreError> {
        let mut seen = Vec::new();
        let head = super::chain::head(r, &s, ("file", "e"))?;
        // The first time, retention deletes the middle versions between the head read and
        // the walk.
        if first.replace(false) {
            super::history::delete_ops(&c, &s, &[2, 3, 4])?;
        }
        super::chain::walk(r, &s, "o.server_sequence", "", head, |row| {
            seen.push(row.get(0)?);
            Ok(true)
        })?;
        Ok(seen)
    };
    let seen = super::chain::consistent(&reader, walk).unwrap();
    assert_eq!(seen, [5, 4, 3, 2, 1]);
    // Afterwards the chain goes round them.
    assert_eq!(super::chain::consistent(&reader, walk).unwrap(), [5, 1]);
    assert_eq!(super::chain::broken_links(&c), 0);
}
