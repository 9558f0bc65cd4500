//! What is never synced: the fixed exclusions of plugin-contract §4.7 and the user-editable
//! ignore list of §5.4.6 (`Rules`).
//!
//! Pattern rules: `*` matches within one segment, `?` one character; a pattern without `/`
//! matches the base name at any depth, one with `/` the path from the root; a trailing `/`
//! matches only directories and everything under them; matching is case-insensitive.

use super::path::VaultPath;

/// The default user-editable ignore list (§5.4.6).
pub const DEFAULT_IGNORE: &[&str] = &[
    ".DS_Store",
    "._*",
    "Thumbs.db",
    "desktop.ini",
    ".~lock.*#",
    "~$*",
    "*.part",
    "*.crdownload",
    ".Trash-*/",
];

/// True for paths that are excluded whatever the ignore list says (§4.7, names only; the
/// type and size rules are applied by the scan).
pub(crate) fn is_excluded(path: &VaultPath) -> bool {
    let s = path.as_str();
    if s.split('/').any(|seg| seg.eq_ignore_ascii_case(".verstak")) {
        return true;
    }
    let name = path.name();
    name.starts_with(".verstak-write-")
        || name.ends_with(".tmp")
        || name.ends_with(".swp")
        || name.ends_with('~')
}

#[derive(Debug, Clone)]
struct Pattern {
    glob: Vec<char>,
    anchored: bool,
    dir_only: bool,
}

/// The compiled ignore list together with the fixed exclusions.
#[derive(Debug, Clone)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules::new(DEFAULT_IGNORE.iter().map(|s| s.to_string()))
    }
}

impl Rules {
    pub fn new(patterns: impl IntoIterator<Item = String>) -> Rules {
        let patterns = patterns
            .into_iter()
            .filter_map(|raw| {
                let raw = raw.trim();
                let dir_only = raw.ends_with('/');
                let body = raw.trim_end_matches('/');
                let anchored = body.contains('/');
                let body = body.trim_start_matches('/');
                if body.is_empty() {
                    return None;
                }
                Some(Pattern {
                    glob: body.to_lowercase().chars().collect(),
                    anchored,
                    dir_only,
                })
            })
            .collect();
        Rules { patterns }
    }

    /// True when `path` (a directory when `is_dir`) must not be synced. A path under an ignored
    /// or excluded directory is ignored too.
    pub fn ignores(&self, path: &VaultPath, is_dir: bool) -> bool {
        if is_excluded(path) {
            return true;
        }
        let lower = path.as_str().to_lowercase();
        let segs: Vec<&str> = lower.split('/').collect();
        for pat in &self.patterns {
            // Candidate prefixes: every ancestor directory, and the path itself.
            for end in 1..=segs.len() {
                let is_self = end == segs.len();
                let candidate_is_dir = !is_self || is_dir;
                if pat.dir_only && !candidate_is_dir {
                    continue;
                }
                let hit = if pat.anchored {
                    glob_match(&pat.glob, &segs[..end].join("/"))
                } else {
                    glob_match(&pat.glob, segs[end - 1])
                };
                if hit {
                    return true;
                }
            }
        }
        false
    }
}

/// `*` matches any run of characters except `/`; `?` matches one character except `/`.
fn glob_match(pat: &[char], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pat.len() && (pat[p] == '?' && text[t] != '/' || pat[p] == text[t] && pat[p] != '*')
        {
            p += 1;
            t += 1;
        } else if p < pat.len() && pat[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            if text[st] == '/' {
                return false;
            }
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while p < pat.len() && pat[p] == '*' {
        p += 1;
    }
    p == pat.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::path::p;

    #[test]
    fn fixed_exclusions() {
        for path in [
            ".verstak/x",
            "a/.VERSTAK/b",
            ".verstak-write-123",
            "a/b.tmp",
            "x.swp",
            "notes.md~",
        ] {
            assert!(is_excluded(&p(path)), "{path}");
        }
        for path in ["verstak/x", "a/.verstakx/b", "tmp.md", "a~b"] {
            assert!(!is_excluded(&p(path)), "{path}");
        }
    }

    #[test]
    fn default_list_table() {
        let rules = Rules::default();
        let cases: &[(&str, bool, bool)] = &[
            (".DS_Store", false, true),
            ("a/b/.ds_store", false, true),
            ("._foo", false, true),
            ("Photos/Thumbs.db", false, true),
            ("desktop.ini", false, true),
            (".~lock.report.odt#", false, true),
            ("~$report.docx", false, true),
            ("dl/file.part", false, true),
            ("x.crdownload", false, true),
            (".Trash-1000", true, true),
            (".Trash-1000/files/a.md", false, true),
            (".Trash-1000", false, false),
            ("notes/a.md", false, false),
            ("part", false, false),
            ("a.partial", false, false),
            ("a/.verstak/x", false, true),
        ];
        for (path, is_dir, want) in cases {
            assert_eq!(
                rules.ignores(&p(path), *is_dir),
                *want,
                "{path} dir={is_dir}"
            );
        }
    }

    #[test]
    fn anchored_and_wildcards() {
        let rules = Rules::new([
            "build/out/".to_string(),
            "docs/*.pdf".to_string(),
            "?.log".to_string(),
        ]);
        assert!(rules.ignores(&p("build/out"), true));
        assert!(rules.ignores(&p("build/out/x/y.md"), false));
        assert!(!rules.ignores(&p("src/build/out/y.md"), false));
        assert!(rules.ignores(&p("docs/a.pdf"), false));
        assert!(rules.ignores(&p("DOCS/A.PDF"), false));
        assert!(!rules.ignores(&p("docs/sub/a.pdf"), false));
        assert!(!rules.ignores(&p("x/docs/a.pdf"), false));
        assert!(rules.ignores(&p("z/a.log"), false));
        assert!(!rules.ignores(&p("ab.log"), false));
    }

    #[test]
    fn glob_star_stays_in_segment() {
        assert!(glob_match(&"a*b".chars().collect::<Vec<_>>(), "axxb"));
        assert!(!glob_match(&"a*b".chars().collect::<Vec<_>>(), "ax/xb"));
        assert!(glob_match(&"*".chars().collect::<Vec<_>>(), ""));
        assert!(glob_match(&"a**".chars().collect::<Vec<_>>(), "abc"));
        assert!(!glob_match(&"abc".chars().collect::<Vec<_>>(), "ab"));
    }
}
