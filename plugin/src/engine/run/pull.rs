//! Pull (§4.10) with the incoming mass-deletion guard (§5.4.5): look ahead over the pages
//! (buffering them up to a byte budget so they need not be fetched twice), count the local
//! files the run would delete, then apply page by page, saving the cursor after each page.
//!
//! Every page passes [`PullBound`]: one pull may not go far past the sequence the server
//! reported in its first page, so a server that announces `has_more` forever cannot keep the
//! client pulling and writing (`pull_stalled`, "pull did not end: …").

use std::collections::{BTreeSet, VecDeque};

use verstak_sync_proto::limits::DEFAULT_MAX_PULL_PAGE;
use verstak_sync_proto::{EntityType, OpType, PullRequest, PullResponse, PulledOp, paths};

use super::super::error::EngineError;
use super::super::guard::{self, Direction};
use super::super::ids::ServerSeq;
use super::super::path::VaultPath;
use super::super::pullcheck::{next_cursor, ops_to_apply};
use super::super::summary::{Phase, Progress};
use super::Run;

/// Stop looking ahead after this many ops (§5.4.5).
const LOOKAHEAD_OPS: usize = 10_000;
/// Keep looked-ahead pages in memory up to this many payload bytes.
const BUFFER_BYTES: usize = 16 * 1024 * 1024;

/// Ops other devices may push while one pull runs, beyond twice the backlog it started with.
const BOUND_SLACK: i64 = 1_000;

/// How far one pull may go: the backlog the server reported in the first page (its
/// `server_sequence`, or the page's last op when that is higher), twice over, plus
/// [`BOUND_SLACK`]. A real server's head grows during a pull only by concurrent pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PullBound {
    start: i64,
    head: i64,
    limit: i64,
}

impl PullBound {
    /// The bound of a pull that started at `start` and got `first` as its first page.
    fn new(start: i64, first: &PullResponse) -> PullBound {
        let head = first.server_sequence.max(next_cursor(start, first));
        let backlog = head.saturating_sub(start).max(0);
        let limit = start
            .saturating_add(backlog.saturating_mul(2))
            .saturating_add(BOUND_SLACK);
        PullBound { start, head, limit }
    }

    /// A page after `cursor` must not carry ops past the limit.
    fn check(&self, cursor: i64, page: &PullResponse) -> Result<(), EngineError> {
        let at = next_cursor(cursor, page);
        if at > self.limit {
            return Err(EngineError::PullUnbounded {
                start: self.start,
                head: self.head,
                at,
            });
        }
        Ok(())
    }
}

impl Run {
    /// Fetches the page after `since`, checked against this pull's [`PullBound`] (set by the
    /// first page of a pull).
    async fn fetch_page(&mut self, since: i64) -> Result<PullResponse, EngineError> {
        let req = PullRequest {
            since_sequence: since,
            page_limit: self.cfg.page_limit.clamp(1, DEFAULT_MAX_PULL_PAGE),
        };
        let page: PullResponse = self.post_json(paths::PULL, &req).await?;
        let bound = *self
            .pull_bound
            .get_or_insert_with(|| PullBound::new(since, &page));
        bound.check(since, &page)?;
        Ok(page)
    }

    /// Pulls and applies everything after the cursor. With `guarded`, returns `Ok(false)` and
    /// applies nothing when the incoming guard holds the run.
    pub(super) async fn pull(&mut self, guarded: bool) -> Result<bool, EngineError> {
        self.pull_bound = None;
        let mut buffered = VecDeque::new();
        if guarded {
            let (deletions, pages) = self.look_ahead().await?;
            let files = self.st.local.values().filter(|e| !e.is_dir()).count() as u64;
            if let Some(g) = guard::check(Direction::Incoming, deletions, files) {
                self.warn(format!(
                    "{}: {deletions} incoming deletions of {files} files",
                    guard::WARNING
                ));
                self.st.guard = Some(g.clone());
                self.sum.guard = Some(g);
                return Ok(false);
            }
            buffered = pages;
        }
        let from = self.st.cursor.0;
        let mut head = from;
        loop {
            let cursor = self.st.cursor.0;
            let page = match buffered.pop_front() {
                Some(p) => p,
                None => self.fetch_page(cursor).await?,
            };
            let ops: Vec<_> = ops_to_apply(cursor, &page)?.into_iter().cloned().collect();
            self.note_upcoming_deletes(
                ops.iter().chain(buffered.iter().flat_map(|p| p.ops.iter())),
            );
            // Progress in sequences since this pull's first cursor, so it only grows across
            // pages: done = applied up to the cursor, total = up to the highest sequence seen.
            head = head
                .max(page.server_sequence)
                .max(next_cursor(cursor, &page));
            for op in &ops {
                let done = (self.st.cursor.0 - from).max(0) as u64;
                let total = (head - from).max(0) as u64;
                self.io.status(|s| {
                    s.report(Progress {
                        phase: Phase::Pull,
                        done,
                        total,
                    })
                });
                self.apply_pulled(op).await?;
                self.st.cursor = ServerSeq(op.server_sequence);
            }
            self.sum.server_sequence = self
                .sum
                .server_sequence
                .max(page.server_sequence)
                .max(self.st.cursor.0);
            self.save().await?;
            if !page.has_more {
                return Ok(true);
            }
            if next_cursor(cursor, &page) == cursor {
                return Err(EngineError::PullStalled);
            }
        }
    }

    /// Remembers the deletes among `ops` (pulled, not yet applied) for [`Run::make_way`].
    fn note_upcoming_deletes<'a>(&mut self, ops: impl Iterator<Item = &'a PulledOp>) {
        let ops: Vec<&PulledOp> = ops.collect();
        self.note_upcoming_versions(&ops);
        self.upcoming_deletes.clear();
        for op in ops {
            if op.device_id != self.cfg.device_id
                && op.op_type == OpType::Delete
                && matches!(op.entity_type, EntityType::File | EntityType::Folder)
                && let Ok(path) = VaultPath::parse(&op.entity_id)
            {
                let seq = self.upcoming_deletes.entry(path).or_default();
                *seq = (*seq).max(op.server_sequence);
            }
        }
    }

    /// Counts the distinct local files the pending remote ops would delete.
    async fn look_ahead(&mut self) -> Result<(u64, VecDeque<PullResponse>), EngineError> {
        let mut doomed: BTreeSet<VaultPath> = BTreeSet::new();
        let mut pages = VecDeque::new();
        let (mut seen, mut bytes, mut keep) = (0usize, 0usize, true);
        let mut cursor = self.st.cursor.0;
        loop {
            let page = self.fetch_page(cursor).await?;
            let ops = ops_to_apply(cursor, &page)?;
            for op in &ops {
                if op.device_id == self.cfg.device_id {
                    continue;
                }
                let Ok(path) = VaultPath::parse(&op.entity_id) else {
                    continue;
                };
                match (&op.entity_type, &op.op_type) {
                    (EntityType::File, OpType::Delete)
                        if self.st.local.get(&path).is_some_and(|e| !e.is_dir()) =>
                    {
                        doomed.insert(path);
                    }
                    (EntityType::Folder, OpType::Delete) => {
                        let under = self
                            .st
                            .local
                            .iter()
                            .filter(|(p, e)| !e.is_dir() && p.is_inside(&path));
                        doomed.extend(under.map(|(p, _)| p.clone()));
                    }
                    (EntityType::File, OpType::Create | OpType::Update) => {
                        doomed.remove(&path);
                    }
                    _ => {
                        // The desktop's folder trash deletes what is under its payload path.
                        if let Some(dir) = super::super::incoming::trashed_folder(op) {
                            let under = self.st.local.iter();
                            let under = under.filter(|(p, e)| !e.is_dir() && p.is_inside(&dir));
                            doomed.extend(under.map(|(p, _)| p.clone()));
                        }
                    }
                }
                bytes += op.payload_json.len();
            }
            seen += ops.len();
            let next = next_cursor(cursor, &page);
            let more = page.has_more && next != cursor;
            keep = keep && bytes <= BUFFER_BYTES;
            if keep {
                pages.push_back(page);
            }
            // A partial buffer is still a valid prefix; the rest is fetched again when applying.
            if !more || seen >= LOOKAHEAD_OPS {
                break;
            }
            cursor = next;
        }
        Ok((doomed.len() as u64, pages))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(seqs: std::ops::RangeInclusive<i64>, server_sequence: i64) -> PullResponse {
        PullResponse {
            has_more: true,
            ops: seqs
                .map(|s| PulledOp {
                    server_sequence: s,
                    ..PulledOp::default()
                })
                .collect(),
            page_last_sequence: 0,
            server_sequence,
        }
    }

    #[test]
    fn one_pull_stays_near_what_the_server_reported_at_its_start() {
        // (start, first page, later cursor, later page, allowed)
        let cases = [
            // A backlog of 100 with concurrent pushes: fine up to 2 × 100 + 1000 past the start.
            (0, page(1..=4, 100), 1196, page(1197..=1200, 1300), true),
            (0, page(1..=4, 100), 1197, page(1198..=1201, 1300), false),
            // A hostile server that reported 4 and then announces more forever.
            (0, page(1..=4, 4), 996, page(997..=1000, 1000), true),
            (0, page(1..=4, 4), 1004, page(1005..=1009, 1009), false),
            // The first page's own ops count even when server_sequence is missing (0).
            (50, page(51..=60, 0), 1060, page(1061..=1070, 0), true),
            (50, page(51..=60, 0), 1070, page(1071..=1080, 0), false),
        ];
        for (start, first, cursor, later, allowed) in cases {
            let bound = PullBound::new(start, &first);
            assert!(bound.check(start, &first).is_ok());
            let got = bound.check(cursor, &later);
            assert_eq!(got.is_ok(), allowed, "{bound:?} at {cursor}: {got:?}");
            if let Err(e) = got {
                assert_eq!(e.code().as_str(), "pull_stalled");
                assert!(e.to_string().starts_with("pull did not end: "), "{e}");
            }
        }
    }
}
