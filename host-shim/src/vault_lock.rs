//! One writer per vault across processes: a `flock` on `<plugin data>/lock`, held for every
//! call that changes sync state (a CLI `sync` beside a running panel must not interleave with
//! it). The kernel drops the lock when the process dies, so a crash never leaves it stuck.

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

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

/// How long a held lock is retried before `Busy`. A lock released a moment ago can still look
/// held: a child process being spawned by another thread shares the lock's descriptor between
/// fork and exec. A real second sync holds it far longer.
const GRACE: Duration = Duration::from_millis(500);

impl VaultLock {
    /// Takes the lock, retrying for at most [`GRACE`] while another holder has it.
    pub fn try_acquire(data_dir: &Path) -> Result<VaultLock, LockError> {
        fs::create_dir_all(data_dir)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(data_dir.join("lock"))?;
        let deadline = Instant::now() + GRACE;
        loop {
            // SAFETY: flock on a descriptor we own; it has no memory effects.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(VaultLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(LockError::Io(err));
            }
            if Instant::now() >= deadline {
                return Err(LockError::Busy);
            }
            std::thread::sleep(Duration::from_millis(10));
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

    #[test]
    fn a_lock_released_within_the_grace_period_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let first = VaultLock::try_acquire(dir.path()).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(GRACE / 5);
            drop(first);
        });
        VaultLock::try_acquire(dir.path()).unwrap();
        releaser.join().unwrap();
    }
}
