//! Version history of a scope's files (issue 13, `docs`: server/README.md "Version history"):
//! read-only views over the stored `file` ops.
//!
//! A version of a path is one stored `file` op whose `entity_id` is the path: a `create` or
//! `update` (text inline or a blob), a `delete`, or a `move`. Its number is its
//! `server_sequence`; ops removed by retention (`store/history.rs`) are simply not listed. Every
//! per-path query walks the path's entity chain (`super::chain`; the entity index on
//! PostgreSQL); [`live_files`] walks the partial heads index.

use super::sql::{Conn, OptionalExtension, Row, params};
use serde::Serialize;
use std::collections::BTreeMap;
use verstak_sync_proto::payload::{FileBody, Payload};

use super::{Scope, StoreError, chain};

/// Device ids of ops the server appends itself (`crate::history_ops`): no row in
/// `server_devices`, so their id is shown as their name.
pub(crate) const SERVER_DEVICES: [&str; 2] = ["web", "restore"];

/// One version of a path, as the JSON API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Version {
    /// The path (`entity_id`) this is a version of.
    pub path: String,
    pub version: i64,
    pub op_id: String,
    /// The op's `pushed_at`.
    pub time: String,
    pub device_id: String,
    /// The device's name now; `""` when the device is gone.
    pub device: String,
    pub size: Option<i64>,
    pub sha256: String,
    /// `text`, `binary`, `deleted` or `moved`.
    pub kind: &'static str,
    pub deleted: bool,
    pub renamed_from: Option<String>,
    pub renamed_to: Option<String>,
}

impl Version {
    /// Whether this version holds file content (text or binary).
    pub(crate) fn is_content(&self) -> bool {
        matches!(self.kind, KIND_TEXT | KIND_BINARY)
    }
}

pub(crate) const KIND_TEXT: &str = "text";
pub(crate) const KIND_BINARY: &str = "binary";
pub(crate) const KIND_DELETED: &str = "deleted";
pub(crate) const KIND_MOVED: &str = "moved";

/// The content of one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Content {
    Text(String),
    Blob {
        sha256: String,
        size: i64,
    },
    /// Inline base64 of an adopted legacy op (never accepted by this server's push).
    Bytes(Vec<u8>),
}

/// A deleted file that can still be restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct DeletedFile {
    pub path: String,
    pub deletion: Version,
    pub last: Version,
}

/// One of a user's vaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct VaultSummary {
    pub vault_id: String,
    /// Live files.
    pub files: i64,
    pub last_sequence: i64,
    /// The `pushed_at` of the newest op; `""` before the first push.
    pub last_push: String,
}

/// A live conflict copy with the file it was split from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ConflictPair {
    pub path: String,
    pub original_path: String,
    pub copy: Version,
    /// The original path's current version; `None` when it is not live.
    pub original: Option<Version>,
    /// The newest text version of the original older than both sides, when still stored.
    pub base: Option<Version>,
}

const COLUMNS: &str = "o.server_sequence, o.op_id, o.pushed_at, o.device_id, d.name, o.op_type,
    o.payload_json, o.entity_id";

/// The device names shown with versions.
const DEVICE_JOIN: &str = "LEFT JOIN server_devices d ON d.id = o.device_id";

/// The ops of one file path, newest first, from below `before` (exclusive), on PostgreSQL.
const PATH_OPS: &str =
    "SELECT o.server_sequence, o.op_id, o.pushed_at, o.device_id, d.name, o.op_type,
    o.payload_json, o.entity_id
    FROM server_ops o LEFT JOIN server_devices d ON d.id = o.device_id
    WHERE o.user_id = ?1 AND o.vault_id = ?2 AND o.entity_type = 'file' AND o.entity_id = ?3
      AND o.server_sequence < ?4
    ORDER BY o.server_sequence DESC";

/// A stored row read into a version and its content.
fn read_row(r: &Row<'_>) -> super::sql::Result<Option<(Version, Option<Content>)>> {
    let device_id: String = r.get(3)?;
    let name: Option<String> = r.get(4)?;
    let device = name.unwrap_or_else(|| {
        if SERVER_DEVICES.contains(&device_id.as_str()) {
            device_id.clone()
        } else {
            String::new()
        }
    });
    let op_type: String = r.get(5)?;
    let payload: String = r.get(6)?;
    let path: String = r.get(7)?;
    let Some(d) = describe(&op_type, &payload, &path) else {
        return Ok(None);
    };
    let v = Version {
        path,
        version: r.get(0)?,
        op_id: r.get(1)?,
        time: r.get(2)?,
        device_id,
        device,
        size: d.size,
        sha256: d.sha256,
        kind: d.kind,
        deleted: d.kind == KIND_DELETED,
        renamed_from: d.renamed_from,
        renamed_to: d.renamed_to,
    };
    Ok(Some((v, d.content)))
}

/// What one op says about its path.
struct Described {
    kind: &'static str,
    size: Option<i64>,
    sha256: String,
    content: Option<Content>,
    renamed_from: Option<String>,
    renamed_to: Option<String>,
}

/// Reads a `file` op; `None` for an op type that is no version (or an unreadable payload).
fn describe(op_type: &str, payload_json: &str, path: &str) -> Option<Described> {
    let bare = |kind| Described {
        kind,
        size: None,
        sha256: String::new(),
        content: None,
        renamed_from: None,
        renamed_to: None,
    };
    match op_type {
        "delete" => Some(bare(KIND_DELETED)),
        "move" => {
            let p = Payload::read(payload_json)
                .ok()
                .flatten()
                .unwrap_or_default();
            let other = |s: Option<String>| s.filter(|s| !s.is_empty() && s != path);
            Some(Described {
                renamed_from: other(p.from_path),
                renamed_to: other(p.to_path),
                ..bare(KIND_MOVED)
            })
        }
        "create" | "update" => {
            let p = Payload::read(payload_json).ok().flatten()?;
            Some(match p.body().ok()? {
                Some(FileBody::Blob(b)) => Described {
                    size: Some(b.size as i64),
                    sha256: b.sha256.as_str().to_owned(),
                    content: Some(Content::Blob {
                        sha256: b.sha256.as_str().to_owned(),
                        size: b.size as i64,
                    }),
                    ..bare(KIND_BINARY)
                },
                Some(FileBody::LegacyBase64(bytes)) => Described {
                    size: Some(bytes.len() as i64),
                    sha256: sha256_hex(&bytes),
                    content: Some(Content::Bytes(bytes)),
                    ..bare(KIND_BINARY)
                },
                Some(FileBody::Text(t)) => text(t, bare(KIND_TEXT)),
                // A file op without a body is an empty file.
                None => text(String::new(), bare(KIND_TEXT)),
            })
        }
        _ => None,
    }
}

fn text(t: String, base: Described) -> Described {
    Described {
        size: Some(t.len() as i64),
        sha256: sha256_hex(t.as_bytes()),
        content: Some(Content::Text(t)),
        ..base
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    verstak_sync_proto::Sha256Hex::of(bytes).as_str().to_owned()
}

/// Walks the path's versions newest first below `before`, until `f` returns `true` for one:
/// along the path's entity chain on SQLite (`super::chain`), through the entity index on
/// PostgreSQL.
fn find_version(
    c: &Conn,
    scope: &Scope,
    path: &str,
    before: i64,
    mut f: impl FnMut(&Version) -> bool,
) -> Result<Option<(Version, Option<Content>)>, StoreError> {
    let mut found = None;
    let mut take = |r: &Row<'_>| -> Result<bool, StoreError> {
        if let Some((v, content)) = read_row(r)?
            && f(&v)
        {
            found = Some((v, content));
            return Ok(false);
        }
        Ok(true)
    };
    if !c.is_pg() {
        chain::consistent(c, |c| {
            let head = chain::head(c, scope, ("file", path))?;
            chain::walk(c, scope, COLUMNS, DEVICE_JOIN, head, |r| {
                if r.get::<_, i64>(0)? >= before {
                    return Ok(true);
                }
                take(r)
            })
        })?;
        return Ok(found);
    }
    let mut st = c.prepare_cached(PATH_OPS)?;
    let mut rows = st.query(params![scope.user_id, scope.vault_id, path, before])?;
    while let Some(r) = rows.next()? {
        if !take(&r)? {
            break;
        }
    }
    Ok(found)
}

/// The versions of `path`, newest first, at most `limit` (all when `limit <= 0`).
pub(crate) fn versions(
    c: &Conn,
    scope: &Scope,
    path: &str,
    limit: i64,
) -> Result<Vec<Version>, StoreError> {
    let mut out = Vec::new();
    find_version(c, scope, path, i64::MAX, |v| {
        out.push(v.clone());
        limit > 0 && out.len() as i64 >= limit
    })?;
    Ok(out)
}

/// The newest version of `path` (of any kind).
pub(crate) fn latest(c: &Conn, scope: &Scope, path: &str) -> Result<Option<Version>, StoreError> {
    Ok(find_version(c, scope, path, i64::MAX, |_| true)?.map(|(v, _)| v))
}

/// Version `seq` of `path` with its content; `None` when it is no stored content version.
pub(crate) fn version(
    c: &Conn,
    scope: &Scope,
    path: &str,
    seq: i64,
) -> Result<Option<(Version, Content)>, StoreError> {
    let row = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM server_ops o LEFT JOIN server_devices d ON d.id = o.device_id
             WHERE o.user_id = ?1 AND o.vault_id = ?2 AND o.entity_type = 'file'
               AND o.entity_id = ?3 AND o.server_sequence = ?4"
        ))?
        .query_row(params![scope.user_id, scope.vault_id, path, seq], read_row)
        .optional()?
        .flatten();
    Ok(row.and_then(|(v, c)| c.map(|c| (v, c))))
}

/// Files whose newest op is a delete and whose last content version is still stored, newest
/// deletion first, at most `limit` (all when `limit <= 0`). Starts from the scope's file
/// tombstones (a file deleted once has one; retention purges both together).
pub(crate) fn deleted(c: &Conn, scope: &Scope, limit: i64) -> Result<Vec<DeletedFile>, StoreError> {
    let paths: Vec<String> = c
        .prepare_cached(
            "SELECT entity_id FROM server_tombstones
             WHERE user_id = ?1 AND vault_id = ?2 AND entity_type = 'file'",
        )?
        .query_map(params![scope.user_id, scope.vault_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for path in paths {
        let Some(deletion) = latest(c, scope, &path)? else {
            continue;
        };
        if !deletion.deleted {
            continue;
        }
        if let Some((last, _)) =
            find_version(c, scope, &path, deletion.version, Version::is_content)?
        {
            out.push(DeletedFile {
                path,
                deletion,
                last,
            });
        }
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.deletion.version));
    if limit > 0 {
        out.truncate(limit as usize);
    }
    Ok(out)
}

/// The heads (and barriers) of a scope's files in order: the partial index of the heads.
fn live_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM server_ops o LEFT JOIN server_devices d ON d.id = o.device_id
         WHERE o.user_id = ?1 AND o.vault_id = ?2 AND o.compaction <> 1 AND o.entity_type = 'file'
         ORDER BY o.server_sequence"
    )
}

/// The current version of every live file, by path. The newest op of an entity is never
/// superseded, so the heads index holds it.
pub(crate) fn live_files(c: &Conn, scope: &Scope) -> Result<Vec<Version>, StoreError> {
    let mut newest: BTreeMap<String, Version> = BTreeMap::new();
    let mut dropped: Vec<(String, i64)> = Vec::new();
    let mut st = c.prepare_cached(&live_sql())?;
    let mut rows = st.query(params![scope.user_id, scope.vault_id])?;
    while let Some(r) = rows.next()? {
        let path: String = r.get(7)?;
        match read_row(&r)? {
            Some((v, _)) => {
                newest.insert(path, v);
            }
            None => dropped.push((path, r.get(0)?)),
        }
    }
    // An op that is no version (an unknown op type) after a path's last version hides it too.
    for (path, seq) in dropped {
        if newest.get(&path).is_some_and(|v| v.version < seq) {
            newest.remove(&path);
        }
    }
    Ok(newest.into_values().filter(Version::is_content).collect())
}

/// The user's vaults: every scope with ops and every vault a device of the user is bound to.
pub(crate) fn vaults(c: &Conn, user_id: &str) -> Result<Vec<VaultSummary>, StoreError> {
    let ids: Vec<String> = c
        .prepare_cached(
            "SELECT vault_id FROM server_scopes WHERE user_id = ?1
             UNION SELECT vault_id FROM server_devices
               WHERE user_id = ?1 AND vault_id IS NOT NULL AND vault_id <> ''
             ORDER BY 1",
        )?
        .query_map(params![user_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for vault_id in ids {
        let scope = Scope {
            user_id: user_id.to_owned(),
            vault_id,
        };
        let last: Option<(i64, String)> = c
            .prepare_cached(
                "SELECT server_sequence, pushed_at FROM server_ops WHERE user_id = ?1 AND vault_id = ?2
                 ORDER BY server_sequence DESC LIMIT 1",
            )?
            .query_row(params![scope.user_id, scope.vault_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (last_sequence, last_push) = last.unwrap_or_default();
        out.push(VaultSummary {
            files: live_files(c, &scope)?.len() as i64,
            vault_id: scope.vault_id,
            last_sequence,
            last_push,
        });
    }
    Ok(out)
}

/// Whether `vault_id` is one of the user's vaults (see [`vaults`]).
pub(crate) fn has_vault(c: &Conn, user_id: &str, vault_id: &str) -> Result<bool, StoreError> {
    Ok(c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM server_scopes WHERE user_id = ?1 AND vault_id = ?2)
                 OR EXISTS (SELECT 1 FROM server_devices WHERE user_id = ?1 AND vault_id = ?2)",
    )?
    .query_row(params![user_id, vault_id], |r| r.get(0))?)
}

/// The live conflict copies of the scope, each with its original and, when the history still
/// has it, the common base (the newest text version of the original older than the copy's
/// first version and the original's current one).
pub(crate) fn conflicts(c: &Conn, scope: &Scope) -> Result<Vec<ConflictPair>, StoreError> {
    let live = live_files(c, scope)?;
    let by_path: BTreeMap<&str, &Version> = live
        .iter()
        .map(|v| (v.path.as_str(), v))
        .collect::<BTreeMap<_, _>>();
    let mut out = Vec::new();
    for (path, copy) in &by_path {
        let Some(original_path) = conflict_original(path) else {
            continue;
        };
        let original = by_path.get(original_path.as_str()).map(|v| (*v).clone());
        let first = first_op(c, scope, path)?;
        let mut below = first.unwrap_or(copy.version);
        if let Some(o) = &original {
            below = below.min(o.version);
        }
        let base =
            find_version(c, scope, &original_path, below, |v| v.kind == KIND_TEXT)?.map(|(v, _)| v);
        out.push(ConflictPair {
            path: (*path).to_owned(),
            original_path,
            copy: (*copy).clone(),
            original,
            base,
        });
    }
    Ok(out)
}

/// The sequence of the path's first stored op.
fn first_op(c: &Conn, scope: &Scope, path: &str) -> Result<Option<i64>, StoreError> {
    if c.is_pg() {
        return Ok(c
            .prepare_cached(
                "SELECT MIN(server_sequence) FROM server_ops
                 WHERE user_id = ?1 AND vault_id = ?2 AND entity_type = 'file' AND entity_id = ?3",
            )?
            .query_row(params![scope.user_id, scope.vault_id, path], |r| r.get(0))?);
    }
    let mut first = None;
    chain::consistent(c, |c| {
        let head = chain::head(c, scope, ("file", path))?;
        chain::walk(c, scope, "o.server_sequence", "", head, |r| {
            first = Some(r.get(0)?);
            Ok(true)
        })
    })?;
    Ok(first)
}

/// The path a conflict copy was split from: the engine's names (plugin `engine/conflict.rs`,
/// plugin-contract §5.4.2) are `<stem> (conflict <device> <YYYY-MM-DD HHMM>[ <n>])<.ext>`.
pub(crate) fn conflict_original(path: &str) -> Option<String> {
    let (dir, name) = match path.rfind('/') {
        Some(i) => path.split_at(i + 1),
        None => ("", path),
    };
    let (body, ext) = if name.ends_with(')') {
        (name, "")
    } else {
        let i = name.rfind('.')?;
        (&name[..i], &name[i..])
    };
    let body = body.strip_suffix(')')?;
    const MARK: &str = " (conflict ";
    let k = body.rfind(MARK)?;
    let (stem, inner) = (&body[..k], &body[k + MARK.len()..]);
    let words: Vec<&str> = inner.split(' ').collect();
    let digits = |w: &str, n: Option<usize>| {
        !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) && n.is_none_or(|n| w.len() == n)
    };
    let date = |w: &str| {
        let b = w.as_bytes();
        b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && [&w[..4], &w[5..7], &w[8..]].iter().all(|p| digits(p, None))
    };
    let n = words.len();
    let stamp_at = |end: usize| end >= 3 && digits(words[end - 1], Some(4)) && date(words[end - 2]);
    let device_words = if n >= 4 && digits(words[n - 1], None) && stamp_at(n - 1) {
        n - 3
    } else if stamp_at(n) {
        n - 2
    } else {
        return None;
    };
    if stem.is_empty() || words[..device_words].join(" ").trim().is_empty() {
        return None;
    }
    Some(format!("{dir}{stem}{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ops::{PushInput, PushOutcome, push};
    use crate::store::tests::db;
    use verstak_sync_proto::PushOp;

    fn scope(u: &str, v: &str) -> Scope {
        Scope {
            user_id: u.into(),
            vault_id: v.into(),
        }
    }

    /// Pushes one file op as `dev` into `s`.
    fn file(c: &Conn, s: &Scope, dev: &str, id: &str, op_type: &str, path: &str, payload: &str) {
        let op = PushOp {
            op_id: id.into(),
            entity_type: "file".into(),
            entity_id: path.into(),
            op_type: op_type.into(),
            payload_json: payload.into(),
            ..Default::default()
        };
        let input = PushInput::new(s.clone(), dev.into(), String::new(), vec![op]);
        assert!(matches!(
            push(c, &input, "2026-12-06T02:00:00Z").unwrap(),
            PushOutcome::Stored { .. }
        ));
    }

    fn text(path: &str, content: &str) -> String {
        verstak_sync_proto::payload::text(
            path,
            &verstak_sync_proto::Sha256Hex::of(content.as_bytes()),
            content,
        )
    }

    fn sha(s: &str) -> String {
        sha256_hex(s.as_bytes())
    }

    #[test]
    fn versions_are_listed_newest_first_with_their_kind_and_device() {
        let (_d, c) = db();
        let s = scope("u", "v");
        c.execute(
            "INSERT INTO server_devices (id, name, api_key, created_at) VALUES ('dev_a', 'Anna''s laptop', 'k', 'now')", params![],
        )
        .unwrap();
        file(&c, &s, "dev_a", "1", "create", "n.md", &text("n.md", "one"));
        file(&c, &s, "dev_a", "2", "update", "n.md", &text("n.md", "two"));
        file(
            &c,
            &s,
            "dev_gone",
            "3",
            "create",
            "other.md",
            &text("other.md", "x"),
        );
        let b = "b".repeat(64);
        let blob = format!(r#"{{"path":"n.md","blob":{{"sha256":"{b}","size":9}}}}"#);
        c.execute(
            "INSERT INTO server_blob_refs VALUES ('u', 'v', ?1, 9, 'now', 'now')",
            crate::store::sql::params![b],
        )
        .unwrap();
        file(&c, &s, "dev_gone", "4", "update", "n.md", &blob);
        file(&c, &s, "web", "5", "delete", "n.md", r#"{"path":"n.md"}"#);
        let got = versions(&c, &s, "n.md", 0).unwrap();
        let summary: Vec<_> = got
            .iter()
            .map(|v| {
                (
                    v.version,
                    v.kind,
                    v.size,
                    v.sha256.clone(),
                    v.device.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (5, KIND_DELETED, None, String::new(), "web"),
                (4, KIND_BINARY, Some(9), b.clone(), ""),
                (2, KIND_TEXT, Some(3), sha("two"), "Anna's laptop"),
                (1, KIND_TEXT, Some(3), sha("one"), "Anna's laptop"),
            ]
        );
        assert!(got[0].deleted && !got[1].deleted);
        assert_eq!(versions(&c, &s, "n.md", 2).unwrap().len(), 2);
        // Another scope sees nothing of it.
        assert!(
            versions(&c, &scope("u", "w"), "n.md", 0)
                .unwrap()
                .is_empty()
        );
        assert!(
            versions(&c, &scope("x", "v"), "n.md", 0)
                .unwrap()
                .is_empty()
        );
        // Content: text and blob; a deletion and another path's sequence have none.
        assert_eq!(
            version(&c, &s, "n.md", 1).unwrap().unwrap().1,
            Content::Text("one".into())
        );
        assert_eq!(
            version(&c, &s, "n.md", 4).unwrap().unwrap().1,
            Content::Blob { sha256: b, size: 9 }
        );
        assert_eq!(version(&c, &s, "n.md", 5).unwrap(), None);
        assert_eq!(version(&c, &s, "n.md", 3).unwrap(), None);
        assert_eq!(version(&c, &scope("u", "w"), "n.md", 1).unwrap(), None);
        // Deleted: the deletion and the last content version before it.
        let del = deleted(&c, &s, 0).unwrap();
        assert_eq!(del.len(), 1);
        assert_eq!(
            (
                del[0].path.as_str(),
                del[0].deletion.version,
                del[0].last.version
            ),
            ("n.md", 5, 4)
        );
        assert!(deleted(&c, &scope("u", "w"), 0).unwrap().is_empty());
        // Live files: only other.md.
        let live: Vec<_> = live_files(&c, &s)
            .unwrap()
            .into_iter()
            .map(|v| (v.path, v.version))
            .collect();
        assert_eq!(live, vec![("other.md".to_owned(), 3)]);
        // Recreated: no longer deleted, live again.
        file(
            &c,
            &s,
            "dev_a",
            "6",
            "create",
            "n.md",
            &text("n.md", "back"),
        );
        assert!(deleted(&c, &s, 0).unwrap().is_empty());
        assert_eq!(live_files(&c, &s).unwrap().len(), 2);
    }

    #[test]
    fn vaults_list_scopes_and_bound_devices() {
        let (_d, c) = db();
        file(
            &c,
            &scope("u", "v1"),
            "d",
            "1",
            "create",
            "a.md",
            &text("a.md", "a"),
        );
        file(
            &c,
            &scope("u", "v1"),
            "d",
            "2",
            "create",
            "b.md",
            &text("b.md", "b"),
        );
        file(
            &c,
            &scope("other", "v9"),
            "d",
            "3",
            "create",
            "a.md",
            &text("a.md", "a"),
        );
        c.execute(
            "INSERT INTO server_devices (id, name, api_key, user_id, vault_id, created_at)
             VALUES ('dev_b', 'b', 'k', 'u', 'v2', 'now')",
            params![],
        )
        .unwrap();
        let got: Vec<_> = vaults(&c, "u")
            .unwrap()
            .into_iter()
            .map(|v| (v.vault_id, v.files, v.last_sequence, v.last_push.is_empty()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("v1".to_owned(), 2, 2, false),
                ("v2".to_owned(), 0, 0, true)
            ]
        );
        assert!(has_vault(&c, "u", "v1").unwrap() && has_vault(&c, "u", "v2").unwrap());
        assert!(!has_vault(&c, "u", "v9").unwrap() && !has_vault(&c, "other", "v1").unwrap());
    }

    #[test]
    fn conflict_names_match_the_engine() {
        let o = conflict_original;
        let cases = [
            (
                "report (conflict laptop 2026-07-21 1405).docx",
                Some("report.docx"),
            ),
            (
                "archive.tar (conflict laptop 2026-07-21 1405).gz",
                Some("archive.tar.gz"),
            ),
            (".env (conflict laptop 2026-07-21 1405)", Some(".env")),
            (
                "Makefile (conflict laptop 2026-07-21 1405)",
                Some("Makefile"),
            ),
            (
                "Notes/a (conflict laptop 2026-07-21 1405).md",
                Some("Notes/a.md"),
            ),
            ("a (conflict laptop 2026-07-21 1405 3).md", Some("a.md")),
            ("a (conflict my pc (2) 2026-07-21 1405).md", Some("a.md")),
            ("a (conflict 2026-07-21 1405).md", None),
            ("a (conflict laptop 2026-07-21).md", None),
            ("a (conflict laptop 2026-7-21 1405).md", None),
            ("a (notes).md", None),
            ("a.md", None),
            (" (conflict laptop 2026-07-21 1405).md", None),
        ];
        for (path, want) in cases {
            assert_eq!(o(path).as_deref(), want, "{path}");
        }
    }

    #[test]
    fn conflicts_pair_copies_with_original_and_base() {
        let (_d, c) = db();
        let s = scope("u", "v");
        let copy = "a (conflict laptop 2026-07-21 1405).md";
        file(&c, &s, "d1", "1", "create", "a.md", &text("a.md", "base"));
        file(&c, &s, "d2", "2", "update", "a.md", &text("a.md", "theirs"));
        file(&c, &s, "d1", "3", "create", copy, &text(copy, "mine"));
        file(
            &c,
            &s,
            "d1",
            "4",
            "create",
            "lone (conflict x 2026-07-21 1405).md",
            &text("l", "l"),
        );
        let got = conflicts(&c, &s).unwrap();
        assert_eq!(got.len(), 2);
        let a = &got[0];
        assert_eq!((a.path.as_str(), a.original_path.as_str()), (copy, "a.md"));
        assert_eq!(a.copy.version, 3);
        assert_eq!(a.original.as_ref().map(|v| v.version), Some(2));
        assert_eq!(a.base.as_ref().map(|v| v.version), Some(1));
        let lone = &got[1];
        assert_eq!(lone.original_path, "lone.md");
        assert!(lone.original.is_none() && lone.base.is_none());
    }

    fn plan(c: &Conn, sql: &str, n: usize) -> String {
        let args: Vec<i64> = vec![1; n];
        let rows: Vec<String> = c
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(crate::store::sql::params_from_iter(args), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.join("\n")
    }

    #[test]
    fn queries_use_their_indexes() {
        let (_d, c) = db();
        // A path's versions: its head row, then one op at a time by sequence.
        let p = plan(&c, super::chain::HEAD, 4);
        assert!(p.contains("server_entity_heads USING PRIMARY KEY"), "{p}");
        let step = format!(
            "SELECT {COLUMNS}, o.prev_seq FROM server_ops o {DEVICE_JOIN}
             WHERE o.user_id = ?1 AND o.vault_id = ?2 AND o.server_sequence = ?3"
        );
        let p = plan(&c, &step, 3);
        assert!(p.contains("idx_server_ops_scope_seq"), "{p}");
        assert!(!p.contains("SCAN") && !p.contains("TEMP B-TREE"), "{p}");
        let p = plan(&c, &live_sql(), 2);
        assert!(p.contains("idx_server_ops_heads"), "{p}");
        assert!(!p.contains("SCAN o") && !p.contains("TEMP B-TREE"), "{p}");
    }
}
