//! History retention (issue 17, docs/history-retention.md): superseded versions older than a
//! window are thinned, old tombstones are purged, blob refs no remaining op uses are released
//! and blob files without refs are removed after a grace period.
//!
//! Nothing above a scope's **floor** is ever removed: the lowest `since_sequence` any
//! non-revoked device of the scope has pulled from (the scope's last sequence when it has no
//! such device). So a device never misses an op after its cursor, and for every cursor at or
//! above the floor each entity's last op up to the cursor is unchanged, which keeps the
//! absence rule of compacted joins exact. Heads (the latest version of every live file) and
//! barriers are never removed, only superseded versions and whole deleted entities.
//!
//! Reads run on a read-only connection; deletions run in writer jobs of at most [`BATCH`] ops.

use super::sql::{Conn, OptionalExtension, params};
use std::collections::HashSet;

use super::compaction::{BARRIER, HEAD, SUPERSEDED};
use super::{Scope, StoreError, chain};

/// Ops deleted per writer job.
pub(crate) const BATCH: usize = 2000;

/// The thinning windows, in seconds before `now`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Windows {
    pub now: i64,
    pub keep_all_days: i64,
    pub keep_daily_days: i64,
    pub tombstone_days: i64,
}

/// Which bucket keeps one version: versions younger than `keep_all` are all kept; up to
/// `keep_daily` the last of each UTC day; older ones the last of each UTC month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    All,
    LastOfDay,
    LastOfMonth,
}

impl Windows {
    fn keep(&self, pushed_at: &str) -> Keep {
        let age = self.now - unix_of(pushed_at);
        if age < self.keep_all_days * 86_400 {
            Keep::All
        } else if age < self.keep_daily_days * 86_400 {
            Keep::LastOfDay
        } else {
            Keep::LastOfMonth
        }
    }

    /// Whether a superseded version pushed at `at` is thinned because the entity's next
    /// version (at `next_at`) falls in the same bucket.
    pub(crate) fn thinned(&self, at: &str, next_at: &str) -> bool {
        match self.keep(at) {
            Keep::All => false,
            Keep::LastOfDay => at.get(..10) == next_at.get(..10),
            Keep::LastOfMonth => at.get(..7) == next_at.get(..7),
        }
    }

    fn tombstone_expired(&self, at: &str) -> bool {
        self.now - unix_of(at) >= self.tombstone_days * 86_400
    }
}

/// Unix seconds of a server timestamp (`YYYY-MM-DDTHH:MM:SSZ`); unreadable ones count as now,
/// so they are never thinned by age.
fn unix_of(at: &str) -> i64 {
    parse_utc(at).unwrap_or(i64::MAX / 2)
}

/// `YYYY-MM-DDTHH:MM:SSZ` (the only form this server writes, §2.7) as Unix seconds.
fn parse_utc(at: &str) -> Option<i64> {
    let b = at.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| at.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Every scope with ops.
pub(crate) fn scopes(c: &Conn) -> Result<Vec<(Scope, i64)>, StoreError> {
    let mut st = c.prepare("SELECT user_id, vault_id, last_sequence FROM server_scopes")?;
    let rows = st.query_map([], |r| {
        Ok((
            Scope {
                user_id: r.get(0)?,
                vault_id: r.get(1)?,
            },
            r.get(2)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The scope's floor: the lowest pull cursor of its non-revoked devices, or `last` without any.
pub(crate) fn floor(c: &Conn, s: &Scope, last: i64) -> Result<i64, StoreError> {
    let low: Option<i64> = c
        .query_row(
            "SELECT MIN(COALESCE(ds.pulled_sequence, 0)) FROM server_devices d
             LEFT JOIN server_device_sync ds
               ON ds.device_id = d.id AND ds.user_id = d.user_id AND ds.vault_id = d.vault_id
             WHERE d.user_id = ?1 AND d.vault_id = ?2 AND d.revoked_at IS NULL",
            params![s.user_id, s.vault_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(low.unwrap_or(last).min(last))
}

/// What to remove from one scope: thinned versions, and the state-setting ops of entities
/// whose last op is a delete older than the tombstone window (barriers stay).
pub(crate) fn plan(c: &Conn, s: &Scope, floor: i64, w: &Windows) -> Result<Vec<i64>, StoreError> {
    let mut st = c.prepare(
        "SELECT server_sequence, pushed_at, compaction, op_type, entity_type, entity_id,
                LEAD(server_sequence) OVER e, LEAD(pushed_at) OVER e
         FROM server_ops WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence <= ?3
         WINDOW e AS (PARTITION BY entity_type, entity_id ORDER BY server_sequence)",
    )?;
    let mut rows = st.query(params![s.user_id, s.vault_id, floor])?;
    let mut out = Vec::new();
    let mut tombstones = Vec::new();
    while let Some(r) = rows.next()? {
        let (seq, at, class, op_type): (i64, String, i64, String) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        let next: Option<(i64, String)> = match r.get::<_, Option<i64>>(6)? {
            Some(n) => Some((n, r.get(7)?)),
            None => None,
        };
        match next {
            Some((_, next_at)) if class == SUPERSEDED && w.thinned(&at, &next_at) => out.push(seq),
            None if class == HEAD && op_type == "delete" && w.tombstone_expired(&at) => {
                tombstones.push((seq, r.get::<_, String>(4)?, r.get::<_, String>(5)?));
            }
            _ => {}
        }
    }
    let mut purge = HashSet::new();
    for (seq, et, eid) in tombstones {
        // Still the entity's last op, also above the floor.
        for q in entity_ops_up_to(c, s, (&et, &eid), seq)? {
            purge.insert(q);
        }
    }
    out.retain(|q| !purge.contains(q));
    out.extend(purge);
    out.sort_unstable();
    Ok(out)
}

/// The entity's non-barrier ops up to `seq`, its delete; none when a later op of the entity
/// is stored.
fn entity_ops_up_to(
    c: &Conn,
    s: &Scope,
    (et, eid): chain::Entity<'_>,
    seq: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut out = Vec::new();
    if !c.is_pg() {
        chain::consistent(c, |c| {
            if chain::head(c, s, (et, eid))? != Some(seq) {
                return Ok(());
            }
            let columns = "o.server_sequence, o.compaction";
            chain::walk(c, s, columns, "", Some(seq), |r| {
                if r.get::<_, i64>(1)? != BARRIER {
                    out.push(r.get(0)?);
                }
                Ok(true)
            })
        })?;
        return Ok(out);
    }
    let later = c
        .prepare_cached(
            "SELECT 1 FROM server_ops WHERE user_id = ?1 AND vault_id = ?2 AND entity_type = ?3
               AND entity_id = ?4 AND server_sequence > ?5 LIMIT 1",
        )?
        .exists(params![s.user_id, s.vault_id, et, eid, seq])?;
    if later {
        return Ok(out);
    }
    let mut st = c.prepare_cached(&format!(
        "SELECT server_sequence FROM server_ops WHERE user_id = ?1 AND vault_id = ?2
           AND entity_type = ?3 AND entity_id = ?4 AND server_sequence <= ?5 AND compaction <> {BARRIER}"
    ))?;
    for q in st.query_map(params![s.user_id, s.vault_id, et, eid, seq], |r| {
        r.get::<_, i64>(0)
    })? {
        out.push(q?);
    }
    Ok(out)
}

/// Deletes these ops of a scope (one writer job), and the tombstone rows of entities that no
/// longer have any op. Returns how many ops were deleted.
pub(crate) fn delete_ops(c: &Conn, s: &Scope, seqs: &[i64]) -> Result<usize, StoreError> {
    // Pushes of other server processes append to the scope meanwhile (PostgreSQL).
    super::lock_scope(c, s)?;
    let mut del = c.prepare_cached(
        "DELETE FROM server_ops WHERE user_id = ?1 AND vault_id = ?2 AND server_sequence = ?3
         RETURNING entity_type, entity_id, op_type",
    )?;
    let mut gone = Vec::new();
    let mut n = 0;
    for q in seqs {
        if !c.is_pg() {
            chain::unlink(c, s, *q)?;
        }
        let row: Option<(String, String, String)> = del
            .query_row(params![s.user_id, s.vault_id, q], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        if let Some((et, eid, op_type)) = row {
            n += 1;
            if op_type == "delete" {
                gone.push((et, eid));
            }
        }
    }
    // On SQLite an entity has ops exactly while it has a head row.
    let no_ops = if c.is_pg() {
        "NOT EXISTS (SELECT 1 FROM server_ops WHERE user_id = ?1
           AND vault_id = ?2 AND entity_type = ?3 AND entity_id = ?4)"
    } else {
        "NOT EXISTS (SELECT 1 FROM server_entity_heads WHERE user_id = ?1
           AND vault_id = ?2 AND entity_type = ?3 AND entity_id = ?4)"
    };
    for (et, eid) in gone {
        c.execute(
            &format!(
                "DELETE FROM server_tombstones WHERE user_id = ?1 AND vault_id = ?2
                   AND entity_type = ?3 AND entity_id = ?4 AND {no_ops}"
            ),
            params![s.user_id, s.vault_id, et, eid],
        )?;
    }
    Ok(n)
}

/// Refs of the scope that no op uses and that nothing touched (upload or download) before
/// `cutoff`, so a blob uploaded for an op not pushed yet keeps its ref; read on a read
/// connection. Returns them with the scope's last sequence at the time of the read.
pub(crate) fn unused_refs(
    c: &Conn,
    s: &Scope,
    cutoff: &str,
) -> Result<(Vec<String>, i64), StoreError> {
    let tx = c.snapshot()?;
    let last: i64 = tx
        .query_row(
            "SELECT last_sequence FROM server_scopes WHERE user_id = ?1 AND vault_id = ?2",
            params![s.user_id, s.vault_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let stale: Vec<String> = {
        let mut st = tx.prepare(
            "SELECT sha256 FROM server_blob_refs WHERE user_id = ?1 AND vault_id = ?2
               AND last_accessed <= ?3",
        )?;
        let rows = st.query_map(params![s.user_id, s.vault_id, cutoff], |r| r.get(0))?;
        rows.collect::<Result<Vec<String>, _>>()?
    };
    let mut used = HashSet::new();
    if !stale.is_empty() {
        let mut st = tx.prepare(
            "SELECT payload_json FROM server_ops WHERE user_id = ?1 AND vault_id = ?2
               AND payload_json LIKE '%\"blob\"%'",
        )?;
        let mut rows = st.query(params![s.user_id, s.vault_id])?;
        while let Some(r) = rows.next()? {
            if let Some(sha) = blob_of(&r.get::<_, String>(0)?) {
                used.insert(sha);
            }
        }
    }
    tx.finish()?;
    Ok((
        stale.into_iter().filter(|h| !used.contains(h)).collect(),
        last,
    ))
}

/// `blob.sha256` of a payload, if any.
fn blob_of(payload: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(payload).ok()?;
    Some(v.get("blob")?.get("sha256")?.as_str()?.to_owned())
}

/// Inside a writer job: deletes the refs found by [`unused_refs`] unless an op pushed since
/// that read (after sequence `read_at`) uses the blob, or the ref was touched since `cutoff`.
pub(crate) fn release_refs(
    c: &Conn,
    s: &Scope,
    unused: &[String],
    read_at: i64,
    cutoff: &str,
) -> Result<usize, StoreError> {
    // Uploads (user lock) and pushes (scope lock) of other server processes wait, in the
    // order they take these locks themselves (PostgreSQL).
    super::lock_user(c, &s.user_id)?;
    super::lock_scope(c, s)?;
    let mut recent = HashSet::new();
    {
        let mut st = c.prepare(
            "SELECT payload_json FROM server_ops WHERE user_id = ?1 AND vault_id = ?2
               AND server_sequence > ?3",
        )?;
        let mut rows = st.query(params![s.user_id, s.vault_id, read_at])?;
        while let Some(r) = rows.next()? {
            if let Some(sha) = blob_of(&r.get::<_, String>(0)?) {
                recent.insert(sha);
            }
        }
    }
    let mut n = 0;
    for sha in unused.iter().filter(|h| !recent.contains(*h)) {
        n += c.execute(
            "DELETE FROM server_blob_refs WHERE user_id = ?1 AND vault_id = ?2 AND sha256 = ?3
               AND last_accessed <= ?4",
            params![s.user_id, s.vault_id, sha, cutoff],
        )?;
    }
    Ok(n)
}

/// Inside a writer job: returns up to `pages` free pages to the file system, when the
/// database was created with incremental auto-vacuum (every database created by schema 5 or
/// later). Older files keep their free pages for reuse by later writes.
pub(crate) fn reclaim(c: &Conn, pages: i64) -> Result<(), StoreError> {
    let mode: i64 = c.query_row("PRAGMA auto_vacuum", params![], |r| r.get(0))?;
    if mode == 2 {
        c.execute_batch(&format!("PRAGMA incremental_vacuum({pages});"))?;
    }
    Ok(())
}

/// Inside a writer job: removes blobs without refs since before `cutoff` (row, then file). Runs in
/// the writer so that an upload of the same bytes is either before (the blob has a ref again
/// and stays) or after (it places the file anew). Returns `(blobs, bytes)` removed.
pub(crate) fn collect_orphans(
    c: &Conn,
    cutoff: &str,
    remove_file: impl Fn(&str) -> std::io::Result<()>,
) -> Result<(usize, i64), StoreError> {
    let orphans: Vec<(String, i64)> = {
        let mut st = c.prepare(
            "SELECT sha256, size FROM server_blobs WHERE orphaned_at IS NOT NULL AND orphaned_at <= ?1
               AND NOT EXISTS (SELECT 1 FROM server_blob_refs r WHERE r.sha256 = server_blobs.sha256)
             ORDER BY sha256",
        )?;
        let rows = st.query_map(params![cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let (mut n, mut bytes) = (0, 0);
    for (sha, size) in orphans {
        // Another server process may be attaching the same bytes right now: under the blob's
        // lock (taken in sha order, so two collectors never wait on each other), delete only a
        // row that is still unreferenced, and the file only with it.
        super::lock_blob(c, &sha)?;
        let gone = c.execute(
            "DELETE FROM server_blobs WHERE sha256 = ?1 AND orphaned_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM server_blob_refs r WHERE r.sha256 = ?1)",
            params![sha],
        )?;
        if gone == 0 {
            continue;
        }
        match remove_file(&sha) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        n += 1;
        bytes += size;
    }
    Ok((n, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_times() {
        for secs in [0, 951_782_400, 1_784_601_390, 1_796_428_800] {
            let at = crate::util::time::format_unix(secs);
            assert_eq!(parse_utc(&at), Some(secs));
        }
        assert_eq!(parse_utc("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_utc("2026-07-21 02:36:30"), None);
    }

    #[test]
    fn thinning_buckets() {
        let now = unix_of("2026-12-05T12:00:00Z");
        let w = Windows {
            now,
            keep_all_days: 30,
            keep_daily_days: 365,
            tombstone_days: 30,
        };
        let cases = [
            // Younger than 30 days: every version stays.
            ("2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z", false),
            // 30 days to a year: the last of each day.
            ("2026-10-01T10:00:00Z", "2026-10-01T23:00:00Z", true),
            ("2026-10-01T10:00:00Z", "2026-10-02T00:00:00Z", false),
            // Older than a year: the last of each month.
            ("2025-10-01T10:00:00Z", "2025-10-30T10:00:00Z", true),
            ("2025-10-31T10:00:00Z", "2025-11-01T10:00:00Z", false),
            // Unreadable times are never thinned.
            ("garbage", "garbage", false),
        ];
        for (at, next, want) in cases {
            assert_eq!(w.thinned(at, next), want, "{at} → {next}");
        }
        assert!(w.tombstone_expired("2026-11-05T12:00:00Z"));
        assert!(!w.tombstone_expired("2026-11-05T12:00:01Z"));
    }
}
