//! Conversions between WIT types and engine types. No decisions.

use super::bindings::exports::verstak::sync::sync_provider as wit;
use super::bindings::verstak::sync::progress::Phase;
use super::bindings::verstak::sync::types::{ErrorCode, HostError};
use super::bindings::verstak::sync::{files, network};
use crate::engine::command::Expect;
use crate::engine::error::EngineError;
use crate::engine::event::{DirEntry, EntryKind, FileMeta, HttpResponse, IoError};
use crate::engine::guard::{Direction, Guard};
use crate::engine::status::Status;
use crate::engine::summary::{KeptBoth, Summary};

fn host_code(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotPermitted => "not_permitted",
        ErrorCode::OutsideVault => "outside_vault",
        ErrorCode::NotFound => "not_found",
        ErrorCode::AlreadyExists => "already_exists",
        ErrorCode::Changed => "changed",
        ErrorCode::NotEmpty => "not_empty",
        ErrorCode::InvalidInput => "invalid_input",
        ErrorCode::TooLarge => "too_large",
        ErrorCode::ForbiddenOrigin => "forbidden_origin",
        ErrorCode::Network => "network",
        ErrorCode::Io => "io",
    }
}

/// `EngineError::code()` (a host refusal passed on keeps the host's code) as the WIT enum,
/// whose cases are those codes in kebab case.
fn engine_code(code: &str) -> wit::SyncErrorCode {
    use wit::SyncErrorCode as C;
    match code {
        "not_configured" => C::NotConfigured,
        "vault_id_unavailable" => C::VaultIdUnavailable,
        "invalid_interval" => C::InvalidInterval,
        "mass_deletion_pending" => C::MassDeletionPending,
        "remote_vault_locked" => C::RemoteVaultLocked,
        "server_error" => C::ServerError,
        "not_sync_server" => C::NotSyncServer,
        "connection_failed" => C::ConnectionFailed,
        "invalid_url" => C::InvalidUrl,
        "pair_failed" => C::PairFailed,
        "save_token" => C::SaveToken,
        "save_state" => C::SaveState,
        "snapshot_scan" => C::SnapshotScan,
        "blob_upload" => C::BlobUpload,
        "invalid_blob_upload_response" => C::InvalidBlobUploadResponse,
        "push_failed" => C::PushFailed,
        "pull_apply_failed" => C::PullApplyFailed,
        "pull_unordered" => C::PullUnordered,
        "pull_cursor_mismatch" => C::PullCursorMismatch,
        "pull_stalled" => C::PullStalled,
        "download_size_mismatch" => C::DownloadSizeMismatch,
        "download_hash_mismatch" => C::DownloadHashMismatch,
        "invalid_response" => C::InvalidResponse,
        "not_permitted" => C::NotPermitted,
        "outside_vault" => C::OutsideVault,
        "not_found" => C::NotFound,
        "already_exists" => C::AlreadyExists,
        "changed" => C::Changed,
        "not_empty" => C::NotEmpty,
        "invalid_input" => C::InvalidInput,
        "too_large" => C::TooLarge,
        "forbidden_origin" => C::ForbiddenOrigin,
        "network" => C::Network,
        "io" => C::Io,
        // `local_io`, and a code the engine gained without a new API version (wit/README.md).
        _ => C::LocalIo,
    }
}

/// The engine's `status_label` (§3.3) as the WIT enum.
fn status_label(label: &str) -> wit::StatusLabel {
    match label {
        "revoked" => wit::StatusLabel::Revoked,
        "connected" => wit::StatusLabel::Connected,
        "disconnected" => wit::StatusLabel::Disconnected,
        "disabled" => wit::StatusLabel::Disabled,
        // `error`, the only other label the engine gives.
        _ => wit::StatusLabel::Error,
    }
}

/// The engine's progress phase as the WIT enum.
pub(super) fn phase(phase: &str) -> Phase {
    match phase {
        "pull" => Phase::Pull,
        "upload" => Phase::Upload,
        "push" => Phase::Push,
        // `scan`, the only other phase the engine reports.
        _ => Phase::Scan,
    }
}

/// The exported error: the engine's stable code and §3.11 message, or the host's refusal.
pub(super) fn error(e: EngineError) -> wit::SyncError {
    wit::SyncError {
        code: engine_code(e.code()),
        message: e.to_string(),
    }
}

/// A host refusal passed on as it is.
pub(super) fn host(e: HostError) -> EngineError {
    EngineError::Host {
        code: host_code(e.code),
        message: e.message,
    }
}

pub(super) fn io_error(e: HostError) -> IoError {
    match e.code {
        ErrorCode::NotFound => IoError::NotFound,
        ErrorCode::Changed => IoError::Changed,
        ErrorCode::NotEmpty => IoError::NotEmpty,
        ErrorCode::Network => IoError::Network(e.message),
        code => IoError::Host {
            code: host_code(code),
            message: e.message,
        },
    }
}

pub(super) fn expect(e: Expect) -> files::Expect {
    match e {
        Expect::Absent => files::Expect::Absent,
        Expect::Hash(h) => files::Expect::Hash(h.as_str().to_string()),
    }
}

pub(super) fn entry(e: files::DirEntry) -> DirEntry {
    let kind = match e.kind {
        files::EntryKind::File => EntryKind::File,
        files::EntryKind::Dir => EntryKind::Dir,
        files::EntryKind::Other => EntryKind::Other,
    };
    DirEntry {
        name: e.name,
        kind,
        size: e.size,
        mtime: e.mtime_ms,
    }
}

pub(super) fn meta(m: files::FileMeta) -> FileMeta {
    let (size, mtime) = (m.size, m.mtime_ms);
    FileMeta { size, mtime }
}

pub(super) fn response(r: network::Response) -> HttpResponse {
    HttpResponse {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

pub(super) fn direction(d: wit::Direction) -> Direction {
    match d {
        wit::Direction::Incoming => Direction::Incoming,
        wit::Direction::Outgoing => Direction::Outgoing,
    }
}

fn guard(g: Guard) -> wit::Guard {
    let direction = match g.direction {
        Direction::Incoming => wit::Direction::Incoming,
        Direction::Outgoing => wit::Direction::Outgoing,
    };
    wit::Guard {
        direction,
        deletions: g.deletions,
        files: g.files,
    }
}

pub(super) fn status(s: Status) -> wit::SyncStatus {
    wit::SyncStatus {
        configured: s.configured,
        syncing: s.syncing,
        server_url: s.server_url,
        vault_id: s.vault_id,
        device_id: s.device_id,
        device_name: s.device_name,
        connected: s.connected,
        revoked: s.revoked,
        token_stored: s.token_stored,
        unpushed_ops: s.unpushed_ops,
        last_sync_at: s.last_sync_at,
        sync_interval: s.sync_interval,
        last_error: s.last_error,
        last_warning: s.last_warning,
        status_label: status_label(s.status_label),
        progress: s.progress.map(|p| {
            let (phase, done, total) = (phase(p.phase), p.done, p.total);
            wit::Progress { phase, done, total }
        }),
        effective_vault_id: s.effective_vault_id,
        last_checked_at: s.last_checked_at,
        guard: s.guard.map(guard),
        ignore: s.ignore,
    }
}

fn kept(k: KeptBoth) -> wit::KeptBoth {
    let (path, copy_path) = (k.path, k.copy_path);
    wit::KeptBoth { path, copy_path }
}

pub(super) fn summary(s: Summary) -> wit::SyncSummary {
    wit::SyncSummary {
        pushed: s.pushed,
        pulled: s.pulled,
        server_sequence: s.server_sequence,
        conflicts: s
            .conflicts
            .into_iter()
            .map(|c| wit::ServerConflict {
                device_id: c.device_id,
                entity_id: c.entity_id,
                entity_type: c.entity_type,
                op_id: c.op_id,
                op_type: c.op_type,
                server_sequence: c.server_sequence,
            })
            .collect(),
        kept_both: s.kept_both.into_iter().map(kept).collect(),
        merged: s.merged,
        skipped: s.skipped,
        guard: s.guard.map(guard),
    }
}
