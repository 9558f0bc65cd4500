//! Conversions between WIT types and engine types. No decisions: enums map case to case with
//! exhaustive `match`es (`same_cases!`), so a case added on one side only fails to compile.

use super::bindings::exports::verstak::sync::sync_provider as wit;
use super::bindings::verstak::sync::types::{self, HostError};
use super::bindings::verstak::sync::{files, network, progress};
use crate::engine::codes::{ErrorCode, HostCode};
use crate::engine::command::{Expect, HttpBody, Method};
use crate::engine::error::EngineError;
use crate::engine::event::{DirEntry, EntryKind, FileMeta, HttpResponse, IoError};
use crate::engine::guard::{Direction, Guard};
use crate::engine::status::{Status, StatusLabel};
use crate::engine::summary::{EngineStatus, KeptBoth, Phase, Summary};

/// `fn $name(x: $from) -> $to`: each case becomes the case of the same name.
macro_rules! same_cases {
    ($name:ident: $from:ty => $to:ty { $($case:ident),* $(,)? }) => {
        pub(super) fn $name(x: $from) -> $to {
            type F = $from;
            type T = $to;
            match x {
                $(F::$case => T::$case,)*
            }
        }
    };
}

same_cases!(host_code: types::ErrorCode => HostCode {
    NotPermitted, OutsideVault, NotFound, AlreadyExists, Changed, NotEmpty, InvalidInput,
    TooLarge, ForbiddenOrigin, Network, Io,
});
same_cases!(error_code: ErrorCode => wit::SyncErrorCode {
    NotConfigured, VaultIdUnavailable, InvalidInterval, MassDeletionPending, RemoteVaultLocked,
    ServerError, NotSyncServer, ConnectionFailed, InvalidUrl, PairFailed, SaveToken, SaveState,
    SnapshotScan, BlobUpload, InvalidBlobUploadResponse, PushFailed, PullApplyFailed,
    PullUnordered, PullCursorMismatch, PullStalled, DownloadSizeMismatch, DownloadHashMismatch,
    InvalidResponse, LocalIo, NotPermitted, OutsideVault, NotFound, AlreadyExists, Changed,
    NotEmpty, InvalidInput, TooLarge, ForbiddenOrigin, Network, Io,
});
same_cases!(label: StatusLabel => wit::StatusLabel {
    Revoked, Error, Connected, Disconnected, Disabled,
});
same_cases!(phase: Phase => progress::Phase { Scan, Pull, Upload, Push });
same_cases!(direction: wit::Direction => Direction { Incoming, Outgoing });
same_cases!(wit_direction: Direction => wit::Direction { Incoming, Outgoing });
same_cases!(kind: files::EntryKind => EntryKind { File, Dir, Other });
same_cases!(method: Method => network::Method { Get, Post });

/// A host refusal passed on as it is.
impl From<HostError> for EngineError {
    fn from(e: HostError) -> EngineError {
        let (code, message) = (host_code(e.code), e.message);
        EngineError::Host { code, message }
    }
}

impl From<HostError> for IoError {
    fn from(e: HostError) -> IoError {
        IoError::host(host_code(e.code), e.message)
    }
}

/// The exported error: the engine's stable code and §3.11 message, or the host's refusal.
pub(super) fn error(e: EngineError) -> wit::SyncError {
    let (code, message) = (error_code(e.code()), e.to_string());
    wit::SyncError { code, message }
}

pub(super) fn expect(e: Expect) -> files::Expect {
    match e {
        Expect::Absent => files::Expect::Absent,
        Expect::Hash(h) => files::Expect::Hash(h.as_str().to_string()),
    }
}

pub(super) fn body(b: HttpBody) -> network::Body {
    match b {
        HttpBody::Empty => network::Body::Empty,
        HttpBody::Json(text) => network::Body::Bytes(text.into_bytes()),
        HttpBody::StagedFile { stage, filename } => {
            network::Body::StagedFile(network::StagedFile { stage, filename })
        }
    }
}

pub(super) fn entry(e: files::DirEntry) -> DirEntry {
    DirEntry {
        name: e.name,
        kind: kind(e.kind),
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

/// The host's progress line from the engine's status, while a phase is counted.
pub(super) fn progress(s: &EngineStatus) -> Option<progress::Progress> {
    let p = s.progress.as_ref()?;
    let (phase, done, total, bytes) = (phase(p.phase), p.done, p.total, s.bytes);
    Some(progress::Progress {
        phase,
        done,
        total,
        bytes,
    })
}

fn guard(g: Guard) -> wit::Guard {
    let (direction, deletions, files) = (wit_direction(g.direction), g.deletions, g.files);
    wit::Guard {
        direction,
        deletions,
        files,
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
        status_label: label(s.status_label),
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
