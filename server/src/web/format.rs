//! Numbers for people, in the page's language: sizes in binary units (`1.5 GiB`, ru
//! `1,5 ГиБ`), counts with digit groups (`12,345`, ru `12 345`), durations in words
//! (`2 days 3 hours`, ru `2 дня 3 часа`) and the plural form a count takes. Every page
//! formats through these (via `Ui::bytes`, `Ui::count`, `Ui::duration`), so one figure reads
//! the same on each.

use super::i18n::{Locale, t};

/// The plural class of `n`: `one`, `few` or `many` (English has no `few`).
pub(crate) fn plural(loc: Locale, n: u64) -> &'static str {
    match loc {
        Locale::En if n == 1 => "one",
        Locale::En => "many",
        Locale::Ru => match (n % 10, n % 100) {
            (1, r) if r != 11 => "one",
            (2..=4, r) if !(12..=14).contains(&r) => "few",
            _ => "many",
        },
    }
}

/// `n` with digit groups of three: `,` in English, a no-break space in Russian.
pub(crate) fn count(loc: Locale, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = match loc {
        Locale::En => ",",
        Locale::Ru => "\u{a0}",
    };
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A byte size in the largest binary unit that keeps the number at least 1, with at most one
/// decimal (dropped when it is 0): `999 B`, `1.5 KiB`, `256 MiB`.
pub(crate) fn bytes(loc: Locale, n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut unit = 0;
    let mut value = n.max(0) as f64;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let name = t(loc, &format!("unit.{}", UNITS[unit]));
    if unit == 0 {
        return format!("{} {name}", count(loc, n.max(0)));
    }
    let tenths = (value * 10.0).round() as i64;
    let text = if tenths % 10 == 0 {
        count(loc, tenths / 10)
    } else {
        let dot = if loc == Locale::Ru { "," } else { "." };
        format!("{}{dot}{}", count(loc, tenths / 10), tenths % 10)
    };
    format!("{text} {name}")
}

/// A duration in words, in its two largest units: `45 seconds`, `3 minutes`,
/// `2 hours 5 minutes`, `12 days 4 hours`.
pub(crate) fn duration(loc: Locale, secs: u64) -> String {
    let parts = [
        (secs / 86_400, "day"),
        (secs % 86_400 / 3600, "hour"),
        (secs % 3600 / 60, "minute"),
        (secs % 60, "second"),
    ];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    parts[first..]
        .iter()
        .take(2)
        .filter(|(n, _)| *n > 0 || first == 3)
        .map(|&(n, unit)| format!("{n} {}", t(loc, &format!("dur.{unit}.{}", plural(loc, n)))))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Locale::{En, Ru};

    #[test]
    fn sizes_use_binary_units_and_one_decimal() {
        assert_eq!(bytes(En, 0), "0 B");
        assert_eq!(bytes(En, 1023), "1,023 B");
        assert_eq!(bytes(En, 1024), "1 KiB");
        assert_eq!(bytes(En, 1536), "1.5 KiB");
        assert_eq!(bytes(En, 256 * 1024 * 1024), "256 MiB");
        assert_eq!(bytes(En, 3 * 512 * 1024 * 1024), "1.5 GiB");
        assert_eq!(bytes(En, 8 * 1024 * 1024 * 1024), "8 GiB");
        assert_eq!(bytes(Ru, 3 * 512 * 1024 * 1024), "1,5 ГиБ");
        assert_eq!(bytes(Ru, 12), "12 Б");
        assert_eq!(bytes(En, 5 * (1 << 40) * 1024), "5,120 TiB");
    }

    #[test]
    fn counts_have_digit_groups() {
        assert_eq!(count(En, 0), "0");
        assert_eq!(count(En, 999), "999");
        assert_eq!(count(En, 1000), "1,000");
        assert_eq!(count(En, 1_234_567), "1,234,567");
        assert_eq!(count(En, -12_345), "-12,345");
        assert_eq!(count(Ru, 100_000), "100\u{a0}000");
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration(En, 0), "0 seconds");
        assert_eq!(duration(En, 1), "1 second");
        assert_eq!(duration(En, 45), "45 seconds");
        assert_eq!(duration(En, 3600), "1 hour");
        assert_eq!(duration(En, 2 * 3600 + 5 * 60 + 9), "2 hours 5 minutes");
        assert_eq!(duration(En, 86_400 + 59), "1 day");
        assert_eq!(duration(En, 12 * 86_400 + 4 * 3600), "12 days 4 hours");
        assert_eq!(duration(Ru, 2 * 86_400 + 3 * 3600), "2 дня 3 часа");
        assert_eq!(duration(Ru, 21 * 60), "21 минута");
        assert_eq!(duration(Ru, 5 * 60 + 11), "5 минут 11 секунд");
    }

    #[test]
    fn plural_classes() {
        let ru: Vec<&str> = [1, 2, 5, 11, 12, 21, 22, 25, 111]
            .iter()
            .map(|&n| plural(Ru, n))
            .collect();
        assert_eq!(
            ru,
            [
                "one", "few", "many", "many", "many", "one", "few", "many", "many"
            ]
        );
        assert_eq!((plural(En, 1), plural(En, 2)), ("one", "many"));
    }
}
