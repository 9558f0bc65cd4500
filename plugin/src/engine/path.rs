//! `VaultPath`: a canonical vault-relative slash path (plugin-contract §4.2), parsed once at the
//! edge and trusted afterwards.
//!
//! Rules: relative, `/` separators, no leading or trailing `/`, no `.`/`..`/empty segment, no
//! NUL, no backslash. Paths compare byte for byte. The root of the vault is not a `VaultPath`;
//! APIs that can name the root take `Option<&VaultPath>`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a [`VaultPath`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path is empty")]
    Empty,
    #[error("path is absolute")]
    Absolute,
    #[error("path has a trailing slash")]
    TrailingSlash,
    #[error("path has an empty segment")]
    EmptySegment,
    #[error("path has a dot segment")]
    DotSegment,
    #[error("path contains a forbidden character")]
    ForbiddenChar,
}

impl PathError {
    pub fn code(&self) -> &'static str {
        match self {
            PathError::Empty => "path_empty",
            PathError::Absolute => "path_absolute",
            PathError::TrailingSlash => "path_trailing_slash",
            PathError::EmptySegment => "path_empty_segment",
            PathError::DotSegment => "path_dot_segment",
            PathError::ForbiddenChar => "path_forbidden_char",
        }
    }
}

/// Whether a remote name must never be written to disk even though it is a valid path: it
/// holds a control character (`\n`, `\r`, …) or a bidirectional override or isolate (U+202E
/// shows `evil\u{202E}gpj.exe` as `evilexe.jpg`). Such ops are set aside (issue 14 item 2).
pub(crate) fn unsafe_name(s: &str) -> bool {
    s.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

/// A canonical vault-relative path such as `Notes/a.md`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VaultPath(String);

impl VaultPath {
    pub fn parse(s: &str) -> Result<VaultPath, PathError> {
        if s.is_empty() {
            return Err(PathError::Empty);
        }
        if s.contains('\0') || s.contains('\\') {
            return Err(PathError::ForbiddenChar);
        }
        if s.starts_with('/') {
            return Err(PathError::Absolute);
        }
        if s.ends_with('/') {
            return Err(PathError::TrailingSlash);
        }
        for seg in s.split('/') {
            match seg {
                "" => return Err(PathError::EmptySegment),
                "." | ".." => return Err(PathError::DotSegment),
                _ => {}
            }
        }
        Ok(VaultPath(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment.
    pub fn name(&self) -> &str {
        self.0
            .rsplit('/')
            .next()
            .expect("a path has at least one segment")
    }

    /// The parent folder, or `None` for a top-level entry.
    pub fn parent(&self) -> Option<VaultPath> {
        self.0.rfind('/').map(|i| VaultPath(self.0[..i].to_owned()))
    }

    /// `dir/name`, or `name` at the root. `name` must be a single valid segment.
    pub fn join(dir: Option<&VaultPath>, name: &str) -> Result<VaultPath, PathError> {
        if name.contains('/') {
            return Err(PathError::ForbiddenChar);
        }
        match dir {
            Some(d) => VaultPath::parse(&format!("{}/{}", d.0, name)),
            None => VaultPath::parse(name),
        }
    }

    /// The same folder with another last segment.
    pub fn with_name(&self, name: &str) -> Result<VaultPath, PathError> {
        VaultPath::join(self.parent().as_ref(), name)
    }

    /// Number of segments: `a` is 1, `a/b` is 2.
    pub fn depth(&self) -> usize {
        self.0.bytes().filter(|b| *b == b'/').count() + 1
    }

    /// True when `self` lies strictly inside `dir`.
    pub fn is_inside(&self, dir: &VaultPath) -> bool {
        self.0.len() > dir.0.len()
            && self.0.starts_with(&dir.0)
            && self.0.as_bytes()[dir.0.len()] == b'/'
    }

    /// Bounds of the paths strictly inside `self` in path order: every `p` with
    /// `lo <= p < hi` lies inside, and only those (`dir/` up to `dir0`, since `0` follows `/`).
    pub(crate) fn inside_bounds(&self) -> (VaultPath, VaultPath) {
        (
            VaultPath(format!("{}/", self.0)),
            VaultPath(format!("{}0", self.0)),
        )
    }

    /// The entries of `map` in the folder of `self` whose names start with `prefix` (`self`
    /// included when its name does). One range of the map: names sharing a prefix are
    /// adjacent in path order, so this costs the matches, not the vault.
    pub(crate) fn siblings_starting_with<'a, V>(
        &self,
        map: &'a std::collections::BTreeMap<VaultPath, V>,
        prefix: &str,
    ) -> impl Iterator<Item = (&'a VaultPath, &'a V)> + 'a {
        let start = match self.0.rfind('/') {
            Some(i) => format!("{}/{prefix}", &self.0[..i]),
            None => prefix.to_owned(),
        };
        let len = start.len();
        map.range(VaultPath(start.clone())..)
            .take_while(move |(p, _)| p.0.starts_with(&start))
            .filter(move |(p, _)| !p.0[len..].contains('/'))
    }

    /// All proper ancestors, outermost first: `a/b/c` gives `a`, `a/b`.
    pub fn ancestors(&self) -> Vec<VaultPath> {
        self.0
            .match_indices('/')
            .map(|(i, _)| VaultPath(self.0[..i].to_owned()))
            .collect()
    }

    /// `self` moved from under `from` to under `to` (`from` must contain or equal `self`).
    pub fn rebase(&self, from: &VaultPath, to: &VaultPath) -> VaultPath {
        if self == from {
            return to.clone();
        }
        debug_assert!(self.is_inside(from));
        VaultPath(format!("{}{}", to.0, &self.0[from.0.len()..]))
    }
}

impl fmt::Display for VaultPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for VaultPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Serialize for VaultPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for VaultPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        VaultPath::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
pub(crate) fn p(s: &str) -> VaultPath {
    VaultPath::parse(s).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siblings_starting_with_finds_only_same_folder_names() {
        let map: std::collections::BTreeMap<VaultPath, ()> = [
            "a (conflict x).md",
            "N/a (conflict x).md",
            "N/a (conflict y) 2.md",
            "N/a (conflict z)/inside.md",
            "N/a.md",
            "N/b (conflict x).md",
            "N/sub/a (conflict x).md",
            "N0/a (conflict x).md",
        ]
        .into_iter()
        .map(|s| (p(s), ()))
        .collect();
        let names = |path: &str| -> Vec<&str> {
            p(path)
                .siblings_starting_with(&map, "a (conflict ")
                .map(|(k, _)| k.as_str())
                .collect()
        };
        assert_eq!(
            names("N/a.md"),
            ["N/a (conflict x).md", "N/a (conflict y) 2.md"]
        );
        assert_eq!(names("a.md"), ["a (conflict x).md"]);
        assert!(names("M/a.md").is_empty());
    }

    #[test]
    fn parse_table() {
        let cases: &[(&str, Result<(), PathError>)] = &[
            ("a.md", Ok(())),
            ("Notes/a.md", Ok(())),
            ("Notes/sub dir/ä ö.md", Ok(())),
            (".env", Ok(())),
            ("a/.hidden/b", Ok(())),
            ("...", Ok(())),
            ("", Err(PathError::Empty)),
            ("/etc/passwd", Err(PathError::Absolute)),
            ("a/", Err(PathError::TrailingSlash)),
            ("a//b", Err(PathError::EmptySegment)),
            ("./a", Err(PathError::DotSegment)),
            ("a/../../x", Err(PathError::DotSegment)),
            ("..", Err(PathError::DotSegment)),
            ("a/b/.", Err(PathError::DotSegment)),
            ("a\0b", Err(PathError::ForbiddenChar)),
            ("a\\b", Err(PathError::ForbiddenChar)),
        ];
        for (input, want) in cases {
            assert_eq!(
                VaultPath::parse(input).map(|_| ()),
                *want,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn unsafe_names() {
        for bad in [
            "a\nb.md",
            "a\r.md",
            "tab\there",
            "evil\u{202E}gpj.exe",
            "x\u{2066}y",
            "\u{7f}",
        ] {
            assert!(unsafe_name(bad), "{bad:?}");
        }
        for good in [
            "Notes/a.md",
            "Заметки/заметка.md",
            "日本語.md",
            "a b (1).md",
            "emoji 🙂.md",
        ] {
            assert!(!unsafe_name(good), "{good:?}");
        }
    }

    #[test]
    fn parts() {
        let x = p("a/b/c.md");
        assert_eq!(x.name(), "c.md");
        assert_eq!(x.parent(), Some(p("a/b")));
        assert_eq!(p("top").parent(), None);
        assert_eq!(x.depth(), 3);
        assert_eq!(x.ancestors(), vec![p("a"), p("a/b")]);
        assert!(x.is_inside(&p("a")));
        assert!(!p("ab/c").is_inside(&p("a")));
        assert!(!p("a").is_inside(&p("a")));
        assert_eq!(x.with_name("d.md").unwrap(), p("a/b/d.md"));
        assert_eq!(VaultPath::join(None, "x").unwrap(), p("x"));
        assert_eq!(VaultPath::join(Some(&p("a")), "x").unwrap(), p("a/x"));
        assert!(VaultPath::join(None, "a/b").is_err());
        assert_eq!(x.rebase(&p("a"), &p("z/y")), p("z/y/b/c.md"));
    }

    #[test]
    fn serde_validates() {
        let ok: VaultPath = serde_json::from_str("\"a/b\"").unwrap();
        assert_eq!(ok, p("a/b"));
        assert!(serde_json::from_str::<VaultPath>("\"../x\"").is_err());
    }
}
