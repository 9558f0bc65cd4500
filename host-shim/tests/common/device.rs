//! A vault on one simulated device, driven the way a user drives it: every call opens a fresh
//! [`Session`] (a restarted host), and the outcome is checked on disk.

use super::runtime;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use verstak_sync_host::bindings::SyncStatus;
use verstak_sync_host::bindings::exports::verstak::sync::sync_provider::{Direction, SyncSummary};
use verstak_sync_host::session::{Failure, Session};

pub const PASSWORD: &str = "correct horse battery";

/// The remote vault every test device joins.
pub const VAULT: &str = "notes";

/// A server with user `ann` and one device per name, all paired to her vault [`VAULT`].
pub fn setup(names: &[&str]) -> (super::server::Server, Vec<Device>) {
    let server = super::server::Server::start();
    server.add_user("ann", PASSWORD);
    let devices: Vec<Device> = names.iter().map(|n| Device::new(n)).collect();
    for d in &devices {
        d.configure(&server.url(), "ann", VAULT);
    }
    (server, devices)
}

/// The conflict copies in a device's vault.
pub fn conflict_copies(d: &Device) -> Vec<String> {
    d.files()
        .into_keys()
        .filter(|p| p.contains("(conflict "))
        .collect()
}

pub struct Device {
    pub name: String,
    dir: tempfile::TempDir,
}

impl Device {
    pub fn new(name: &str) -> Device {
        Device {
            name: name.to_string(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A fresh session: nothing survives from an earlier call but what is on disk.
    pub fn session(&self) -> Session<'static> {
        Session::new(runtime(), self.root())
    }

    pub fn try_configure(
        &self,
        server_url: &str,
        user: &str,
        password: &str,
        vault_id: &str,
    ) -> Result<(), Failure> {
        Session::new(runtime(), self.root())
            .with_device_name(Some(self.name.clone()))
            .configure(server_url, user, password, vault_id)
    }

    /// Pairs with the shared remote vault `vault_id` of `user`.
    pub fn configure(&self, server_url: &str, user: &str, vault_id: &str) {
        self.try_configure(server_url, user, PASSWORD, vault_id)
            .unwrap_or_else(|e| panic!("{}: configure failed: {e}", self.name));
    }

    pub fn try_sync(&self) -> Result<SyncSummary, Failure> {
        self.session().sync_now()
    }

    pub fn sync(&self) -> SyncSummary {
        self.try_sync()
            .unwrap_or_else(|e| panic!("{}: sync failed: {e}", self.name))
    }

    pub fn status(&self) -> SyncStatus {
        self.session()
            .status()
            .unwrap_or_else(|e| panic!("{}: status failed: {e}", self.name))
    }

    pub fn confirm_deletions(&self, direction: Direction) -> SyncSummary {
        self.session()
            .confirm_deletions(direction)
            .unwrap_or_else(|e| panic!("{}: confirm failed: {e}", self.name))
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel))
            .unwrap_or_else(|e| panic!("{}: cannot read {rel}: {e}", self.name))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path(rel)).unwrap();
    }

    pub fn rename(&self, from: &str, to: &str) {
        let to = self.path(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::rename(self.path(from), to).unwrap();
    }

    /// Every file outside `.verstak/`: path → content for small UTF-8 files, else `sha256:<hex>`.
    pub fn files(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        walk(self.root(), self.root(), &mut out, true);
        out
    }

    /// Every folder outside `.verstak/`, as vault paths.
    pub fn folders(&self) -> Vec<String> {
        let mut out = Vec::new();
        fn dirs(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
                if e.file_type().unwrap().is_dir() && e.file_name() != ".verstak" {
                    out.push(rel(root, &e.path()));
                    dirs(root, &e.path(), out);
                }
            }
        }
        dirs(self.root(), self.root(), &mut out);
        out.sort();
        out
    }

    /// The files in `.verstak/trash/files/<id>/<vault path>`, as (vault path, content summary).
    pub fn trash(&self) -> Vec<(String, String)> {
        let base = self.path(".verstak/trash/files");
        let mut out = Vec::new();
        let Ok(ids) = std::fs::read_dir(&base) else {
            return out;
        };
        for id in ids.map(Result::unwrap) {
            let mut files = BTreeMap::new();
            walk(&id.path(), &id.path(), &mut files, false);
            out.extend(files);
        }
        out.sort();
        out
    }

    /// Copies a trashed file back to its vault path (what "restore from trash" does).
    pub fn restore_from_trash(&self, rel_path: &str) {
        let base = self.path(".verstak/trash/files");
        for id in std::fs::read_dir(&base).unwrap().map(Result::unwrap) {
            let p = id.path().join(rel_path);
            if p.is_file() {
                self.write(rel_path, std::fs::read(p).unwrap());
                return;
            }
        }
        panic!(
            "{}: {rel_path} is not in the trash: {:?}",
            self.name,
            self.trash()
        );
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap()
        .to_str()
        .expect("test paths are UTF-8")
        .to_string()
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>, skip_verstak: bool) {
    for e in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let ty = e.file_type().unwrap();
        if skip_verstak && e.file_name() == ".verstak" {
            continue;
        }
        if ty.is_dir() {
            walk(root, &e.path(), out, skip_verstak);
        } else {
            out.insert(rel(root, &e.path()), summary(&e.path()));
        }
    }
}

/// Small UTF-8 content as is, anything else as its hash (so assertion diffs stay readable).
pub fn summary(path: &Path) -> String {
    let len = std::fs::metadata(path).unwrap().len();
    if len <= 4096 {
        let bytes = std::fs::read(path).unwrap();
        if let Ok(text) = String::from_utf8(bytes.clone()) {
            return text;
        }
        return format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    }
    format!("sha256:{}", sha256_file(path))
}

/// SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> String {
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex::encode(h.finalize())
}

/// `len` deterministic pseudo-random bytes (xorshift), written to `path` without holding them all.
pub fn write_random_file(path: &Path, len: usize, seed: u64) {
    use std::io::Write;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x = seed | 1;
    let mut left = len;
    let mut buf = Vec::with_capacity(1 << 16);
    while left > 0 {
        buf.clear();
        while buf.len() < (1 << 16).min(left) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf.extend_from_slice(&x.to_le_bytes()[..8.min(left - buf.len())]);
        }
        f.write_all(&buf).unwrap();
        left -= buf.len();
    }
    f.flush().unwrap();
}
