//! The local scan: list the vault breadth-first, hash only files whose size or mtime changed
//! (`Command::HashFile`: the glue hashes natively, no file bytes pass through the engine), and
//! replace the local snapshot.
//! Ignored and excluded paths are not descended into; files over 256 MiB are kept as
//! `too_large` with a warning (§4.7). A listing failure aborts the run (`snapshot scan: …`).

use std::collections::{BTreeMap, VecDeque};

use verstak_sync_proto::limits::MAX_FILE_BYTES;

use super::super::error::EngineError;
use super::super::event::{EntryKind, IoError};
use super::super::path::VaultPath;
use super::super::saved::LocalEntry;
use super::super::summary::{Phase, Progress};
use super::Run;

impl Run {
    /// The full scan: the whole vault replaces the local snapshot.
    pub(super) async fn scan(&mut self) -> Result<(), EngineError> {
        let mut fresh: BTreeMap<VaultPath, LocalEntry> = BTreeMap::new();
        let mut hashed = 0u64;
        self.scan_tree(None, &mut fresh, &mut hashed).await?;
        self.st.local.replace_all(fresh);
        Ok(())
    }

    /// Lists `root` (`None`: the vault) breadth-first into `fresh`, hashing what changed.
    /// `root` itself must be a folder that is not ignored.
    pub(super) async fn scan_tree(
        &mut self,
        root: Option<VaultPath>,
        fresh: &mut BTreeMap<VaultPath, LocalEntry>,
        hashed: &mut u64,
    ) -> Result<(), EngineError> {
        let mut dirs: VecDeque<Option<VaultPath>> = VecDeque::from([root]);
        while let Some(dir) = dirs.pop_front() {
            let entries = match self.io.list_dir(dir.clone()).await {
                Ok(v) => v,
                // A folder removed while scanning is simply gone.
                Err(IoError::NotFound) if dir.is_some() => continue,
                Err(e) => return Err(EngineError::Scan(e.to_string())),
            };
            for e in entries {
                let Ok(path) = VaultPath::join(dir.as_ref(), &e.name) else {
                    continue;
                };
                match e.kind {
                    EntryKind::Other => {}
                    EntryKind::Dir => {
                        if !self.rules.ignores(&path, true) {
                            fresh.insert(path.clone(), LocalEntry::dir());
                            dirs.push_back(Some(path));
                        }
                    }
                    EntryKind::File => {
                        if self.rules.ignores(&path, false) {
                            continue;
                        }
                        if let Some(entry) = self.scan_file(&path, e.size, e.mtime, hashed).await? {
                            fresh.insert(path, entry);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The snapshot entry of the (not ignored) file `path` listed with `size` and `mtime`:
    /// hashed unless the snapshot has it with the same size and mtime; `None` when it went
    /// away meanwhile.
    pub(super) async fn scan_file(
        &mut self,
        path: &VaultPath,
        size: u64,
        mtime: i64,
        hashed: &mut u64,
    ) -> Result<Option<LocalEntry>, EngineError> {
        if size > MAX_FILE_BYTES {
            self.warn(format!(
                "file-too-large: {path} ({size} bytes exceeds {MAX_FILE_BYTES} bytes)"
            ));
            return Ok(Some(LocalEntry::TooLarge { size, mtime }));
        }
        let known = self.st.local.get(path).and_then(|o| match o {
            LocalEntry::File {
                size: s,
                mtime: m,
                hash,
            } if *s == size && *m == mtime => Some(hash.clone()),
            _ => None,
        });
        let (hash, size, mtime) = match known {
            Some(h) => (h, size, mtime),
            None => match self.io.hash_file(path).await {
                Ok(d) => (d.hash, d.size, d.mtime),
                Err(IoError::NotFound) => return Ok(None),
                Err(err) => return Err(EngineError::Scan(err.to_string())),
            },
        };
        *hashed += 1;
        let done = *hashed;
        self.io.status(|s| {
            s.report(Progress {
                phase: Phase::Scan,
                done,
                total: 0,
            })
        });
        Ok(Some(LocalEntry::File { size, mtime, hash }))
    }
}
