//! Collections of the engine state that remember what changed since they were last written, so
//! a checkpoint journals only the changes (`journal.rs`) instead of rewriting the whole state.
//!
//! * [`TrackedMap`]: a `BTreeMap` whose mutators record the touched keys (and, once asked to,
//!   also for an incremental reader: `derive.rs` keeps the paths that differ between the local
//!   snapshot and the synced tree up to date from them).
//! * [`TrackedSet`]: the same for a `BTreeSet` (the base-store index).
//! * [`OpLog`]: the op log, a `Vec` in emission order, tracked by op id.
//!
//! Each derefs to its plain collection for reading; every mutation goes through a method here,
//! so the compiler finds any write that would escape the journal. They serialize exactly as
//! the plain collection (the state document keeps its shape), and two values are equal when
//! their contents are: what is pending for the journal is bookkeeping, not state.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::saved::QueuedOp;

/// A map that records which keys changed since [`TrackedMap::written`].
#[derive(Debug, Clone)]
pub struct TrackedMap<K: Ord, V> {
    map: BTreeMap<K, V>,
    dirty: BTreeSet<K>,
    /// Keys touched since [`TrackedMap::take_touched`], once [`TrackedMap::track_touched`]
    /// started it; unlike `dirty`, not cleared by a write.
    touched: Option<BTreeSet<K>>,
}

impl<K: Ord, V> Default for TrackedMap<K, V> {
    fn default() -> Self {
        TrackedMap {
            map: BTreeMap::new(),
            dirty: BTreeSet::new(),
            touched: None,
        }
    }
}

impl<K: Ord + Clone, V: PartialEq> TrackedMap<K, V> {
    fn touch(&mut self, k: K) {
        if let Some(t) = self.touched.as_mut() {
            t.insert(k.clone());
        }
        self.dirty.insert(k);
    }

    /// Starts (or restarts) recording the touched keys for [`TrackedMap::take_touched`].
    pub(crate) fn track_touched(&mut self) {
        self.touched = Some(BTreeSet::new());
    }

    /// The keys touched since the last call (or since [`TrackedMap::track_touched`]); `None`
    /// when nothing records them.
    pub(crate) fn take_touched(&mut self) -> Option<BTreeSet<K>> {
        let t = self.touched.as_mut()?;
        Some(std::mem::take(t))
    }

    /// Inserts; only a new or different value counts as a change.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        let old = self.map.insert(k.clone(), v);
        if old.as_ref() != self.map.get(&k) {
            self.touch(k);
        }
        old
    }

    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        let old = self.map.remove(k);
        if old.is_some() {
            self.touch(k.clone());
        }
        old
    }

    /// Inserts `make()` under `k` unless `k` is present.
    pub(crate) fn insert_if_absent(&mut self, k: K, make: impl FnOnce() -> V) {
        if !self.map.contains_key(&k) {
            self.insert(k, make());
        }
    }

    pub(crate) fn clear(&mut self) {
        let map = std::mem::take(&mut self.map);
        for k in map.into_keys() {
            self.touch(k);
        }
    }

    /// Replaces the whole content (a full scan), marking only the keys whose value differs.
    pub(crate) fn replace_all(&mut self, fresh: BTreeMap<K, V>) {
        let mut differ = Vec::new();
        for (k, v) in &self.map {
            if fresh.get(k) != Some(v) {
                differ.push(k.clone());
            }
        }
        for (k, v) in &fresh {
            if self.map.get(k) != Some(v) {
                differ.push(k.clone());
            }
        }
        for k in differ {
            self.touch(k);
        }
        self.map = fresh;
    }

    /// The changes since the last write: each touched key with its value now (`None`: removed).
    pub(crate) fn changes(&self) -> BTreeMap<&K, Option<&V>> {
        self.dirty.iter().map(|k| (k, self.map.get(k))).collect()
    }

    pub(crate) fn has_changes(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The changes are stored.
    pub(crate) fn written(&mut self) {
        self.dirty.clear();
    }

    /// Applies journaled changes (no tracking: they are stored already).
    pub(crate) fn replay(&mut self, changes: BTreeMap<K, Option<V>>) {
        for (k, v) in changes {
            if let Some(t) = self.touched.as_mut() {
                t.insert(k.clone());
            }
            match v {
                Some(v) => self.map.insert(k, v),
                None => self.map.remove(&k),
            };
        }
    }
}

impl<K: Ord, V> Deref for TrackedMap<K, V> {
    type Target = BTreeMap<K, V>;
    fn deref(&self) -> &BTreeMap<K, V> {
        &self.map
    }
}

impl<K: Ord, V> From<BTreeMap<K, V>> for TrackedMap<K, V> {
    fn from(map: BTreeMap<K, V>) -> Self {
        TrackedMap {
            map,
            dirty: BTreeSet::new(),
            touched: None,
        }
    }
}

impl<K: Ord, V: PartialEq> PartialEq for TrackedMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl<K: Ord, V: Eq> Eq for TrackedMap<K, V> {}

impl<K: Ord + Serialize, V: Serialize> Serialize for TrackedMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.map.serialize(s)
    }
}

impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for TrackedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(d).map(TrackedMap::from)
    }
}

/// Bookkeeping kept beside the state in memory: never stored, equal to any other (like what is
/// pending for the journal, it is not state). A loaded state starts with the default.
#[derive(Debug, Clone, Default)]
pub struct Memo<T>(pub(crate) T);

impl<T> PartialEq for Memo<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Memo<T> {}

/// A set that records which members came or went since [`TrackedSet::written`].
#[derive(Debug, Clone)]
pub struct TrackedSet<K: Ord> {
    set: BTreeSet<K>,
    dirty: BTreeSet<K>,
}

impl<K: Ord> Default for TrackedSet<K> {
    fn default() -> Self {
        TrackedSet {
            set: BTreeSet::new(),
            dirty: BTreeSet::new(),
        }
    }
}

impl<K: Ord + Clone> TrackedSet<K> {
    /// Only tests add to a set now (the one set, `base_docs`, lists documents older versions
    /// wrote).
    #[cfg(test)]
    pub(crate) fn insert(&mut self, k: K) -> bool {
        let new = self.set.insert(k.clone());
        if new {
            self.dirty.insert(k);
        }
        new
    }

    pub(crate) fn remove(&mut self, k: &K) -> bool {
        let was = self.set.remove(k);
        if was {
            self.dirty.insert(k.clone());
        }
        was
    }

    /// The changes since the last write: each touched member and whether it is in now.
    pub(crate) fn changes(&self) -> BTreeMap<&K, bool> {
        self.dirty
            .iter()
            .map(|k| (k, self.set.contains(k)))
            .collect()
    }

    pub(crate) fn has_changes(&self) -> bool {
        !self.dirty.is_empty()
    }

    pub(crate) fn written(&mut self) {
        self.dirty.clear();
    }

    pub(crate) fn replay(&mut self, changes: BTreeMap<K, bool>) {
        for (k, present) in changes {
            if present {
                self.set.insert(k);
            } else {
                self.set.remove(&k);
            }
        }
    }
}

impl<K: Ord> Deref for TrackedSet<K> {
    type Target = BTreeSet<K>;
    fn deref(&self) -> &BTreeSet<K> {
        &self.set
    }
}

impl<K: Ord> PartialEq for TrackedSet<K> {
    fn eq(&self, other: &Self) -> bool {
        self.set == other.set
    }
}

impl<K: Ord> Eq for TrackedSet<K> {}

impl<K: Ord + Serialize> Serialize for TrackedSet<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.set.serialize(s)
    }
}

impl<'de, K: Ord + Deserialize<'de>> Deserialize<'de> for TrackedSet<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeSet::deserialize(d).map(|set| TrackedSet {
            set,
            dirty: BTreeSet::new(),
        })
    }
}

/// The op log in emission order (`derive`), tracked by op id. The order is not journaled: it
/// follows from the ops themselves ([`super::derive::emission_order`]), so a replay re-sorts.
#[derive(Debug, Clone, Default)]
pub struct OpLog {
    ops: Vec<QueuedOp>,
    /// op id → the op now (`None`: removed), for the journal.
    dirty: BTreeMap<String, Option<QueuedOp>>,
}

impl OpLog {
    /// Replaces the log with `fresh` (a reconcile), marking the ops that came or went.
    pub(crate) fn replace(&mut self, fresh: Vec<QueuedOp>) {
        let old: BTreeMap<&str, &QueuedOp> =
            self.ops.iter().map(|q| (q.op_id.as_str(), q)).collect();
        let new: BTreeSet<&str> = fresh.iter().map(|q| q.op_id.as_str()).collect();
        for q in &self.ops {
            if !new.contains(q.op_id.as_str()) {
                self.dirty.insert(q.op_id.clone(), None);
            }
        }
        for q in &fresh {
            if old.get(q.op_id.as_str()) != Some(&q) {
                self.dirty.insert(q.op_id.clone(), Some(q.clone()));
            }
        }
        self.ops = fresh;
    }

    /// Removes the ops with these ids (one pass, however many).
    pub(crate) fn remove_ids(&mut self, ids: &BTreeSet<&str>) {
        if ids.is_empty() {
            return;
        }
        let dirty = &mut self.dirty;
        self.ops.retain(|q| {
            let gone = ids.contains(q.op_id.as_str());
            if gone {
                dirty.insert(q.op_id.clone(), None);
            }
            !gone
        });
    }

    pub(crate) fn clear(&mut self) {
        for q in std::mem::take(&mut self.ops) {
            self.dirty.insert(q.op_id, None);
        }
    }

    pub(crate) fn changes(&self) -> &BTreeMap<String, Option<QueuedOp>> {
        &self.dirty
    }

    pub(crate) fn has_changes(&self) -> bool {
        !self.dirty.is_empty()
    }

    pub(crate) fn written(&mut self) {
        self.dirty.clear();
    }

    /// Applies journaled changes and restores the emission order.
    pub(crate) fn replay(&mut self, changes: BTreeMap<String, Option<QueuedOp>>) {
        if changes.is_empty() {
            return;
        }
        let mut by_id: BTreeMap<String, QueuedOp> = std::mem::take(&mut self.ops)
            .into_iter()
            .map(|q| (q.op_id.clone(), q))
            .collect();
        for (id, q) in changes {
            match q {
                Some(q) => by_id.insert(id, q),
                None => by_id.remove(&id),
            };
        }
        self.ops = by_id.into_values().collect();
        self.ops.sort_by(super::derive::emission_order);
    }
}

impl Deref for OpLog {
    type Target = [QueuedOp];
    fn deref(&self) -> &[QueuedOp] {
        &self.ops
    }
}

impl From<Vec<QueuedOp>> for OpLog {
    fn from(ops: Vec<QueuedOp>) -> Self {
        OpLog {
            ops,
            dirty: BTreeMap::new(),
        }
    }
}

impl PartialEq for OpLog {
    fn eq(&self, other: &Self) -> bool {
        self.ops == other.ops
    }
}

impl Eq for OpLog {}

impl Serialize for OpLog {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.ops.serialize(s)
    }
}

impl<'de> Deserialize<'de> for OpLog {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::deserialize(d).map(OpLog::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_reports_only_what_changed_and_replays_it() {
        let mut m: TrackedMap<String, u32> =
            BTreeMap::from([("a".into(), 1), ("b".into(), 2)]).into();
        assert!(!m.has_changes());
        m.insert("c".into(), 3);
        m.remove(&"a".to_string());
        m.remove(&"zz".to_string());
        m.insert_if_absent("b".into(), || 9);
        let changes: Vec<_> = m.changes().into_iter().collect();
        assert_eq!(
            changes,
            [(&"a".to_string(), None), (&"c".to_string(), Some(&3))]
        );
        let mut copy: TrackedMap<String, u32> =
            BTreeMap::from([("a".into(), 1), ("b".into(), 2)]).into();
        let owned = m
            .changes()
            .into_iter()
            .map(|(k, v)| (k.clone(), v.copied()))
            .collect();
        copy.replay(owned);
        assert_eq!(copy, m);
        m.written();
        m.replace_all(BTreeMap::from([("b".into(), 2), ("c".into(), 4)]));
        assert_eq!(m.changes().into_keys().cloned().collect::<Vec<_>>(), ["c"]);
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"b":2,"c":4}"#);
    }
}
