//! A push decided in memory: which of its ops are new, their sequences and compaction classes
//! (the supersede walk over the push's own ops) and the tombstones, from what the push read
//! first (the stored ops among its op ids and the scope's marks). Both backends write what
//! [`plan`] decides (`ops_pg`, `ops_sqlite`), so they give the same answers.

use std::collections::{HashMap, HashSet};
use verstak_sync_proto::{OpType, PushOp};

use super::compaction::{self, BARRIER, HEAD, SUPERSEDED};
use super::ops::{self, PushInput, PushStats, Stored};

/// One op of the push that gets a sequence.
pub(super) struct NewOp<'a> {
    pub op: &'a PushOp,
    pub seq: i64,
    pub class: i64,
}

pub(super) use super::chain::Entity;

/// What a push stores, decided in memory from what it read.
pub(super) struct Plan<'a> {
    pub new: Vec<NewOp<'a>>,
    /// Entities whose supersede walk goes on into the ops stored before the push.
    pub walk_stored: Vec<Entity<'a>>,
    /// The latest delete of each entity deleted: (entity, op id).
    pub tombstones: Vec<(Entity<'a>, &'a str)>,
    pub last: i64,
    pub last_barrier: i64,
    pub skip: Vec<usize>,
    pub stats: PushStats,
}

/// Goes through the push's ops in order, with `known` (the stored ops among its op ids) telling
/// which are stored already, `start` and `first_barrier` the scope's marks before the push.
pub(super) fn plan<'a>(
    p: &'a PushInput,
    known: &HashMap<String, [String; 4]>,
    start: i64,
    first_barrier: i64,
) -> Plan<'a> {
    let mut last = start;
    let mut last_barrier = first_barrier;
    let mut stats = PushStats::default();
    let mut skip = Vec::new();
    let mut new: Vec<NewOp<'_>> = Vec::new();
    // This push's new ops per entity, by index into `new`.
    let mut own: HashMap<Entity<'_>, Vec<usize>> = HashMap::new();
    let mut walk_stored: Vec<Entity<'_>> = Vec::new();
    let mut walked: HashSet<Entity<'_>> = HashSet::new();
    let mut tombstones: Vec<(Entity<'_>, &str)> = Vec::new();
    let mut tombstone_of: HashMap<Entity<'_>, usize> = HashMap::new();
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    for (i, op) in p.ops.iter().enumerate() {
        let fate = match (known.get(&op.op_id), first_of.get(op.op_id.as_str())) {
            (Some([et, eid, ot, pj]), _) => ops::retold(op, [et, eid, ot, pj]),
            (None, Some(&j)) => {
                let o = &p.ops[j];
                ops::retold(
                    op,
                    [
                        o.entity_type.as_str(),
                        &o.entity_id,
                        o.op_type.as_str(),
                        &o.payload_json,
                    ],
                )
            }
            (None, None) => Stored::New,
        };
        match fate {
            Stored::Collision => {
                stats.rejected_duplicates += 1;
                tracing::warn!(user_id = %p.scope.user_id, vault_id = %p.scope.vault_id, op_id = %op.op_id, "op id reused with different content; skipped");
                skip.push(i);
            }
            Stored::Duplicate => stats.duplicates += 1,
            Stored::New => {
                first_of.insert(&op.op_id, i);
                last += 1;
                let (et, ot) = (op.entity_type.as_str(), op.op_type.as_str());
                let entity = (et, op.entity_id.as_str());
                let class = compaction::class(et, ot);
                if class == BARRIER {
                    last_barrier = last;
                } else if ot != "create" {
                    let mine = own.get(&entity).map_or(&[][..], Vec::as_slice);
                    let through = supersede_own(&mut new, mine, last_barrier);
                    if through && last_barrier <= start && walked.insert(entity) {
                        walk_stored.push(entity);
                    }
                }
                own.entry(entity).or_default().push(new.len());
                new.push(NewOp {
                    op,
                    seq: last,
                    class,
                });
                if op.op_type == OpType::Delete {
                    // §5.7: the latest delete of an entity is its tombstone.
                    match tombstone_of.get(&entity) {
                        Some(&t) => tombstones[t].1 = &op.op_id,
                        None => {
                            tombstone_of.insert(entity, tombstones.len());
                            tombstones.push((entity, &op.op_id));
                        }
                    }
                }
                stats.stored += 1;
            }
        }
    }

    Plan {
        new,
        walk_stored,
        tombstones,
        last,
        last_barrier,
        skip,
        stats,
    }
}

/// The supersede walk (`compaction::superseded` on stored ops) over the push's own earlier ops
/// of one entity (`mine`, oldest first), newest first: marks the heads it passes, and says
/// whether it passed them all without stopping, so that it goes on into the ops stored
/// before the push.
fn supersede_own(new: &mut [NewOp<'_>], mine: &[usize], last_barrier: i64) -> bool {
    for &j in mine.iter().rev() {
        let n = &mut new[j];
        if n.seq <= last_barrier || n.class != HEAD {
            return false;
        }
        n.class = SUPERSEDED;
        if n.op.op_type.as_str() != "create" {
            return false;
        }
    }
    true
}
