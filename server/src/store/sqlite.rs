//! The SQLite backend of [`super::Db`]: one writer thread that group-commits and a small pool
//! of read-only connections (at most 16 reads run at once).
//!
//! The writer takes every queued job, opens one `BEGIN IMMEDIATE` transaction, runs each job
//! inside its own savepoint (a failing job rolls back only itself), commits once and then
//! answers all callers. So an acknowledged write is durable (`synchronous = FULL`) and a failed
//! push stores nothing.

use rusqlite::Connection;
use rusqlite::config::DbConfig;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use super::checkpoint::Checkpointer;
use super::sql::Conn;
use super::{StoreError, is_disk_full, migrate};

/// A writer-side SQLite failure, as a `StoreError`. SQLite reports some out-of-space writes as
/// an I/O error; the connection's last OS error tells them apart.
fn writer_error(conn: &Connection, e: rusqlite::Error) -> StoreError {
    // SAFETY: `handle` is this open connection's pointer, used on its own thread for one call
    // that only reads the connection's last error number.
    let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(conn.handle()) };
    let io_full = e.sqlite_error_code() == Some(rusqlite::ErrorCode::SystemIoFailure)
        && matches!(errno, libc::ENOSPC | libc::EDQUOT);
    if is_disk_full(&e) || io_full {
        StoreError::StorageFull(e.to_string())
    } else {
        StoreError::Sqlite(e)
    }
}

type Deliver = Box<dyn FnOnce(Option<StoreError>) + Send>;
type WorkFn = Box<dyn FnOnce(&Conn) -> (bool, Deliver) + Send>;

enum Job {
    /// A write and when it was queued (for the writer's timing trace).
    Work(WorkFn, std::time::Instant),
    Close(tokio::sync::oneshot::Sender<()>),
}

/// The SQLite database: its writer thread and readers.
#[derive(Clone)]
pub(super) struct SqliteDb {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<mpsc::Sender<Job>>,
    readers: Mutex<Vec<Conn>>,
    /// At most [`READERS`] reads at once: a burst of requests waits here instead of starting
    /// a blocking thread and opening a connection each (memory that stays fragmented after).
    read_slots: tokio::sync::Semaphore,
}

/// Read-only connections kept, and reads run at once.
const READERS: usize = 16;

/// Opens a connection with the PRAGMAs of §7.1. Savepoint journals and sorts stay in memory.
pub(crate) fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let c = Connection::open(path)?;
    c.busy_timeout(std::time::Duration::from_secs(5))?;
    c.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         PRAGMA temp_store = MEMORY;",
    )?;
    // The query planner stability guarantee: plans never depend on bound values. Without it
    // SQLite (3.47 and later) peeks at a bound value to weigh an equality it does not use in
    // its index and then re-prepares the statement whenever that value changes: the writer spent
    // a third of a push re-planning the entity walk the supersede step then made for every op.
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    if read_only {
        c.execute_batch("PRAGMA query_only = 1;")?;
    }
    Ok(c)
}

/// The writer's page cache. The default (2 MiB) is smaller than one group commit, so SQLite
/// spilled dirty pages to the WAL mid-transaction and re-read index pages from disk.
pub(super) const WRITER_CACHE: &str = "PRAGMA cache_size = -65536;";

/// The maximum number of jobs committed together.
const GROUP_MAX: usize = 256;

impl SqliteDb {
    /// Opens `<data>/server.db`, migrating it (§7.4), and starts the writer thread.
    pub(super) fn open(path: &Path) -> Result<SqliteDb, StoreError> {
        let mut conn = open_connection(path, false)?;
        migrate::migrate(&mut conn, path)?;
        conn.execute_batch(WRITER_CACHE)?;
        let checkpointer = Checkpointer::start(&conn, open_connection(path, false)?)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || writer_loop(conn, rx, checkpointer))?;
        Ok(SqliteDb {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(tx),
                readers: Mutex::new(Vec::new()),
                read_slots: tokio::sync::Semaphore::new(READERS),
            }),
        })
    }

    /// The database file (never shown in any response).
    pub(super) fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` inside the writer transaction. `Err` rolls back only this job.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let (otx, orx) = tokio::sync::oneshot::channel::<Result<T, StoreError>>();
        let work: WorkFn = Box::new(move |c| {
            let r = f(c).map_err(|e| match e {
                StoreError::Sqlite(e) => writer_error(c.sqlite().expect("the writer is SQLite"), e),
                other => other,
            });
            let failed = r.is_err();
            let deliver: Deliver = Box::new(move |commit_err| {
                let _ = otx.send(match commit_err {
                    None => r,
                    Some(e) => Err(e),
                });
            });
            (failed, deliver)
        });
        self.send(Job::Work(work, std::time::Instant::now()))?;
        orx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on a read-only connection on the blocking pool.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let _slot = self
            .inner
            .read_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().map_err(|_| StoreError::Closed)?.pop();
            let conn = match pooled {
                Some(c) => c,
                None => Conn::Sqlite(open_connection(&inner.path, true)?),
            };
            let r = f(&conn);
            if let Ok(mut pool) = inner.readers.lock()
                && pool.len() < READERS
            {
                pool.push(conn);
            }
            r
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Copies the WAL into the database and truncates it, on a connection of its own (after
    /// history retention freed many pages, so the freed space leaves the WAL file too).
    /// Returns whether it completed (false when a reader held it back).
    pub(super) async fn truncate_wal(&self) -> Result<bool, StoreError> {
        let path = self.inner.path.clone();
        tokio::task::spawn_blocking(move || {
            let c = open_connection(&path, false)?;
            let busy: i64 = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            Ok(busy == 0)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Finishes queued writes, checkpoints the WAL and stops the writer.
    pub(super) async fn close(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.send(Job::Close(tx)).is_ok() {
            let _ = rx.await;
        }
        if let Ok(mut pool) = self.inner.readers.lock() {
            pool.clear();
        }
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        let tx = self.inner.writer.lock().map_err(|_| StoreError::Closed)?;
        tx.send(job).map_err(|_| StoreError::Closed)
    }
}

fn writer_loop(raw: Connection, rx: mpsc::Receiver<Job>, checkpointer: Checkpointer) {
    let conn = Conn::Sqlite(raw);
    let raw = conn.sqlite().expect("just made");
    let mut close: Option<tokio::sync::oneshot::Sender<()>> = None;
    while close.is_none() {
        let Ok(first) = rx.recv() else { break };
        let mut work = Vec::new();
        let mut oldest = None;
        for job in std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match job {
                Job::Work(w, queued) => {
                    oldest.get_or_insert(queued);
                    work.push(w)
                }
                Job::Close(tx) => close = Some(tx),
            }
            if work.len() >= GROUP_MAX || close.is_some() {
                break;
            }
        }
        let waited = oldest.map(|t| t.elapsed());
        if run_group(&conn, raw, work, waited) {
            checkpointer.committed(raw);
        }
    }
    checkpointer.stop();
    if let Err(e) = raw.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);") {
        tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
    }
    drop(conn);
    if let Some(tx) = close {
        let _ = tx.send(());
    }
}

/// Runs one group in one transaction; true when it committed. `waited` is how long its
/// oldest job was queued (traced with the group's SQL and commit times).
fn run_group(
    job_conn: &Conn,
    conn: &Connection,
    work: Vec<WorkFn>,
    waited: Option<std::time::Duration>,
) -> bool {
    if work.is_empty() {
        return false;
    }
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // Never run a job outside a transaction. Dropping the jobs drops their reply
        // channels, so every caller gets `StoreError::Closed` (a 500).
        tracing::error!(error = %e, "cannot begin write transaction");
        drop(work);
        return false;
    }
    let started = std::time::Instant::now();
    let jobs = work.len();
    let mut delivers = Vec::with_capacity(work.len());
    for w in work {
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (it may on SQLITE_FULL or an I/O error):
            // the jobs before were undone and later ones would run outside a transaction.
            // Dropping the rest answers their callers `Closed`; COMMIT below fails and tells
            // the ones that ran.
            tracing::error!("write transaction was rolled back by SQLite; skipping the rest");
            break;
        }
        let sp_ok = conn.execute_batch("SAVEPOINT job").is_ok();
        let (failed, deliver) = w(job_conn);
        let end = if failed {
            "ROLLBACK TO job; RELEASE job"
        } else {
            "RELEASE job"
        };
        if !sp_ok || conn.execute_batch(end).is_err() {
            tracing::error!("savepoint handling failed");
        }
        delivers.push(deliver);
    }
    let ran = started.elapsed();
    let commit = conn.execute_batch("COMMIT");
    // Where a push's time goes under load (server/README.md, "Load generator").
    tracing::trace!(jobs, ?waited, ?ran, total = ?started.elapsed(), "group commit");
    match commit {
        Ok(()) => {
            delivers.into_iter().for_each(|d| d(None));
            true
        }
        Err(e) => {
            let msg = e.to_string();
            let full = matches!(writer_error(conn, e), StoreError::StorageFull(_));
            if !full {
                // A full disk is logged once per request by the HTTP layer (a 507).
                tracing::error!(error = %msg, "group commit failed");
            }
            let _ = conn.execute_batch("ROLLBACK");
            delivers.into_iter().for_each(|d| {
                d(Some(if full {
                    StoreError::StorageFull(msg.clone())
                } else {
                    StoreError::Commit(msg.clone())
                }))
            });
            false
        }
    }
}
