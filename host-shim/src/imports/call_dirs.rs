//! Folder handles and facts held for one export call, so a file import does not open the same
//! folders again for every file (a first sync makes thousands of import calls).
//!
//! While an export call runs (`runtime::Instance::call` brackets it with
//! `HostState::begin_call_writes` / `end_call_writes`), the vault root capability, the host's
//! temp folder, the staging folder and the paired server are looked up on first use and kept
//! until the call ends. Outside a call (tests, tools using `HostState` directly) every use looks
//! them up afresh, as before.
//!
//! What holding them for a call keeps intact:
//! * confinement: every path is still resolved beneath the root capability (or beneath the
//!   temp/staging handles, which were themselves opened beneath it), with the same symlink
//!   refusal per path;
//! * a vault folder replaced, moved or re-paired between export calls is seen by the next call:
//!   nothing outlives the call;
//! * a temp or staging folder removed during a call: an operation that finds its cached folder
//!   gone forgets it and opens (creating) the folder again once.

use super::atomic::{Temp, create_temp, sweep_stale_once};
use crate::bindings::{ErrorCode, HostError};
use crate::confine::{VaultFs, io_error};
use crate::state::HostState;
use cap_std::fs::{Dir, DirBuilder, DirBuilderExt, File};
use std::io;
use std::sync::Arc;

/// The handles of the export call in progress (kept only while `HostState::in_call`).
#[derive(Default)]
pub(crate) struct CallDirs {
    root: Option<Arc<VaultFs>>,
    temp: Option<Arc<Dir>>,
    staging: Option<Arc<Dir>>,
    /// The paired server as read from the host's file in this call (`None` inside: not paired).
    paired: Option<Option<String>>,
}

/// Opens (creating it 0700 when missing and `create`) the root-relative host-owned folder `rel`.
/// `Ok(None)`: missing and not to be created.
fn open_private_dir(root: &Dir, rel: &std::path::Path, create: bool) -> io::Result<Option<Dir>> {
    match root.open_dir(rel) {
        Ok(d) => Ok(Some(d)),
        Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
            root.create_dir_with(rel, DirBuilder::new().recursive(true).mode(0o700))?;
            root.open_dir(rel).map(Some)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl HostState {
    /// The vault root as a capability: kept for the export call in progress, else opened now.
    pub(crate) fn vault_fs(&mut self) -> Result<Arc<VaultFs>, HostError> {
        if let Some(fs) = &self.call_dirs.root {
            return Ok(fs.clone());
        }
        let fs =
            Arc::new(VaultFs::open(&self.vault.root).map_err(|e| io_error("open the vault", e))?);
        if self.in_call {
            self.call_dirs.root = Some(fs.clone());
        }
        Ok(fs)
    }

    /// The host's temp folder (created when missing). The first time this process uses a
    /// vault's temp folder, the temp files a killed host left there are swept.
    pub(crate) fn temp_dir(&mut self, root: &Dir) -> Result<Arc<Dir>, HostError> {
        if let Some(d) = &self.call_dirs.temp {
            return Ok(d.clone());
        }
        let rel = self.vault.temp_rel();
        let dir = open_private_dir(root, &rel, true)
            .map_err(|e| io_error("open the temp folder", e))?
            .expect("created when missing");
        sweep_stale_once(&dir, &self.vault.root.join(&rel));
        let dir = Arc::new(dir);
        if self.in_call {
            self.call_dirs.temp = Some(dir.clone());
        }
        Ok(dir)
    }

    /// The staging folder; `Ok(None)` when it is missing and `create` is false.
    pub(crate) fn staging_dir(
        &mut self,
        root: &Dir,
        create: bool,
    ) -> Result<Option<Arc<Dir>>, HostError> {
        if let Some(d) = &self.call_dirs.staging {
            return Ok(Some(d.clone()));
        }
        let Some(dir) = open_private_dir(root, &self.vault.staging_rel(), create)
            .map_err(|e| io_error("open the staging folder", e))?
        else {
            return Ok(None);
        };
        let dir = Arc::new(dir);
        if self.in_call {
            self.call_dirs.staging = Some(dir.clone());
        }
        Ok(Some(dir))
    }

    /// A new temp file in the host's temp folder (see [`create_temp`]).
    pub(crate) fn new_temp(&mut self, root: &Dir) -> Result<(Temp, File), HostError> {
        let cached = self.call_dirs.temp.is_some();
        let dir = self.temp_dir(root)?;
        match create_temp(&dir) {
            // The call's temp folder was removed meanwhile: open (make) it again, once.
            Err(e) if cached && matches!(e.code, ErrorCode::NotFound) => {
                self.call_dirs.temp = None;
                create_temp(&self.temp_dir(root)?)
            }
            r => r,
        }
    }

    /// Runs `op` with the staging folder (`None`: missing, and `create` is false). When `op`
    /// answers `not-found` on the call's cached folder, the folder may have been removed
    /// meanwhile: `op` runs once more on a freshly opened one.
    pub(crate) fn with_staging<T>(
        &mut self,
        root: &Dir,
        create: bool,
        mut op: impl FnMut(Option<&Arc<Dir>>) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        let cached = self.call_dirs.staging.is_some();
        let dir = self.staging_dir(root, create)?;
        match op(dir.as_ref()) {
            Err(e) if cached && matches!(e.code, ErrorCode::NotFound) => {
                self.call_dirs.staging = None;
                let dir = self.staging_dir(root, create)?;
                op(dir.as_ref())
            }
            r => r,
        }
    }

    /// The paired server's URL: read once per export call (the host writes it only between
    /// calls, after a `configure`), else read now.
    pub(crate) fn paired_server(&mut self) -> io::Result<Option<String>> {
        if let Some(p) = &self.call_dirs.paired {
            return Ok(p.clone());
        }
        let p = self.vault.paired_server()?;
        if self.in_call {
            self.call_dirs.paired = Some(p.clone());
        }
        Ok(p)
    }
}
