//! `EngineError`: why an action failed. `to_string()` is the exact `<message>` of
//! plugin-contract §3.11 where the spec fixes it; `code()` is a stable [`ErrorCode`] (its
//! `as_str()` is the snake_case code).

pub use super::codes::{ErrorCode, HostCode};

/// A failed action (`now`, `configure`, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("sync not configured")]
    NotConfigured,
    #[error("vault ID is unavailable")]
    VaultIdUnavailable,
    /// `set-interval` outside 0..=1440 minutes; the message keeps the spec's `invalid interval`
    /// and names the allowed range.
    #[error(
        "invalid interval: {0} minutes is not between 0 and {max} (0 turns auto-sync off)",
        max = super::settings::MAX_INTERVAL_MINUTES
    )]
    InvalidInterval(i32),
    #[error("mass deletion awaiting confirmation")]
    MassDeletionPending,
    #[error(
        "cannot change remote vault with {0} unpushed local operation(s); synchronize or resolve them first"
    )]
    RemoteVaultLocked(usize),
    #[error("sync-server:{code} (HTTP {status})")]
    Server { code: String, status: u16 },
    /// A 401 `unauthorized` answering the typed username and password (pair, auth test): the
    /// spec's `sync-server:unauthorized (HTTP 401)`, saying what it means there.
    #[error("sync-server:unauthorized (HTTP 401): the username or password is wrong")]
    WrongCredentials,
    /// A 429 answering a pairing step, not retried (each try counts against the login limit):
    /// the spec's `sync-server:rate_limited (HTTP 429)` with the server's `Retry-After` seconds.
    #[error("sync-server:rate_limited (HTTP 429): too many attempts; {}", wait_hint(*.0))]
    RateLimited(Option<u64>),
    #[error("not a Verstak Sync server (HTTP {0})")]
    NotSyncServer(u16),
    #[error("not a Verstak Sync server (unexpected response)")]
    NotSyncServerUnexpected,
    #[error("connection failed: {0}")]
    ConnectionFailed(String),
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("pair: {0}")]
    Pair(Box<EngineError>),
    #[error("save token: {0}")]
    SaveToken(String),
    #[error("save state: {0}")]
    SaveState(String),
    #[error("snapshot scan: {0}")]
    Scan(String),
    #[error("blob upload: {0}")]
    BlobUpload(Box<EngineError>),
    #[error("invalid blob upload response")]
    InvalidBlobUploadResponse,
    #[error("push: {0}")]
    Push(Box<EngineError>),
    #[error("pull apply failed at sequence {seq} for {entity_type} {path} ({op_id}): {inner}")]
    PullApply {
        seq: i64,
        entity_type: String,
        path: String,
        op_id: String,
        inner: String,
    },
    #[error("pull response is not strictly ordered at sequence {0}")]
    PullUnordered(i64),
    #[error("pull page cursor mismatch")]
    PullCursorMismatch,
    #[error("pull did not advance")]
    PullStalled,
    /// One pull went far past the sequence the server reported when it started (a hostile or
    /// broken server announcing more forever). Reuses the code `pull_stalled` (no new WIT case).
    #[error(
        "pull did not end: the server sent ops up to sequence {at}, far past the {head} it reported when this pull started at {start}"
    )]
    PullUnbounded { start: i64, head: i64, at: i64 },
    #[error("download blob: size mismatch")]
    DownloadSizeMismatch,
    #[error("download blob: SHA-256 mismatch")]
    DownloadHashMismatch,
    #[error("invalid server response")]
    InvalidResponse,
    /// A local file or storage operation failed.
    #[error("{0}")]
    LocalIo(String),
    /// What a history action asked for does not exist (a path with no stored version, a
    /// version that is not a live version of the path).
    #[error("{0}")]
    NotFound(String),
    /// A path the user typed is not a vault path.
    #[error("{0}")]
    InvalidPath(String),
    /// The host refused or failed a call whose answer the caller gets as it is (a permission
    /// refusal, an unreadable settings file): the host's code and message.
    #[error("{message}")]
    Host { code: HostCode, message: String },
}

impl EngineError {
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::NotConfigured => ErrorCode::NotConfigured,
            EngineError::VaultIdUnavailable => ErrorCode::VaultIdUnavailable,
            EngineError::InvalidInterval(_) => ErrorCode::InvalidInterval,
            EngineError::MassDeletionPending => ErrorCode::MassDeletionPending,
            EngineError::RemoteVaultLocked(_) => ErrorCode::RemoteVaultLocked,
            EngineError::Server { .. }
            | EngineError::WrongCredentials
            | EngineError::RateLimited(_) => ErrorCode::ServerError,
            EngineError::NotSyncServer(_) | EngineError::NotSyncServerUnexpected => {
                ErrorCode::NotSyncServer
            }
            EngineError::ConnectionFailed(_) => ErrorCode::ConnectionFailed,
            EngineError::InvalidUrl(_) => ErrorCode::InvalidUrl,
            EngineError::Pair(_) => ErrorCode::PairFailed,
            EngineError::SaveToken(_) => ErrorCode::SaveToken,
            EngineError::SaveState(_) => ErrorCode::SaveState,
            EngineError::Scan(_) => ErrorCode::SnapshotScan,
            EngineError::BlobUpload(_) => ErrorCode::BlobUpload,
            EngineError::InvalidBlobUploadResponse => ErrorCode::InvalidBlobUploadResponse,
            EngineError::Push(_) => ErrorCode::PushFailed,
            EngineError::PullApply { .. } => ErrorCode::PullApplyFailed,
            EngineError::PullUnordered(_) => ErrorCode::PullUnordered,
            EngineError::PullCursorMismatch => ErrorCode::PullCursorMismatch,
            EngineError::PullStalled | EngineError::PullUnbounded { .. } => ErrorCode::PullStalled,
            EngineError::DownloadSizeMismatch => ErrorCode::DownloadSizeMismatch,
            EngineError::DownloadHashMismatch => ErrorCode::DownloadHashMismatch,
            EngineError::InvalidResponse => ErrorCode::InvalidResponse,
            EngineError::LocalIo(_) => ErrorCode::LocalIo,
            EngineError::NotFound(_) => ErrorCode::NotFound,
            EngineError::InvalidPath(_) => ErrorCode::InvalidInput,
            EngineError::Host { code, .. } => ErrorCode::from(*code),
        }
    }

    /// The server's error code when this is (or wraps) a server error.
    pub(crate) fn server_code(&self) -> Option<&str> {
        match self {
            EngineError::Server { code, .. } => Some(code),
            EngineError::WrongCredentials => Some(verstak_sync_proto::codes::UNAUTHORIZED),
            EngineError::RateLimited(_) => Some(verstak_sync_proto::codes::RATE_LIMITED),
            EngineError::Pair(e) | EngineError::Push(e) | EngineError::BlobUpload(e) => {
                e.server_code()
            }
            _ => None,
        }
    }
}

/// How long to wait before trying again, from the server's `Retry-After`.
fn wait_hint(seconds: Option<u64>) -> String {
    match seconds {
        Some(s) => format!("wait {s} s before trying again"),
        None => "wait a little before trying again".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_spec() {
        let server = || EngineError::Server {
            code: "too_many_operations".into(),
            status: 413,
        };
        let mut cases: Vec<(EngineError, &str, &str)> = vec![
            (
                EngineError::NotConfigured,
                "not_configured",
                "sync not configured",
            ),
            (
                EngineError::VaultIdUnavailable,
                "vault_id_unavailable",
                "vault ID is unavailable",
            ),
            (
                EngineError::InvalidInterval(5000),
                "invalid_interval",
                "invalid interval: 5000 minutes is not between 0 and 1440 (0 turns auto-sync off)",
            ),
            (
                EngineError::WrongCredentials,
                "server_error",
                "sync-server:unauthorized (HTTP 401): the username or password is wrong",
            ),
            (
                EngineError::Pair(Box::new(EngineError::WrongCredentials)),
                "pair_failed",
                "pair: sync-server:unauthorized (HTTP 401): the username or password is wrong",
            ),
            (
                EngineError::RateLimited(Some(42)),
                "server_error",
                "sync-server:rate_limited (HTTP 429): too many attempts; wait 42 s before trying again",
            ),
            (
                EngineError::RateLimited(None),
                "server_error",
                "sync-server:rate_limited (HTTP 429): too many attempts; wait a little before trying again",
            ),
            (
                EngineError::MassDeletionPending,
                "mass_deletion_pending",
                "mass deletion awaiting confirmation",
            ),
            (
                EngineError::RemoteVaultLocked(3),
                "remote_vault_locked",
                "cannot change remote vault with 3 unpushed local operation(s); synchronize or resolve them first",
            ),
            (
                server(),
                "server_error",
                "sync-server:too_many_operations (HTTP 413)",
            ),
            (
                EngineError::NotSyncServer(503),
                "not_sync_server",
                "not a Verstak Sync server (HTTP 503)",
            ),
            (
                EngineError::NotSyncServerUnexpected,
                "not_sync_server",
                "not a Verstak Sync server (unexpected response)",
            ),
            (
                EngineError::ConnectionFailed("refused".into()),
                "connection_failed",
                "connection failed: refused",
            ),
            (
                EngineError::InvalidUrl("x".into()),
                "invalid_url",
                "invalid URL: x",
            ),
            (
                EngineError::Pair(Box::new(EngineError::Server {
                    code: "unauthorized".into(),
                    status: 401,
                })),
                "pair_failed",
                "pair: sync-server:unauthorized (HTTP 401)",
            ),
            (
                EngineError::SaveToken("disk full".into()),
                "save_token",
                "save token: disk full",
            ),
            (
                EngineError::Scan("io".into()),
                "snapshot_scan",
                "snapshot scan: io",
            ),
            (
                EngineError::BlobUpload(Box::new(EngineError::InvalidBlobUploadResponse)),
                "blob_upload",
                "blob upload: invalid blob upload response",
            ),
            (
                EngineError::Push(Box::new(server())),
                "push_failed",
                "push: sync-server:too_many_operations (HTTP 413)",
            ),
            (
                EngineError::PullApply {
                    seq: 7,
                    entity_type: "file".into(),
                    path: "a.md".into(),
                    op_id: "op".into(),
                    inner: "io".into(),
                },
                "pull_apply_failed",
                "pull apply failed at sequence 7 for file a.md (op): io",
            ),
            (
                EngineError::PullUnordered(9),
                "pull_unordered",
                "pull response is not strictly ordered at sequence 9",
            ),
            (
                EngineError::PullCursorMismatch,
                "pull_cursor_mismatch",
                "pull page cursor mismatch",
            ),
            (
                EngineError::PullUnbounded {
                    start: 0,
                    head: 4,
                    at: 1009,
                },
                "pull_stalled",
                "pull did not end: the server sent ops up to sequence 1009, far past the 4 it reported when this pull started at 0",
            ),
            (
                EngineError::DownloadSizeMismatch,
                "download_size_mismatch",
                "download blob: size mismatch",
            ),
            (
                EngineError::DownloadHashMismatch,
                "download_hash_mismatch",
                "download blob: SHA-256 mismatch",
            ),
        ];
        let host = EngineError::Host {
            code: HostCode::NotPermitted,
            message: "plugin \"verstak.sync\" lacks required permission \"network.remote\"".into(),
        };
        cases.push((
            host,
            "not_permitted",
            "plugin \"verstak.sync\" lacks required permission \"network.remote\"",
        ));
        for (err, code, msg) in cases {
            assert_eq!(err.code().as_str(), code, "{err:?}");
            assert_eq!(err.to_string(), msg, "{err:?}");
        }
        assert_eq!(
            EngineError::Push(Box::new(server())).server_code(),
            Some("too_many_operations")
        );
    }
}
