//! The status snapshot (`SyncStatusDTO`, plugin-contract §3.2, with the §3.13 extensions) and its
//! `statusLabel` (§3.3).
//!
//! Built from local state only (settings, the pairing document, the engine's memory), so reading
//! it never touches the network (§5.4.7).

use super::codes::closed_enum;
use super::conflict_list::Conflict;
use super::error::EngineError;
use super::guard::Guard;
use super::ignore::DEFAULT_IGNORE;
use super::pairing::Pairing;
use super::replaced_list::Replaced;
use super::settings::Settings;
use super::summary::{EngineStatus, Progress};

/// The `SyncStatusDTO` fields, in engine terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    pub status_label: StatusLabel,
    pub progress: Option<Progress>,
    pub effective_vault_id: String,
    pub last_checked_at: String,
    pub guard: Option<Guard>,
    pub ignore: Vec<String>,
    /// The conflict copies kept and not dismissed yet, oldest first (this engine's extension;
    /// filled by the `Status` action from the `conflicts` document).
    pub conflicts: Vec<Conflict>,
    /// Local files a sync replaced by another device's version, newest first, at most 50
    /// (`replaced.rs`).
    pub replaced: Vec<Replaced>,
}

closed_enum! {
    /// The one-word state the panel shows (`statusLabel`, §3.3; WIT `status-label`).
    #[derive(Default)]
    pub enum StatusLabel {
        Revoked = "revoked",
        Error = "error",
        Connected = "connected",
        Disconnected = "disconnected",
        #[default]
        Disabled = "disabled",
    }
}

/// The label rules of §3.3; the first match wins.
pub fn status_label(s: &Status) -> StatusLabel {
    if s.revoked {
        StatusLabel::Revoked
    } else if !s.last_error.is_empty() {
        StatusLabel::Error
    } else if s.connected {
        StatusLabel::Connected
    } else if s.configured || !s.server_url.is_empty() {
        StatusLabel::Disconnected
    } else {
        StatusLabel::Disabled
    }
}

impl Status {
    /// The pairing-and-settings part; the engine's part is merged with [`Status::apply`].
    pub fn new(settings: &Settings, pairing: &Pairing, token_stored: bool) -> Status {
        let mut s = Status {
            configured: !pairing.server_url.is_empty() && token_stored,
            server_url: pairing.server_url.clone(),
            vault_id: pairing.vault_id.clone(),
            device_id: pairing.device_id.clone(),
            device_name: pairing.device_name.clone(),
            // A revoked device is never connected (§3.2).
            connected: pairing.connected && !pairing.revoked && token_stored,
            revoked: pairing.revoked,
            token_stored,
            sync_interval: settings.sync_interval,
            effective_vault_id: pairing.effective_vault_id.clone(),
            last_checked_at: pairing.last_checked_at.clone(),
            ignore: settings
                .ignore
                .clone()
                .unwrap_or_else(|| DEFAULT_IGNORE.iter().map(|p| p.to_string()).collect()),
            ..Status::default()
        };
        s.status_label = status_label(&s);
        s
    }
}

impl Status {
    /// The status from the stored documents as the host returned them: the settings JSON, the
    /// pairing document and the device token (§3.2), merged with the engine's part.
    pub fn read(
        settings: &str,
        pairing: Option<&str>,
        token: Option<&str>,
        engine: &EngineStatus,
    ) -> Result<Status, EngineError> {
        let settings =
            Settings::parse(settings).map_err(|e| EngineError::LocalIo(e.to_string()))?;
        let token_stored = token.is_some_and(|t| !t.is_empty());
        let mut status = Status::new(&settings, &Pairing::parse(pairing), token_stored);
        status.apply(engine);
        Ok(status)
    }

    /// Fills the engine-owned fields of the §3.2 DTO and recomputes `statusLabel`.
    pub fn apply(&mut self, engine: &EngineStatus) {
        self.syncing = engine.syncing;
        self.unpushed_ops = engine.unpushed_ops;
        self.last_sync_at = engine.last_sync_at.clone();
        self.last_error = engine.last_error.clone();
        self.last_warning = engine.last_warning.clone();
        self.progress = engine.progress.clone();
        self.guard = engine.guard.clone();
        self.revoked |= engine.revoked;
        if let Some(c) = engine.connected {
            self.connected = c;
        }
        if self.revoked {
            self.connected = false;
        }
        self.status_label = status_label(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paired(url: &str) -> Pairing {
        Pairing {
            server_url: url.into(),
            device_id: "dev_1".into(),
            connected: true,
            ..Pairing::default()
        }
    }

    #[test]
    fn nothing_stored_is_disabled() {
        let s = Status::new(&Settings::default(), &Pairing::default(), false);
        assert!(!s.configured);
        assert_eq!(s.status_label.as_str(), "disabled");
        assert!(!s.ignore.is_empty(), "the default ignore list is in effect");
    }

    #[test]
    fn a_url_without_a_token_is_disconnected_and_not_configured() {
        let s = Status::new(&Settings::default(), &paired("http://h"), false);
        assert!(!s.configured && !s.connected);
        assert_eq!(s.status_label.as_str(), "disconnected");
    }

    #[test]
    fn paired_with_a_token_is_connected() {
        let s = Status::new(
            &Settings {
                sync_interval: 5,
                ..Settings::default()
            },
            &paired("http://h"),
            true,
        );
        assert!(s.configured && s.token_stored);
        assert_eq!((s.status_label.as_str(), s.sync_interval), ("connected", 5));
    }

    #[test]
    fn revoked_wins_over_everything_and_is_never_connected() {
        let pairing = Pairing {
            revoked: true,
            ..paired("http://h")
        };
        let mut s = Status::new(&Settings::default(), &pairing, true);
        assert!(!s.connected);
        assert_eq!(s.status_label.as_str(), "revoked");
        s.last_error = "boom".into();
        assert_eq!(status_label(&s).as_str(), "revoked");
    }

    #[test]
    fn error_beats_connected() {
        let mut s = Status::new(&Settings::default(), &paired("http://h"), true);
        s.last_error = "sync-server:internal_error (HTTP 500)".into();
        assert_eq!(status_label(&s).as_str(), "error");
    }

    #[test]
    fn user_ignore_patterns_replace_the_defaults() {
        let settings = Settings {
            ignore: Some(vec!["*.tmp".into()]),
            ..Settings::default()
        };
        assert_eq!(
            Status::new(&settings, &Pairing::default(), false).ignore,
            vec!["*.tmp".to_string()]
        );
    }

    #[test]
    fn engine_fields_drive_the_label() {
        let mut st = Status {
            connected: true,
            ..Default::default()
        };
        let es = EngineStatus {
            last_error: "push: x".into(),
            unpushed_ops: 4,
            ..EngineStatus::default()
        };
        st.apply(&es);
        assert_eq!((st.status_label.as_str(), st.unpushed_ops), ("error", 4));
    }

    #[test]
    fn read_parses_the_stored_documents() {
        let pairing = paired("http://h").to_json();
        let engine = EngineStatus::default();
        let s = Status::read(r#"{"syncInterval":5}"#, Some(&pairing), Some("t"), &engine).unwrap();
        assert_eq!((s.status_label.as_str(), s.sync_interval), ("connected", 5));
        let s = Status::read("", None, Some(""), &engine).unwrap();
        assert!(!s.token_stored && !s.configured);
        assert_eq!(s.status_label.as_str(), "disabled");
        let e = Status::read("[1]", None, None, &engine).unwrap_err();
        assert_eq!(e.code().as_str(), "local_io");
    }
}
