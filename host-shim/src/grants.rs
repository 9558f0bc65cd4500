//! What the manifest grants: each WIT import needs one permission (plugin-contract §1.2, §1.4).
//!
//! Pure: built from the manifest's `permissions` list, checked by every import before any IO.

use crate::bindings::{ErrorCode, HostError};

/// The permissions this host enforces for the engine component's imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// `files.read`: list, stat and read vault files.
    FilesRead,
    /// `files.write`: write, rename and create folders.
    FilesWrite,
    /// `files.delete`: delete (move to trash).
    FilesDelete,
    /// `network.remote`: HTTP to the configured sync server.
    NetworkRemote,
    /// `storage.namespace`: the plugin's settings and private storage.
    StorageNamespace,
}

impl Permission {
    pub fn name(self) -> &'static str {
        match self {
            Permission::FilesRead => "files.read",
            Permission::FilesWrite => "files.write",
            Permission::FilesDelete => "files.delete",
            Permission::NetworkRemote => "network.remote",
            Permission::StorageNamespace => "storage.namespace",
        }
    }

    const ALL: [Permission; 5] = [
        Permission::FilesRead,
        Permission::FilesWrite,
        Permission::FilesDelete,
        Permission::NetworkRemote,
        Permission::StorageNamespace,
    ];
}

/// The granted subset of [`Permission`] for one plugin.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    plugin_id: String,
    granted: Vec<Permission>,
}

impl Grants {
    /// Grants exactly the enforced permissions that `permissions` lists; other names (UI,
    /// events, sync participation) are the desktop's business and ignored here.
    pub fn new(plugin_id: &str, permissions: &[String]) -> Grants {
        let granted = Permission::ALL
            .into_iter()
            .filter(|p| permissions.iter().any(|name| name == p.name()))
            .collect();
        Grants {
            plugin_id: plugin_id.to_string(),
            granted,
        }
    }

    /// `Ok` when granted; otherwise the desktop's denial message (§1.4) as a `not-permitted` error.
    pub fn check(&self, p: Permission) -> Result<(), HostError> {
        if self.granted.contains(&p) {
            return Ok(());
        }
        Err(HostError {
            code: ErrorCode::NotPermitted,
            message: format!(
                "plugin \"{}\" lacks required permission \"{}\"",
                self.plugin_id,
                p.name()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(names: &[&str]) -> Grants {
        Grants::new(
            "verstak.sync",
            &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn listed_permissions_are_granted() {
        let g = grants(&["files.read", "storage.namespace", "ui.register"]);
        assert!(g.check(Permission::FilesRead).is_ok());
        assert!(g.check(Permission::StorageNamespace).is_ok());
    }

    #[test]
    fn missing_permissions_are_denied_with_the_desktop_message() {
        let g = grants(&["files.read"]);
        for p in [
            Permission::FilesWrite,
            Permission::FilesDelete,
            Permission::NetworkRemote,
            Permission::StorageNamespace,
        ] {
            let err = g.check(p).unwrap_err();
            assert!(matches!(err.code, ErrorCode::NotPermitted));
            assert_eq!(
                err.message,
                format!(
                    "plugin \"verstak.sync\" lacks required permission \"{}\"",
                    p.name()
                )
            );
        }
    }

    #[test]
    fn similar_names_do_not_grant() {
        let g = grants(&["network.local", "vault.write", "storage.migrations"]);
        assert!(g.check(Permission::NetworkRemote).is_err());
        assert!(g.check(Permission::FilesWrite).is_err());
        assert!(g.check(Permission::StorageNamespace).is_err());
    }
}
