//! The pairing document kept in private storage ([`PAIRING_KEY`]) and the key of the device
//! token ([`TOKEN_KEY`]). Plain data: `account` holds the rules that fill it, `status` reads it.

use serde::{Deserialize, Serialize};

/// Private storage key of the pairing document.
pub const PAIRING_KEY: &str = "pairing";
/// Private storage key of the device token (the bare token text).
pub const TOKEN_KEY: &str = "device-token";
/// What this vault knows about its pairing. Kept per vault in private storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pairing {
    /// The paired server; survives `resetKey`, cleared by `disconnect`.
    pub server_url: String,
    /// The remote vault id as typed at `configure` (`""` = the local vault's own id).
    pub vault_id: String,
    /// The remote vault id in use.
    pub effective_vault_id: String,
    pub device_id: String,
    pub device_name: String,
    /// The last server call succeeded.
    pub connected: bool,
    /// The server said this device's credential is gone; cleared only by `configure` (§3.2).
    pub revoked: bool,
    /// RFC 3339 time connectivity was last confirmed, or `""`.
    pub last_checked_at: String,
}

impl Pairing {
    pub fn parse(json: Option<&str>) -> Pairing {
        json.and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain strings and bools")
    }

    /// Records what a sync run learned about connectivity (§3.2, §5.4.7).
    pub fn observe(&mut self, connected: Option<bool>, revoked: bool, now_rfc3339: &str) {
        if let Some(c) = connected {
            self.connected = c;
            if c {
                self.last_checked_at = now_rfc3339.to_string();
            }
        }
        if revoked {
            self.revoked = true;
            self.connected = false;
        }
    }

    /// `disconnect` (§3.5): forget the server and the device.
    pub fn disconnected() -> Pairing {
        Pairing::default()
    }

    /// `resetKey` (§3.8): forget the device, keep the server URL.
    pub fn key_reset(&self) -> Pairing {
        Pairing {
            server_url: self.server_url.clone(),
            vault_id: self.vault_id.clone(),
            ..Pairing::default()
        }
    }
}
