//! The `history:` section of `config.yml` (issue 17): when pulls are compacted and how long
//! the op history, tombstones and unreferenced blobs are kept (docs/compacted-joins.md,
//! docs/history-retention.md). Unlike `retention:`, a 0 here is meaningful ("no window");
//! only a missing or negative value takes the default. The admin console edits it at run
//! time ([`ConfigFile::set_history`]).

use anyhow::{Result, anyhow};
use serde::Deserialize;
use serde_norway::{Mapping, Value};

use super::ConfigFile;

/// `history:` as written in the file; `None` = absent.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct KnownHistory {
    pub(crate) compact_min_backlog: Option<i64>,
    pub(crate) keep_all_days: Option<i64>,
    pub(crate) keep_daily_days: Option<i64>,
    pub(crate) tombstone_days: Option<i64>,
    pub(crate) blob_grace_hours: Option<i64>,
}

/// The effective history settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryCfg {
    /// A pull behind by at most this many sequences is answered in full (never compacted).
    pub compact_min_backlog: i64,
    /// Every version younger than this many days is kept.
    pub keep_all_days: i64,
    /// Older versions: the last of each UTC day up to this age, then the last of each month.
    pub keep_daily_days: i64,
    /// A deleted entity's history (its delete included) is kept at least this many days, and
    /// until every active device has pulled past the delete.
    pub tombstone_days: i64,
    /// An unreferenced blob file is removed this many hours after it lost its last ref.
    pub blob_grace_hours: i64,
}

impl Default for HistoryCfg {
    fn default() -> Self {
        HistoryCfg {
            compact_min_backlog: 100,
            keep_all_days: 30,
            keep_daily_days: 365,
            tombstone_days: 30,
            blob_grace_hours: 7 * 24,
        }
    }
}

/// The largest value accepted for any setting (100 years in days, or that many ops).
pub const MAX_SETTING: i64 = 36_500;

impl HistoryCfg {
    pub(crate) fn from_known(k: &KnownHistory) -> HistoryCfg {
        let d = HistoryCfg::default();
        let pick = |v: Option<i64>, default: i64, max: i64| match v {
            Some(v) if v >= 0 => v.min(max),
            _ => default,
        };
        let keep_all_days = pick(k.keep_all_days, d.keep_all_days, MAX_SETTING);
        HistoryCfg {
            compact_min_backlog: pick(k.compact_min_backlog, d.compact_min_backlog, i64::MAX),
            keep_all_days,
            // The daily span starts where "keep all" ends.
            keep_daily_days: pick(k.keep_daily_days, d.keep_daily_days, MAX_SETTING)
                .max(keep_all_days),
            tombstone_days: pick(k.tombstone_days, d.tombstone_days, MAX_SETTING),
            blob_grace_hours: pick(k.blob_grace_hours, d.blob_grace_hours, MAX_SETTING * 24),
        }
    }

    /// Checks values typed into the console; the error names the first bad field.
    pub(crate) fn validated(self) -> Result<HistoryCfg, &'static str> {
        let ok = |v: i64, max: i64| (0..=max).contains(&v);
        if !ok(self.compact_min_backlog, 1_000_000_000) {
            return Err("compact_min_backlog");
        }
        if !ok(self.keep_all_days, MAX_SETTING) {
            return Err("keep_all_days");
        }
        if !ok(self.keep_daily_days, MAX_SETTING) || self.keep_daily_days < self.keep_all_days {
            return Err("keep_daily_days");
        }
        if !ok(self.tombstone_days, MAX_SETTING) {
            return Err("tombstone_days");
        }
        if !ok(self.blob_grace_hours, MAX_SETTING * 24) {
            return Err("blob_grace_hours");
        }
        Ok(self)
    }
}

impl ConfigFile {
    /// Writes the `history:` section (all keys) and saves the file.
    pub(crate) fn set_history(&mut self, h: &HistoryCfg) -> Result<()> {
        let root = self
            .doc
            .as_mapping_mut()
            .ok_or_else(|| anyhow!("config.yml is not a mapping"))?;
        let sec = root
            .entry(Value::from("history"))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if !sec.is_mapping() {
            *sec = Value::Mapping(Mapping::new());
        }
        let m = sec.as_mapping_mut().expect("just made a mapping");
        for (k, v) in [
            ("compact_min_backlog", h.compact_min_backlog),
            ("keep_all_days", h.keep_all_days),
            ("keep_daily_days", h.keep_daily_days),
            ("tombstone_days", h.tombstone_days),
            ("blob_grace_hours", h.blob_grace_hours),
        ] {
            m.insert(Value::from(k), Value::from(v));
        }
        self.known.history = KnownHistory {
            compact_min_backlog: Some(h.compact_min_backlog),
            keep_all_days: Some(h.keep_all_days),
            keep_daily_days: Some(h.keep_daily_days),
            tombstone_days: Some(h.tombstone_days),
            blob_grace_hours: Some(h.blob_grace_hours),
        };
        self.save()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_kept_and_negatives_default() {
        let k = KnownHistory {
            compact_min_backlog: Some(0),
            keep_all_days: Some(-1),
            keep_daily_days: Some(2),
            tombstone_days: None,
            blob_grace_hours: Some(0),
        };
        let h = HistoryCfg::from_known(&k);
        assert_eq!(h.compact_min_backlog, 0);
        assert_eq!(h.keep_all_days, 30);
        // Raised to the "keep all" span.
        assert_eq!(h.keep_daily_days, 30);
        assert_eq!((h.tombstone_days, h.blob_grace_hours), (30, 0));
        assert_eq!(HistoryCfg::default().validated(), Ok(HistoryCfg::default()));
        let bad = HistoryCfg {
            keep_daily_days: 1,
            keep_all_days: 2,
            ..HistoryCfg::default()
        };
        assert_eq!(bad.validated(), Err("keep_daily_days"));
    }
}
