//! Storage behind one boundary: the database (spec §7) and its access pattern.
//!
//! Two backends answer the same calls: SQLite in `--data` (the embedded default, [`sqlite`])
//! and PostgreSQL (`--database-url`, [`pg`]), where several server processes share one
//! database. Handlers call `db.write(|c| ops::push(c, …)).await` or
//! `db.read(|c| ops::pull(c, …)).await`; the closures are synchronous, never see an axum type,
//! and get a [`sql::Conn`], so each rule is written once for both. A write closure runs inside
//! a transaction: `Err` rolls back everything it did, `Ok` is durable before the caller hears
//! of it.
//!
//! Submodules: [`sql`] (the common SQL interface), [`schema`], [`migrate`] and `upgrade`
//! (SQLite versions and their steps, adopting a reference database), `pg_schema` (the
//! PostgreSQL schema), [`users`], [`devices`], [`ops`] (push/pull), [`events`] (an event
//! stream's opening read), [`blobs`] (refs and quotas), [`audit`], [`retention`], and the
//! account side: [`accounts`] (email tokens, passwords), [`sessions`], [`smtp`] settings, the
//! console's saved [`settings`], [`admin`] (console lists and changes) and [`stats`] (§6.14).

pub(crate) mod accounts;
pub(crate) mod admin;
pub(crate) mod audit;
pub(crate) mod blobs;
mod chain;
mod checkpoint;
pub(crate) mod compaction;
pub(crate) mod devices;
pub(crate) mod events;
pub(crate) mod history;
pub(crate) mod migrate;
pub(crate) mod notes;
pub(crate) mod ops;
mod ops_pg;
mod ops_sqlite;
mod pg;
mod pg_schema;
mod push_plan;
pub(crate) mod retention;
pub(crate) mod schema;
pub(crate) mod sessions;
pub(crate) mod settings;
pub(crate) mod smtp;
pub(crate) mod sql;
mod sqlite;
pub(crate) mod stats;
mod upgrade;
pub(crate) mod users;
pub(crate) mod versions;

#[cfg(test)]
mod tests;

use std::path::Path;

pub(crate) use sql::Conn;
pub(crate) use sqlite::open_connection;

/// A storage failure. Answered as a 500 by the HTTP layer with the cause logged, except a full
/// disk ([`StoreError::is_storage_full`]), which is a 507 `storage_full`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A PostgreSQL failure, or a misuse of the SQL interface.
    #[error("database: {0}")]
    Sql(sql::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("commit failed: {0}")]
    Commit(String),
    /// A write job or its group's commit failed for lack of disk space; nothing was stored.
    #[error("disk full: {0}")]
    StorageFull(String),
    #[error("database is closed")]
    Closed,
    /// The stored data contradicts itself (an entity chain names an op that is not stored).
    #[error("damaged database: {0}")]
    Damaged(String),
    #[error("{0}")]
    Refused(String),
}

impl From<sql::Error> for StoreError {
    fn from(e: sql::Error) -> Self {
        match e {
            sql::Error::Sqlite(e) => StoreError::Sqlite(e),
            other => StoreError::Sql(other),
        }
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Sql(sql::Error::Pg(e))
    }
}

impl StoreError {
    /// Whether the disk (or the quota) was full.
    pub(crate) fn is_storage_full(&self) -> bool {
        match self {
            StoreError::StorageFull(_) => true,
            StoreError::Sqlite(e) => is_disk_full(e),
            StoreError::Sql(sql::Error::Pg(e)) => {
                e.code() == Some(&postgres::error::SqlState::DISK_FULL)
            }
            StoreError::Io(e) => crate::error::is_full_io(e),
            _ => false,
        }
    }
}

/// SQLite's `SQLITE_FULL`.
pub(crate) fn is_disk_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

/// Cheap-to-clone handle to the database.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteDb),
    Pg(pg::PgDb),
}

impl Db {
    /// Opens `<data>/server.db`, migrating it (§7.4), and starts the writer thread.
    pub fn open(path: &Path) -> Result<Db, StoreError> {
        Ok(Db {
            backend: Backend::Sqlite(sqlite::SqliteDb::open(path)?),
        })
    }

    /// Connects to PostgreSQL at `url` and brings its schema up to date (blocking).
    pub fn open_pg(url: &str) -> Result<Db, StoreError> {
        Ok(Db {
            backend: Backend::Pg(pg::PgDb::open(url)?),
        })
    }

    /// Whether this is the PostgreSQL backend.
    pub fn is_pg(&self) -> bool {
        matches!(self.backend, Backend::Pg(_))
    }

    /// The SQLite database file, when that is the backend (never shown in any response).
    pub(crate) fn sqlite_path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite(s) => Some(s.path()),
            Backend::Pg(_) => None,
        }
    }

    /// Runs `f` inside a write transaction. `Err` rolls back only this job.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite(s) => s.write(f).await,
            Backend::Pg(p) => p.write(f).await,
        }
    }

    /// Runs `f` on a read connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite(s) => s.read(f).await,
            Backend::Pg(p) => p.read(f).await,
        }
    }

    /// SQLite: copies the WAL into the database and truncates it (after history retention
    /// freed many pages, so the freed space leaves the WAL file too). Returns whether it
    /// completed (false when a reader held it back). PostgreSQL: nothing to do.
    pub(crate) async fn truncate_wal(&self) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.truncate_wal().await,
            Backend::Pg(_) => Ok(true),
        }
    }

    /// The database's size on disk in bytes: the SQLite file (without its WAL), or what
    /// PostgreSQL reports for the database.
    pub(crate) async fn size_bytes(&self) -> Result<i64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => {
                let path = s.path().to_owned();
                tokio::task::spawn_blocking(move || {
                    Ok(std::fs::metadata(path).map(|m| m.len() as i64).unwrap_or(0))
                })
                .await
                .map_err(|_| StoreError::Closed)?
            }
            Backend::Pg(_) => {
                self.read(|c| {
                    Ok(c.query_row(
                        "SELECT pg_database_size(current_database())",
                        sql::params![],
                        |r| r.get(0),
                    )?)
                })
                .await
            }
        }
    }

    /// Finishes queued writes and closes the connections.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(s) => s.close().await,
            Backend::Pg(p) => p.close(),
        }
    }
}

/// A sync scope (§5.1): every op, tombstone, idempotency record and blob ref belongs to one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub user_id: String,
    pub vault_id: String,
}

/// Takes the scope's write lock until the transaction ends. Every job that appends to a
/// scope's op log or adds to its blob bytes takes it first. SQLite has one writer, so there it
/// is already held; PostgreSQL may run writers of several processes at once, and this is what
/// keeps their sequences gapless and their idempotency and quota checks exact.
pub(crate) fn lock_scope(c: &Conn, scope: &Scope) -> Result<(), StoreError> {
    lock(c, &["scope", &scope.user_id, &scope.vault_id])
}

/// Takes the user's write lock until the transaction ends: blob uploads take it before their
/// quota check, whose total spans the user's vaults.
pub(crate) fn lock_user(c: &Conn, user_id: &str) -> Result<(), StoreError> {
    lock(c, &["user", user_id])
}

/// Takes the blob's write lock until the transaction ends: an upload attaching the bytes and
/// garbage collection removing them never interleave across server processes.
pub(crate) fn lock_blob(c: &Conn, sha256: &str) -> Result<(), StoreError> {
    lock(c, &["blob", sha256])
}

/// The lock named by `parts` joined with `/`; nothing (not even the name) on SQLite, where
/// a push runs it on the hot path.
fn lock(c: &Conn, parts: &[&str]) -> Result<(), StoreError> {
    if c.is_pg() {
        c.query_row(
            "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))) AS locked",
            sql::params![parts.join("/")],
            |_| Ok(()),
        )?;
    }
    Ok(())
}

/// The schema version: SQLite's `user_version`, or PostgreSQL's `server_schema`.
pub(crate) fn schema_version(c: &Conn) -> Result<i64, StoreError> {
    let sql = if c.is_pg() {
        "SELECT version FROM server_schema"
    } else {
        "PRAGMA user_version"
    };
    Ok(c.query_row(sql, sql::params![], |r| r.get(0))?)
}

/// Where the database is: the SQLite file in `--data`, or a PostgreSQL URL.
#[derive(Debug, Clone)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    Pg(String),
}

impl Location {
    /// PostgreSQL when a database URL is configured, else `server.db` in the data directory.
    pub fn resolve(data: &Path, database_url: Option<&str>) -> Location {
        match database_url {
            Some(url) => Location::Pg(url.to_owned()),
            None => Location::Sqlite(data.join("server.db")),
        }
    }
}

impl Db {
    /// Opens the database at `loc` (blocking).
    pub fn open_at(loc: &Location) -> Result<Db, StoreError> {
        match loc {
            Location::Sqlite(path) => Db::open(path),
            Location::Pg(url) => Db::open_pg(url),
        }
    }
}

/// For command-line tools that run without a server: opens the database once, brings its
/// schema up to date and runs `f` in one write transaction (blocking).
pub(crate) fn write_once<T>(
    loc: &Location,
    f: impl FnOnce(&Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let conn = match loc {
        Location::Sqlite(path) => {
            let mut c = open_connection(path, false)?;
            migrate::migrate(&mut c, path)?;
            Conn::Sqlite(c)
        }
        Location::Pg(url) => pg::connect_migrated(url)?,
    };
    let begin = if conn.is_pg() {
        "BEGIN"
    } else {
        "BEGIN IMMEDIATE"
    };
    conn.execute_batch(begin)?;
    match f(&conn) {
        Ok(v) => {
            conn.execute_batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
