//! Conversions between WIT types and engine types. No decisions: enums map case to case with
//! exhaustive `match`es (`same_cases!`) and records field to field (`same_fields!`), so a case
//! or a field added on one side only fails to compile.

use super::bindings::exports::verstak::sync::sync_provider as wit;
use super::bindings::verstak::sync::types::{self, HostError};
use super::bindings::verstak::sync::{files, network, progress};
use crate::engine::codes::{ErrorCode, HostCode};
use crate::engine::command::{Expect, HttpBody, Method};
use crate::engine::conflict_list::Conflict as ListedConflict;
use crate::engine::error::EngineError;
use crate::engine::event::{DirEntry, EntryKind, FileMeta, HttpResponse, IoError};
use crate::engine::guard::{Direction, Guard};
use crate::engine::history::{DeletedFile, Restored, Version};
use crate::engine::replaced_list::Replaced;
use crate::engine::status::{Status, StatusLabel};
use crate::engine::summary::{EngineStatus, KeptBoth, Phase, Progress, Summary};
use verstak_sync_proto::Conflict;

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

/// `$to { f: $from.f, …, g: conv, … }`: the fields of the same name, then the converted ones.
/// A struct literal must name every field, so a field the engine lacks fails to compile.
macro_rules! same_fields {
    ($from:ident => $($to:ident)::+ { $($f:ident),* ; $($g:ident: $conv:expr),* $(,)? }) => {
        $($to)::+ { $($f: $from.$f,)* $($g: $conv,)* }
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
        HttpBody::Bytes(bytes) => network::Body::Bytes(bytes),
        HttpBody::StagedFile { stage, filename } => {
            network::Body::StagedFile(network::StagedFile { stage, filename })
        }
    }
}

pub(super) fn entry(e: files::DirEntry) -> DirEntry {
    same_fields!(e => DirEntry { name, size; kind: kind(e.kind), mtime: e.mtime_ms })
}

pub(super) fn meta(m: files::FileMeta) -> FileMeta {
    same_fields!(m => FileMeta { size; mtime: m.mtime_ms })
}

pub(super) fn response(r: network::Response) -> HttpResponse {
    same_fields!(r => HttpResponse { status, headers, body; })
}

/// The host's progress line from the engine's status, while a phase is counted.
pub(super) fn progress(s: &EngineStatus) -> Option<progress::Progress> {
    let (p, bytes) = (s.progress.clone()?, s.bytes);
    Some(same_fields!(p => progress::Progress { done, total; phase: phase(p.phase), bytes: bytes }))
}

fn guard(g: Guard) -> wit::Guard {
    same_fields!(g => wit::Guard { deletions, files; direction: wit_direction(g.direction) })
}

fn conflict(c: ListedConflict) -> wit::Conflict {
    same_fields!(c => wit::Conflict {
        id, path, copy_path, local_is_copy, remote_device_id, at;
    })
}

pub(super) fn status(s: Status) -> wit::SyncStatus {
    let progress =
        |p: Progress| same_fields!(p => wit::Progress { done, total; phase: phase(p.phase) });
    same_fields!(s => wit::SyncStatus {
        configured, syncing, server_url, vault_id, device_id, device_name, connected, revoked,
        token_stored, unpushed_ops, last_sync_at, sync_interval, last_error, last_warning,
        effective_vault_id, last_checked_at, ignore;
        status_label: label(s.status_label),
        progress: s.progress.map(progress),
        guard: s.guard.map(guard),
        conflicts: s.conflicts.into_iter().map(conflict).collect(),
        replaced: s.replaced.into_iter().map(replaced).collect(),
    })
}

fn replaced(r: Replaced) -> wit::ReplacedFile {
    same_fields!(r => wit::ReplacedFile { path, sha256, size, version, by_device, at_ms; })
}

/// A version as the server listed it (the wire's `op_id` is not part of the WIT record).
pub(super) fn version(v: Version) -> wit::FileVersion {
    same_fields!(v => wit::FileVersion {
        version, time, device, device_id, size, sha256, kind, deleted, renamed_from, renamed_to;
    })
}

pub(super) fn deleted(d: DeletedFile) -> wit::DeletedFile {
    same_fields!(d => wit::DeletedFile { path; deletion: version(d.deletion), last: version(d.last) })
}

pub(super) fn restored(r: Restored) -> wit::Restored {
    same_fields!(r => wit::Restored { path, version, kept_local; summary: summary(r.summary) })
}

pub(super) fn summary(s: Summary) -> wit::SyncSummary {
    let conflict = |c: Conflict| {
        same_fields!(c => wit::ServerConflict {
            device_id, entity_id, entity_type, op_id, op_type, server_sequence;
        })
    };
    let kept = |k: KeptBoth| same_fields!(k => wit::KeptBoth { path, copy_path; });
    same_fields!(s => wit::SyncSummary { pushed, pulled, server_sequence, merged, skipped;
        conflicts: s.conflicts.into_iter().map(conflict).collect(),
        kept_both: s.kept_both.into_iter().map(kept).collect(),
        guard: s.guard.map(guard),
    })
}
