use super::*;
use crate::engine::path::p;

fn cfg(min_bytes: usize) -> Config {
    let mut c = Config::new("t", [7; 16]);
    c.journal_min_bytes = min_bytes;
    c
}

fn file(text: &str) -> LocalEntry {
    LocalEntry::File {
        size: text.len() as u64,
        mtime: 1,
        hash: ContentHash::of(text.as_bytes()),
    }
}

/// Storage as the host keeps it: the two documents.
#[derive(Default, Clone)]
struct Docs {
    snapshot: Option<String>,
    journal: String,
}

impl Docs {
    fn load(&self) -> (SavedState, Journal) {
        load(self.snapshot.as_deref(), Some(&self.journal)).unwrap()
    }

    /// One checkpoint, as `run/store.rs` does it; returns what was written.
    fn checkpoint(&mut self, st: &mut SavedState, j: &mut Journal, c: &Config) -> &'static str {
        let w = j.plan(st, c, false);
        let kind = match &w {
            Write::Nothing => "nothing",
            Write::Append(line) => {
                self.journal.push_str(line);
                "append"
            }
            Write::Snapshot(doc) => {
                self.snapshot = Some(doc.clone());
                self.journal.clear();
                "snapshot"
            }
        };
        j.written(st, &w);
        kind
    }
}

#[test]
fn checkpoints_append_only_the_changes_and_replay_to_the_same_state() {
    let c = cfg(1 << 20);
    let mut docs = Docs::default();
    let (mut st, mut j) = docs.load();
    for i in 0..50 {
        st.local
            .insert(p(&format!("n{i}.md")), file(&format!("{i}")));
    }
    assert_eq!(
        docs.checkpoint(&mut st, &mut j, &c),
        "snapshot",
        "no snapshot yet"
    );
    assert_eq!(docs.checkpoint(&mut st, &mut j, &c), "nothing");

    st.local.insert(p("Заметки/новая.md"), file("new"));
    st.local.remove(&p("n3.md"));
    st.cursor = ServerSeq(9);
    assert_eq!(docs.checkpoint(&mut st, &mut j, &c), "append");
    assert!(docs.journal.is_ascii(), "{}", docs.journal);
    assert!(
        !docs.journal.contains("n4.md"),
        "only the changes: {}",
        docs.journal
    );
    st.synced.insert(p("a"), SyncedEntry::dir());
    st.base_docs.insert(ContentHash::of(b"x"));
    st.base_packs.insert(ContentHash::of(b"y"), 3);
    st.next_pack = 4;
    st.unechoed.insert(
        "op".into(),
        Unechoed {
            path: p("a"),
            kind: super::super::saved::OpKind::Create,
            hash: None,
        },
    );
    assert_eq!(docs.checkpoint(&mut st, &mut j, &c), "append");
    assert_eq!(docs.load().0, st);

    // Replaying twice changes nothing (every value in a record is absolute).
    let mut twice = docs.clone();
    twice.journal = docs.journal.repeat(2);
    assert_eq!(twice.load().0, st);

    // A pack entry forgotten is journaled too, and survives a snapshot.
    st.base_packs.remove(&ContentHash::of(b"y"));
    assert_eq!(docs.checkpoint(&mut st, &mut j, &c), "append");
    assert_eq!(docs.load().0, st);
    st.base_packs.insert(ContentHash::of(b"z"), 4);
    st.next_pack = 5;
    let Write::Snapshot(doc) = j.plan(&mut st, &c, true) else {
        panic!("a snapshot was asked for")
    };
    let fresh = Docs {
        snapshot: Some(doc),
        ..Docs::default()
    };
    assert_eq!(fresh.load().0, st);
}

#[test]
fn a_torn_tail_is_ignored_and_the_next_checkpoint_writes_a_snapshot() {
    let c = cfg(1 << 20);
    let mut docs = Docs::default();
    let (mut st, mut j) = docs.load();
    st.local.insert(p("a.md"), file("a"));
    docs.checkpoint(&mut st, &mut j, &c);
    st.local.insert(p("b.md"), file("b"));
    docs.checkpoint(&mut st, &mut j, &c);
    let whole = st.clone();
    st.local.insert(p("c.md"), file("c"));
    let w = j.plan(&mut st, &c, false);
    let Write::Append(line) = w else {
        panic!("{w:?}")
    };
    for cut in [1, line.len() / 2, line.len() - 1] {
        let mut torn = docs.clone();
        torn.journal.push_str(&line[..cut]);
        let (back, mut j2) = torn.load();
        assert_eq!(back, whole, "cut at {cut}");
        // A damaged journal is never appended to.
        let mut back = back;
        back.local.insert(p("d.md"), file("d"));
        assert_eq!(torn.checkpoint(&mut back, &mut j2, &c), "snapshot");
        assert_eq!(torn.load().0, back);
    }
    // A line whose checksum fails stops the replay there.
    let mut bad = docs.clone();
    bad.journal.push_str(&line.replacen("c.md", "x.md", 1));
    assert_eq!(bad.load().0, whole);
}

#[test]
fn the_journal_compacts_when_it_outgrows_the_snapshot() {
    let c = cfg(256);
    let mut docs = Docs::default();
    let (mut st, mut j) = docs.load();
    let mut kinds = Vec::new();
    for i in 0..40 {
        st.local
            .insert(p(&format!("f{i}.md")), file(&format!("{i}")));
        kinds.push(docs.checkpoint(&mut st, &mut j, &c));
        assert_eq!(docs.load().0, st);
        let limit = (docs.snapshot.as_ref().unwrap().len() * JOURNAL_FACTOR).max(256);
        assert!(docs.journal.len() <= limit);
    }
    let snapshots = kinds.iter().filter(|k| **k == "snapshot").count();
    assert!((2..20).contains(&snapshots), "{kinds:?}");
}

#[test]
fn records_of_another_generation_and_a_journal_without_snapshot_are_not_applied() {
    let c = cfg(1 << 20);
    let mut docs = Docs::default();
    let (mut st, mut j) = docs.load();
    st.local.insert(p("a.md"), file("a"));
    docs.checkpoint(&mut st, &mut j, &c);
    st.local.insert(p("b.md"), file("b"));
    docs.checkpoint(&mut st, &mut j, &c);
    let old_journal = docs.journal.clone();
    // A compaction that crashed after the snapshot, before the journal was emptied.
    let w = j.plan(&mut st, &c, true);
    let Write::Snapshot(doc) = &w else {
        panic!("{w:?}")
    };
    let crashed = Docs {
        snapshot: Some(doc.clone()),
        journal: old_journal.clone(),
    };
    let (back, _) = crashed.load();
    assert_eq!(back, st);
    // The snapshot lost: the journal alone is no state.
    let lost = Docs {
        snapshot: None,
        journal: old_journal,
    };
    assert_eq!(lost.load().0, SavedState::default());
}

#[test]
fn a_state_document_written_by_older_versions_loads_and_is_compacted_on_the_first_checkpoint() {
    let old = r#"{"salt":"ab","cursor":7,"local":{"a.md":{"dir":false,"size":1,"mtime":9,"hash":"HASH","too_large":false}},"oplog":[{"op_id":"o2","client_seq":2,"path":"d","dir":true,"kind":"create","hash":null,"size":0}]}"#
        .replace("HASH", ContentHash::of(b"x").as_str());
    let mut docs = Docs {
        snapshot: Some(old),
        journal: String::new(),
    };
    let (mut st, mut j) = load(docs.snapshot.as_deref(), None).unwrap();
    assert_eq!(st.cursor, ServerSeq(7));
    assert_eq!(st.oplog.len(), 1);
    st.cursor = ServerSeq(8);
    assert_eq!(docs.checkpoint(&mut st, &mut j, &cfg(1 << 20)), "snapshot");
    assert_ne!(st.journal, 0);
    assert_eq!(docs.load().0, st);
}

#[test]
fn a_replayed_op_log_keeps_the_emission_order() {
    use super::super::derive::{Wanted, reconcile};
    use super::super::saved::Change;
    let c = cfg(1 << 20);
    let mut docs = Docs::default();
    let (mut st, mut j) = docs.load();
    docs.checkpoint(&mut st, &mut j, &c);
    let w = |path: &str, change: Change| Wanted {
        path: p(path),
        change,
    };
    let h = ContentHash::of(b"x");
    let f = |update| Change::File {
        update,
        hash: h.clone(),
        size: 1,
    };
    let wanted = vec![
        w("d", Change::Folder),
        w("z.md", f(false)),
        w("d/a.md", f(true)),
        w("d/e/gone.md", Change::Delete { dir: false }),
        w("d/e", Change::Delete { dir: true }),
    ];
    let mut next = 0;
    let log = reconcile(&st.oplog, wanted, "salt", &mut next);
    st.oplog.replace(log);
    docs.checkpoint(&mut st, &mut j, &c);
    let gone: std::collections::BTreeSet<&str> = [st.oplog[2].op_id.as_str()].into();
    let mut st2 = st.clone();
    st2.oplog.remove_ids(&gone);
    docs.checkpoint(&mut st2, &mut j, &c);
    assert_eq!(docs.load().0, st2);
}

#[test]
fn the_pending_batch_is_journaled_once_per_change_and_old_records_still_carry_it() {
    let c = cfg(1 << 20);
    let mut docs = Docs::default();
    let (mut st, mut j) = docs.load();
    assert_eq!(docs.checkpoint(&mut st, &mut j, &c), "snapshot");
    let batch = PendingBatch {
        key: "k1".into(),
        entries: vec![],
    };
    st.pending = Some(batch.clone());
    assert_eq!(docs.checkpoint(&mut st, &mut j, &c), "append");
    assert!(
        docs.journal.contains(r#""q":{"key":"k1""#),
        "{}",
        docs.journal
    );
    // Later records leave the unchanged batch out.
    st.cursor = ServerSeq(5);
    assert_eq!(docs.checkpoint(&mut st, &mut j, &c), "append");
    let last = docs.journal.lines().last().unwrap().to_string();
    assert!(!last.contains("\"q\"") && !last.contains("k1"), "{last}");
    assert_eq!(docs.load().0, st);
    // The batch sent: `null`.
    st.pending = None;
    assert_eq!(docs.checkpoint(&mut st, &mut j, &c), "append");
    assert!(docs.journal.lines().last().unwrap().contains(r#""q":null"#));
    assert_eq!(docs.load().0.pending, None);

    // A record an older version wrote carries the batch in its head.
    let head = Head::json(&st);
    let old_head = format!(
        "{},\"pending\":{}}}",
        &head[..head.len() - 1],
        serde_json::to_string(&batch).unwrap()
    );
    let record = format!("{{\"g\":{},\"h\":{old_head}}}", st.journal);
    docs.journal
        .push_str(&format!("{} {record}\n", checksum(&record)));
    assert_eq!(docs.load().0.pending, Some(batch));
}
