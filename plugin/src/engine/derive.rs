//! What to publish: a pure function of the local snapshot and the synced tree.
//!
//! `derive` lists the ops that take the server from `synced` to `local`, in the emission order
//! of plugin-contract §4.13 (creates and updates shallow first, folders before files; deletes
//! deepest first, files before folders). Renames come out as delete + create (§4.4). Ignored
//! paths are never published and never deleted (§5.4.6); files over the size limit are left alone.
//! `reconcile` keeps the ids of ops that are still wanted unchanged, so an op keeps its id
//! from run to run, and gives fresh ids to new ones.

use std::collections::BTreeMap;

use super::ids::derive_uuid;
use super::ignore::Rules;
use super::path::VaultPath;
use super::saved::{Change, LocalEntry, OpKind, QueuedOp, SyncedEntry};

/// One op to publish, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub path: VaultPath,
    pub change: Change,
}

impl Wanted {
    fn new(path: &VaultPath, change: Change) -> Wanted {
        Wanted {
            path: path.clone(),
            change,
        }
    }
}

pub(crate) fn derive(
    local: &BTreeMap<VaultPath, LocalEntry>,
    synced: &BTreeMap<VaultPath, SyncedEntry>,
    rules: &Rules,
) -> Vec<Wanted> {
    let mut ups = Vec::new();
    let mut dels = Vec::new();
    for (path, l) in local {
        // In sync already: nothing to emit, whatever the ignore rules say (and matching them is
        // the costly part of a pass over a large vault).
        let same = match (l, synced.get(path)) {
            (LocalEntry::Dir, Some(SyncedEntry::Dir)) => true,
            (LocalEntry::File { hash, .. }, Some(SyncedEntry::File { hash: h, .. })) => hash == h,
            _ => false,
        };
        if same {
            continue;
        }
        let (hash, size) = match l {
            LocalEntry::TooLarge { .. } => continue,
            _ if rules.ignores(path, l.is_dir()) => continue,
            LocalEntry::Dir => {
                match synced.get(path) {
                    Some(SyncedEntry::Dir) => {}
                    Some(SyncedEntry::File { .. }) => {
                        dels.push(Wanted::new(path, Change::Delete { dir: false }));
                        ups.push(Wanted::new(path, Change::Folder));
                    }
                    None => ups.push(Wanted::new(path, Change::Folder)),
                }
                continue;
            }
            LocalEntry::File { hash, size, .. } => (hash, *size),
        };
        let update = match synced.get(path) {
            Some(SyncedEntry::File { hash: h, .. }) if h == hash => continue,
            Some(SyncedEntry::File { .. }) => true,
            Some(SyncedEntry::Dir) => {
                dels.push(Wanted::new(path, Change::Delete { dir: true }));
                false
            }
            None => false,
        };
        let change = Change::File {
            update,
            hash: hash.clone(),
            size,
        };
        ups.push(Wanted::new(path, change));
    }
    for (path, s) in synced {
        if local.contains_key(path) || rules.ignores(path, s.is_dir()) {
            continue;
        }
        dels.push(Wanted::new(path, Change::Delete { dir: s.is_dir() }));
    }
    ups.extend(dels);
    ups.sort_by(|a, b| order(&a.path, &a.change, &b.path, &b.change));
    ups
}

/// The emission order of §4.13: creates and updates shallow first, folders before files; then
/// deletes deepest first, files before folders. A path has at most one op of each group, so
/// this is a total order over any op log (a journal replay restores the log's order with it).
fn order(pa: &VaultPath, a: &Change, pb: &VaultPath, b: &Change) -> std::cmp::Ordering {
    use std::cmp::Reverse;
    let (da, db) = (a.kind() == OpKind::Delete, b.kind() == OpKind::Delete);
    da.cmp(&db).then_with(|| {
        if da {
            (Reverse(pa.depth()), a.is_dir(), pa).cmp(&(Reverse(pb.depth()), b.is_dir(), pb))
        } else {
            (pa.depth(), !a.is_dir(), pa).cmp(&(pb.depth(), !b.is_dir(), pb))
        }
    })
}

/// [`order`] for queued ops.
pub(crate) fn emission_order(a: &QueuedOp, b: &QueuedOp) -> std::cmp::Ordering {
    order(&a.path, &a.change, &b.path, &b.change)
}

/// The new op log: ops still wanted keep their id and client sequence; new ones get fresh ones.
pub(crate) fn reconcile(
    old: &[QueuedOp],
    wanted: Vec<Wanted>,
    salt: &str,
    next_client_seq: &mut i64,
) -> Vec<QueuedOp> {
    // The same op is the same path, kind, folder flag and hash (the size follows from the
    // hash); indexed, so a large log reconciles in O(n log n).
    let key =
        |path: &VaultPath, c: &Change| (path.clone(), c.kind(), c.is_dir(), c.hash().cloned());
    let mut index = std::collections::BTreeMap::new();
    for q in old {
        index.entry(key(&q.path, &q.change)).or_insert(q);
    }
    wanted
        .into_iter()
        .map(|w| match index.get(&key(&w.path, &w.change)) {
            Some(q) => (*q).clone(),
            None => {
                let seq = *next_client_seq;
                *next_client_seq += 1;
                QueuedOp {
                    op_id: derive_uuid(salt, "op", seq as u64),
                    client_seq: seq,
                    path: w.path,
                    change: w.change,
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::hash::ContentHash;
    use crate::engine::path::p;
    use crate::engine::saved::OpKind;

    fn file(c: &str) -> LocalEntry {
        LocalEntry::File {
            size: c.len() as u64,
            mtime: 0,
            hash: ContentHash::of(c.as_bytes()),
        }
    }
    fn sfile(c: &str) -> SyncedEntry {
        SyncedEntry::File {
            hash: ContentHash::of(c.as_bytes()),
            text: true,
            size: c.len() as u64,
        }
    }

    #[test]
    fn emission_order_and_kinds() {
        let mut local = BTreeMap::new();
        let mut synced = BTreeMap::new();
        local.insert(p("b"), LocalEntry::dir());
        local.insert(p("b/new.md"), file("n"));
        local.insert(p("a.md"), file("changed"));
        local.insert(p("z.md"), file("same"));
        synced.insert(p("a.md"), sfile("old"));
        synced.insert(p("z.md"), sfile("same"));
        synced.insert(p("gone"), SyncedEntry::dir());
        synced.insert(p("gone/x.md"), sfile("x"));
        synced.insert(p("gone/deep/y.md"), sfile("y"));
        synced.insert(p("gone/deep"), SyncedEntry::dir());
        let got: Vec<(String, bool, OpKind)> = derive(&local, &synced, &Rules::default())
            .into_iter()
            .map(|w| (w.path.to_string(), w.change.is_dir(), w.change.kind()))
            .collect();
        let want = vec![
            ("b".to_string(), true, OpKind::Create),
            ("a.md".to_string(), false, OpKind::Update),
            ("b/new.md".to_string(), false, OpKind::Create),
            ("gone/deep/y.md".to_string(), false, OpKind::Delete),
            ("gone/x.md".to_string(), false, OpKind::Delete),
            ("gone/deep".to_string(), true, OpKind::Delete),
            ("gone".to_string(), true, OpKind::Delete),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn ignored_and_too_large_are_never_published_or_deleted() {
        let mut local = BTreeMap::new();
        let mut synced = BTreeMap::new();
        local.insert(p("big.bin"), LocalEntry::TooLarge { size: 0, mtime: 0 });
        synced.insert(p("big.bin"), sfile("old"));
        local.insert(p(".DS_Store"), file("junk"));
        synced.insert(p("Thumbs.db"), sfile("t"));
        assert!(derive(&local, &synced, &Rules::default()).is_empty());
    }

    #[test]
    fn reconcile_keeps_ids_of_unchanged_wants() {
        let mut local = BTreeMap::new();
        local.insert(p("a.md"), file("1"));
        let synced = BTreeMap::new();
        let mut seq = 0;
        let first = reconcile(
            &[],
            derive(&local, &synced, &Rules::default()),
            "salt",
            &mut seq,
        );
        let again = reconcile(
            &first,
            derive(&local, &synced, &Rules::default()),
            "salt",
            &mut seq,
        );
        assert_eq!(first, again);
        local.insert(p("a.md"), file("2"));
        let changed = reconcile(
            &again,
            derive(&local, &synced, &Rules::default()),
            "salt",
            &mut seq,
        );
        assert_ne!(changed[0].op_id, first[0].op_id);
        assert_eq!(changed[0].client_seq, 1);
        assert_eq!(seq, 2);
    }
}
