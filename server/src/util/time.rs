//! Timestamps (spec §2.7): RFC 3339, UTC, second precision, `Z` suffix.
//!
//! Because the format is fixed, server-produced values compare correctly as strings; the
//! retention cut-offs rely on that.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `now` formatted as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn now_rfc3339() -> String {
    format_unix(unix_now())
}

/// The RFC 3339 form of `now - d`.
pub(crate) fn rfc3339_ago(d: Duration) -> String {
    format_unix(unix_now() - d.as_secs() as i64)
}

/// `now + d`, formatted as [`now_rfc3339`] is.
pub(crate) fn rfc3339_in(d: Duration) -> String {
    format_unix(unix_now() + d.as_secs() as i64)
}

/// Formats Unix seconds as RFC 3339 UTC.
pub(crate) fn format_unix(secs: i64) -> String {
    verstak_sync_proto::time::rfc3339_from_unix(secs)
}

/// A compact UTC stamp for file names: `YYYYMMDDTHHMMSSZ`.
pub(crate) fn file_stamp() -> String {
    now_rfc3339().replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix(1_784_601_390), "2026-07-21T02:36:30Z");
        assert_eq!(format_unix(951_782_400), "2000-02-29T00:00:00Z");
    }
}
