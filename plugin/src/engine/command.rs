//! `Command`: what the engine asks the glue to do. Every command that expects an answer carries
//! a `RequestId`; the glue answers with `Event::Reply { id, result }` (see `event.rs`).
//!
//! File commands take vault paths (§4.2). Writes are atomic (temp file + rename) and create
//! missing parent folders. `expect` is the hash the engine last saw at the destination: the
//! glue re-checks it at the last moment and answers `IoError::Changed` instead of overwriting
//! or trashing anything else (never lose data, §5.4.8). Staging files (`stage`) live outside
//! the vault (for example under `.verstak/plugin-data/verstak.sync/staging/`).
//!
//! HTTP goes to an [`Endpoint`] the engine names (the paired server with the device token
//! during sync runs; the URL the user typed while pairing), so the glue only joins the URL and
//! adds the header it is told to.

use super::answer::Finish;
use super::codes::closed_enum;
use super::hash::ContentHash;
use super::ids::RequestId;
use super::path::VaultPath;

/// What the destination must look like right before a write, move or trash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Nothing exists at the path.
    Absent,
    /// A regular file whose SHA-256 is this.
    Hash(ContentHash),
}

closed_enum! {
    /// The HTTP methods the engine uses (WIT `network.method`, which also has `head`).
    pub enum Method {
        Get = "GET",
        Post = "POST",
    }
}

/// The request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpBody {
    Empty,
    /// `Content-Type: application/json`.
    Json(String),
    /// Sent as is; the request's headers name its type.
    Bytes(Vec<u8>),
    /// `multipart/form-data` with one part, form name `file`, filename `filename`, whose bytes
    /// are streamed from the staging file `stage` (§4.8).
    StagedFile {
        stage: String,
        filename: String,
    },
}

/// Where a request goes: a server base URL (checked, no trailing `/`) and the device token to
/// send as `Authorization: Bearer <token>`, if any. The token never leaves the engine otherwise:
/// `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Endpoint {
    pub base: String,
    pub token: Option<String>,
}

impl Endpoint {
    /// The full URL of a request `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The `Authorization: Bearer <token>` header, when there is a token.
    pub fn auth(&self) -> Option<(String, String)> {
        let token = self.token.as_ref()?;
        Some(("Authorization".into(), format!("Bearer {token}")))
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

/// One HTTP request. `path` starts with `/`; the glue prefixes the endpoint's base URL and adds
/// its token. Retries are the engine's job, not the glue's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: HttpBody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// List one folder (`None` = the vault root). Answer: `Reply::Listed`.
    ListDir {
        id: RequestId,
        dir: Option<VaultPath>,
    },
    /// Read up to `len` bytes at `offset`. Answer: `Reply::Bytes` (short at end of file).
    ReadFile {
        id: RequestId,
        path: VaultPath,
        offset: u64,
        len: u64,
    },
    /// Hash a regular file where it lies, streaming it natively: the engine never hashes file
    /// content it does not otherwise need. Answer: `Reply::Digest`.
    HashFile { id: RequestId, path: VaultPath },
    /// Atomically replace `path` with `bytes`. Answer: `Reply::Written`.
    WriteFile {
        id: RequestId,
        path: VaultPath,
        bytes: Vec<u8>,
        expect: Expect,
    },
    /// Atomically copy `from` (which must hash to `from_hash`) to the absent `to`. Answer: `Reply::Written` (of `to`).
    CopyFile {
        id: RequestId,
        from: VaultPath,
        to: VaultPath,
        from_hash: ContentHash,
    },
    /// Move a file or folder to the absent `to`. Answer: `Reply::Done`.
    Rename {
        id: RequestId,
        from: VaultPath,
        to: VaultPath,
    },
    /// Move `path` into the internal trash (restorable). Answer: `Reply::Done`; a missing file is `Done`.
    Trash {
        id: RequestId,
        path: VaultPath,
        expect: Expect,
    },
    /// Create a folder and its parents; an existing folder is fine. Answer: `Reply::Done`.
    Mkdir { id: RequestId, path: VaultPath },
    /// Remove an empty folder. Answer: `Reply::Done`, or `IoError::NotEmpty`.
    RemoveDir { id: RequestId, path: VaultPath },
    /// Write `bytes` at `offset` of staging file `stage` (offset 0 truncates). Answer: `Reply::Done`.
    StageWrite {
        id: RequestId,
        stage: String,
        offset: u64,
        bytes: Vec<u8>,
    },
    /// Copy a vault file into staging file `stage`, hashing while copying. Answer: `Reply::Staged`.
    StageCopy {
        id: RequestId,
        from: VaultPath,
        stage: String,
    },
    /// Atomically move staging file `stage` to `to`. Answer: `Reply::Written`.
    CommitStage {
        id: RequestId,
        stage: String,
        to: VaultPath,
        expect: Expect,
    },
    /// Remove a staging file; a missing one is fine. Answer: `Reply::Done`.
    DeleteStage { id: RequestId, stage: String },
    /// Answer: `Reply::Http` for any status the server sent; `IoError::Network` when none arrived.
    Http {
        id: RequestId,
        to: Endpoint,
        request: HttpRequest,
    },
    /// Read a storage document. Answer: `Reply::Stored(None)` when missing.
    StorageRead { id: RequestId, key: String },
    /// Atomically replace a storage document. Answer: `Reply::Done`. `durable: false` skips the
    /// fsyncs: after a crash the document may be missing or torn, so it is only for documents the
    /// engine verifies on read and can do without (the base store).
    StorageWrite {
        id: RequestId,
        key: String,
        value: String,
        durable: bool,
    },
    /// Append `value` to a storage document (creating it) durably, without rewriting it; a
    /// crash may leave a prefix of `value` at the end (`storage.append`). Answer: `Reply::Done`.
    StorageAppend {
        id: RequestId,
        key: String,
        value: String,
    },
    /// Remove a storage document; a missing one is fine. Answer: `Reply::Done`.
    StorageDelete { id: RequestId, key: String },
    /// Read the settings document (plugin-contract §2.2). Answer: `Reply::Stored(Some(json))`.
    SettingsRead { id: RequestId },
    /// Replace the settings document. Answer: `Reply::Done`.
    SettingsWrite { id: RequestId, json: String },
    /// The local vault's id (environment import). Answer: `Reply::Stored(Some(id))`.
    VaultId { id: RequestId },
    /// Write one line to the host log at info level. Answer: `Reply::Done`.
    Log { id: RequestId, message: String },
    /// The action finished with its answer (`answer.rs`). Not answered.
    Finished(Finish),
}

impl Command {
    /// The request id, for every command except `Finished`.
    pub fn id(&self) -> Option<RequestId> {
        use Command::*;
        match self {
            ListDir { id, .. }
            | ReadFile { id, .. }
            | HashFile { id, .. }
            | WriteFile { id, .. }
            | CopyFile { id, .. }
            | Rename { id, .. }
            | Trash { id, .. }
            | Mkdir { id, .. }
            | RemoveDir { id, .. }
            | StageWrite { id, .. }
            | StageCopy { id, .. }
            | CommitStage { id, .. }
            | DeleteStage { id, .. }
            | Http { id, .. }
            | StorageRead { id, .. }
            | StorageWrite { id, .. }
            | StorageAppend { id, .. }
            | StorageDelete { id, .. }
            | SettingsRead { id }
            | SettingsWrite { id, .. }
            | VaultId { id }
            | Log { id, .. } => Some(*id),
            Finished(_) => None,
        }
    }

    /// A short name for transcripts and logs.
    pub fn kind(&self) -> &'static str {
        use Command::*;
        match self {
            ListDir { .. } => "ListDir",
            ReadFile { .. } => "ReadFile",
            HashFile { .. } => "HashFile",
            WriteFile { .. } => "WriteFile",
            CopyFile { .. } => "CopyFile",
            Rename { .. } => "Rename",
            Trash { .. } => "Trash",
            Mkdir { .. } => "Mkdir",
            RemoveDir { .. } => "RemoveDir",
            StageWrite { .. } => "StageWrite",
            StageCopy { .. } => "StageCopy",
            CommitStage { .. } => "CommitStage",
            DeleteStage { .. } => "DeleteStage",
            Http { .. } => "Http",
            StorageRead { .. } => "StorageRead",
            StorageWrite { .. } => "StorageWrite",
            StorageAppend { .. } => "StorageAppend",
            StorageDelete { .. } => "StorageDelete",
            SettingsRead { .. } => "SettingsRead",
            SettingsWrite { .. } => "SettingsWrite",
            VaultId { .. } => "VaultId",
            Log { .. } => "Log",
            Finished(_) => "Finished",
        }
    }
}
