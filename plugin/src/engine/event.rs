//! `Event`: what the glue feeds into `Engine::handle`, and `Reply`/`IoError`, the answers to
//! commands.

use super::codes::HostCode;
use super::guard::Direction;
use super::hash::ContentHash;
use super::ids::RequestId;

/// A user-level request. One runs at a time; others wait in order. Actions other than sync
/// runs finish with an empty `Summary`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `now()`: one full sync run (§5.4).
    Sync,
    /// `sync-changed(paths)`: a sync run whose scan visits only these paths (files or folders
    /// that may have been created, changed or removed; `run/scan_hint.rs`), falling back to a
    /// full scan when the hint is invalid or too large.
    SyncChanged(Vec<String>),
    /// `confirmDeletions(direction)` followed by a run.
    ConfirmDeletions(Direction),
    /// `restoreDeletions(direction)` followed by a run.
    RestoreDeletions(Direction),
    /// `configure(serverURL, username, password, vaultId)` (plugin-contract §3.4). The pair
    /// request names the device `Config::device_name`.
    Configure { login: Login, vault_id: String },
    /// `testConnection(serverURL, username, password)` (§3.6).
    TestConnection(Login),
    /// `disconnect()` (§3.5).
    Disconnect,
    /// `resetKey()` (§3.8).
    ResetKey,
    /// `setInterval(minutes)` (§3.7): stores the auto-sync interval in the settings.
    SetInterval(i32),
    /// `setIgnore(patterns)` (§3.13): stores the user ignore list in the settings.
    SetIgnore(Vec<String>),
    /// `dismiss-conflicts(ids)`: removes these conflicts from the conflict list
    /// (`conflict_list.rs`); the files stay as they are, unknown ids are ignored.
    DismissConflicts(Vec<String>),
    /// `status()` (§3.2): the snapshot from the settings, the pairing document, the device
    /// token and the engine's state; local reads only (§5.4.7). Answers `Answer::Status`.
    Status,
    /// `history(path, limit)`: the server's stored versions of `path`, newest first
    /// (`run/history.rs`). Answers `Answer::History`.
    History { path: String, limit: u32 },
    /// `deleted(limit)`: the restorable deleted files. Answers `Answer::Deleted`.
    Deleted { limit: u32 },
    /// `restore(path, version)`: puts that version's content back at `path` (keeping unsynced
    /// local content as a conflict copy), then runs a sync (`run/restore_version.rs`).
    /// Answers `Answer::Restored`.
    Restore { path: String, version: i64 },
}

/// What the user typed to reach an account: the server URL, the username and the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub server_url: String,
    pub username: String,
    pub password: Password,
}

impl Login {
    pub fn new(server_url: String, username: String, password: String) -> Login {
        let password = Password(password);
        Login {
            server_url,
            username,
            password,
        }
    }
}

/// A password on its way to the one request that needs it. It is never stored, and `Debug`
/// does not show it (§3.10).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Start(Action),
    /// The answer to the command with this id. Answers for ids the engine no longer waits for
    /// are dropped.
    Reply {
        id: RequestId,
        result: Result<Reply, IoError>,
    },
    /// `poll_timeout()` has passed. Spurious timeouts are harmless.
    Timeout,
}

/// One directory entry of `Reply::Listed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: EntryKind,
    pub size: u64,
    /// Modification time in milliseconds (only compared for equality).
    pub mtime: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// Symlinks, devices, …: never synced.
    Other,
}

/// Size and mtime of a file the glue just wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    pub size: u64,
    pub mtime: i64,
}

/// What `Command::HashFile` found: the size and SHA-256 of the bytes read, and the mtime the
/// file had before they were read (a change during the read shows at the next scan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub size: u64,
    pub mtime: i64,
    pub hash: ContentHash,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Done,
    Listed(Vec<DirEntry>),
    Bytes(Vec<u8>),
    Digest(Digest),
    Written(FileMeta),
    Staged { size: u64, hash: ContentHash },
    Http(HttpResponse),
    Stored(Option<String>),
}

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IoError {
    #[error("not found")]
    NotFound,
    /// The destination did not match `expect`.
    #[error("file changed")]
    Changed,
    #[error("folder not empty")]
    NotEmpty,
    /// No HTTP response arrived (connect, timeout, reset).
    #[error("{0}")]
    Network(String),
    #[error("{0}")]
    Other(String),
    /// The host refused or failed the call; `code` is its stable error code (`not_permitted`,
    /// `io`, …), passed on unchanged where the spec wants the host's answer.
    #[error("{message}")]
    Host { code: HostCode, message: String },
}

impl IoError {
    /// A failed host call: the codes the engine reacts to become their own variants.
    pub fn host(code: HostCode, message: String) -> IoError {
        match code {
            HostCode::NotFound => IoError::NotFound,
            HostCode::Changed => IoError::Changed,
            HostCode::NotEmpty => IoError::NotEmpty,
            HostCode::Network => IoError::Network(message),
            code => IoError::Host { code, message },
        }
    }
}
