//! The vault trash: what the engine deleted locally, kept restorable.
//!
//! The `files.trash` import moves a file to `.verstak/trash/files/<id>/<vault path>`, where `<id>`
//! is `<unix millis>-<random hex>`: the id alone says when, the path below it says where from,
//! so no separate record is needed. An id folder created by other means (no millis prefix)
//! falls back to the folder's modification time. Nothing here talks to the engine: a restored
//! file is simply a new file in the vault, and the next sync pushes it.
//!
//! Every change runs under the vault lock ([`crate::vault_lock`]), like a sync, so a restore
//! never interleaves with a sync of the same vault.

use crate::confine::{RESERVED, VaultFs, VaultPath};
use cap_std::fs::Dir;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One trashed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrashEntry {
    /// The id folder's name; `trash restore ID` takes it.
    pub id: String,
    /// The vault path the file had.
    pub path: String,
    pub size: u64,
    /// When it was trashed, in Unix milliseconds.
    pub trashed_ms: i64,
}

impl TrashEntry {
    /// `trashed_ms` as RFC 3339 UTC (second precision).
    pub fn trashed_at(&self) -> String {
        verstak_sync_proto::time::rfc3339_from_unix(self.trashed_ms.div_euclid(1000))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "path": self.path,
            "size": self.size,
            "trashed_at": self.trashed_at(),
            "trashed_ms": self.trashed_ms,
        })
    }
}

/// Where one restored file went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub id: String,
    /// The vault path it had.
    pub path: String,
    /// Where it is now: `path`, or a `… (restored N).ext` sibling when `path` was taken.
    pub restored_to: String,
}

/// A trash command's failure, with a stable code.
#[derive(Debug, thiserror::Error)]
pub enum TrashError {
    #[error("no trash entry {0} (see `trash` for the ids)")]
    NotFound(String),
    #[error("cannot restore {path}: {why}")]
    Blocked { path: String, why: String },
    #[error("{0}")]
    Io(String),
}

impl TrashError {
    pub fn code(&self) -> &'static str {
        match self {
            TrashError::NotFound(_) => "trash-not-found",
            TrashError::Blocked { .. } => "trash-restore-blocked",
            TrashError::Io(_) => "io",
        }
    }
}

fn io_err(what: &str, e: io::Error) -> TrashError {
    TrashError::Io(format!("{what}: {e}"))
}

/// `.verstak/trash/files`, relative to the vault root.
fn files_rel() -> PathBuf {
    Path::new(RESERVED).join("trash").join("files")
}

/// Every trashed file, newest first (then by id and path, so the order is stable).
pub fn list(vault: &Path) -> Result<Vec<TrashEntry>, TrashError> {
    let fs = VaultFs::open(vault).map_err(|e| io_err("open the vault", e))?;
    let root = fs.root();
    let base = match root.open_dir(files_rel()) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("open the trash", e)),
    };
    let mut out = Vec::new();
    for e in base.entries().map_err(|e| io_err("read the trash", e))? {
        let e = e.map_err(|e| io_err("read the trash", e))?;
        let Some(id) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let when = id_millis(&id).unwrap_or_else(|| {
            e.metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .map_or(0, |t| millis(t.into_std()))
        });
        let dir = base
            .open_dir(&id)
            .map_err(|e| io_err("read the trash", e))?;
        let mut files = Vec::new();
        walk(&dir, PathBuf::new(), &mut files).map_err(|e| io_err("read the trash", e))?;
        out.extend(files.into_iter().map(|(path, size)| TrashEntry {
            id: id.clone(),
            path,
            size,
            trashed_ms: when,
        }));
    }
    out.sort_by(|a, b| {
        b.trashed_ms
            .cmp(&a.trashed_ms)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok(out)
}

/// The millis prefix of an id the `files.trash` import made (`1765000000000-a1b2c3`).
fn id_millis(id: &str) -> Option<i64> {
    let (ms, _) = id.split_once('-')?;
    ms.parse().ok()
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The regular files below `dir` as (slash path, size); symlinks are skipped (never synced).
fn walk(dir: &Dir, prefix: PathBuf, out: &mut Vec<(String, u64)>) -> io::Result<()> {
    for e in dir.entries()? {
        let e = e?;
        let name = PathBuf::from(e.file_name());
        let ty = e.file_type()?;
        if ty.is_dir() {
            walk(&dir.open_dir(&name)?, prefix.join(&name), out)?;
        } else if ty.is_file() {
            let path = prefix.join(&name);
            if let Some(p) = path.to_str() {
                out.push((p.to_string(), e.metadata()?.len()));
            }
        }
    }
    Ok(())
}

/// Moves every file of each id back to its vault path. A path that is taken now keeps what is
/// there: the file comes back beside it as `name (restored).ext` (or `(restored 2)`, …). The
/// emptied id folder is removed. Ids are all checked before anything moves.
pub fn restore(vault: &Path, ids: &[String]) -> Result<Vec<Restored>, TrashError> {
    let all = list(vault)?;
    if let Some(missing) = ids.iter().find(|id| !all.iter().any(|e| &e.id == *id)) {
        return Err(TrashError::NotFound(missing.clone()));
    }
    let fs = VaultFs::open(vault).map_err(|e| io_err("open the vault", e))?;
    let mut out = Vec::new();
    for id in ids {
        for entry in all.iter().filter(|e| &e.id == id) {
            out.push(restore_one(&fs, entry)?);
        }
        let dir = files_rel().join(id);
        let _ = remove_empty_dirs(fs.root(), &dir);
        sync_dir(fs.root(), &files_rel()).map_err(|e| io_err("sync the trash folder", e))?;
    }
    Ok(out)
}

fn restore_one(fs: &VaultFs, entry: &TrashEntry) -> Result<Restored, TrashError> {
    let blocked = |why: String| TrashError::Blocked {
        path: entry.path.clone(),
        why,
    };
    let path = VaultPath::parse(&entry.path).map_err(|e| blocked(e.to_string()))?;
    fs.refuse_symlinks(&path).map_err(|e| blocked(e.message))?;
    let root = fs.root();
    let parent = path.parent();
    if !parent.as_os_str().is_empty() {
        root.create_dir_all(parent)
            .map_err(|e| blocked(format!("cannot create its folder: {e}")))?;
    }
    let src = files_rel().join(&entry.id).join(path.as_path());
    let mut n = 0;
    loop {
        let to = candidate(&path, n);
        match place(root, &src, &to) {
            Ok(()) => {
                sync_dir(root, parent).map_err(|e| io_err("sync the folder", e))?;
                return Ok(Restored {
                    id: entry.id.clone(),
                    path: entry.path.clone(),
                    restored_to: to,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(io_err(&format!("restore {}", entry.path), e)),
        }
    }
}

/// The `n`th destination tried for `path`: itself, then `name (restored).ext`,
/// `name (restored 2).ext`, … in the same folder.
fn candidate(path: &VaultPath, n: u32) -> String {
    if n == 0 {
        return path.as_str().to_string();
    }
    let name = path.name();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => name.split_at(i),
        _ => (name, ""),
    };
    let tag = if n == 1 {
        " (restored)".to_string()
    } else {
        format!(" (restored {n})")
    };
    let file = format!("{stem}{tag}{ext}");
    match path.as_str().rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{file}"),
        None => file,
    }
}

/// Moves `src` to `to` without ever replacing what is at `to` (`AlreadyExists` then): a hard
/// link fails on an existing name atomically; where links are unsupported, a checked rename.
fn place(root: &Dir, src: &Path, to: &str) -> io::Result<()> {
    match root.hard_link(src, root, to) {
        Ok(()) => root.remove_file(src),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => {
            if root.symlink_metadata(to).is_ok() {
                return Err(io::Error::from(io::ErrorKind::AlreadyExists));
            }
            root.rename(src, root, to)
        }
    }
}

/// Removes `dir` and its sub-folders when they hold no files.
fn remove_empty_dirs(root: &Dir, dir: &Path) -> io::Result<()> {
    for e in root.read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            remove_empty_dirs(root, &dir.join(e.file_name()))?;
        }
    }
    root.remove_dir(dir)
}

fn sync_dir(root: &Dir, dir: &Path) -> io::Result<()> {
    // `open_dir` gives an `O_PATH` handle, which cannot be fsynced; a read-only open can.
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    root.open(dir)?.sync_all()
}

/// Deletes for good the trash entries trashed more than `days` days before `now`; returns how
/// many files went.
pub fn empty_older_than(vault: &Path, days: u32, now: SystemTime) -> Result<usize, TrashError> {
    let cutoff = millis(now)
        - i64::try_from(Duration::from_secs(u64::from(days) * 86_400).as_millis())
            .unwrap_or(i64::MAX);
    let all = list(vault)?;
    let fs = VaultFs::open(vault).map_err(|e| io_err("open the vault", e))?;
    let mut ids: Vec<&str> = all
        .iter()
        .filter(|e| e.trashed_ms < cutoff)
        .map(|e| e.id.as_str())
        .collect();
    ids.dedup();
    let mut n = 0;
    for id in ids {
        n += all.iter().filter(|e| e.id == id).count();
        fs.root()
            .remove_dir_all(files_rel().join(id))
            .map_err(|e| io_err(&format!("empty trash entry {id}"), e))?;
    }
    if n > 0 {
        sync_dir(fs.root(), &files_rel()).map_err(|e| io_err("sync the trash folder", e))?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn put(vault: &Path, rel: &str, bytes: &[u8]) {
        let p = vault.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }

    #[test]
    fn lists_newest_first_with_path_size_and_time() {
        let v = tempfile::tempdir().unwrap();
        put(v.path(), ".verstak/trash/files/1000-aa/n/a.md", b"abc");
        put(v.path(), ".verstak/trash/files/3000-bb/b.md", b"hello");
        let got = list(v.path()).unwrap();
        let brief: Vec<_> = got
            .iter()
            .map(|e| (e.id.as_str(), e.path.as_str(), e.size, e.trashed_ms))
            .collect();
        assert_eq!(
            brief,
            [("3000-bb", "b.md", 5, 3000), ("1000-aa", "n/a.md", 3, 1000)]
        );
        assert_eq!(got[0].trashed_at(), "1970-01-01T00:00:03Z");
    }

    #[test]
    fn an_empty_or_missing_trash_lists_nothing() {
        let v = tempfile::tempdir().unwrap();
        assert!(list(v.path()).unwrap().is_empty());
    }

    #[test]
    fn an_id_without_millis_uses_the_folder_time() {
        let v = tempfile::tempdir().unwrap();
        put(v.path(), ".verstak/trash/files/old/x.md", b"x");
        let got = list(v.path()).unwrap();
        assert_eq!(got.len(), 1);
        let age = millis(SystemTime::now()) - got[0].trashed_ms;
        assert!((0..60_000).contains(&age), "age {age} ms");
    }

    #[test]
    fn restore_moves_back_and_never_overwrites() {
        let v = tempfile::tempdir().unwrap();
        put(v.path(), ".verstak/trash/files/1-aa/n/a.md", b"old");
        put(v.path(), ".verstak/trash/files/2-bb/n/a.md", b"older");
        put(v.path(), ".verstak/trash/files/3-cc/n/a.md", b"oldest");
        put(v.path(), ".verstak/trash/files/4-dd/top.md", b"t");
        put(v.path(), "top.md", b"now");
        let r = restore(v.path(), &["4-dd".into()]).unwrap();
        assert_eq!(r[0].restored_to, "top (restored).md");
        let r = restore(v.path(), &["1-aa".into()]).unwrap();
        assert_eq!(r[0].restored_to, "n/a.md");
        assert_eq!(fs::read(v.path().join("n/a.md")).unwrap(), b"old");
        assert!(!v.path().join(".verstak/trash/files/1-aa").exists());

        let r = restore(v.path(), &["2-bb".into(), "3-cc".into()]).unwrap();
        let to: Vec<_> = r.iter().map(|r| r.restored_to.as_str()).collect();
        assert_eq!(to, ["n/a (restored).md", "n/a (restored 2).md"]);
        assert_eq!(fs::read(v.path().join("n/a.md")).unwrap(), b"old");
        assert_eq!(
            fs::read(v.path().join("n/a (restored).md")).unwrap(),
            b"older"
        );
        assert!(list(v.path()).unwrap().is_empty());
    }

    #[test]
    fn an_unknown_id_moves_nothing() {
        let v = tempfile::tempdir().unwrap();
        put(v.path(), ".verstak/trash/files/1-aa/a.md", b"x");
        let e = restore(v.path(), &["1-aa".into(), "nope".into()]).unwrap_err();
        assert_eq!(e.code(), "trash-not-found");
        assert!(!v.path().join("a.md").exists());
        assert_eq!(list(v.path()).unwrap().len(), 1);
    }

    #[test]
    fn a_file_in_the_way_of_the_folder_blocks_with_a_code() {
        let v = tempfile::tempdir().unwrap();
        put(v.path(), ".verstak/trash/files/1-aa/n/a.md", b"x");
        put(v.path(), "n", b"a file now");
        let e = restore(v.path(), &["1-aa".into()]).unwrap_err();
        assert_eq!(e.code(), "trash-restore-blocked");
        assert_eq!(list(v.path()).unwrap().len(), 1, "the trashed file stays");
    }

    #[test]
    fn restore_refuses_a_symlink_in_the_way() {
        let v = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        put(v.path(), ".verstak/trash/files/1-aa/n/a.md", b"x");
        std::os::unix::fs::symlink(outside.path(), v.path().join("n")).unwrap();
        let e = restore(v.path(), &["1-aa".into()]).unwrap_err();
        assert_eq!(e.code(), "trash-restore-blocked");
        assert!(!outside.path().join("a.md").exists());
    }

    #[test]
    fn empty_older_than_keeps_the_recent_entries() {
        let v = tempfile::tempdir().unwrap();
        let day: u64 = 86_400_000;
        put(
            v.path(),
            &format!(".verstak/trash/files/{}-aa/a.md", 9 * day),
            b"a",
        );
        put(
            v.path(),
            &format!(".verstak/trash/files/{}-bb/b.md", 39 * day),
            b"b",
        );
        let now = UNIX_EPOCH + Duration::from_millis(40 * day);
        assert_eq!(empty_older_than(v.path(), 30, now).unwrap(), 1);
        let left: Vec<_> = list(v.path())
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(left, ["b.md"]);
    }
}
