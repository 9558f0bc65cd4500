//! The `Restore` action (issue #13): puts one stored version of a path back at the path, then
//! runs the normal sync in the same action, so the server stores it as a new version.
//!
//! * The version is looked up in the path's history (`GET /api/v1/history/versions`): a blob is
//!   downloaded in verified ranged chunks into a staging file like a pulled one
//!   (`materialize.rs`); text comes from `GET /api/v1/history/content`, checked against the
//!   listed SHA-256. A version the listing does not show (older than its page) is fetched from
//!   the content route alone, whose `X-Content-SHA256` names the hash.
//! * What is at the path decides the write ([`plan`]): nothing there is written with
//!   `Expect::Absent`; synced content is replaced with `Expect::Hash` (the server keeps it as a
//!   version); content the server does not have is first copied to a conflict copy beside it
//!   (listed in the conflict list and `keptBoth`), so restoring never loses local bytes. The
//!   safer of "keep a copy" and "refuse": the restore the user asked for happens and nothing is
//!   lost. A folder at the path is refused.
//! * A crash between steps is safe: the conflict copy, once made, is found again by its
//!   content, and a restored file not yet pushed is an ordinary local change for the next sync.

use verstak_sync_proto::history::{self, KIND_BINARY, KIND_TEXT, VersionsResponse};

use super::super::answer::Answer;
use super::super::codes::HostCode;
use super::super::command::{Endpoint, Expect};
use super::super::conflict::{conflict_copy_path, stamp};
use super::super::error::EngineError;
use super::super::event::IoError;
use super::super::hash::ContentHash;
use super::super::history::{Restored, Version};
use super::super::io::Io;
use super::super::path::VaultPath;
use super::super::payload::{Incoming, Source};
use super::super::saved::{LocalEntry, SyncedEntry};
use super::super::summary::{KeptBoth, Summary};
use super::Run;
use super::history::{fetch, vault_path};
use super::materialize::{Fail, io_fail};

/// What is at the path now, read just before deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AtPath {
    Absent,
    Dir,
    File(ContentHash),
}

/// How the restore treats the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Write the version where nothing is (`Expect::Absent`) or over synced content.
    Write(Expect),
    /// The path already holds the version's bytes.
    Nothing,
    /// Copy the unsynced content (this hash) to a conflict copy, then write over it.
    KeepThenWrite(ContentHash),
    /// A folder is at the path.
    RefuseDir,
}

/// The restore rule: never overwrite content the server does not have.
pub(crate) fn plan(at: &AtPath, synced: Option<&SyncedEntry>, want: &ContentHash) -> Plan {
    match at {
        AtPath::Absent => Plan::Write(Expect::Absent),
        AtPath::Dir => Plan::RefuseDir,
        AtPath::File(h) if h == want => Plan::Nothing,
        AtPath::File(h) => match synced {
            Some(SyncedEntry::File { hash, .. }) if hash == h => {
                Plan::Write(Expect::Hash(h.clone()))
            }
            _ => Plan::KeepThenWrite(h.clone()),
        },
    }
}

/// The answer of `Action::Restore` from its sync run: the conflict copy it made first (if any)
/// is the run's first `keptBoth` entry for the path.
pub(super) fn answer(path: String, version: i64, summary: Summary) -> Answer {
    let kept_local = summary
        .kept_both
        .iter()
        .find(|k| k.path == path)
        .map(|k| k.copy_path.clone());
    Answer::Restored(Box::new(Restored {
        path,
        version,
        kept_local,
        summary,
    }))
}

/// Checks that `version` is a restorable version of `path` before anything runs: the path has
/// a history, and the version, when the listing shows it, is not a deletion.
pub(super) async fn precheck(io: &Io, path: &str, version: i64) -> Result<(), EngineError> {
    let path = vault_path(path)?;
    let (_, server) = super::pair::paired(io).await?;
    if listed(io, &server, &path, version).await?.is_none() {
        // Older than the listing's page (rare): the content route says whether it exists.
        content(io, &server, &path, version).await?;
    }
    Ok(())
}

/// `GET /api/v1/history/content` of `version` of `path`: the bytes and the named SHA-256.
async fn content(
    io: &Io,
    server: &Endpoint,
    path: &VaultPath,
    version: i64,
) -> Result<(Vec<u8>, Option<String>), EngineError> {
    let request = super::history::get(history::content_path(path.as_str(), version));
    match super::http::send(io, server, &request).await {
        Ok(resp) => {
            let named = resp
                .header(history::CONTENT_SHA256_HEADER)
                .map(str::to_string);
            Ok((resp.body, named))
        }
        Err(EngineError::Server { code, status: 404 }) if code == "not_found" => {
            Err(EngineError::NotFound(format!(
                "version {version} of {path} is not a stored version"
            )))
        }
        Err(e) => Err(e),
    }
}

/// The listing's entry for `version` of `path` (`None`: not in the listing's page).
async fn listed(
    io: &Io,
    server: &Endpoint,
    path: &VaultPath,
    version: i64,
) -> Result<Option<Version>, EngineError> {
    let missing = || format!("{path} has no stored version on the server");
    let list = fetch(
        io,
        server,
        history::versions_path(path.as_str(), 0),
        missing,
    )
    .await?;
    let list: VersionsResponse =
        serde_json::from_slice(&list).map_err(|_| EngineError::InvalidResponse)?;
    let listed = list.versions.into_iter().find(|v| v.version == version);
    if listed.as_ref().is_some_and(|v| v.deleted) {
        return Err(EngineError::NotFound(format!(
            "version {version} of {path} is a deletion; restore the version before it"
        )));
    }
    Ok(listed)
}

/// The content of the version to restore.
struct Found {
    hash: ContentHash,
    source: Source,
}

impl Run {
    /// Puts `version` of `path` on disk (the first step of `Action::Restore`); the sync run that
    /// follows pushes it. A conflict copy made of unsynced content is in `self.sum.kept_both`.
    pub(super) async fn restore_version(
        &mut self,
        path: &str,
        version: i64,
    ) -> Result<(), EngineError> {
        let path = vault_path(path)?;
        if self.rules.ignores(&path, false) {
            return Err(EngineError::InvalidPath(format!(
                "{path} is excluded from sync (ignore list), so it cannot be restored"
            )));
        }
        let found = self.find_version(&path, version).await?;
        for attempt in 0..3 {
            match self.put_back(&path, &found).await {
                Ok(()) => return self.save().await,
                // Someone changed the file between the read and the write: read it again.
                Err(Fail::Changed) if attempt < 2 => continue,
                Err(Fail::Changed) => break,
                Err(Fail::Err(e)) => return Err(e),
            }
        }
        Err(EngineError::Host {
            code: HostCode::Changed,
            message: format!("{path} kept changing while it was being restored; try again"),
        })
    }

    /// The version's hash and where its bytes come from.
    async fn find_version(&mut self, path: &VaultPath, version: i64) -> Result<Found, EngineError> {
        let listed = listed(&self.io, &self.server, path, version).await?;
        if let Some(v) = &listed
            && v.kind == KIND_BINARY
        {
            let hash = ContentHash::parse(&v.sha256).map_err(|_| EngineError::InvalidResponse)?;
            let size = v.size.ok_or(EngineError::InvalidResponse)?;
            let source = Source::Blob {
                hash: hash.clone(),
                size,
            };
            return Ok(Found { hash, source });
        }
        let (body, header) = content(&self.io, &self.server, path, version).await?;
        let named = match &listed {
            Some(v) if v.kind == KIND_TEXT => Some(v.sha256.clone()),
            _ => header,
        };
        let hash = ContentHash::of(&body);
        if named.is_some_and(|n| n != hash.as_str()) {
            return Err(EngineError::DownloadHashMismatch);
        }
        Ok(Found {
            hash,
            source: Source::Inline(body),
        })
    }

    /// One try of the write: read the path, keep unsynced content, write the version.
    async fn put_back(&mut self, path: &VaultPath, found: &Found) -> Result<(), Fail> {
        let at = match self.st.local.get(path) {
            Some(LocalEntry::Dir) => AtPath::Dir,
            _ => match self.io.hash_file(path).await {
                Ok(d) => AtPath::File(d.hash),
                Err(IoError::NotFound) => AtPath::Absent,
                Err(e) => return Err(io_fail(e)),
            },
        };
        let expect = match plan(&at, self.st.synced.get(path), &found.hash) {
            Plan::Nothing => return Ok(()),
            Plan::RefuseDir => {
                return Err(Fail::Err(EngineError::Host {
                    code: HostCode::AlreadyExists,
                    message: format!("{path} is a folder; a file version cannot be restored there"),
                }));
            }
            Plan::Write(expect) => expect,
            Plan::KeepThenWrite(local) => {
                let copy = self.keep_local(path, &local).await?;
                self.sum.kept_both.push(KeptBoth {
                    path: path.to_string(),
                    copy_path: copy.to_string(),
                });
                Expect::Hash(local)
            }
        };
        let inc = Incoming {
            path: None,
            hash: Some(found.hash.clone()),
            source: found.source.clone(),
            from_path: None,
            to_path: None,
            previous_path: None,
        };
        self.materialize(path, &inc, &found.hash, expect).await
    }

    /// Copies the unsynced content `local` of `path` to a conflict copy (or finds the copy a
    /// crashed try made) and lists it as a conflict.
    async fn keep_local(
        &mut self,
        path: &VaultPath,
        local: &ContentHash,
    ) -> Result<VaultPath, Fail> {
        let name = path.name();
        let stem = name
            .rfind('.')
            .filter(|i| *i > 0)
            .map_or(name, |i| &name[..i]);
        let prefix = format!("{stem} (conflict ");
        let earlier = path
            .siblings_starting_with(&self.st.local, &prefix)
            .find(|(_, e)| e.hash() == Some(local));
        if let Some((p, _)) = earlier {
            return Ok(p.clone());
        }
        // A copy a crashed try made is in the conflict list (written before the copy) but maybe
        // not in the state: reuse it when it holds these bytes.
        let listed: Vec<String> = (self.conflicts.0.iter())
            .filter(|c| c.path == path.as_str() && c.local_is_copy)
            .map(|c| c.copy_path.clone())
            .collect();
        for copy in listed {
            let Ok(copy) = VaultPath::parse(&copy) else {
                continue;
            };
            if let Ok(d) = self.io.hash_file(&copy).await
                && d.hash == *local
            {
                let meta = super::super::event::FileMeta {
                    size: d.size,
                    mtime: d.mtime,
                };
                self.record_local_file(&copy, local, meta);
                return Ok(copy);
            }
        }
        let st = stamp(self.io.now(), self.cfg.utc_offset_min);
        let device = self.cfg.device_name.clone();
        let copy = conflict_copy_path(path, &device, &st, |c| {
            self.st.local.contains_key(c) || self.st.synced.contains_key(c)
        });
        self.note_conflict(path, &copy, true, "").await?;
        let meta = self
            .io
            .copy_file(path, &copy, local)
            .await
            .map_err(io_fail)?;
        self.record_local_file(&copy, local, meta);
        Ok(copy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> ContentHash {
        ContentHash::of(s.as_bytes())
    }

    fn synced(s: &str) -> SyncedEntry {
        SyncedEntry::File {
            hash: h(s),
            text: true,
            size: s.len() as u64,
        }
    }

    #[test]
    fn the_plan_never_overwrites_content_the_server_lacks() {
        let want = h("v1");
        let cases: Vec<(AtPath, Option<SyncedEntry>, Plan)> = vec![
            // A deleted file: nothing there, nothing synced.
            (AtPath::Absent, None, Plan::Write(Expect::Absent)),
            // Removed locally but still synced: written where nothing is.
            (
                AtPath::Absent,
                Some(synced("v3")),
                Plan::Write(Expect::Absent),
            ),
            // The synced current version: the server has it, so it is replaced.
            (
                AtPath::File(h("v3")),
                Some(synced("v3")),
                Plan::Write(Expect::Hash(h("v3"))),
            ),
            // Edited and not pushed yet: kept first.
            (
                AtPath::File(h("mine")),
                Some(synced("v3")),
                Plan::KeepThenWrite(h("mine")),
            ),
            // A new local file the server never saw: kept first.
            (
                AtPath::File(h("mine")),
                None,
                Plan::KeepThenWrite(h("mine")),
            ),
            // Synced as a folder, now a file: the file is unsynced.
            (
                AtPath::File(h("mine")),
                Some(SyncedEntry::Dir),
                Plan::KeepThenWrite(h("mine")),
            ),
            // Already the version's bytes, synced or not: nothing to do.
            (AtPath::File(h("v1")), Some(synced("v3")), Plan::Nothing),
            (AtPath::File(h("v1")), None, Plan::Nothing),
            (AtPath::Dir, Some(SyncedEntry::Dir), Plan::RefuseDir),
            (AtPath::Dir, None, Plan::RefuseDir),
        ];
        for (at, s, expected) in cases {
            assert_eq!(
                plan(&at, s.as_ref(), &want),
                expected,
                "{at:?} synced {s:?}"
            );
        }
    }
}
