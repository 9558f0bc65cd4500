//! The per-vault settings document (plugin-contract §2.2):
//! `{serverUrl, vaultId, username, autoSync, syncInterval, ignore}`.
//!
//! The document is shared with the UI, which writes it whole, so keys this engine does not know
//! are kept verbatim and written back unchanged. It never holds a secret.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The largest accepted auto-sync interval, in minutes (one day; plugin-contract §3.7).
pub const MAX_INTERVAL_MINUTES: i32 = 1440;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub vault_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_sync: Option<bool>,
    /// Minutes; 0 means off.
    #[serde(default)]
    pub sync_interval: u32,
    /// The user's ignore patterns (§5.4.6); absent means the default list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Vec<String>>,
    /// Keys written by someone else (the UI, a newer engine), preserved as they are.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingsError {
    #[error("settings are not a JSON object: {0}")]
    Malformed(String),
    #[error("invalid interval")]
    InvalidInterval,
}

impl SettingsError {
    pub fn code(&self) -> &'static str {
        match self {
            SettingsError::Malformed(_) => "settings_malformed",
            SettingsError::InvalidInterval => "invalid_interval",
        }
    }
}

impl Settings {
    /// Parses the document the host returned. An empty text is the empty document.
    pub fn parse(json: &str) -> Result<Settings, SettingsError> {
        if json.trim().is_empty() {
            return Ok(Settings::default());
        }
        serde_json::from_str(json).map_err(|e| SettingsError::Malformed(e.to_string()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("settings are plain JSON values")
    }

    /// Stores a new auto-sync interval (§3.7): 0 turns auto-sync off; negative values and values
    /// above one day are refused with `invalid interval`.
    pub fn set_interval(&mut self, minutes: i32) -> Result<(), SettingsError> {
        if !(0..=MAX_INTERVAL_MINUTES).contains(&minutes) {
            return Err(SettingsError::InvalidInterval);
        }
        self.sync_interval = minutes as u32;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_is_the_default_document() {
        assert_eq!(Settings::parse("").unwrap(), Settings::default());
        assert_eq!(Settings::parse("{}").unwrap(), Settings::default());
    }

    #[test]
    fn unknown_keys_survive_a_round_trip() {
        let s = Settings::parse(r#"{"serverUrl":"http://h","theme":{"x":1},"syncInterval":5}"#)
            .unwrap();
        assert_eq!(s.server_url, "http://h");
        assert_eq!(s.sync_interval, 5);
        let back: Value = serde_json::from_str(&s.to_json()).unwrap();
        assert_eq!(back["theme"]["x"], 1);
        assert_eq!(back["serverUrl"], "http://h");
    }

    #[test]
    fn a_non_object_document_is_refused() {
        let err = Settings::parse("[1,2]").unwrap_err();
        assert_eq!(err.code(), "settings_malformed");
    }

    #[test]
    fn interval_bounds() {
        let mut s = Settings::default();
        assert_eq!(s.set_interval(-1), Err(SettingsError::InvalidInterval));
        assert_eq!(s.set_interval(1441), Err(SettingsError::InvalidInterval));
        assert_eq!(
            SettingsError::InvalidInterval.to_string(),
            "invalid interval"
        );
        s.set_interval(1440).unwrap();
        assert_eq!(s.sync_interval, 1440);
        s.set_interval(0).unwrap();
        assert_eq!(s.sync_interval, 0);
    }
}
