//! Test helpers: a `HostState` over a temp vault with chosen grants, and error assertions.

use crate::bindings::{ErrorCode, HostError};
use crate::grants::Grants;
use crate::limits::MemoryCap;
use crate::state::HostState;
use crate::vault::VaultDirs;

pub const ALL: &[&str] = &[
    "files.read",
    "files.write",
    "files.delete",
    "network.remote",
    "storage.namespace",
];

/// A temp vault and a state granting exactly `perms`.
pub fn state_with(perms: &[&str]) -> (tempfile::TempDir, HostState) {
    let dir = tempfile::tempdir().expect("temp dir");
    let grants = Grants::new(
        "verstak.sync",
        &perms.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    let vault = VaultDirs::open(dir.path(), "verstak.sync").expect("vault");
    (dir, HostState::new(grants, vault, MemoryCap::new(1 << 20)))
}

/// A state granting every enforced permission.
pub fn full() -> (tempfile::TempDir, HostState) {
    state_with(ALL)
}

/// Asserts the error code and returns the message.
#[track_caller]
pub fn code<T: std::fmt::Debug>(r: Result<T, HostError>, want: ErrorCode) -> String {
    match r {
        Err(e) if std::mem::discriminant(&e.code) == std::mem::discriminant(&want) => e.message,
        other => panic!("expected {want:?}, got {other:?}"),
    }
}

/// Asserts the exact denial of `perm` (plugin-contract §1.4).
#[track_caller]
pub fn denied<T: std::fmt::Debug>(r: Result<T, HostError>, perm: &str) {
    let msg = code(r, ErrorCode::NotPermitted);
    assert_eq!(
        msg,
        format!("plugin \"verstak.sync\" lacks required permission \"{perm}\"")
    );
}

/// The permissions of [`ALL`] except `perm`.
pub fn all_but(perm: &str) -> Vec<&'static str> {
    ALL.iter().copied().filter(|p| *p != perm).collect()
}
