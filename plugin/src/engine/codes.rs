//! Closed sets of values with stable strings, and the two sets of error codes.
//!
//! * `closed_enum!` declares such a set once: the enum, `as_str()` (the exact string JSON, logs
//!   and the host show), `ALL` (every value, so tests can check each against its WIT enum) and
//!   `Serialize` as that string. `status::StatusLabel` and `summary::Phase` use it too.
//! * [`ErrorCode`] is what `EngineError::code()` returns; [`HostCode`] is why a host call failed.
//!   A host refusal passed on keeps the host's code: every `HostCode` is also an `ErrorCode`.
//!
//! Each set mirrors a WIT enum case for case (`wit/`), so the glue converts with exhaustive
//! `match`es and a new value fails to compile there; `tests/wit_enums.rs` checks the strings.

/// Declares a closed enum whose values have stable snake_case strings.
macro_rules! closed_enum {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$case_meta:meta])* $case:ident = $text:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$case_meta])* $case,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &[$name] = &[$($name::$case),*];

            /// The stable string (JSON, logs, the host's output).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$case => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use closed_enum;

closed_enum! {
    /// Why a host call failed (WIT `types.error-code`). Stable once shipped.
    pub enum HostCode {
        NotPermitted = "not_permitted",
        OutsideVault = "outside_vault",
        NotFound = "not_found",
        AlreadyExists = "already_exists",
        Changed = "changed",
        NotEmpty = "not_empty",
        InvalidInput = "invalid_input",
        TooLarge = "too_large",
        ForbiddenOrigin = "forbidden_origin",
        Network = "network",
        Io = "io",
    }
}

closed_enum! {
    /// The stable code of an [`super::error::EngineError`] (WIT `sync-error-code`): the engine's
    /// own codes, then the host refusals it passes on. Stable once shipped.
    pub enum ErrorCode {
        NotConfigured = "not_configured",
        VaultIdUnavailable = "vault_id_unavailable",
        InvalidInterval = "invalid_interval",
        MassDeletionPending = "mass_deletion_pending",
        RemoteVaultLocked = "remote_vault_locked",
        ServerError = "server_error",
        NotSyncServer = "not_sync_server",
        ConnectionFailed = "connection_failed",
        InvalidUrl = "invalid_url",
        PairFailed = "pair_failed",
        SaveToken = "save_token",
        SaveState = "save_state",
        SnapshotScan = "snapshot_scan",
        BlobUpload = "blob_upload",
        InvalidBlobUploadResponse = "invalid_blob_upload_response",
        PushFailed = "push_failed",
        PullApplyFailed = "pull_apply_failed",
        PullUnordered = "pull_unordered",
        PullCursorMismatch = "pull_cursor_mismatch",
        PullStalled = "pull_stalled",
        DownloadSizeMismatch = "download_size_mismatch",
        DownloadHashMismatch = "download_hash_mismatch",
        InvalidResponse = "invalid_response",
        LocalIo = "local_io",
        NotPermitted = "not_permitted",
        OutsideVault = "outside_vault",
        NotFound = "not_found",
        AlreadyExists = "already_exists",
        Changed = "changed",
        NotEmpty = "not_empty",
        InvalidInput = "invalid_input",
        TooLarge = "too_large",
        ForbiddenOrigin = "forbidden_origin",
        Network = "network",
        Io = "io",
    }
}

impl From<HostCode> for ErrorCode {
    fn from(code: HostCode) -> ErrorCode {
        match code {
            HostCode::NotPermitted => ErrorCode::NotPermitted,
            HostCode::OutsideVault => ErrorCode::OutsideVault,
            HostCode::NotFound => ErrorCode::NotFound,
            HostCode::AlreadyExists => ErrorCode::AlreadyExists,
            HostCode::Changed => ErrorCode::Changed,
            HostCode::NotEmpty => ErrorCode::NotEmpty,
            HostCode::InvalidInput => ErrorCode::InvalidInput,
            HostCode::TooLarge => ErrorCode::TooLarge,
            HostCode::ForbiddenOrigin => ErrorCode::ForbiddenOrigin,
            HostCode::Network => ErrorCode::Network,
            HostCode::Io => ErrorCode::Io,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_code_keeps_its_string_as_an_error_code() {
        for &code in HostCode::ALL {
            assert_eq!(ErrorCode::from(code).as_str(), code.as_str());
        }
        assert_eq!(
            serde_json::to_string(&ErrorCode::LocalIo).unwrap(),
            r#""local_io""#
        );
        assert_eq!(ErrorCode::NotConfigured.to_string(), "not_configured");
    }
}
