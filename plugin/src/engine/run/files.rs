//! Typed wrappers over `Io::call`: one per command, checking the reply's shape.

use super::super::command::{Command, Endpoint, Expect, HttpRequest};
use super::super::event::{Digest, DirEntry, FileMeta, HttpResponse, IoError, Reply};
use super::super::hash::ContentHash;
use super::super::io::Io;
use super::super::path::VaultPath;

fn unexpected(r: Reply) -> IoError {
    IoError::Other(
        format!("unexpected reply {r:?}")
            .chars()
            .take(120)
            .collect(),
    )
}

impl Io {
    pub(crate) async fn list_dir(&self, dir: Option<VaultPath>) -> Result<Vec<DirEntry>, IoError> {
        match self.call(|id| Command::ListDir { id, dir }).await? {
            Reply::Listed(v) => Ok(v),
            r => Err(unexpected(r)),
        }
    }

    pub(crate) async fn read(
        &self,
        path: &VaultPath,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, IoError> {
        match self
            .call(|id| Command::ReadFile {
                id,
                path: path.clone(),
                offset,
                len,
            })
            .await?
        {
            Reply::Bytes(b) => Ok(b),
            r => Err(unexpected(r)),
        }
    }

    /// Reads a whole (small) file in chunks.
    pub(crate) async fn read_all(&self, path: &VaultPath, chunk: u64) -> Result<Vec<u8>, IoError> {
        let mut out = Vec::new();
        loop {
            let part = self.read(path, out.len() as u64, chunk).await?;
            let short = (part.len() as u64) < chunk;
            out.extend_from_slice(&part);
            if short {
                return Ok(out);
            }
        }
    }

    /// Hashes a file where it lies (the glue streams it natively; no bytes come to the engine).
    pub(crate) async fn hash_file(&self, path: &VaultPath) -> Result<Digest, IoError> {
        match self
            .call(|id| Command::HashFile {
                id,
                path: path.clone(),
            })
            .await?
        {
            Reply::Digest(d) => Ok(d),
            r => Err(unexpected(r)),
        }
    }

    pub(crate) async fn write_file(
        &self,
        path: &VaultPath,
        bytes: Vec<u8>,
        expect: Expect,
    ) -> Result<FileMeta, IoError> {
        match self
            .call(|id| Command::WriteFile {
                id,
                path: path.clone(),
                bytes,
                expect,
            })
            .await?
        {
            Reply::Written(m) => Ok(m),
            r => Err(unexpected(r)),
        }
    }

    pub(crate) async fn copy_file(
        &self,
        from: &VaultPath,
        to: &VaultPath,
        from_hash: &ContentHash,
    ) -> Result<FileMeta, IoError> {
        let cmd = |id| Command::CopyFile {
            id,
            from: from.clone(),
            to: to.clone(),
            from_hash: from_hash.clone(),
        };
        match self.call(cmd).await? {
            Reply::Written(m) => Ok(m),
            r => Err(unexpected(r)),
        }
    }

    pub(crate) async fn done(
        &self,
        make: impl FnOnce(super::super::ids::RequestId) -> Command,
    ) -> Result<(), IoError> {
        match self.call(make).await? {
            Reply::Done => Ok(()),
            r => Err(unexpected(r)),
        }
    }

    pub(crate) async fn stage_copy(
        &self,
        from: &VaultPath,
        stage: &str,
    ) -> Result<(u64, ContentHash), IoError> {
        match self
            .call(|id| Command::StageCopy {
                id,
                from: from.clone(),
                stage: stage.to_string(),
            })
            .await?
        {
            Reply::Staged { size, hash } => Ok((size, hash)),
            r => Err(unexpected(r)),
        }
    }

    pub(crate) async fn commit_stage(
        &self,
        stage: &str,
        to: &VaultPath,
        expect: Expect,
    ) -> Result<FileMeta, IoError> {
        let cmd = |id| Command::CommitStage {
            id,
            stage: stage.to_string(),
            to: to.clone(),
            expect,
        };
        match self.call(cmd).await? {
            Reply::Written(m) => Ok(m),
            r => Err(unexpected(r)),
        }
    }

    pub(crate) async fn http(
        &self,
        to: Endpoint,
        request: HttpRequest,
    ) -> Result<HttpResponse, IoError> {
        match self.call(|id| Command::Http { id, to, request }).await? {
            Reply::Http(r) => Ok(r),
            r => Err(unexpected(r)),
        }
    }

    pub(crate) async fn storage_read(&self, key: String) -> Result<Option<String>, IoError> {
        match self.call(|id| Command::StorageRead { id, key }).await? {
            Reply::Stored(v) => Ok(v),
            r => Err(unexpected(r)),
        }
    }
}
