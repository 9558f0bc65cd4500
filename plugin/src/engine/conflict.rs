//! Conflict-copy names (plugin-contract §5.4.2):
//! `<stem> (conflict <device> <YYYY-MM-DD HHMM>)<.ext>`, with ` 2`, ` 3`, … inside the
//! parentheses when the name is taken.

use verstak_sync_proto::time::{civil_from_days, rfc3339_from_unix};

use super::ids::Millis;
use super::path::VaultPath;

/// Device label for a remote version: the pushing device id without `dev_`, cut to 8 chars.
pub(crate) fn remote_device_label(device_id: &str) -> String {
    let id = device_id.strip_prefix("dev_").unwrap_or(device_id);
    id.chars().take(8).collect()
}

/// `/ \ : * ? " < > |` and control characters become `_`; trimmed; at most 40 characters.
pub(crate) fn sanitize_device(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            if "/\\:*?\"<>|".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed: String = mapped.trim().chars().take(40).collect();
    let trimmed = trimmed.trim_end().to_string();
    if trimmed.is_empty() {
        "unknown".to_string()
    } else {
        trimmed
    }
}

/// `YYYY-MM-DD HHMM` for `now` shifted by the local UTC offset.
pub(crate) fn stamp(now: Millis, utc_offset_min: i32) -> String {
    let secs = (now.0 / 1000) as i64 + i64::from(utc_offset_min) * 60;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// RFC 3339 UTC with second precision.
pub(crate) fn rfc3339(now: Millis) -> String {
    rfc3339_from_unix((now.0 / 1000) as i64)
}

/// The first free conflict-copy path for `path`. `taken` says whether a candidate exists.
pub(crate) fn conflict_copy_path(
    path: &VaultPath,
    device: &str,
    stamp: &str,
    mut taken: impl FnMut(&VaultPath) -> bool,
) -> VaultPath {
    let name = path.name();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let device = sanitize_device(device);
    for n in 1u32.. {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!(" {n}")
        };
        let candidate = format!("{stem} (conflict {device} {stamp}{suffix}){ext}");
        let candidate = path
            .with_name(&candidate)
            .expect("a conflict name is a valid segment");
        if !taken(&candidate) {
            return candidate;
        }
    }
    unreachable!("some suffix is free")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::path::p;

    const STAMP: &str = "2026-07-21 1405";

    #[test]
    fn spec_examples() {
        let cases = [
            (
                "report.docx",
                "report (conflict laptop 2026-07-21 1405).docx",
            ),
            (
                "archive.tar.gz",
                "archive.tar (conflict laptop 2026-07-21 1405).gz",
            ),
            (".env", ".env (conflict laptop 2026-07-21 1405)"),
            ("Makefile", "Makefile (conflict laptop 2026-07-21 1405)"),
            ("Notes/a.md", "Notes/a (conflict laptop 2026-07-21 1405).md"),
        ];
        for (input, want) in cases {
            assert_eq!(
                conflict_copy_path(&p(input), "laptop", STAMP, |_| false).as_str(),
                want
            );
        }
    }

    #[test]
    fn taken_names_get_a_counter() {
        let first = p("a (conflict laptop 2026-07-21 1405).md");
        let second = p("a (conflict laptop 2026-07-21 1405 2).md");
        let got = conflict_copy_path(&p("a.md"), "laptop", STAMP, |c| *c == first || *c == second);
        assert_eq!(got.as_str(), "a (conflict laptop 2026-07-21 1405 3).md");
    }

    #[test]
    fn device_names() {
        assert_eq!(sanitize_device("  my/pc:1*?  "), "my_pc_1__");
        assert_eq!(sanitize_device(&"x".repeat(50)).len(), 40);
        assert_eq!(sanitize_device("a\u{7}b"), "a_b");
        assert_eq!(remote_device_label("dev_0123456789ab"), "01234567");
        assert_eq!(remote_device_label("abc"), "abc");
    }

    #[test]
    fn stamps_and_rfc3339() {
        // 2026-07-21T14:05:30Z
        let t = Millis(1_784_642_730_000);
        assert_eq!(stamp(t, 0), "2026-07-21 1405");
        assert_eq!(stamp(t, 180), "2026-07-21 1705");
        assert_eq!(stamp(t, -15 * 60), "2026-07-20 2305");
        assert_eq!(rfc3339(t), "2026-07-21T14:05:30Z");
        assert_eq!(rfc3339(Millis(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(Millis(951_782_400_000)), "2000-02-29T00:00:00Z");
    }
}
