//! Progress marks that read paths produce but must not commit one by one (issue 17, "no
//! writes on read paths"): a blob download's `last_accessed` (§4.10) and how far each device
//! has pulled (its `since_sequence`, which history retention reads). They are kept in memory
//! and written in one writer job every [`FLUSH_EVERY`], before each retention run and at
//! shutdown. A crash loses at most that much of them; neither is needed for correctness
//! (a lost pull mark only makes retention keep a tombstone longer).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::store::sql::params;

use crate::store::{Db, Scope, StoreError};

/// How often the marks are written.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(60);

type Key = (String, String, String);

#[derive(Default)]
pub(crate) struct Marks {
    /// (user, vault, sha256) → the latest download time.
    blobs: Mutex<HashMap<Key, String>>,
    /// (device, user, vault) → (the highest `since_sequence` pulled from, when).
    pulls: Mutex<HashMap<Key, (i64, String)>>,
}

impl Marks {
    pub(crate) fn blob_read(&self, s: &Scope, sha256: &str, now: String) {
        let key = (s.user_id.clone(), s.vault_id.clone(), sha256.to_owned());
        lock(&self.blobs).insert(key, now);
    }

    pub(crate) fn pulled(&self, device_id: &str, s: &Scope, since: i64, now: String) {
        let key = (device_id.to_owned(), s.user_id.clone(), s.vault_id.clone());
        let mut pulls = lock(&self.pulls);
        let e = pulls.entry(key).or_insert((since, now.clone()));
        if since >= e.0 {
            *e = (since, now);
        }
    }

    /// Writes every pending mark in one writer job.
    pub(crate) async fn flush(&self, db: &Db) -> Result<(), StoreError> {
        let blobs = std::mem::take(&mut *lock(&self.blobs));
        let pulls = std::mem::take(&mut *lock(&self.pulls));
        if blobs.is_empty() && pulls.is_empty() {
            return Ok(());
        }
        db.write(move |c| {
            let mut touch = c.prepare_cached(
                "UPDATE server_blob_refs SET last_accessed = ?4
                 WHERE user_id = ?1 AND vault_id = ?2 AND sha256 = ?3 AND last_accessed < ?4",
            )?;
            for ((u, v, sha), at) in &blobs {
                touch.execute(params![u, v, sha, at])?;
            }
            let mut pulled = c.prepare_cached(
                "INSERT INTO server_device_sync (device_id, user_id, vault_id, pulled_sequence, pulled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (device_id, user_id, vault_id) DO UPDATE SET
                    pulled_sequence = CASE WHEN excluded.pulled_sequence > server_device_sync.pulled_sequence
                        THEN excluded.pulled_sequence ELSE server_device_sync.pulled_sequence END,
                    pulled_at = excluded.pulled_at",
            )?;
            for ((d, u, v), (since, at)) in &pulls {
                pulled.execute(params![d, u, v, since, at])?;
            }
            Ok(())
        })
        .await
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
