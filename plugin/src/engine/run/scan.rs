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
    pub(super) async fn scan(&mut self) -> Result<(), EngineError> {
        let mut fresh: BTreeMap<VaultPath, LocalEntry> = BTreeMap::new();
        let mut dirs: VecDeque<Option<VaultPath>> = VecDeque::from([None]);
        let mut hashed = 0u64;
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
                        if e.size > MAX_FILE_BYTES {
                            self.warn(format!(
                                "file-too-large: {path} ({} bytes exceeds {MAX_FILE_BYTES} bytes)",
                                e.size
                            ));
                            let entry = LocalEntry::TooLarge {
                                size: e.size,
                                mtime: e.mtime,
                            };
                            fresh.insert(path, entry);
                            continue;
                        }
                        let known = self.st.local.get(&path).and_then(|o| match o {
                            LocalEntry::File { size, mtime, hash }
                                if *size == e.size && *mtime == e.mtime =>
                            {
                                Some(hash.clone())
                            }
                            _ => None,
                        });
                        let (hash, size, mtime) = match known {
                            Some(h) => (h, e.size, e.mtime),
                            None => match self.io.hash_file(&path).await {
                                Ok(d) => (d.hash, d.size, d.mtime),
                                Err(IoError::NotFound) => continue,
                                Err(err) => return Err(EngineError::Scan(err.to_string())),
                            },
                        };
                        hashed += 1;
                        self.io.status(|s| {
                            s.report(Progress {
                                phase: Phase::Scan,
                                done: hashed,
                                total: 0,
                            })
                        });
                        let entry = LocalEntry::File { size, mtime, hash };
                        fresh.insert(path, entry);
                    }
                }
            }
        }
        self.st.local.replace_all(fresh);
        Ok(())
    }
}
