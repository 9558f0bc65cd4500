//! The scan of `sync-changed(paths)`: visit only the paths a file watcher saw change, and
//! update the local snapshot exactly as a full scan would for them (`scan.rs`).
//!
//! [`Run::hint_scope`] decides whether the hint is usable: every path must be a valid vault
//! path, the hint at most [`MAX_HINT_PATHS`] paths and at most a tenth of the known files (at
//! least [`MIN_HINT_LIMIT`]); the state must come from a completed first sync and the last run
//! must not have failed (its scan may have stopped half way). Otherwise the run scans fully.
//!
//! [`Run::scan_paths`] then looks each path up in its parent's listing (one listing per
//! folder):
//! * a file: stat from the listing, hashed only if its size or mtime changed;
//! * a folder: scanned breadth-first under it, replacing what the snapshot had under it;
//! * missing (or its parent missing, climbing up): whatever the snapshot had at or under it
//!   goes, which derives the deletes;
//! * ignored, excluded, or under an ignored folder: dropped from the snapshot, as a full scan
//!   would never list it.
//!
//! Present paths get their folders recorded as in a full scan. Everything after the scan (derive,
//! the guard, push, pull) is the same run as `sync-now`, so a hint with exactly the changed
//! paths decides the same as a full scan (the simulation checks this on random changes). Cost:
//! one listing per hinted folder plus hashing what changed, no walk of the vault.

use std::collections::BTreeMap;

use super::super::error::EngineError;
use super::super::event::{DirEntry, EntryKind, IoError};
use super::super::path::VaultPath;
use super::super::saved::LocalEntry;
use super::Run;

/// A hint with more paths than this is scanned fully.
pub(crate) const MAX_HINT_PATHS: usize = 2_000;
/// A hint may always name this many paths, however small the vault.
pub(crate) const MIN_HINT_LIMIT: usize = 64;

impl Run {
    /// The hinted paths to scan (sorted, none inside another), or `None` for a full scan.
    pub(super) fn hint_scope(&self, paths: &[String]) -> Option<Vec<VaultPath>> {
        let known = self.st.local.len();
        let limit = MAX_HINT_PATHS.min((known / 10).max(MIN_HINT_LIMIT));
        if paths.len() > limit || !self.st.bootstrap_complete || !self.st.last_error.is_empty() {
            return None;
        }
        let mut parsed = paths
            .iter()
            .map(|p| VaultPath::parse(p))
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        parsed.sort();
        parsed.dedup();
        // A folder covers what is under it.
        let mut scope: Vec<VaultPath> = Vec::with_capacity(parsed.len());
        for p in parsed {
            if !scope.iter().any(|d| p.is_inside(d)) {
                scope.push(p);
            }
        }
        Some(scope)
    }

    /// Updates the local snapshot for `paths` (see the module doc).
    pub(super) async fn scan_paths(&mut self, paths: Vec<VaultPath>) -> Result<(), EngineError> {
        let mut listings: BTreeMap<Option<VaultPath>, Option<Vec<DirEntry>>> = BTreeMap::new();
        let mut hashed = 0u64;
        for path in paths {
            let (path, found) = self.locate(path, &mut listings).await?;
            let ignored = |run: &Run, dir: bool| {
                path.ancestors().iter().any(|a| run.rules.ignores(a, true))
                    || run.rules.ignores(&path, dir)
            };
            match found {
                Some(e) if e.kind == EntryKind::Dir && !ignored(self, true) => {
                    self.record_folders(&path);
                    self.st.local.insert(path.clone(), LocalEntry::dir());
                    let mut fresh = BTreeMap::new();
                    self.scan_tree(Some(path.clone()), &mut fresh, &mut hashed)
                        .await?;
                    self.replace_inside(&path, fresh);
                }
                Some(e) if e.kind == EntryKind::File && !ignored(self, false) => {
                    self.forget_inside(&path);
                    match self.scan_file(&path, e.size, e.mtime, &mut hashed).await? {
                        Some(entry) => {
                            self.record_folders(&path);
                            self.st.local.insert(path, entry);
                        }
                        None => {
                            self.st.local.remove(&path);
                        }
                    }
                }
                _ => {
                    self.st.local.remove(&path);
                    self.forget_inside(&path);
                }
            }
        }
        Ok(())
    }

    /// What is at `path` now: its entry in the parent's listing. A missing parent makes the
    /// parent the path (climbing), so a removed folder goes with everything under it.
    async fn locate(
        &mut self,
        mut path: VaultPath,
        listings: &mut BTreeMap<Option<VaultPath>, Option<Vec<DirEntry>>>,
    ) -> Result<(VaultPath, Option<DirEntry>), EngineError> {
        loop {
            let parent = path.parent();
            if !listings.contains_key(&parent) {
                let listed = match self.io.list_dir(parent.clone()).await {
                    Ok(v) => Some(v),
                    Err(IoError::NotFound) if parent.is_some() => None,
                    Err(e) => return Err(EngineError::Scan(e.to_string())),
                };
                listings.insert(parent.clone(), listed);
            }
            match (&listings[&parent], parent) {
                (Some(entries), _) => {
                    let found = entries.iter().find(|e| e.name == path.name()).cloned();
                    return Ok((path, found));
                }
                (None, Some(up)) => path = up,
                (None, None) => unreachable!("a failed root listing returned above"),
            }
        }
    }

    /// The folders above a present path are folders in the snapshot (as a full scan lists
    /// them), whatever the snapshot had there before.
    fn record_folders(&mut self, path: &VaultPath) {
        for a in path.ancestors() {
            if !self.st.local.get(&a).is_some_and(LocalEntry::is_dir) {
                self.st.local.insert(a, LocalEntry::dir());
            }
        }
    }

    /// Drops every snapshot entry strictly inside `dir`.
    fn forget_inside(&mut self, dir: &VaultPath) {
        let (lo, hi) = dir.inside_bounds();
        let gone: Vec<VaultPath> = self
            .st
            .local
            .range(lo..hi)
            .map(|(p, _)| p.clone())
            .collect();
        for p in gone {
            self.st.local.remove(&p);
        }
    }

    /// Replaces the snapshot entries strictly inside `dir` with `fresh` (only changes count).
    fn replace_inside(&mut self, dir: &VaultPath, fresh: BTreeMap<VaultPath, LocalEntry>) {
        let (lo, hi) = dir.inside_bounds();
        let gone: Vec<VaultPath> = self
            .st
            .local
            .range(lo..hi)
            .filter(|(p, _)| !fresh.contains_key(*p))
            .map(|(p, _)| p.clone())
            .collect();
        for p in gone {
            self.st.local.remove(&p);
        }
        for (p, e) in fresh {
            self.st.local.insert(p, e);
        }
    }
}
