//! The one `bindgen!` of the host: Rust types and traits for the `verstak:sync` world in `wit/`,
//! plus the two things that sit right beside them:
//!
//! * the strings the host prints and serves for the WIT enums (`as_str`, kept identical to the
//!   strings of API 0.1.0, which carried them as text), and
//! * [`check_api_version`]: the component's API version, read from its import and export names
//!   before linking, so a component built for another version is refused with a clear error.

use std::fmt;
use wasmtime::Engine;
use wasmtime::component::Component;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
});

pub use exports::verstak::sync::sync_provider::{
    StatusLabel, SyncError, SyncErrorCode, SyncStatus,
};
pub use verstak::sync::network::Method;
pub use verstak::sync::progress::Phase;
pub use verstak::sync::types::{ErrorCode, HostError};

/// The `verstak:sync` API version this host links (`package` in `wit/world.wit`).
pub const API_VERSION: &str = "0.4.0";

/// The WIT package whose names carry the version.
const PACKAGE: &str = "verstak:sync/";

/// Gives each enum the upper/lower-case string the host shows for it, `Display` for it, and
/// comparison with a string (so `status.status_label == "connected"` reads like the DTO).
macro_rules! strings {
    ($ty:ty { $($case:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(<$ty>::$case => $text),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

strings!(Method { Get => "GET", Head => "HEAD", Post => "POST" });

strings!(Phase { Scan => "scan", Pull => "pull", Upload => "upload", Push => "push" });

strings!(StatusLabel {
    Revoked => "revoked",
    Error => "error",
    Connected => "connected",
    Disconnected => "disconnected",
    Disabled => "disabled",
});

strings!(SyncErrorCode {
    NotConfigured => "not_configured",
    VaultIdUnavailable => "vault_id_unavailable",
    InvalidInterval => "invalid_interval",
    MassDeletionPending => "mass_deletion_pending",
    RemoteVaultLocked => "remote_vault_locked",
    ServerError => "server_error",
    NotSyncServer => "not_sync_server",
    ConnectionFailed => "connection_failed",
    InvalidUrl => "invalid_url",
    PairFailed => "pair_failed",
    SaveToken => "save_token",
    SaveState => "save_state",
    SnapshotScan => "snapshot_scan",
    BlobUpload => "blob_upload",
    InvalidBlobUploadResponse => "invalid_blob_upload_response",
    PushFailed => "push_failed",
    PullApplyFailed => "pull_apply_failed",
    PullUnordered => "pull_unordered",
    PullCursorMismatch => "pull_cursor_mismatch",
    PullStalled => "pull_stalled",
    DownloadSizeMismatch => "download_size_mismatch",
    DownloadHashMismatch => "download_hash_mismatch",
    InvalidResponse => "invalid_response",
    LocalIo => "local_io",
    NotPermitted => "not_permitted",
    OutsideVault => "outside_vault",
    NotFound => "not_found",
    AlreadyExists => "already_exists",
    Changed => "changed",
    NotEmpty => "not_empty",
    InvalidInput => "invalid_input",
    TooLarge => "too_large",
    ForbiddenOrigin => "forbidden_origin",
    Network => "network",
    Io => "io",
});

/// A component built for an API version this host does not link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", Self::CODE)]
pub struct UnsupportedApiVersion {
    /// The versions the component's `verstak:sync` names carry; empty when it has none.
    pub found: Vec<String>,
    pub message: String,
}

impl UnsupportedApiVersion {
    /// The stable code, first in the message as in every `error: <code>: <message>`.
    pub const CODE: &'static str = "unsupported_api_version";
}

/// Checks that every `verstak:sync` import and export of `component` carries [`API_VERSION`].
pub fn check_api_version(
    engine: &Engine,
    component: &Component,
    what: &str,
) -> Result<(), UnsupportedApiVersion> {
    let ty = component.component_type();
    let names = ty
        .imports(engine)
        .map(|(name, _)| name)
        .chain(ty.exports(engine).map(|(name, _)| name));
    api_version_of(names, what)
}

/// The pure part of [`check_api_version`], over the component's import and export names.
fn api_version_of<'a>(
    names: impl Iterator<Item = &'a str>,
    what: &str,
) -> Result<(), UnsupportedApiVersion> {
    let mut found: Vec<String> = names
        .filter(|n| n.starts_with(PACKAGE))
        .map(|n| n.rsplit_once('@').map_or("", |(_, v)| v).to_string())
        .collect();
    found.sort();
    found.dedup();
    if found == [API_VERSION] {
        return Ok(());
    }
    let built_for = match found.as_slice() {
        [] => "is not a verstak:sync plugin (it imports and exports nothing of verstak:sync)"
            .to_string(),
        [one] if one.is_empty() => "uses an unversioned verstak:sync API".to_string(),
        versions => format!("was built for verstak:sync@{}", versions.join(", @")),
    };
    Err(UnsupportedApiVersion {
        message: format!(
            "the component {what} {built_for}; this host supports verstak:sync@{API_VERSION} only \
             (build the plugin and the host from the same release)"
        ),
        found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_read_as_the_strings_of_api_0_1_0() {
        assert_eq!(Method::Head.as_str(), "HEAD");
        assert_eq!(Phase::Upload.to_string(), "upload");
        assert!(StatusLabel::Disconnected == "disconnected");
        assert_eq!(SyncErrorCode::MassDeletionPending, "mass_deletion_pending");
        assert_eq!(
            SyncErrorCode::InvalidBlobUploadResponse.as_str(),
            "invalid_blob_upload_response"
        );
    }

    #[test]
    fn only_components_of_this_api_version_are_accepted() {
        let ours = [
            "wasi:io/streams@0.2.6",
            "verstak:sync/files@0.4.0",
            "verstak:sync/sync-provider@0.4.0",
        ];
        assert_eq!(api_version_of(ours.into_iter(), "x.wasm"), Ok(()));

        let old = [
            "verstak:sync/files@0.1.0",
            "verstak:sync/sync-provider@0.1.0",
        ];
        let e = api_version_of(old.into_iter(), "x.wasm").unwrap_err();
        assert_eq!(e.found, ["0.1.0"]);
        assert_eq!(
            e.to_string(),
            "unsupported_api_version: the component x.wasm was built for verstak:sync@0.1.0; \
             this host supports verstak:sync@0.4.0 only (build the plugin and the host from the \
             same release)"
        );

        let mixed = [
            "verstak:sync/files@0.3.0",
            "verstak:sync/sync-provider@0.4.0",
        ];
        let e = api_version_of(mixed.into_iter(), "x.wasm").unwrap_err();
        assert_eq!(e.found, ["0.3.0", "0.4.0"]);

        let foreign = ["wasi:cli/run@0.2.6"];
        let e = api_version_of(foreign.into_iter(), "x.wasm").unwrap_err();
        assert!(e.message.contains("is not a verstak:sync plugin"), "{e}");

        let unversioned = ["verstak:sync/files"];
        let e = api_version_of(unversioned.into_iter(), "x.wasm").unwrap_err();
        assert!(e.message.contains("unversioned"), "{e}");
    }
}
