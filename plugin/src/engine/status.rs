//! The status snapshot (`SyncStatusDTO`, plugin-contract §3.2) and its `statusLabel` (§3.3).
//!
//! Built from local state only, so reading it never touches the network (§5.4.7).

use super::settings::Settings;

/// What the engine knows about its pairing, beyond the settings document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairing {
    pub token_stored: bool,
    pub device_id: String,
    pub device_name: String,
    pub connected: bool,
    pub revoked: bool,
}

/// The `SyncStatusDTO` fields, in engine terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    pub configured: bool,
    pub syncing: bool,
    pub server_url: String,
    pub vault_id: String,
    pub device_id: String,
    pub device_name: String,
    pub connected: bool,
    pub revoked: bool,
    pub token_stored: bool,
    pub unpushed_ops: u64,
    pub last_sync_at: String,
    pub sync_interval: u32,
    pub last_error: String,
    pub last_warning: String,
    pub status_label: &'static str,
}

/// The label rules of §3.3; the first match wins.
pub fn status_label(s: &Status) -> &'static str {
    if s.revoked {
        "revoked"
    } else if !s.last_error.is_empty() {
        "error"
    } else if s.connected {
        "connected"
    } else if s.configured || !s.server_url.is_empty() {
        "disconnected"
    } else {
        "disabled"
    }
}

impl Status {
    pub fn new(settings: &Settings, pairing: &Pairing) -> Status {
        let mut s = Status {
            configured: !settings.server_url.is_empty() && pairing.token_stored,
            server_url: settings.server_url.clone(),
            vault_id: settings.vault_id.clone(),
            device_id: pairing.device_id.clone(),
            device_name: pairing.device_name.clone(),
            // A revoked device is never connected (§3.2).
            connected: pairing.connected && !pairing.revoked,
            revoked: pairing.revoked,
            token_stored: pairing.token_stored,
            sync_interval: settings.sync_interval,
            ..Status::default()
        };
        s.status_label = status_label(&s);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> Settings {
        Settings { server_url: url.into(), ..Settings::default() }
    }

    #[test]
    fn nothing_stored_is_disabled() {
        let s = Status::new(&Settings::default(), &Pairing::default());
        assert!(!s.configured);
        assert_eq!(s.status_label, "disabled");
    }

    #[test]
    fn a_url_without_a_token_is_disconnected_and_not_configured() {
        let s = Status::new(&settings("http://h"), &Pairing::default());
        assert!(!s.configured);
        assert_eq!(s.status_label, "disconnected");
    }

    #[test]
    fn revoked_wins_over_everything_and_is_never_connected() {
        let pairing = Pairing { token_stored: true, connected: true, revoked: true, ..Pairing::default() };
        let mut s = Status::new(&settings("http://h"), &pairing);
        assert!(!s.connected);
        assert_eq!(s.status_label, "revoked");
        s.last_error = "boom".into();
        assert_eq!(status_label(&s), "revoked");
    }

    #[test]
    fn error_beats_connected() {
        let pairing = Pairing { token_stored: true, connected: true, ..Pairing::default() };
        let mut s = Status::new(&settings("http://h"), &pairing);
        assert_eq!(s.status_label, "connected");
        s.last_error = "sync-server:internal_error (HTTP 500)".into();
        assert_eq!(status_label(&s), "error");
    }
}
