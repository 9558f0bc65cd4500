//! Pull (§4.10) with the incoming mass-deletion guard (§5.4.5): look ahead over the pages
//! (buffering them up to a byte budget so they need not be fetched twice), count the local
//! files the run would delete, then apply page by page, saving the cursor after each page.

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

impl Run {
    async fn fetch_page(&mut self, since: i64) -> Result<PullResponse, EngineError> {
        let req = PullRequest {
            since_sequence: since,
            page_limit: self.cfg.page_limit.clamp(1, DEFAULT_MAX_PULL_PAGE),
        };
        self.post_json(paths::PULL, &req).await
    }

    /// Pulls and applies everything after the cursor. With `guarded`, returns `Ok(false)` and
    /// applies nothing when the incoming guard holds the run.
    pub(super) async fn pull(&mut self, guarded: bool) -> Result<bool, EngineError> {
        let mut buffered = VecDeque::new();
        if guarded {
            let (deletions, pages) = self.look_ahead().await?;
            let files = self.st.local.values().filter(|e| !e.is_dir()).count() as u64;
            if let Some(g) = guard::check(Direction::Incoming, deletions, files) {
                self.warn(format!("mass deletion awaiting confirmation: {deletions} incoming deletions of {files} files"));
                self.st.guard = Some(g.clone());
                self.sum.guard = Some(g);
                return Ok(false);
            }
            buffered = pages;
        }
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
            let total = ops.len() as u64;
            for (i, op) in ops.iter().enumerate() {
                self.io.status(|s| {
                    s.progress = Some(Progress {
                        phase: Phase::Pull,
                        done: i as u64,
                        total,
                    })
                });
                self.apply_pulled(op).await?;
                self.st.cursor = ServerSeq(op.server_sequence);
                self.sum.pulled += 1;
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
