//! What to publish: a pure function of the local snapshot and the synced tree.
//!
//! `derive` lists the ops that take the server from `synced` to `local`, in the emission order
//! of plugin-contract §4.13 (creates and updates shallow first, folders before files; deletes
//! deepest first, files before folders). Renames come out as delete + create (§4.4). Ignored
//! paths are never published and never deleted (§5.4.6); files over the size limit are left alone.
//! `derive_state` does the same over only the paths that differ, kept up to date as the state
//! changes, so a run after a one-file change does not pass over the vault.
//! `reconcile` keeps the ids of ops that are still wanted unchanged, so an op keeps its id
//! from run to run, and gives fresh ids to new ones.

use super::ids::derive_uuid;
use super::ignore::Rules;
use super::path::VaultPath;
use super::saved::{Change, LocalEntry, OpKind, QueuedOp, SavedState, SyncedEntry};

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

/// The ops that take the server from `synced` to `local` (a pass over both): what
/// [`derive_state`] must equal.
#[cfg(test)]
pub(crate) fn derive(
    local: &std::collections::BTreeMap<VaultPath, LocalEntry>,
    synced: &std::collections::BTreeMap<VaultPath, SyncedEntry>,
    rules: &Rules,
) -> Vec<Wanted> {
    let mut out = Out::default();
    for (path, l) in local {
        out.path(path, Some(l), synced.get(path), rules);
    }
    for (path, s) in synced {
        if !local.contains_key(path) {
            out.path(path, None, Some(s), rules);
        }
    }
    out.sorted()
}

/// [`derive`] for the state, over only the paths where the local snapshot and the synced tree
/// differ (`SavedState::unsynced`): after a one-file change this costs O(changes), not O(vault).
pub(crate) fn derive_state(st: &mut SavedState, rules: &Rules) -> Vec<Wanted> {
    update_unsynced(st);
    let set = st.unsynced.0.as_ref().expect("just updated");
    let mut out = Out::default();
    for path in set {
        out.path(path, st.local.get(path), st.synced.get(path), rules);
    }
    let wanted = out.sorted();
    #[cfg(test)]
    assert_eq!(
        wanted,
        derive(&st.local, &st.synced, rules),
        "incremental derive"
    );
    wanted
}

/// Whether a path is in sync: the same folder, or a file with the same content.
fn in_sync(l: Option<&LocalEntry>, s: Option<&SyncedEntry>) -> bool {
    match (l, s) {
        (Some(LocalEntry::Dir), Some(SyncedEntry::Dir)) => true,
        (Some(LocalEntry::File { hash, .. }), Some(SyncedEntry::File { hash: h, .. })) => hash == h,
        (None, None) => true,
        _ => false,
    }
}

/// The paths where the local snapshot and the synced tree differ, kept beside the state
/// (`SavedState::unsynced`): computed in full at its first use after a load, then kept up to
/// date from the keys the two maps report touched (`TrackedMap::take_touched`).
fn update_unsynced(st: &mut SavedState) {
    let (local, synced) = (&mut st.local, &mut st.synced);
    let set = match (
        st.unsynced.0.take(),
        local.take_touched(),
        synced.take_touched(),
    ) {
        (Some(mut set), Some(l), Some(s)) => {
            for path in l.into_iter().chain(s) {
                if in_sync(local.get(&path), synced.get(&path)) {
                    set.remove(&path);
                } else {
                    set.insert(path);
                }
            }
            set
        }
        _ => {
            local.track_touched();
            synced.track_touched();
            let differ = |p: &&VaultPath| !in_sync(local.get(*p), synced.get(*p));
            let keys = local.keys().chain(synced.keys());
            keys.filter(differ).cloned().collect()
        }
    };
    st.unsynced.0 = Some(set);
}

/// The ops of a derive pass, before they are put in emission order.
#[derive(Default)]
struct Out {
    ups: Vec<Wanted>,
    dels: Vec<Wanted>,
}

impl Out {
    /// What `path` needs, given its local entry `l` and synced entry `s`.
    fn path(
        &mut self,
        path: &VaultPath,
        l: Option<&LocalEntry>,
        s: Option<&SyncedEntry>,
        rules: &Rules,
    ) {
        // In sync already: nothing to emit, whatever the ignore rules say (and matching them is
        // the costly part of a pass over a large vault).
        if in_sync(l, s) {
            return;
        }
        let Some(l) = l else {
            let s = s.expect("not in sync, so synced");
            if !rules.ignores(path, s.is_dir()) {
                self.dels
                    .push(Wanted::new(path, Change::Delete { dir: s.is_dir() }));
            }
            return;
        };
        let (hash, size) = match l {
            LocalEntry::TooLarge { .. } => return,
            _ if rules.ignores(path, l.is_dir()) => return,
            LocalEntry::Dir => {
                match s {
                    Some(SyncedEntry::Dir) => {}
                    Some(SyncedEntry::File { .. }) => {
                        self.dels
                            .push(Wanted::new(path, Change::Delete { dir: false }));
                        self.ups.push(Wanted::new(path, Change::Folder));
                    }
                    None => self.ups.push(Wanted::new(path, Change::Folder)),
                }
                return;
            }
            LocalEntry::File { hash, size, .. } => (hash, *size),
        };
        let update = match s {
            Some(SyncedEntry::File { hash: h, .. }) if h == hash => return,
            Some(SyncedEntry::File { .. }) => true,
            Some(SyncedEntry::Dir) => {
                self.dels
                    .push(Wanted::new(path, Change::Delete { dir: true }));
                false
            }
            None => false,
        };
        let change = Change::File {
            update,
            hash: hash.clone(),
            size,
        };
        self.ups.push(Wanted::new(path, change));
    }

    fn sorted(mut self) -> Vec<Wanted> {
        self.ups.extend(self.dels);
        self.ups
            .sort_by(|a, b| order(&a.path, &a.change, &b.path, &b.change));
        self.ups
    }
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
    use std::collections::BTreeMap;

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
