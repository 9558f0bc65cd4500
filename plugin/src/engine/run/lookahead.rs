//! The look-ahead of a guarded pull (§5.4.5): fetch one window of pages, count the local files
//! its ops would delete, and keep the pages for applying.
//!
//! A window ends when the server has no more, or after [`Config::lookahead_ops`] ops (10,000).
//! Its pages stay in memory up to [`Config::lookahead_bytes`] of payloads; later pages of the
//! window are set aside in local storage (`pull-page-<n>`, written without fsync: they only
//! live for this run) and read back when their turn comes, so the guard sees the whole window
//! before anything is applied and no page is fetched twice. A set-aside page that cannot be
//! read back (damaged) is fetched again from the cursor, the one case of a second fetch.
//!
//! The count ([`Watch`]) runs over all windows of one pull: distinct local files the pull
//! would delete, against the files the device had when the pull started (a file that an
//! earlier window created is not counted when a later one deletes it).

use std::collections::{BTreeSet, VecDeque};

use verstak_sync_proto::{EntityType, OpType, PullResponse, PulledOp};

use super::super::command::Command;
use super::super::config::Config;
use super::super::error::EngineError;
use super::super::path::VaultPath;
use super::super::pullcheck::{next_cursor, ops_to_apply};
use super::super::saved::LocalEntry;
use super::super::tracked::TrackedMap;
use super::Run;

/// A looked-ahead page: in memory, or set aside in the storage document `key`.
pub(super) enum Held {
    Page(PullResponse),
    Stored { key: String },
}

/// What the look-ahead windows of one guarded pull have counted.
#[derive(Default)]
pub(super) struct Watch {
    /// Local files (N) when the pull started.
    pub(super) files: u64,
    /// Local files the pull would delete (D).
    pub(super) doomed: BTreeSet<VaultPath>,
    /// Files this pull creates that the device did not have.
    fresh: BTreeSet<VaultPath>,
}

impl Watch {
    /// The count for a pull that starts with the snapshot `local`.
    pub(super) fn new(local: &TrackedMap<VaultPath, LocalEntry>) -> Watch {
        Watch {
            files: local.values().filter(|e| !e.is_dir()).count() as u64,
            ..Watch::default()
        }
    }

    fn full(cfg: &Config, ops: usize) -> bool {
        ops >= cfg.lookahead_ops
    }

    /// A local file the device had before this pull.
    fn had(&self, p: &VaultPath, local: &TrackedMap<VaultPath, LocalEntry>) -> bool {
        local.get(p).is_some_and(|e| !e.is_dir()) && !self.fresh.contains(p)
    }

    fn doom_under(&mut self, dir: &VaultPath, local: &TrackedMap<VaultPath, LocalEntry>) {
        let under = local
            .iter()
            .filter(|(p, e)| !e.is_dir() && p.is_inside(dir) && !self.fresh.contains(*p))
            .map(|(p, _)| p.clone())
            .collect::<Vec<_>>();
        self.doomed.extend(under);
    }

    /// Counts one op of another device.
    fn count(&mut self, op: &PulledOp, local: &TrackedMap<VaultPath, LocalEntry>) {
        let Ok(path) = VaultPath::parse(&op.entity_id) else {
            return;
        };
        match (&op.entity_type, &op.op_type) {
            (EntityType::File, OpType::Delete) => {
                if self.had(&path, local) {
                    self.doomed.insert(path);
                }
            }
            (EntityType::Folder, OpType::Delete) => self.doom_under(&path, local),
            (EntityType::File, OpType::Create | OpType::Update) => {
                self.doomed.remove(&path);
                if !local.contains_key(&path) {
                    self.fresh.insert(path);
                }
            }
            _ => {
                // The desktop's folder trash deletes what is under its payload path.
                if let Some(dir) = super::super::incoming::trashed_folder(op) {
                    self.doom_under(&dir, local);
                }
            }
        }
    }
}

fn page_key(n: usize) -> String {
    format!("pull-page-{n}")
}

impl Run {
    /// Fetches the next window from the cursor, counting into `w`, and notes what is coming
    /// (`Run::note_upcoming`) for the whole window.
    pub(super) async fn look_ahead(
        &mut self,
        w: &mut Watch,
    ) -> Result<VecDeque<Held>, EngineError> {
        let mut window = VecDeque::new();
        match self.fill_window(w, &mut window).await {
            Ok(()) => Ok(window),
            Err(e) => {
                // A failed look-ahead leaves nothing set aside behind.
                self.drop_window(window).await;
                Err(e)
            }
        }
    }

    async fn fill_window(
        &mut self,
        w: &mut Watch,
        window: &mut VecDeque<Held>,
    ) -> Result<(), EngineError> {
        self.clear_upcoming();
        let (mut seen, mut bytes) = (0usize, 0usize);
        let mut cursor = self.st.cursor.0;
        loop {
            let page = self.fetch_page(cursor).await?;
            let ops = ops_to_apply(cursor, &page)?;
            for op in &ops {
                if op.device_id != self.cfg.device_id {
                    w.count(op, &self.st.local);
                }
            }
            seen += ops.len();
            let size: usize = page.ops.iter().map(|o| o.payload_json.len()).sum();
            self.note_upcoming(&page.ops);
            let next = next_cursor(cursor, &page);
            let more = page.has_more && next != cursor;
            if bytes + size <= self.cfg.lookahead_bytes || window.is_empty() {
                bytes += size;
                window.push_back(Held::Page(page));
            } else {
                let key = page_key(window.len());
                let value = serde_json::to_string(&page).expect("plain data");
                let k = key.clone();
                let stored = self
                    .io
                    .done(|id| Command::StorageWrite {
                        id,
                        key: k,
                        value,
                        durable: false,
                    })
                    .await;
                window.push_back(match stored {
                    Ok(()) => Held::Stored { key },
                    // Could not set it aside: keep it in memory rather than fetch it twice.
                    Err(_) => Held::Page(page),
                });
            }
            if !more || Watch::full(&self.cfg, seen) {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// The page `held` stands for, which must follow `cursor`.
    pub(super) async fn take_held(
        &mut self,
        held: Held,
        cursor: i64,
    ) -> Result<PullResponse, EngineError> {
        let key = match held {
            Held::Page(page) => return Ok(page),
            Held::Stored { key } => key,
        };
        let doc = self.io.storage_read(key.clone()).await.ok().flatten();
        let _ = self.io.done(|id| Command::StorageDelete { id, key }).await;
        let page = doc.and_then(|d| serde_json::from_str::<PullResponse>(&d).ok());
        match page {
            Some(p) if ops_to_apply(cursor, &p).is_ok() => Ok(p),
            // Damaged: fetch it again.
            _ => self.fetch_page(cursor).await,
        }
    }

    /// Removes what a held-back window set aside.
    pub(super) async fn drop_window(&mut self, window: VecDeque<Held>) {
        for held in window {
            if let Held::Stored { key } = held {
                let _ = self.io.done(|id| Command::StorageDelete { id, key }).await;
            }
        }
    }
}
