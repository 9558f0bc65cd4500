//! One pass of history retention (docs/history-retention.md) over every scope, driven from
//! the retention run (`server::run_retention`): plan on a read connection, delete in writer
//! jobs of `store::history::BATCH` ops, then release unused blob refs and remove blob files
//! that have had no ref for the grace period.

use anyhow::Result;

use crate::state::AppState;
use crate::store::history::{self, BATCH, Windows};
use crate::util::time;

/// What one pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Removed {
    pub ops: usize,
    pub refs: usize,
    pub blobs: usize,
    pub blob_bytes: i64,
}

pub(crate) async fn run(st: &AppState) -> Result<Removed> {
    let h = st.history();
    let now = time::unix_now();
    let w = Windows {
        now,
        keep_all_days: h.keep_all_days,
        keep_daily_days: h.keep_daily_days,
        tombstone_days: h.tombstone_days,
    };
    let cutoff = time::format_unix(now - h.blob_grace_hours * 3600);
    let mut removed = Removed::default();
    let scopes = st.db.read(history::scopes).await?;
    for (scope, last) in scopes {
        let s = scope.clone();
        let seqs = st
            .db
            .read(move |c| {
                let floor = history::floor(c, &s, last)?;
                history::plan(c, &s, floor, &w)
            })
            .await?;
        for chunk in seqs.chunks(BATCH) {
            let (s, chunk) = (scope.clone(), chunk.to_vec());
            removed.ops += st
                .db
                .write(move |c| history::delete_ops(c, &s, &chunk))
                .await?;
        }
        let (s, cut) = (scope.clone(), cutoff.clone());
        let (unused, read_at) = st
            .db
            .read(move |c| history::unused_refs(c, &s, &cut))
            .await?;
        if !unused.is_empty() {
            let (s, cut) = (scope.clone(), cutoff.clone());
            removed.refs += st
                .db
                .write(move |c| history::release_refs(c, &s, &unused, read_at, &cut))
                .await?;
        }
    }
    let blobs = st.blobs.clone();
    let (n, bytes) = st
        .db
        .write(move |c| history::collect_orphans(c, &cutoff, |sha| blobs.remove(sha)))
        .await?;
    removed.blobs = n;
    removed.blob_bytes = bytes;
    // SQLite hands freed pages back to the file system here; PostgreSQL's autovacuum does it.
    if removed.ops > 0 && !st.db.is_pg() {
        // About 4 MiB per job, so pushes are not held up for long.
        loop {
            let free: i64 = st
                .db
                .read(|c| Ok(c.query_row("PRAGMA freelist_count", [], |r| r.get(0))?))
                .await?;
            if free == 0 {
                break;
            }
            st.db.write(|c| history::reclaim(c, 1024)).await?;
            let left: i64 = st
                .db
                .read(|c| Ok(c.query_row("PRAGMA freelist_count", [], |r| r.get(0))?))
                .await?;
            if left >= free {
                break;
            }
        }
        if !st.db.truncate_wal().await? {
            tracing::info!("history retention: the WAL stays until the next checkpoint");
        }
    }
    if removed != Removed::default() {
        tracing::info!(
            ops = removed.ops,
            refs = removed.refs,
            blobs = removed.blobs,
            bytes = removed.blob_bytes,
            "history retention"
        );
    }
    Ok(removed)
}
