//! The escaping the page templates (`super::pages`) use: [`Escape`], askama's escaper for
//! every `.html` template (`server/askama.toml`), and [`qenc`] for query values in links.
//! A leaf module, so the templates need nothing from the response helpers in `super::html`.

use std::fmt;

/// The escaper of every `.html` template (`server/askama.toml`): `& < > " '` become
/// `&amp; &lt; &gt; &quot; &#39;`, so a value is safe in text and in any quoted attribute.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Escape;

impl askama::filters::Escaper for Escape {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            dest.write_str(&rest[..i])?;
            dest.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        dest.write_str(rest)
    }
}

/// Percent-encodes a query value.
pub(crate) fn qenc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::filters::Escaper;

    fn esc(s: &str) -> String {
        let mut out = String::new();
        Escape.write_escaped_str(&mut out, s).unwrap();
        out
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<img src=x onerror='a'>\"&"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&quot;&amp;"
        );
        assert_eq!(esc("Русский & co"), "Русский &amp; co");
        assert_eq!(qenc("a b&c"), "a+b%26c");
    }
}
