//! The `history:` section of `config.yml` (issue 17): when pulls are compacted and how long
//! the op history, tombstones and unreferenced blobs are kept (docs/compacted-joins.md,
//! docs/history-retention.md). Unlike `retention:`, a 0 here is meaningful ("no window");
//! only a missing or negative value takes the default. The admin console edits it at run
//! time ([`ConfigFile::set_history`]).
//!
//! Like the other settings (spec §1.3–1.6), each key can be set by a flag and an environment
//! variable too, with the precedence flag > environment > `config.yml` > default
//! ([`resolve`]). Unlike the file, which is forgiving (see above), a flag or variable with a
//! bad value stops the server with a message naming it: it was typed for this run.

use anyhow::{Result, anyhow, bail};
use serde::Deserialize;
use serde_norway::Value;

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

/// `--history-*` flag values; `None` = not given.
#[derive(Debug, Default, Clone, Copy)]
pub struct HistoryOverrides {
    pub compact_min_backlog: Option<i64>,
    pub keep_all_days: Option<i64>,
    pub keep_daily_days: Option<i64>,
    pub tombstone_days: Option<i64>,
    pub blob_grace_hours: Option<i64>,
}

/// One history setting: its `config.yml` key, flag and environment variable, and its range.
pub struct HistoryKey {
    pub key: &'static str,
    pub flag: &'static str,
    pub env: &'static str,
    pub max: i64,
    /// What one unit is, for messages ("days", "hours", "sequences").
    pub unit: &'static str,
}

/// The largest `compact_min_backlog` accepted from the console, a flag or a variable.
pub const MAX_BACKLOG: i64 = 1_000_000_000;

/// The history settings in `HistoryCfg` order.
pub const HISTORY_KEYS: [HistoryKey; 5] = [
    HistoryKey {
        key: "compact_min_backlog",
        flag: "--history-compact-min-backlog",
        env: "VERSTAK_HISTORY_COMPACT_MIN_BACKLOG",
        max: MAX_BACKLOG,
        unit: "sequences",
    },
    HistoryKey {
        key: "keep_all_days",
        flag: "--history-keep-all-days",
        env: "VERSTAK_HISTORY_KEEP_ALL_DAYS",
        max: MAX_SETTING,
        unit: "days",
    },
    HistoryKey {
        key: "keep_daily_days",
        flag: "--history-keep-daily-days",
        env: "VERSTAK_HISTORY_KEEP_DAILY_DAYS",
        max: MAX_SETTING,
        unit: "days",
    },
    HistoryKey {
        key: "tombstone_days",
        flag: "--history-tombstone-days",
        env: "VERSTAK_HISTORY_TOMBSTONE_DAYS",
        max: MAX_SETTING,
        unit: "days",
    },
    HistoryKey {
        key: "blob_grace_hours",
        flag: "--history-blob-grace-hours",
        env: "VERSTAK_HISTORY_BLOB_GRACE_HOURS",
        max: MAX_SETTING * 24,
        unit: "hours",
    },
];

impl HistoryKey {
    /// `v` as this setting's value: a whole number from 0 to `max`.
    pub fn parse(&self, v: &str) -> Result<i64, String> {
        match v.trim().parse::<i64>() {
            Ok(n) if (0..=self.max).contains(&n) => Ok(n),
            _ => Err(format!(
                "expected a whole number of {} from 0 to {}, got {v:?}",
                self.unit, self.max
            )),
        }
    }
}

/// The effective history settings: per key the flag, else the environment variable, else
/// `config.yml`, else the default. An invalid variable is an error naming it; a `keep_daily_days`
/// below `keep_all_days` is an error when either came from a flag or a variable (the file
/// alone is raised silently, as before).
pub(crate) fn resolve(file: &KnownHistory, flags: &HistoryOverrides) -> Result<HistoryCfg> {
    let flag_values = [
        flags.compact_min_backlog,
        flags.keep_all_days,
        flags.keep_daily_days,
        flags.tombstone_days,
        flags.blob_grace_hours,
    ];
    let mut chosen = [None; 5];
    let mut from = [""; 5];
    for (i, k) in HISTORY_KEYS.iter().enumerate() {
        if let Some(v) = flag_values[i] {
            if !(0..=k.max).contains(&v) {
                bail!("{}: {}", k.flag, k.parse(&v.to_string()).unwrap_err());
            }
            (chosen[i], from[i]) = (Some(v), k.flag);
        } else if let Some(v) = std::env::var(k.env).ok().filter(|v| !v.trim().is_empty()) {
            let v = k.parse(&v).map_err(|e| anyhow!("{}: {e}", k.env))?;
            (chosen[i], from[i]) = (Some(v), k.env);
        }
    }
    let (all, daily) = (chosen[1], chosen[2]);
    let mut merged = file.clone();
    let slots = [
        &mut merged.compact_min_backlog,
        &mut merged.keep_all_days,
        &mut merged.keep_daily_days,
        &mut merged.tombstone_days,
        &mut merged.blob_grace_hours,
    ];
    for (slot, v) in slots.into_iter().zip(chosen) {
        if v.is_some() {
            *slot = v;
        }
    }
    let cfg = HistoryCfg::from_known(&merged);
    if all.is_some() || daily.is_some() {
        // What the file alone would have given, had nothing overridden keep_daily_days.
        let asked_daily = daily.or(file.keep_daily_days.filter(|v| *v >= 0));
        if let Some(d) = asked_daily.filter(|d| *d < cfg.keep_all_days) {
            let by = |i: usize| {
                if from[i].is_empty() {
                    "config.yml"
                } else {
                    from[i]
                }
            };
            bail!(
                "history: keep_daily_days ({d}, from {}) must be at least keep_all_days ({}, from {})",
                by(2),
                cfg.keep_all_days,
                by(1)
            );
        }
    }
    Ok(cfg)
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
        if !ok(self.compact_min_backlog, MAX_BACKLOG) {
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
        let m = self.section_mut("history")?;
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

    #[test]
    fn flags_beat_the_file_and_bad_values_are_named() {
        let file = KnownHistory {
            keep_all_days: Some(10),
            tombstone_days: Some(5),
            ..KnownHistory::default()
        };
        let flags = HistoryOverrides {
            tombstone_days: Some(9),
            blob_grace_hours: Some(0),
            ..HistoryOverrides::default()
        };
        let h = resolve(&file, &flags).unwrap();
        assert_eq!(
            (h.keep_all_days, h.tombstone_days, h.blob_grace_hours),
            (10, 9, 0)
        );
        let over = HistoryOverrides {
            keep_all_days: Some(MAX_SETTING + 1),
            ..HistoryOverrides::default()
        };
        let e = resolve(&file, &over).unwrap_err().to_string();
        assert_eq!(
            e,
            "--history-keep-all-days: expected a whole number of days from 0 to 36500, got \"36501\""
        );
        let crossed = HistoryOverrides {
            keep_daily_days: Some(3),
            ..HistoryOverrides::default()
        };
        let e = resolve(&file, &crossed).unwrap_err().to_string();
        assert_eq!(
            e,
            "history: keep_daily_days (3, from --history-keep-daily-days) must be at least keep_all_days (10, from config.yml)"
        );
        assert_eq!(HISTORY_KEYS[4].parse(" 48 "), Ok(48));
        assert!(HISTORY_KEYS[0].parse("-1").is_err() && HISTORY_KEYS[0].parse("1e3").is_err());
    }
}
