//! The PostgreSQL backend of [`super::Db`]: a pool of connections, each write job in its own
//! transaction.
//!
//! Several server processes may share the database, so nothing here relies on being the only
//! writer: a job that appends to a scope's op log first takes that scope's transaction lock
//! ([`super::lock_scope`]), which keeps sequences gapless and strictly increasing, and makes
//! idempotency and quota checks exact, across processes. PostgreSQL commits concurrent
//! transactions in groups itself, so there is no writer thread. Connections are opened on
//! demand, up to [`CONNS`], and kept.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::StoreError;
use super::pg_schema;
use super::sql::{Conn, PgConn};

/// Connections kept, and jobs run at once, per server process.
const CONNS: usize = 16;

#[derive(Clone)]
pub(super) struct PgDb {
    inner: Arc<Inner>,
}

struct Inner {
    config: postgres::Config,
    pool: Mutex<Vec<Conn>>,
    slots: tokio::sync::Semaphore,
}

/// Parses a `postgres://` URL; the message never repeats the URL (it may hold a password).
fn parse(url: &str) -> Result<postgres::Config, StoreError> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Refused(format!("invalid database URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("verstak-sync-server");
    Ok(config)
}

/// One connection to a database whose schema is brought up to date first.
pub(super) fn connect_migrated(url: &str) -> Result<Conn, StoreError> {
    let mut client = parse(url)?.connect(postgres::NoTls)?;
    pg_schema::migrate(&mut client)?;
    Ok(Conn::Pg(PgConn::new(client)))
}

impl PgDb {
    /// Connects, brings the schema up to date and keeps that first connection.
    pub(super) fn open(url: &str) -> Result<PgDb, StoreError> {
        let config = parse(url)?;
        let first = connect_migrated(url)?;
        Ok(PgDb {
            inner: Arc::new(Inner {
                config,
                pool: Mutex::new(vec![first]),
                slots: tokio::sync::Semaphore::new(CONNS),
            }),
        })
    }

    /// Runs `f` in a transaction: committed when it returns `Ok`, rolled back otherwise.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(move |c| {
            c.execute_batch("BEGIN")?;
            match f(c) {
                Ok(v) => match c.execute_batch("COMMIT") {
                    Ok(()) => Ok(v),
                    Err(e) => Err(StoreError::Commit(e.to_string())),
                },
                Err(e) => {
                    let _ = c.execute_batch("ROLLBACK");
                    Err(e)
                }
            }
        })
        .await
    }

    /// Runs `f` outside a transaction (each statement sees the latest commits; `snapshot`
    /// gives several reads one state).
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(f).await
    }

    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let _slot = self
            .inner
            .slots
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.pool.lock().map_err(|_| StoreError::Closed)?.pop();
            let conn = match pooled {
                Some(c) => c,
                None => Conn::Pg(PgConn::new(inner.config.connect(postgres::NoTls)?)),
            };
            let r = f(&conn);
            let healthy = matches!(&conn, Conn::Pg(p) if !p.is_closed());
            if healthy
                && let Ok(mut pool) = inner.pool.lock()
                && pool.len() < CONNS
            {
                pool.push(conn);
            }
            r
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Drops the kept connections.
    pub(super) fn close(&self) {
        self.inner.slots.close();
        self.inner.release();
    }
}

impl Inner {
    /// Closes the kept connections on a thread of their own: the synchronous client blocks
    /// on its own runtime when dropped, which a tokio worker thread must not do.
    fn release(&self) {
        let conns = std::mem::take(&mut *self.pool.lock().unwrap_or_else(|p| p.into_inner()));
        if !conns.is_empty() {
            let _ = std::thread::Builder::new()
                .name("pg-close".into())
                .spawn(move || drop(conns));
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.release();
    }
}
