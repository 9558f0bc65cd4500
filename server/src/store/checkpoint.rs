//! WAL checkpoints off the writer's commit path.
//!
//! SQLite's automatic checkpoint runs inside the committing writer: under push load that was a
//! fifth of the writer's time, and every waiting push waited for it. Here a thread with its own
//! connection copies the WAL into the database with passive checkpoints, concurrently with the
//! writer. A passive checkpoint can never finish while commits keep arriving, though, and the WAL
//! only starts over from its beginning once everything in it is copied; so when it has grown past
//! [`WAL_LIMIT_FRAMES`], the writer runs one checkpoint itself between two groups. By then the
//! background thread has copied nearly all of it, so that one is short.

use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::mpsc;
use std::time::Duration;

use super::StoreError;

/// How long the background thread lets commits accumulate: a page rewritten by several commits
/// is copied into the database once.
const PAUSE: Duration = Duration::from_millis(100);

/// WAL size (in frames of one page) at which the writer finishes a checkpoint itself: 64 MiB
/// with 4 KiB pages. `journal_size_limit` truncates the file back to this size after a restart.
const WAL_LIMIT_FRAMES: i64 = 16_384;

pub(super) struct Checkpointer {
    poke: mpsc::SyncSender<()>,
    /// Frames in the WAL as of the last background checkpoint.
    wal_frames: Arc<AtomicI64>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    /// Turns off the writer's automatic checkpoint and starts the background thread on `conn`.
    pub(super) fn start(writer: &Connection, conn: Connection) -> Result<Checkpointer, StoreError> {
        writer.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {};",
            WAL_LIMIT_FRAMES * 4096
        ))?;
        let (poke, rx) = mpsc::sync_channel::<()>(1);
        let wal_frames = Arc::new(AtomicI64::new(0));
        let frames = wal_frames.clone();
        let thread = std::thread::Builder::new()
            .name("db-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    std::thread::sleep(PAUSE);
                    while rx.try_recv().is_ok() {}
                    let started = std::time::Instant::now();
                    match passive(&conn) {
                        Ok(n) => {
                            tracing::trace!(frames = n, took = ?started.elapsed(), "WAL checkpoint");
                            frames.store(n, Relaxed)
                        }
                        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                    }
                }
            })?;
        Ok(Checkpointer {
            poke,
            wal_frames,
            thread,
        })
    }

    /// Called by the writer after each commit, outside any transaction. Never blocks unless the
    /// WAL is over its limit.
    pub(super) fn committed(&self, writer: &Connection) {
        if self.wal_frames.load(Relaxed) > WAL_LIMIT_FRAMES {
            // The writer is idle here, so this checkpoint can copy everything and the next
            // write transaction starts the WAL over.
            let started = std::time::Instant::now();
            match passive(writer) {
                Ok(_) => tracing::debug!(took = ?started.elapsed(), "WAL checkpoint by the writer"),
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
            }
            self.wal_frames.store(0, Relaxed);
        }
        let _ = self.poke.try_send(());
    }

    /// Waits for a running checkpoint, so the final one at shutdown runs alone.
    pub(super) fn stop(self) {
        drop(self.poke);
        let _ = self.thread.join();
    }
}

/// A passive checkpoint; returns the number of frames in the WAL.
fn passive(c: &Connection) -> Result<i64, rusqlite::Error> {
    c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
}
