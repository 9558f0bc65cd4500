//! The persistent list of conflicts (issue 14 item 5): every conflict copy a sync run kept
//! (plugin-contract §5.4.2 "keep both"), until the user dismisses it or deletes the copy.
//!
//! Its own storage document, [`CONFLICTS_KEY`], apart from the engine state: it is written
//! when a copy is about to be made (so a crash right after the copy cannot lose the entry)
//! and when the list changes at the end of a run or on `dismiss-conflicts`. The status reads
//! it as it is (`status().conflicts`, this engine's extension of §3.2). Plain data and pure
//! rules; `run/` does the reads and writes.
//!
//! Document shape (version 1):
//! `{"version":1,"conflicts":[{"id","path","copyPath","localIsCopy","remoteDeviceId","at"}]}`,
//! oldest first. A missing, unreadable or newer document reads as the empty list.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Private storage key of the conflict list.
pub const CONFLICTS_KEY: &str = "conflicts";

/// The document version this code writes.
const VERSION: u32 = 1;

/// At most this many conflicts are kept; older ones fall off (the copies stay on disk).
pub const MAX_CONFLICTS: usize = 200;

/// One conflict copy kept by a sync run (WIT `conflict`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// Stable id, for `dismiss-conflicts`.
    pub id: String,
    /// The path both versions claimed.
    pub path: String,
    /// Where the other version was kept.
    pub copy_path: String,
    /// The copy holds this device's version (the incoming one took `path`).
    pub local_is_copy: bool,
    /// The device whose change met this device's (empty when unknown).
    pub remote_device_id: String,
    /// RFC 3339, when the copy was made.
    pub at: String,
}

impl Conflict {
    /// A new conflict; its id is derived from what identifies it (path, copy path, time).
    pub fn new(
        path: &str,
        copy_path: &str,
        local_is_copy: bool,
        remote_device_id: &str,
        at: &str,
    ) -> Conflict {
        let mut h = Sha256::new();
        for part in [path, copy_path, at] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        Conflict {
            id: format!("c_{}", &hex::encode(h.finalize())[..16]),
            path: path.to_string(),
            copy_path: copy_path.to_string(),
            local_is_copy,
            remote_device_id: remote_device_id.to_string(),
            at: at.to_string(),
        }
    }
}

/// The list, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConflictList(pub Vec<Conflict>);

#[derive(Serialize, Deserialize)]
struct Doc {
    version: u32,
    #[serde(default)]
    conflicts: Vec<Conflict>,
}

impl ConflictList {
    pub fn parse(json: Option<&str>) -> ConflictList {
        match json.and_then(|j| serde_json::from_str::<Doc>(j).ok()) {
            Some(doc) if doc.version <= VERSION => ConflictList(doc.conflicts),
            _ => ConflictList::default(),
        }
    }

    pub fn to_json(&self) -> String {
        let doc = Doc {
            version: VERSION,
            conflicts: self.0.clone(),
        };
        serde_json::to_string(&doc).expect("plain strings and bools")
    }

    /// Adds `c` unless a conflict with the same path and copy path is listed; keeps the newest
    /// [`MAX_CONFLICTS`]. Returns whether the list changed.
    pub fn record(&mut self, c: Conflict) -> bool {
        if self
            .0
            .iter()
            .any(|o| o.path == c.path && o.copy_path == c.copy_path)
        {
            return false;
        }
        self.0.push(c);
        let over = self.0.len().saturating_sub(MAX_CONFLICTS);
        self.0.drain(..over);
        true
    }

    /// Removes the conflicts with these ids (unknown ids are ignored). Returns whether the
    /// list changed.
    pub fn dismiss(&mut self, ids: &[String]) -> bool {
        let before = self.0.len();
        self.0.retain(|c| !ids.contains(&c.id));
        self.0.len() != before
    }

    /// Renames the paths of the listed conflicts: `moved` gives a path's new name, or `None`
    /// when it did not move (a folder moved by another device). Returns whether anything moved.
    pub fn rename(&mut self, mut moved: impl FnMut(&str) -> Option<String>) -> bool {
        let mut changed = false;
        for c in &mut self.0 {
            for p in [&mut c.path, &mut c.copy_path] {
                if let Some(new) = moved(p) {
                    *p = new;
                    changed = true;
                }
            }
        }
        changed
    }

    /// Drops the conflicts whose copy is gone (`copy_exists` says false): the user resolved
    /// them by deleting or renaming the copy. Returns whether the list changed.
    pub fn prune(&mut self, mut copy_exists: impl FnMut(&str) -> bool) -> bool {
        let before = self.0.len();
        self.0.retain(|c| copy_exists(&c.copy_path));
        self.0.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(path: &str, copy: &str, at: &str) -> Conflict {
        Conflict::new(path, copy, true, "dev_b", at)
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = c(
            "n.md",
            "n (conflict x 2026-01-01 1200).md",
            "2026-01-01T12:00:00Z",
        );
        assert_eq!(a, a.clone());
        assert_eq!(
            a.id,
            c(
                "n.md",
                "n (conflict x 2026-01-01 1200).md",
                "2026-01-01T12:00:00Z"
            )
            .id
        );
        assert_eq!(a.id.len(), 18);
        assert!(a.id.starts_with("c_"));
        let b = c(
            "n.md",
            "n (conflict x 2026-01-01 1200 2).md",
            "2026-01-01T12:00:00Z",
        );
        assert_ne!(a.id, b.id);
    }

    #[test]
    fn the_document_round_trips_and_bad_ones_read_as_empty() {
        let mut l = ConflictList::default();
        l.record(c("a.md", "a (conflict x).md", "t1"));
        let json = l.to_json();
        assert!(
            json.starts_with(r#"{"version":1,"conflicts":[{"id":"c_"#),
            "{json}"
        );
        assert!(json.contains(r#""copyPath":"a (conflict x).md","localIsCopy":true"#));
        assert!(json.contains(r#""remoteDeviceId":"dev_b","at":"t1""#));
        assert_eq!(ConflictList::parse(Some(&json)), l);
        for bad in [
            None,
            Some(""),
            Some("[1]"),
            Some(r#"{"version":2,"conflicts":[]}"#),
        ] {
            assert_eq!(ConflictList::parse(bad), ConflictList::default(), "{bad:?}");
        }
    }

    #[test]
    fn record_skips_a_listed_copy_and_keeps_the_newest() {
        let mut l = ConflictList::default();
        assert!(l.record(c("a.md", "a (conflict x).md", "t1")));
        assert!(!l.record(c("a.md", "a (conflict x).md", "t2")), "same copy");
        assert_eq!(l.0.len(), 1);
        for i in 0..MAX_CONFLICTS + 5 {
            l.record(c(&format!("f{i}.md"), &format!("f{i} (c).md"), "t"));
        }
        assert_eq!(l.0.len(), MAX_CONFLICTS);
        assert_eq!(l.0[0].path, "f5.md", "the oldest fell off");
        assert_eq!(
            l.0.last().unwrap().path,
            format!("f{}.md", MAX_CONFLICTS + 4)
        );
    }

    #[test]
    fn dismiss_and_prune_remove_only_what_they_name() {
        let mut l = ConflictList::default();
        l.record(c("a.md", "a (c).md", "t"));
        l.record(c("b.md", "b (c).md", "t"));
        l.record(c("d.md", "d (c).md", "t"));
        let a = l.0[0].id.clone();
        assert!(!l.dismiss(&["nope".into()]));
        assert!(l.dismiss(&[a, "nope".into()]));
        assert_eq!(l.0.len(), 2);
        assert!(!l.prune(|_| true));
        assert!(l.prune(|p| p != "b (c).md"));
        assert_eq!(
            l.0.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
            ["d.md"]
        );
    }

    #[test]
    fn rename_moves_both_paths_and_keeps_the_id() {
        let mut l = ConflictList::default();
        l.record(c("A/n.md", "A/n (c).md", "t"));
        l.record(c("B/n.md", "B/n (c).md", "t"));
        let id = l.0[0].id.clone();
        let moved = |p: &str| p.strip_prefix("A/").map(|rest| format!("Z/{rest}"));
        assert!(l.rename(moved));
        assert_eq!(
            (l.0[0].path.as_str(), l.0[0].copy_path.as_str()),
            ("Z/n.md", "Z/n (c).md")
        );
        assert_eq!(l.0[0].id, id);
        assert_eq!(l.0[1].path, "B/n.md");
        assert!(!l.rename(|_| None));
    }
}
