//! `verstak:sync/environment`: machine and vault facts WASI does not give (no permission).
//!
//! * `device-name`: [`HostState::device_name`] when set and not blank, else none.
//! * `host-name`: `gethostname(2)`, else `unknown`.
//! * `vault-name`: the last component of the vault's (canonical) path, else empty.
//! * `utc-offset-minutes`: `localtime_r(3)`'s `tm_gmtoff`. The `time` crate's
//!   `UtcOffset::local_offset_at` refuses to answer in a multi-threaded process (it fears a
//!   concurrent `setenv`), and this host always runs an epoch thread; glibc's `localtime_r` is
//!   thread-safe and honours `TZ` and `/etc/localtime`. The host never calls `setenv`. Falls back
//!   to UTC (0) when the time is out of range or the call fails.
//! * `vault-id`: the `id` of `<vault>/.verstak/vault.json`, else an id generated once and kept
//!   in `<vault>/.verstak/plugin-data/<id>/vault-id`.

use super::atomic::random_hex;
use super::{err, io_error};
use crate::bindings::verstak::sync::environment::Host;
use crate::bindings::{ErrorCode, HostError};
use crate::state::HostState;
use crate::vault::write_atomic;

fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// The local offset from UTC at `at_ms`, in minutes (0 when unknown).
pub fn local_offset_minutes(at_ms: i64) -> i32 {
    let secs = at_ms.div_euclid(1000) as libc::time_t; // time_t is 64-bit on the targets we build
    // SAFETY: `tm` is plain data that `localtime_r` fills; both pointers are valid for the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if ok { (tm.tm_gmtoff / 60) as i32 } else { 0 }
}

/// The `id` string of the desktop's `vault.json`, if there is a usable one.
fn desktop_vault_id(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let id = v.get("id")?.as_str()?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

impl Host for HostState {
    fn device_name(&mut self) -> Option<String> {
        self.device_name.clone().filter(|n| !n.trim().is_empty())
    }

    fn host_name(&mut self) -> String {
        hostname().unwrap_or_else(|| "unknown".into())
    }

    fn vault_name(&mut self) -> String {
        self.vault
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn utc_offset_minutes(&mut self, at_ms: i64) -> i32 {
        local_offset_minutes(at_ms)
    }

    fn vault_id(&mut self) -> Result<String, HostError> {
        match std::fs::read_to_string(self.vault.vault_json()) {
            Ok(text) => {
                if let Some(id) = desktop_vault_id(&text) {
                    return Ok(id);
                }
                tracing::warn!(
                    "{} has no usable id; using the host's own",
                    self.vault.vault_json().display()
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("cannot read {}: {e}", self.vault.vault_json().display()),
        }
        let kept = self.vault.vault_id_file();
        match std::fs::read_to_string(&kept) {
            Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_string()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("read the vault id", e)),
        }
        let id = random_hex(16).map_err(|e| err(ErrorCode::Io, e.message))?;
        write_atomic(&kept, id.as_bytes(), 0o600).map_err(|e| io_error("keep the vault id", e))?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::testing::state_with;

    #[test]
    fn device_name_is_the_chosen_one_and_host_name_is_never_empty() {
        let (_v, mut s) = state_with(&[]);
        assert!(!s.host_name().is_empty());
        assert_eq!(Host::device_name(&mut s), None);
        s.device_name = Some("  ".into());
        assert_eq!(Host::device_name(&mut s), None);
        s.device_name = Some("laptop".into());
        assert_eq!(Host::device_name(&mut s).as_deref(), Some("laptop"));
    }

    #[test]
    fn vault_name_is_the_folder_name() {
        let (_v, mut s) = state_with(&[]);
        let want = s
            .vault
            .root
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(!want.is_empty());
        assert_eq!(s.vault_name(), want);
    }

    #[test]
    fn utc_offsets_are_whole_minutes_within_a_day() {
        let (_v, mut s) = state_with(&[]);
        for at in [0, 1_790_000_000_000, -86_400_000, i64::MAX, i64::MIN] {
            let m = s.utc_offset_minutes(at);
            assert!((-24 * 60..=24 * 60).contains(&m), "{at}: {m}");
        }
    }

    #[test]
    fn vault_id_prefers_the_desktop_and_otherwise_keeps_its_own() {
        let (vault, mut s) = state_with(&[]);
        let first = s.vault_id().unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(s.vault_id().unwrap(), first, "generated once and kept");
        std::fs::write(
            vault.path().join(".verstak/vault.json"),
            r#"{"id":"desk-123","name":"V"}"#,
        )
        .unwrap();
        assert_eq!(s.vault_id().unwrap(), "desk-123");
        std::fs::write(
            vault.path().join(".verstak/vault.json"),
            r#"{"name":"no id"}"#,
        )
        .unwrap();
        assert_eq!(s.vault_id().unwrap(), first);
    }
}
