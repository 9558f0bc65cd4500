//! The vault's file-system watcher (`notify`'s recommended watcher: inotify on Linux), turned
//! into [`Input`]s: the vault paths that changed, or a gap.
//!
//! * Blind to `.verstak/` (the engine's state, temp and trash files, the settings): events
//!   under it are dropped here. The engine's writes to vault files are recognised later, when
//!   the debounced batch is flushed (`super::writes`).
//! * Reads are not changes: access events (the engine's scan opens every file) are dropped.
//! * A queue overflow (`Rescan`) or a watcher error is a gap: the next sync scans everything.
//! * Paths that are not UTF-8 cannot be named to the engine: they make a gap too.

use super::Input;
use notify::event::{EventKind, Flag};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::path::{Component, Path};
use std::sync::mpsc::Sender;

/// The watcher; events flow while it lives.
pub(crate) struct FsWatcher {
    _inner: RecommendedWatcher,
}

/// Watches `root` (canonical) recursively and sends what changed to `tx`.
pub(crate) fn start(root: &Path, tx: Sender<Input>) -> notify::Result<FsWatcher> {
    let base = root.to_path_buf();
    let mut inner = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let input = match res {
            Ok(event) => classify(&base, &event),
            Err(e) => {
                tracing::warn!("file watcher error: {e}");
                Some(Input::Gap)
            }
        };
        if let Some(input) = input {
            let _ = tx.send(input);
        }
    })?;
    inner.watch(root, RecursiveMode::Recursive)?;
    Ok(FsWatcher { _inner: inner })
}

/// What one event means for the sync.
fn classify(root: &Path, event: &notify::Event) -> Option<Input> {
    if event.flag() == Some(Flag::Rescan) {
        return Some(Input::Gap);
    }
    if matches!(event.kind, EventKind::Access(_)) {
        return None;
    }
    let mut paths = Vec::new();
    for p in &event.paths {
        match vault_path(root, p) {
            Rel::Path(rel) => paths.push(rel),
            Rel::Ignored => {}
            Rel::Unnamable => return Some(Input::Gap),
        }
    }
    (!paths.is_empty()).then_some(Input::Changed(paths))
}

enum Rel {
    Path(String),
    Ignored,
    Unnamable,
}

/// `root/a/b.md` → `a/b.md`; `.verstak/…` and the root itself are ignored.
fn vault_path(root: &Path, path: &Path) -> Rel {
    let Ok(rel) = path.strip_prefix(root) else {
        return Rel::Ignored;
    };
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => match s.to_str() {
                Some(s) => parts.push(s),
                None => return Rel::Unnamable,
            },
            _ => return Rel::Ignored,
        }
    }
    match parts.first() {
        None => Rel::Ignored,
        Some(&".verstak") => Rel::Ignored,
        Some(_) => Rel::Path(parts.join("/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, ModifyKind};
    use std::path::PathBuf;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    fn ev(kind: EventKind, paths: &[&str]) -> notify::Event {
        let mut e = notify::Event::new(kind);
        for p in paths {
            e = e.add_path(PathBuf::from(p));
        }
        e
    }

    #[test]
    fn events_become_vault_paths_or_gaps() {
        let root = Path::new("/v");
        let changed = |i: Option<Input>| match i {
            Some(Input::Changed(p)) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            changed(classify(
                root,
                &ev(EventKind::Create(CreateKind::File), &["/v/a/b.md"])
            )),
            ["a/b.md"]
        );
        assert!(
            classify(
                root,
                &ev(EventKind::Modify(ModifyKind::Any), &["/v/.verstak/x"])
            )
            .is_none()
        );
        assert!(classify(root, &ev(EventKind::Access(AccessKind::Any), &["/v/a.md"])).is_none());
        assert!(classify(root, &ev(EventKind::Modify(ModifyKind::Any), &["/v"])).is_none());
        assert!(
            classify(
                root,
                &ev(EventKind::Modify(ModifyKind::Any), &["/elsewhere/a"])
            )
            .is_none()
        );
        let rescan = notify::Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert!(matches!(classify(root, &rescan), Some(Input::Gap)));
    }

    /// The real watcher on a real folder: a write is reported, `.verstak/` is not, and a new
    /// folder is reported as the folder (a file written into it before its watch was added
    /// is covered by it: `sync-changed` scans everything under a folder path).
    #[test]
    fn a_real_write_is_seen_and_verstak_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join(".verstak")).unwrap();
        std::fs::create_dir(root.join("old")).unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = start(&root, tx).unwrap();
        std::fs::write(root.join(".verstak/state.json"), "x").unwrap();
        std::fs::write(root.join("old/a.md"), "hello").unwrap();
        std::fs::create_dir(root.join("notes")).unwrap();
        std::fs::write(root.join("notes/b.md"), "hello").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = std::collections::BTreeSet::new();
        while !(seen.contains("old/a.md") && seen.contains("notes")) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Input::Changed(p)) => seen.extend(p),
                Ok(other) => panic!("unexpected {other:?}"),
                Err(_) => panic!("the write was not reported; saw {seen:?}"),
            }
        }
        assert!(seen.iter().all(|p| !p.starts_with(".verstak")), "{seen:?}");
    }
}
