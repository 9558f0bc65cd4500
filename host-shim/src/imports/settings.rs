//! `verstak:sync/settings`: the plugin's settings document (needs `storage.namespace`).

use super::io_error;
use crate::bindings::verstak::sync::settings::Host;
use crate::bindings::{ErrorCode, HostError};
use crate::grants::Permission;
use crate::state::HostState;
use crate::vault::write_atomic;

/// A settings document is a handful of keys; anything bigger is a bug or an attack.
const MAX_SETTINGS_BYTES: usize = 1 << 20;

fn invalid(message: &str) -> HostError {
    HostError {
        code: ErrorCode::InvalidInput,
        message: message.to_string(),
    }
}

fn require_object(text: &str) -> Result<(), HostError> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => Ok(()),
        _ => Err(invalid("settings must be a JSON object")),
    }
}

impl Host for HostState {
    fn read(&mut self) -> Result<String, HostError> {
        self.grants.check(Permission::StorageNamespace)?;
        let path = self.vault.settings_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok("{}".into()),
            Err(e) => return Err(io_error("read settings", e)),
        };
        require_object(&text)?;
        Ok(text)
    }

    fn write(&mut self, json: String) -> Result<(), HostError> {
        self.grants.check(Permission::StorageNamespace)?;
        if json.len() > MAX_SETTINGS_BYTES {
            return Err(HostError {
                code: ErrorCode::TooLarge,
                message: "settings exceed 1 MiB".into(),
            });
        }
        require_object(&json)?;
        write_atomic(&self.vault.settings_file(), json.as_bytes(), 0o600)
            .map_err(|e| io_error("write settings", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::testing::{all_but, code, denied, full, state_with};

    #[test]
    fn both_functions_need_storage_namespace() {
        let (_v, mut s) = state_with(&all_but("storage.namespace"));
        denied(s.read(), "storage.namespace");
        denied(s.write("{}".into()), "storage.namespace");
    }

    #[test]
    fn settings_round_trip_as_json_objects() {
        let (_v, mut s) = full();
        assert_eq!(s.read().unwrap(), "{}");
        s.write("{\"serverUrl\":\"http://127.0.0.1:1\"}".into())
            .unwrap();
        assert_eq!(s.read().unwrap(), "{\"serverUrl\":\"http://127.0.0.1:1\"}");
        code(s.write("[1]".into()), ErrorCode::InvalidInput);
        code(
            s.write(format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_SETTINGS_BYTES))),
            ErrorCode::TooLarge,
        );
    }
}
