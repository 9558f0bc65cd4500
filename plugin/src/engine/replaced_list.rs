//! The list of recently replaced files (issue 13, "nothing overwritten is lost locally"): each
//! time a pulled edit from another device overwrites a local file that was the synced version,
//! that version is noted here. It stays restorable from the server's history (`history PATH`,
//! `restore PATH --version N`); this list is how the user learns that it happened.
//!
//! Only a clean overwrite is noted ([`replaces_synced`]): a local edit that was never synced is
//! merged or kept as a conflict copy instead (and the conflict list shows that), and creating,
//! marking synced or restoring replaces nothing.
//!
//! Its own storage document, [`REPLACED_KEY`], apart from the engine state, kept like the
//! conflict list (`conflict_list.rs`): written durably *before* the file is overwritten, so a
//! crash in between leaves at worst an entry for a replacement that then happens on the retry.
//!
//! Document shape (version 1):
//! `{"version":1,"replaced":[{"path","sha256","size","version","byDevice","atMs"}]}`, newest
//! first, at most [`MAX_REPLACED`]. A missing, unreadable or newer document reads as empty.

use serde::{Deserialize, Serialize};

use super::incoming::Upsert;

/// Private storage key of the list.
pub const REPLACED_KEY: &str = "replaced";

/// The document version this code writes.
const VERSION: u32 = 1;

/// At most this many entries are kept; older ones fall off (the server keeps the versions).
pub const MAX_REPLACED: usize = 50;

/// One replaced local version (WIT `replaced-file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replaced {
    pub path: String,
    /// Lowercase hex SHA-256 of the replaced content.
    pub sha256: String,
    pub size: u64,
    /// The server version (sequence) of the incoming edit that replaced it (WIT doc): the
    /// replaced content is the path's version before it in `history PATH` (and has `sha256`).
    pub version: i64,
    /// The device whose edit replaced it.
    pub by_device: String,
    /// When, in Unix milliseconds.
    pub at_ms: i64,
}

/// Whether applying `decision` overwrites a local file that is the synced version, and with
/// which local hash: only [`Upsert::Overwrite`] does.
pub(crate) fn replaces_synced(decision: &Upsert) -> Option<&super::hash::ContentHash> {
    match decision {
        Upsert::Overwrite(local) => Some(local),
        _ => None,
    }
}

/// The list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplacedList(pub Vec<Replaced>);

#[derive(Serialize, Deserialize)]
struct Doc {
    version: u32,
    #[serde(default)]
    replaced: Vec<Replaced>,
}

impl ReplacedList {
    pub fn parse(json: Option<&str>) -> ReplacedList {
        match json.and_then(|j| serde_json::from_str::<Doc>(j).ok()) {
            Some(doc) if doc.version <= VERSION => ReplacedList(doc.replaced),
            _ => ReplacedList::default(),
        }
    }

    pub fn to_json(&self) -> String {
        let doc = Doc {
            version: VERSION,
            replaced: self.0.clone(),
        };
        serde_json::to_string(&doc).expect("plain strings and numbers")
    }

    /// Adds `r` at the front, keeping the newest [`MAX_REPLACED`]. The same path and content
    /// already at the front (a retried apply) is not noted twice. Returns whether it changed.
    pub fn record(&mut self, r: Replaced) -> bool {
        let again = self
            .0
            .iter()
            .find(|o| o.path == r.path)
            .is_some_and(|o| o.sha256 == r.sha256 && o.by_device == r.by_device);
        if again {
            return false;
        }
        self.0.insert(0, r);
        self.0.truncate(MAX_REPLACED);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::hash::ContentHash;
    use super::*;

    fn r(path: &str, sha: &str, at: i64) -> Replaced {
        Replaced {
            path: path.into(),
            sha256: sha.into(),
            size: 3,
            version: 7,
            by_device: "dev_b".into(),
            at_ms: at,
        }
    }

    #[test]
    fn only_a_clean_overwrite_is_recorded() {
        let h = ContentHash::of(b"synced");
        let table = [
            ("clean overwrite", Upsert::Overwrite(h.clone()), true),
            (
                "local edit: merge or conflict copy",
                Upsert::MergeOrKeepBoth(h.clone()),
                false,
            ),
            ("nothing was here", Upsert::Create, false),
            ("already the same", Upsert::MarkSynced, false),
            ("incoming goes to a copy", Upsert::IncomingToCopy, false),
            ("restore a deleted file", Upsert::Restore, false),
            ("nothing to do", Upsert::Nothing, false),
        ];
        for (what, decision, recorded) in table {
            assert_eq!(replaces_synced(&decision).is_some(), recorded, "{what}");
        }
        assert_eq!(replaces_synced(&Upsert::Overwrite(h.clone())), Some(&h));
    }

    #[test]
    fn newest_first_and_at_most_fifty() {
        let mut l = ReplacedList::default();
        for i in 0..60 {
            assert!(l.record(r(&format!("n{i}.md"), "s", i)));
        }
        assert_eq!(l.0.len(), MAX_REPLACED);
        assert_eq!(l.0[0].path, "n59.md");
        assert_eq!(l.0[49].path, "n10.md");
    }

    #[test]
    fn a_retried_apply_is_noted_once_but_a_later_replacement_again() {
        let mut l = ReplacedList::default();
        assert!(l.record(r("a.md", "s1", 1)));
        assert!(!l.record(r("a.md", "s1", 2)));
        assert!(l.record(r("a.md", "s2", 3)));
        assert_eq!(l.0.len(), 2);
    }

    #[test]
    fn document_round_trips_and_bad_documents_read_empty() {
        let mut l = ReplacedList::default();
        l.record(r("a.md", "s", 5));
        let json = l.to_json();
        assert_eq!(
            json,
            r#"{"version":1,"replaced":[{"path":"a.md","sha256":"s","size":3,"version":7,"byDevice":"dev_b","atMs":5}]}"#
        );
        assert_eq!(ReplacedList::parse(Some(&json)), l);
        for bad in [None, Some("nope"), Some(r#"{"version":2,"replaced":[]}"#)] {
            assert!(ReplacedList::parse(bad).0.is_empty(), "{bad:?}");
        }
        assert!(ReplacedList::parse(Some(r#"{"version":1}"#)).0.is_empty());
    }
}
