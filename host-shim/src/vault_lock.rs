//! One writer per vault across processes: a `flock` on `<plugin data>/lock`, held for every
//! call that changes sync state (a CLI `sync` beside a running panel must not interleave with
//! it). The kernel drops the lock when the process dies, so a crash never leaves it stuck.

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Held while alive.
#[derive(Debug)]
pub struct VaultLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another sync of this vault is running")]
    Busy,
    #[error("cannot lock the vault: {0}")]
    Io(#[from] std::io::Error),
}

impl VaultLock {
    /// Takes the lock without waiting.
    pub fn try_acquire(data_dir: &Path) -> Result<VaultLock, LockError> {
        fs::create_dir_all(data_dir)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(data_dir.join("lock"))?;
        // SAFETY: flock on a descriptor we own; it has no memory effects.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(VaultLock { _file: file });
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Err(LockError::Busy)
        } else {
            Err(LockError::Io(err))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = VaultLock::try_acquire(dir.path()).unwrap();
        assert!(matches!(
            VaultLock::try_acquire(dir.path()),
            Err(LockError::Busy)
        ));
        drop(first);
        VaultLock::try_acquire(dir.path()).unwrap();
    }
}
