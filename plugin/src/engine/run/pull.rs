//! Pull (§4.10) with the incoming mass-deletion guard (§5.4.5).
//!
//! A guarded pull first looks ahead (`lookahead.rs`): it fetches a window of pages, up to
//! 10,000 ops or the end, and counts the local files they would delete; the guard decides on
//! that count before anything is applied. Then the window's pages are applied page by page,
//! saving the cursor after each. Pages past the memory budget were set aside in local storage
//! during the look-ahead and are read back from there, so no page is fetched twice. A pull
//! longer than one window looks ahead again from where the last window ended, counting on
//! (past 10,000 ops the spec's single look-ahead checked nothing). An unguarded pull fetches
//! page by page.
//!
//! Before a page is applied, its small blobs are fetched in batches (`prefetch.rs`, topped up
//! with those of the window's later pages); what a pull prefetched and no op took is deleted
//! when the pull ends.
//!
//! Every page passes [`PullBound`]: one pull may not go far past the sequence the server
//! reported in its first page, so a server that announces `has_more` forever cannot keep the
//! client pulling and writing (`pull_stalled`, "pull did not end: …").

use std::collections::VecDeque;

use verstak_sync_proto::limits::DEFAULT_MAX_PULL_PAGE;
use verstak_sync_proto::{EntityType, OpType, PullRequest, PullResponse, PulledOp, paths};

use super::super::error::EngineError;
use super::super::guard::{self, Direction};
use super::super::ids::ServerSeq;
use super::super::path::VaultPath;
use super::super::pullcheck::{next_cursor, ops_to_apply};
use super::super::summary::{Phase, Progress};
use super::Run;
use super::lookahead::{Held, Watch};

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
    pub(super) async fn fetch_page(&mut self, since: i64) -> Result<PullResponse, EngineError> {
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

    /// Pulls and applies everything after the cursor. With `guarded`, returns `Ok(false)` when
    /// the incoming guard holds the pull (before the window that tripped it).
    pub(super) async fn pull(&mut self, guarded: bool) -> Result<bool, EngineError> {
        let pulled = self.pull_pages(guarded).await;
        self.drop_prefetched().await;
        pulled
    }

    /// [`Run::pull`] without the clean-up of prefetched blobs no op took.
    async fn pull_pages(&mut self, guarded: bool) -> Result<bool, EngineError> {
        self.pull_bound = None;
        let mut watch = guarded.then(|| Watch::new(&self.st.local));
        let mut window: VecDeque<Held> = VecDeque::new();
        let from = self.st.cursor.0;
        let mut head = from;
        loop {
            if window.is_empty()
                && let Some(w) = watch.as_mut()
            {
                window = self.look_ahead(w).await?;
                let (deletions, files) = (w.doomed.len() as u64, w.files);
                if let Some(g) = guard::check(Direction::Incoming, deletions, files) {
                    self.warn(format!(
                        "{}: {deletions} incoming deletions of {files} files",
                        guard::WARNING
                    ));
                    self.st.guard = Some(g.clone());
                    self.sum.guard = Some(g);
                    self.drop_window(window).await;
                    return Ok(false);
                }
            }
            let cursor = self.st.cursor.0;
            let page = match window.pop_front() {
                Some(held) => self.take_held(held, cursor).await?,
                None => {
                    let page = self.fetch_page(cursor).await?;
                    self.clear_upcoming();
                    self.note_upcoming(&page.ops);
                    page
                }
            };
            let ops: Vec<_> = ops_to_apply(cursor, &page)?.into_iter().cloned().collect();
            // Progress in sequences since this pull's first cursor, so it only grows across
            // pages: done = applied up to the cursor, total = up to the highest sequence seen.
            head = head
                .max(page.server_sequence)
                .max(next_cursor(cursor, &page));
            self.prefetch_blobs(&ops).await;
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

    /// Forgets what earlier pages said was coming.
    pub(super) fn clear_upcoming(&mut self) {
        self.upcoming_deletes.clear();
        self.upcoming_versions.clear();
        self.clear_upcoming_blobs();
    }

    /// Remembers the deletes and file versions among `ops` (pulled, not yet applied) for
    /// [`Run::make_way`] and [`Run::later_brings_local`]. Both compare sequences, so ops
    /// already applied in the same window change nothing; each op is looked at once.
    pub(super) fn note_upcoming(&mut self, ops: &[PulledOp]) {
        self.note_upcoming_versions(ops);
        self.note_upcoming_blobs(ops);
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
