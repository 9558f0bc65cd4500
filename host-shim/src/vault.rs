//! Where the host keeps the plugin's per-vault state, and how it writes it.
//!
//! Everything lives under `<vault>/.verstak/`, which the plugin can never reach through the
//! `files` import and which is never synced.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The on-disk places of one plugin in one vault.
#[derive(Debug, Clone)]
pub struct VaultDirs {
    pub root: PathBuf,
    plugin_id: String,
}

impl VaultDirs {
    /// `root` must be an existing directory; it is made absolute so later `chdir`s don't matter.
    pub fn open(root: &Path, plugin_id: &str) -> std::io::Result<VaultDirs> {
        let root = fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(VaultDirs {
            root,
            plugin_id: plugin_id.to_string(),
        })
    }

    /// `<vault>/.verstak/plugin-settings/<id>/settings.json` (plugin-contract §2.2).
    pub fn settings_file(&self) -> PathBuf {
        self.root
            .join(".verstak/plugin-settings")
            .join(&self.plugin_id)
            .join("settings.json")
    }

    /// `<vault>/.verstak/plugin-data/<id>/`, the plugin's private storage (§2.3).
    pub fn data_dir(&self) -> PathBuf {
        self.root.join(self.data_rel())
    }

    /// [`VaultDirs::data_dir`] relative to the vault root, for the root-relative `Dir` APIs.
    pub fn data_rel(&self) -> PathBuf {
        Path::new(".verstak/plugin-data").join(&self.plugin_id)
    }

    /// `<data>/engine/`: the `storage` import's documents, apart from the bridge's `documents/`.
    pub fn engine_dir(&self) -> PathBuf {
        self.data_dir().join("engine")
    }

    /// `<data>/staging/` relative to the root: the `files` import's staging files.
    pub fn staging_rel(&self) -> PathBuf {
        self.data_rel().join("staging")
    }

    /// `<data>/tmp/` relative to the root: the `files` import's temp files before they are
    /// renamed into place (inside the vault's file system, outside the synced part).
    pub fn temp_rel(&self) -> PathBuf {
        self.data_rel().join("tmp")
    }

    /// `<vault>/.verstak/vault.json`, written by the desktop; may hold the vault's `id`.
    pub fn vault_json(&self) -> PathBuf {
        self.root.join(".verstak/vault.json")
    }

    /// `<data>/vault-id`: the id the host generated when the desktop left none.
    pub fn vault_id_file(&self) -> PathBuf {
        self.data_dir().join("vault-id")
    }

    /// `<data>/host/paired-server`: the server URL of the last successful `configure`, written
    /// by the host only (the component's `storage` keys live in `engine/`), so the component
    /// cannot point the network allow-list elsewhere.
    pub fn paired_server_file(&self) -> PathBuf {
        self.data_dir().join("host/paired-server")
    }

    /// The server URL of the last successful `configure`, if any.
    pub fn paired_server(&self) -> std::io::Result<Option<String>> {
        match fs::read_to_string(self.paired_server_file()) {
            Ok(url) => Ok(Some(url.trim().to_string()).filter(|u| !u.is_empty())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Records (or with `None` forgets) the paired server.
    pub fn set_paired_server(&self, url: Option<&str>) -> std::io::Result<()> {
        match url {
            Some(url) => write_atomic(&self.paired_server_file(), url.as_bytes(), 0o600),
            None => match fs::remove_file(self.paired_server_file()) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    pub fn plugin_id(&self) -> &str {
        &self.plugin_id
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new content:
/// write a temp file beside it, fsync, rename over, fsync the directory. The file gets `mode`.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    write_via_temp(path, bytes, mode, true)
}

/// [`write_atomic`] without the fsyncs: readers never see a half-written file while the
/// machine runs, but after a power loss the file may be missing, empty or torn. For caches
/// whose content is checked when read.
pub fn write_cache(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    write_via_temp(path, bytes, mode, false)
}

/// Creates the private (0700) folder that holds the state file `path`, and returns it.
fn state_dir(path: &Path) -> std::io::Result<&Path> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = path
        .parent()
        .expect("state files always have a parent directory");
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    Ok(dir)
}

/// Appends `bytes` to `path` (created with `mode` when missing) and fsyncs it; a new file's
/// directory is fsynced too. Refuses, writing nothing, when the file would grow past `max` bytes
/// (`Ok(false)`). A crash may leave a prefix of `bytes` at the end: readers tolerate a torn tail.
pub fn append_durable(path: &Path, bytes: &[u8], mode: u32, max: u64) -> std::io::Result<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = state_dir(path)?;
    let mut f = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode)
        .open(path)?;
    let len = f.metadata()?.len();
    if len + bytes.len() as u64 > max {
        return Ok(false);
    }
    f.write_all(bytes)?;
    f.sync_data()?;
    if len == 0 {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(true)
}

/// A suffix for temp file names, unique within this process and unlikely to be taken by
/// another: a counter after a random seed drawn once (one `getrandom` per process, not one per
/// temp file). Callers create with `create_new` and try again on the rare clash.
pub(crate) fn unique_suffix() -> std::io::Result<String> {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEED: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seed = match SEED.get() {
        Some(s) => *s,
        None => {
            let mut b = [0u8; 8];
            getrandom::fill(&mut b)
                .map_err(|e| std::io::Error::other(format!("no randomness: {e}")))?;
            *SEED.get_or_init(|| u64::from_le_bytes(b))
        }
    };
    Ok(format!(
        "{seed:016x}-{:x}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

fn write_via_temp(path: &Path, bytes: &[u8], mode: u32, durable: bool) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .expect("state files always have a parent directory");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true).mode(mode);
    // The folder exists for all but the first document: make it only when the create says so.
    let (mut made_dir, mut clashes) = (false, 0);
    let (tmp, mut f) = loop {
        let tmp = dir.join(format!(".{name}.tmp-{}", unique_suffix()?));
        match opts.open(&tmp) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !made_dir => {
                state_dir(path)?;
                made_dir = true;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && clashes < 8 => {
                clashes += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let result = (|| {
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        if durable {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_replaces_content_and_sets_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/settings.json");
        write_atomic(&path, b"{\"x\":1}", 0o600).unwrap();
        write_atomic(&path, b"{\"x\":2}", 0o600).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"x\":2}");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file is left behind");
    }

    #[test]
    fn temp_suffixes_share_a_seed_and_never_repeat() {
        let names: Vec<String> = (0..100).map(|_| unique_suffix().unwrap()).collect();
        let distinct: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        let seed = |n: &String| n.split('-').next().unwrap().to_string();
        assert!(names.iter().all(|n| seed(n) == seed(&names[0])));
    }

    #[test]
    fn a_state_file_whose_folder_vanished_is_written_all_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine/doc.json");
        write_cache(&path, b"1", 0o600).unwrap();
        fs::remove_dir_all(dir.path().join("engine")).unwrap();
        write_cache(&path, b"2", 0o600).unwrap();
        write_atomic(&path, b"3", 0o600).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "3");
        assert_eq!(
            fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
    }

    #[test]
    fn state_paths_follow_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let v = VaultDirs::open(dir.path(), "verstak.sync").unwrap();
        assert!(
            v.settings_file()
                .ends_with(".verstak/plugin-settings/verstak.sync/settings.json")
        );
        assert!(v.data_dir().ends_with(".verstak/plugin-data/verstak.sync"));
        assert_eq!(
            v.staging_rel(),
            Path::new(".verstak/plugin-data/verstak.sync/staging")
        );
        assert!(
            v.engine_dir()
                .ends_with(".verstak/plugin-data/verstak.sync/engine")
        );
        assert!(v.vault_json().ends_with(".verstak/vault.json"));
    }
}
