//! What the engine itself wrote during the last sync run, so the file watcher can tell the
//! engine's own writes from the user's.
//!
//! The `files` import notes every vault path it creates, replaces, renames, trashes or removes
//! (and the folders above it, whose entries change too), with the path's fingerprint right
//! after the write. When the watcher later reports an event for such a path, the path is the
//! engine's own write exactly when its fingerprint is still the recorded one: a user's edit
//! after the engine's write changes the size, the modification time, the inode or the change
//! time, and is kept. This is robust against event latency (the check runs when the debounced
//! batch is flushed, not when the event arrives) and against a user editing the same file
//! during the run.
//!
//! Recording is off unless a live loop turned it on ([`WriteLog::enable`]), so one-shot CLI
//! calls pay nothing.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// What identifies one state of a path: `None` is "absent".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    dir: bool,
    len: u64,
    ino: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

/// The fingerprint of `root/rel` now; `None` when it does not exist (or cannot be read).
pub(crate) fn fingerprint(root: &Path, rel: &str) -> Option<Fingerprint> {
    let m = std::fs::symlink_metadata(root.join(rel)).ok()?;
    Some(Fingerprint {
        dir: m.is_dir(),
        len: if m.is_dir() { 0 } else { m.len() },
        ino: m.ino(),
        mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
    })
}

/// Path → fingerprint after the engine's write; `None` while recording is off.
type Recorded = Option<BTreeMap<String, Option<Fingerprint>>>;

/// A handle shared by the component's `HostState` (which notes) and the live loop (which asks).
#[derive(Debug, Clone, Default)]
pub struct WriteLog {
    inner: Arc<Mutex<Recorded>>,
}

impl WriteLog {
    /// Starts recording (a live loop runs).
    pub(crate) fn enable(&self) {
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        g.get_or_insert_with(BTreeMap::new);
    }

    /// Forgets the previous run's writes; called when a run starts.
    pub(crate) fn clear(&self) {
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(map) = g.as_mut() {
            map.clear();
        }
    }

    /// Records `rel` (a vault path the engine just wrote or removed) and its folders.
    pub(crate) fn note(&self, root: &Path, rel: &str) {
        let mut g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(map) = g.as_mut() else { return };
        map.insert(rel.to_string(), fingerprint(root, rel));
        let mut dir = rel;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            map.insert(parent.to_string(), fingerprint(root, parent));
            dir = parent;
        }
    }

    /// True when `rel` is as the engine left it in the last run.
    pub(crate) fn is_own(&self, root: &Path, rel: &str) -> bool {
        let g = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        g.as_ref()
            .and_then(|map| map.get(rel))
            .is_some_and(|recorded| *recorded == fingerprint(root, rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_own_until_someone_else_changes_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let log = WriteLog::default();
        std::fs::create_dir(root.join("d")).unwrap();
        std::fs::write(root.join("d/a.md"), "engine").unwrap();
        log.note(root, "d/a.md");
        assert!(
            !log.is_own(root, "d/a.md"),
            "nothing is recorded before enable"
        );
        log.enable();
        log.note(root, "d/a.md");
        assert!(log.is_own(root, "d/a.md"));
        assert!(log.is_own(root, "d"), "the folder the write changed");
        assert!(!log.is_own(root, "other.md"), "never written");
        std::fs::write(root.join("d/a.md"), "the user's edit").unwrap();
        assert!(!log.is_own(root, "d/a.md"));
        std::fs::write(root.join("d/b.md"), "new").unwrap();
        assert!(!log.is_own(root, "d"), "a user's file changed the folder");
    }

    #[test]
    fn a_removal_is_own_while_the_path_stays_absent() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let log = WriteLog::default();
        log.enable();
        log.note(root, "gone.md");
        assert!(log.is_own(root, "gone.md"));
        std::fs::write(root.join("gone.md"), "recreated").unwrap();
        assert!(!log.is_own(root, "gone.md"));
        log.clear();
        std::fs::remove_file(root.join("gone.md")).unwrap();
        assert!(
            !log.is_own(root, "gone.md"),
            "a new run forgets the old writes"
        );
    }
}
