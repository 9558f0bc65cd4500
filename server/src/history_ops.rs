//! Writes of the version-history API (issue 13): restoring a version and saving a merged text
//! append ops to the scope's log exactly as a push does (`store::ops::push` in one writer job:
//! next sequence, compaction classes, tombstones, the §5.8 blob-ref check, the device's push
//! mark), and announce the commit to the scope's event streams as the push route does. So every
//! device, the Go desktop included, receives them on its next pull as another device's ops.
//!
//! The ops carry a device id of the server's own ([`WEB_DEVICE`] for the signed-in web user,
//! [`RESTORE_DEVICE`] for a device's restore request) rather than the requester's: an engine
//! treats its own device's ops as echoes and would never write the restored version locally.

use crate::store::sql::Conn;
use serde::Serialize;
use std::sync::atomic::Ordering::Relaxed;
use verstak_sync_proto::{BlobRef, PushOp, PushRequest, Sha256Hex, payload};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::ops::{self, PushInput, PushOutcome};
use crate::store::versions::{self, Content};
use crate::store::{Scope, StoreError};
use crate::sync_rules::validate_push;
use crate::util::{ids, time};

/// The device id of ops appended on the signed-in web user's behalf.
pub(crate) const WEB_DEVICE: &str = versions::SERVER_DEVICES[0];
/// The device id of ops appended on a device's `POST /api/v1/history/restore`.
pub(crate) const RESTORE_DEVICE: &str = versions::SERVER_DEVICES[1];

/// The new version a write appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Appended {
    pub path: String,
    pub version: i64,
    pub op_id: String,
}

/// The ops to append, or the refusal, decided inside the writer job.
type Planned = Result<Vec<PushOp>, ApiError>;

/// Restores version `seq` of `path`: a `create` (the path is deleted or absent) or `update`
/// with that version's payload (the same text, or the same blob reference).
pub(crate) async fn restore(
    st: &AppState,
    scope: Scope,
    device_id: &str,
    path: String,
    seq: i64,
) -> Result<Appended, ApiError> {
    append(st, scope, device_id, path.clone(), move |c, scope| {
        let Some((_, content)) = versions::version(c, scope, &path, seq)? else {
            return Ok(Err(ApiError::NotFound("version not found")));
        };
        let body = match content {
            Content::Text(t) => payload::text(&path, &Sha256Hex::of(t.as_bytes()), &t),
            Content::Blob { sha256, size } => {
                let Ok(sha256) = Sha256Hex::parse(&sha256) else {
                    return Ok(Err(ApiError::InvalidBlobReference(
                        "invalid blob reference",
                    )));
                };
                let size = u64::try_from(size).unwrap_or_default();
                payload::blob(&path, &BlobRef { sha256, size })
            }
            // This server never stores inline binary; an adopted legacy op cannot be re-pushed.
            Content::Bytes(_) => return Ok(Err(ApiError::InlineBinaryForbidden)),
        };
        Ok(Ok(vec![file_op(c, scope, &path, body)?]))
    })
    .await
}

/// Saves `content` as a new text version of `path` (409 `version_conflict` when `expected` is
/// given and is not the path's newest version), then deletes each live path of `remove` (the
/// merged conflict copies; their versions stay in the history).
pub(crate) async fn save_text(
    st: &AppState,
    scope: Scope,
    device_id: &str,
    path: String,
    content: String,
    expected: Option<i64>,
    remove: Vec<String>,
) -> Result<Appended, ApiError> {
    append(st, scope, device_id, path.clone(), move |c, scope| {
        let current = versions::latest(c, scope, &path)?.map(|v| v.version);
        if expected.is_some() && expected != current {
            return Ok(Err(ApiError::VersionConflict));
        }
        let body = payload::text(&path, &Sha256Hex::of(content.as_bytes()), &content);
        let mut out = vec![file_op(c, scope, &path, body)?];
        for r in remove {
            let live = versions::latest(c, scope, &r)?.is_some_and(|v| v.is_content());
            if r == path || !live {
                return Ok(Err(ApiError::NotFound("file to remove not found")));
            }
            out.push(PushOp {
                op_type: "delete".into(),
                payload_json: payload::path_only(&r),
                entity_id: r,
                ..out[0].clone()
            });
            let n = out.len();
            out[n - 1].op_id = new_op_id();
        }
        Ok(Ok(out))
    })
    .await
}

/// A new file op for `path`: `create` when the path has no live version, else `update`, seen
/// against the scope's last sequence (it conflicts with nothing already stored).
fn file_op(c: &Conn, scope: &Scope, path: &str, body: String) -> Result<PushOp, StoreError> {
    let live = versions::latest(c, scope, path)?.is_some_and(|v| v.is_content());
    Ok(PushOp {
        op_id: new_op_id(),
        entity_type: "file".into(),
        entity_id: path.to_owned(),
        op_type: if live { "update" } else { "create" }.into(),
        payload_json: body,
        client_sequence: 0,
        last_seen_server_seq: ops::last_sequence(c, scope)?,
        created_at: time::now_rfc3339(),
    })
}

fn new_op_id() -> String {
    format!("srv_{}", ids::random_hex(16))
}

/// Plans and pushes the ops in one writer job (the plan reads what the push then changes, so
/// nothing can come between), then announces the commit. The first op is `path`'s new version.
async fn append<F>(
    st: &AppState,
    scope: Scope,
    device_id: &str,
    path: String,
    plan: F,
) -> Result<Appended, ApiError>
where
    F: FnOnce(&Conn, &Scope) -> Result<Planned, StoreError> + Send + 'static,
{
    let (db, hub, limits) = (st.db.clone(), st.events.clone(), st.config.limits);
    let device = device_id.to_owned();
    // A task of its own, as for a push: a commit is announced even if the client went away.
    let done = tokio::spawn(async move {
        let (s2, d2) = (scope.clone(), device.clone());
        let r = db
            .write(move |c| {
                let planned = match plan(c, &s2)? {
                    Ok(ops) => ops,
                    Err(e) => return Ok(Err(e)),
                };
                let request = PushRequest {
                    device_id: d2.clone(),
                    idempotency_key: String::new(),
                    ops: planned,
                };
                if let Err(e) = validate_push(&request, &limits) {
                    return Ok(Err(e));
                }
                let first = request.ops[0].op_id.clone();
                let input = PushInput::new(s2, d2, String::new(), request.ops);
                Ok(Ok((ops::push(c, &input, &time::now_rfc3339())?, first)))
            })
            .await;
        if let Ok(Ok((
            PushOutcome::Stored {
                advanced: Some((after, seq)),
                ..
            },
            _,
        ))) = &r
        {
            hub.published(&scope, *after, *seq, &device);
        }
        r
    })
    .await
    .map_err(ApiError::internal)??;
    match done? {
        (
            PushOutcome::Stored {
                advanced: Some((after, _)),
                stats,
                ..
            },
            op_id,
        ) => {
            st.metrics.ops_accepted.fetch_add(stats.stored, Relaxed);
            Ok(Appended {
                path,
                version: after + 1,
                op_id,
            })
        }
        (PushOutcome::Rejected(e), _) => Err(e.into()),
        (other, _) => Err(ApiError::internal(anyhow::anyhow!(
            "history write stored nothing: {other:?}"
        ))),
    }
}
