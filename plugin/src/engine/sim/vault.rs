//! An in-memory vault, staging area, storage and settings document for one simulated device:
//! executes the engine's commands the way the glue must (atomic writes, `Expect` re-checked at
//! the last moment).

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::codes::HostCode;
use crate::engine::command::{Command, Expect};
use crate::engine::event::{Digest, DirEntry, EntryKind, FileMeta, IoError, Reply};
use crate::engine::hash::ContentHash;

use super::server::FakeServer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    File(Vec<u8>, i64),
    Dir,
}

#[derive(Default)]
pub(crate) struct FakeVault {
    pub nodes: BTreeMap<String, Node>,
    pub trash: Vec<(String, Vec<u8>)>,
    pub stage: BTreeMap<String, Vec<u8>>,
    pub storage: BTreeMap<String, String>,
    /// The settings document (`settings` import); empty means never written.
    pub settings: String,
    /// What the engine wrote to the host log.
    pub log: Vec<String>,
    /// Documents written without fsync (`durable: false`) since the last crash: a crash may
    /// drop or tear them.
    pub unsynced: BTreeSet<String>,
    pub tick: i64,
    /// The longest name (in bytes) this file system holds; `None`: any (issue 14 item 2).
    pub max_name: Option<usize>,
}

fn parent(p: &str) -> &str {
    p.rfind('/').map_or("", |i| &p[..i])
}

impl FakeVault {
    /// Refuses a name longer than `max_name` bytes, as Linux answers ENAMETOOLONG.
    fn name_fits(&self, p: &str) -> Result<(), IoError> {
        match self.max_name {
            Some(max) if p.split('/').any(|seg| seg.len() > max) => Err(IoError::Host {
                code: HostCode::Io,
                message: format!("write {p}: File name too long (os error 36)"),
            }),
            _ => Ok(()),
        }
    }

    fn mkdirs(&mut self, p: &str) -> Result<(), IoError> {
        self.name_fits(p)?;
        let mut acc = String::new();
        for seg in p.split('/') {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(seg);
            match self.nodes.get(&acc) {
                Some(Node::File(..)) => return Err(IoError::Other("file in the way".into())),
                Some(Node::Dir) => {}
                None => {
                    self.nodes.insert(acc.clone(), Node::Dir);
                }
            }
        }
        Ok(())
    }

    /// Writes a file the way a user or the glue does: parents created, mtime bumped.
    pub(crate) fn put(&mut self, p: &str, bytes: Vec<u8>) -> Result<FileMeta, IoError> {
        self.name_fits(p)?;
        if !parent(p).is_empty() {
            self.mkdirs(parent(p))?;
        }
        if matches!(self.nodes.get(p), Some(Node::Dir)) {
            return Err(IoError::Other("is a folder".into()));
        }
        self.tick += 1;
        let meta = FileMeta {
            size: bytes.len() as u64,
            mtime: self.tick,
        };
        self.nodes
            .insert(p.to_string(), Node::File(bytes, self.tick));
        Ok(meta)
    }

    fn check(&self, p: &str, expect: &Expect) -> Result<(), IoError> {
        let ok = match (expect, self.nodes.get(p)) {
            (Expect::Absent, None) => true,
            (Expect::Hash(h), Some(Node::File(b, _))) => ContentHash::of(b) == *h,
            _ => false,
        };
        if ok { Ok(()) } else { Err(IoError::Changed) }
    }

    pub(crate) fn children(&self, dir: &str) -> Vec<String> {
        self.nodes
            .keys()
            .filter(|k| {
                k.starts_with(dir)
                    && k.len() > dir.len()
                    && (dir.is_empty() || k.as_bytes()[dir.len()] == b'/')
            })
            .cloned()
            .collect()
    }

    pub(crate) fn exec(
        &mut self,
        cmd: &Command,
        server: &mut FakeServer,
    ) -> Result<Reply, IoError> {
        match cmd {
            Command::ListDir { dir, .. } => {
                let d = dir.as_ref().map_or(String::new(), |d| d.to_string());
                if !d.is_empty() && !matches!(self.nodes.get(&d), Some(Node::Dir)) {
                    return Err(IoError::NotFound);
                }
                let entries = self
                    .nodes
                    .iter()
                    .filter(|(k, _)| parent(k) == d)
                    .map(|(k, n)| {
                        let name = k.rsplit('/').next().unwrap().to_string();
                        match n {
                            Node::Dir => DirEntry {
                                name,
                                kind: EntryKind::Dir,
                                size: 0,
                                mtime: 0,
                            },
                            Node::File(b, m) => DirEntry {
                                name,
                                kind: EntryKind::File,
                                size: b.len() as u64,
                                mtime: *m,
                            },
                        }
                    })
                    .collect();
                Ok(Reply::Listed(entries))
            }
            Command::ReadFile {
                path, offset, len, ..
            } => match self.nodes.get(path.as_str()) {
                Some(Node::File(b, _)) => {
                    let a = (*offset as usize).min(b.len());
                    let e = (a + *len as usize).min(b.len());
                    Ok(Reply::Bytes(b[a..e].to_vec()))
                }
                _ => Err(IoError::NotFound),
            },
            Command::HashFile { path, .. } => match self.nodes.get(path.as_str()) {
                Some(Node::File(b, m)) => Ok(Reply::Digest(Digest {
                    size: b.len() as u64,
                    mtime: *m,
                    hash: ContentHash::of(b),
                })),
                Some(Node::Dir) => Err(IoError::Other(format!("{path} is not a regular file"))),
                None => Err(IoError::NotFound),
            },
            Command::WriteFile {
                path,
                bytes,
                expect,
                ..
            } => {
                self.check(path.as_str(), expect)?;
                Ok(Reply::Written(self.put(path.as_str(), bytes.clone())?))
            }
            Command::CopyFile {
                from,
                to,
                from_hash,
                ..
            } => {
                self.check(from.as_str(), &Expect::Hash(from_hash.clone()))?;
                self.check(to.as_str(), &Expect::Absent)?;
                let Some(Node::File(b, _)) = self.nodes.get(from.as_str()).cloned() else {
                    unreachable!()
                };
                Ok(Reply::Written(self.put(to.as_str(), b)?))
            }
            Command::Rename { from, to, .. } => {
                if !self.nodes.contains_key(from.as_str()) {
                    return Err(IoError::NotFound);
                }
                self.check(to.as_str(), &Expect::Absent)?;
                self.name_fits(to.as_str())?;
                if let Some(pp) = to.parent() {
                    self.mkdirs(pp.as_str())?;
                }
                let mut moved = self.children(from.as_str());
                moved.push(from.to_string());
                for k in moved {
                    let n = self.nodes.remove(&k).unwrap();
                    let nk = format!("{}{}", to, &k[from.as_str().len()..]);
                    self.nodes.insert(nk, n);
                }
                Ok(Reply::Done)
            }
            Command::Trash { path, expect, .. } => {
                if !self.nodes.contains_key(path.as_str()) {
                    return Ok(Reply::Done);
                }
                self.check(path.as_str(), expect)?;
                if let Some(Node::File(b, _)) = self.nodes.remove(path.as_str()) {
                    self.trash.push((path.to_string(), b));
                }
                Ok(Reply::Done)
            }
            Command::Mkdir { path, .. } => self.mkdirs(path.as_str()).map(|_| Reply::Done),
            Command::RemoveDir { path, .. } => match self.nodes.get(path.as_str()) {
                None => Err(IoError::NotFound),
                Some(Node::File(..)) => Err(IoError::Other("not a folder".into())),
                Some(Node::Dir) if !self.children(path.as_str()).is_empty() => {
                    Err(IoError::NotEmpty)
                }
                Some(Node::Dir) => {
                    self.nodes.remove(path.as_str());
                    Ok(Reply::Done)
                }
            },
            Command::StageWrite {
                stage,
                offset,
                bytes,
                ..
            } => {
                let s = self.stage.entry(stage.clone()).or_default();
                if *offset == 0 {
                    s.clear();
                }
                if s.len() as u64 != *offset {
                    return Err(IoError::Other("stage offset".into()));
                }
                s.extend_from_slice(bytes);
                Ok(Reply::Done)
            }
            Command::StageCopy { from, stage, .. } => match self.nodes.get(from.as_str()) {
                Some(Node::File(b, _)) => {
                    let (size, hash) = (b.len() as u64, ContentHash::of(b));
                    self.stage.insert(stage.clone(), b.clone());
                    Ok(Reply::Staged { size, hash })
                }
                _ => Err(IoError::NotFound),
            },
            Command::CommitStage {
                stage, to, expect, ..
            } => {
                self.check(to.as_str(), expect)?;
                let bytes = self.stage.remove(stage).ok_or(IoError::NotFound)?;
                Ok(Reply::Written(self.put(to.as_str(), bytes)?))
            }
            Command::DeleteStage { stage, .. } => {
                self.stage.remove(stage);
                Ok(Reply::Done)
            }
            Command::Http { to, request, .. } => {
                Ok(Reply::Http(server.handle(to, request, &self.stage)))
            }
            Command::StorageRead { key, .. } => Ok(Reply::Stored(self.storage.get(key).cloned())),
            Command::StorageWrite {
                key,
                value,
                durable,
                ..
            } => {
                self.storage.insert(key.clone(), value.clone());
                if !durable {
                    self.unsynced.insert(key.clone());
                }
                Ok(Reply::Done)
            }
            Command::StorageAppend { key, value, .. } => {
                self.storage.entry(key.clone()).or_default().push_str(value);
                Ok(Reply::Done)
            }
            Command::StorageDelete { key, .. } => {
                self.storage.remove(key);
                Ok(Reply::Done)
            }
            Command::SettingsRead { .. } => Ok(Reply::Stored(Some(if self.settings.is_empty() {
                "{}".into()
            } else {
                self.settings.clone()
            }))),
            Command::SettingsWrite { json, .. } => {
                self.settings = json.clone();
                Ok(Reply::Done)
            }
            Command::VaultId { .. } => Ok(Reply::Stored(Some("local-vault".into()))),
            Command::Log { message, .. } => {
                self.log.push(message.clone());
                Ok(Reply::Done)
            }
            Command::Finished(_) => unreachable!("not executed"),
        }
    }

    /// The engine state's documents: the snapshot and the journal.
    pub(crate) fn state_docs(&self) -> (Option<String>, Option<String>) {
        let get = |k: &str| self.storage.get(k).cloned();
        (
            get(crate::engine::journal::STATE_KEY),
            get(crate::engine::journal::JOURNAL_KEY),
        )
    }

    /// Path → content of every file.
    pub(crate) fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.nodes
            .iter()
            .filter_map(|(k, n)| match n {
                Node::File(b, _) => Some((k.clone(), b.clone())),
                Node::Dir => None,
            })
            .collect()
    }
}
