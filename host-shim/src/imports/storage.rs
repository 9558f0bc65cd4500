//! `verstak:sync/storage`: the engine's private documents (needs `storage.namespace`).
//!
//! One file per key at `<vault>/.verstak/plugin-data/<id>/engine/<key>.json`, mode 0600, written
//! with [`write_atomic`] (`set`) or [`write_cache`] (`set-cache`). The bridge's
//! `api.storage.data` documents live beside them in `documents/`; the two never share a folder.

use super::{check_key, err, io_error};
use crate::bindings::verstak::sync::storage::Host;
use crate::bindings::{ErrorCode, HostError};
use crate::grants::Permission;
use crate::state::HostState;
use crate::vault::{append_durable, write_atomic, write_cache};
use std::path::PathBuf;

/// The largest document (storage.wit).
pub const MAX_DOCUMENT_BYTES: usize = 64 << 20;

impl HostState {
    fn document(&self, key: &str) -> Result<PathBuf, HostError> {
        check_key(key)?;
        Ok(self.vault.engine_dir().join(format!("{key}.json")))
    }

    /// A durable write first places the queued new files and makes the vault's new files durable
    /// (see `imports::write_behind` and `HostState::sync_deferred_dirs`): the state it holds may
    /// record them.
    fn write_document(
        &mut self,
        key: String,
        value: String,
        durable: bool,
    ) -> Result<(), HostError> {
        self.grants.check(Permission::StorageNamespace)?;
        let path = self.document(&key)?;
        if value.len() > MAX_DOCUMENT_BYTES {
            return Err(err(
                ErrorCode::TooLarge,
                format!("a document is limited to {MAX_DOCUMENT_BYTES} bytes"),
            ));
        }
        let write = if durable {
            self.settle_before_saving()?;
            self.sync_deferred_dirs()?;
            write_atomic
        } else {
            write_cache
        };
        write(&path, value.as_bytes(), 0o600)
            .map_err(|e| io_error(&format!("write document {key:?}"), e))
    }
}

impl Host for HostState {
    fn get(&mut self, key: String) -> Result<Option<String>, HostError> {
        self.grants.check(Permission::StorageNamespace)?;
        let path = self.document(&key)?;
        match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| err(ErrorCode::Io, format!("document {key:?} is not UTF-8"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&format!("read document {key:?}"), e)),
        }
    }

    fn set(&mut self, key: String, value: String) -> Result<(), HostError> {
        self.write_document(key, value, true)
    }

    fn set_cache(&mut self, key: String, value: String) -> Result<(), HostError> {
        self.write_document(key, value, false)
    }

    fn append(&mut self, key: String, value: String) -> Result<(), HostError> {
        self.grants.check(Permission::StorageNamespace)?;
        let path = self.document(&key)?;
        self.settle_before_saving()?;
        self.sync_deferred_dirs()?;
        let appended = append_durable(&path, value.as_bytes(), 0o600, MAX_DOCUMENT_BYTES as u64)
            .map_err(|e| io_error(&format!("append to document {key:?}"), e))?;
        if !appended {
            return Err(err(
                ErrorCode::TooLarge,
                format!("a document is limited to {MAX_DOCUMENT_BYTES} bytes"),
            ));
        }
        Ok(())
    }

    fn delete(&mut self, key: String) -> Result<(), HostError> {
        self.grants.check(Permission::StorageNamespace)?;
        let path = self.document(&key)?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(io_error(&format!("remove document {key:?}"), e))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::testing::{all_but, code, denied, full};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn every_function_needs_storage_namespace() {
        let (_v, mut s) = crate::imports::testing::state_with(&all_but("storage.namespace"));
        denied(s.get("k".into()), "storage.namespace");
        denied(s.set("k".into(), "v".into()), "storage.namespace");
        denied(s.set_cache("k".into(), "v".into()), "storage.namespace");
        denied(s.append("k".into(), "v".into()), "storage.namespace");
        denied(s.delete("k".into()), "storage.namespace");
    }

    #[test]
    fn documents_round_trip_privately_and_apart_from_the_bridge() {
        let (vault, mut s) = full();
        assert_eq!(s.get("cursor".into()).unwrap(), None);
        s.set("cursor".into(), "{\"seq\":1}".into()).unwrap();
        s.set("cursor".into(), "{\"seq\":2}".into()).unwrap();
        assert_eq!(
            s.get("cursor".into()).unwrap().as_deref(),
            Some("{\"seq\":2}")
        );
        let file = vault
            .path()
            .join(".verstak/plugin-data/verstak.sync/engine/cursor.json");
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::read_dir(file.parent().unwrap()).unwrap().count(),
            1,
            "no temp file is left"
        );
        s.delete("cursor".into()).unwrap();
        s.delete("cursor".into()).unwrap();
        assert_eq!(s.get("cursor".into()).unwrap(), None);
    }

    #[test]
    fn cache_documents_replace_whole_and_read_back_like_the_others() {
        let (vault, mut s) = full();
        s.set_cache("base-1".into(), "first".into()).unwrap();
        s.set_cache("base-1".into(), "second".into()).unwrap();
        assert_eq!(s.get("base-1".into()).unwrap().as_deref(), Some("second"));
        let dir = vault
            .path()
            .join(".verstak/plugin-data/verstak.sync/engine");
        let file = dir.join("base-1.json");
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temp file is left"
        );
        s.delete("base-1".into()).unwrap();
        assert_eq!(s.get("base-1".into()).unwrap(), None);
    }

    #[test]
    fn append_grows_a_document_durably_until_the_size_limit() {
        let (vault, mut s) = full();
        s.append("journal".into(), "a\n".into()).unwrap();
        s.append("journal".into(), "b\n".into()).unwrap();
        assert_eq!(s.get("journal".into()).unwrap().as_deref(), Some("a\nb\n"));
        let file = vault
            .path()
            .join(".verstak/plugin-data/verstak.sync/engine/journal.json");
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let big = "x".repeat(MAX_DOCUMENT_BYTES - 3);
        code(s.append("journal".into(), big), ErrorCode::TooLarge);
        assert_eq!(
            s.get("journal".into()).unwrap().as_deref(),
            Some("a\nb\n"),
            "a refused append writes nothing"
        );
        s.set("journal".into(), String::new()).unwrap();
        s.append("journal".into(), "c".into()).unwrap();
        assert_eq!(s.get("journal".into()).unwrap().as_deref(), Some("c"));
    }

    #[test]
    fn keys_and_sizes_are_checked_before_any_io() {
        let (vault, mut s) = full();
        for bad in ["", "..", "../settings", "a/b", "k k"] {
            code(s.get(bad.into()), ErrorCode::InvalidInput);
            code(s.set(bad.into(), "v".into()), ErrorCode::InvalidInput);
            code(s.set_cache(bad.into(), "v".into()), ErrorCode::InvalidInput);
            code(s.append(bad.into(), "v".into()), ErrorCode::InvalidInput);
            code(s.delete(bad.into()), ErrorCode::InvalidInput);
        }
        for set in [Host::set, Host::set_cache] {
            code(
                set(&mut s, "big".into(), "x".repeat(MAX_DOCUMENT_BYTES + 1)),
                ErrorCode::TooLarge,
            );
        }
        assert!(!vault.path().join(".verstak").exists());
    }
}
