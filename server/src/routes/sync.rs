//! Push and pull (spec §4.7, §4.8). Validation is pure (`sync_rules`); the push itself is one
//! writer job (`store::ops::push`), so it is atomic and serialised per database. A push that
//! stored ops is published to the scope's event streams once its job returned (committed).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::atomic::Ordering::Relaxed;
use verstak_sync_proto::{PullRequest, PushRequest, paths};

use super::only;
use crate::auth::{Device, touch};
use crate::error::ApiError;
use crate::extract::{AppJson, ScopedDevice, UntouchedDevice};
use crate::reply::{json_response, raw_json};
use crate::state::AppState;
use crate::store::devices;
use crate::store::ops::{self, PushInput, PushOutcome};
use crate::sync_rules::{pull_limit, validate_push};
use crate::util::time;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::PUSH, only("POST").post(push))
        .route(paths::PULL, only("POST").post(pull))
}

/// §4.7: authenticate without step 7, then scope, decode and validate; whatever the answer
/// after authentication, `last_seen` is written (on success inside the push's writer job).
async fn push(
    State(st): State<AppState>,
    UntouchedDevice(dev): UntouchedDevice,
    body: Result<AppJson<PushRequest>, ApiError>,
) -> Result<Response, ApiError> {
    let input = match push_input(&st, &dev, body) {
        Ok(i) => i,
        Err(e) => {
            touch(&st, &dev).await?;
            return Err(e);
        }
    };
    // §3 step 7 rides in the push's own writer job, so the push waits for one commit.
    let touch_due = dev.touch_due(&st);
    let (id, seen) = (dev.row.id.clone(), dev.now.clone());
    let (db, hub, metrics, scope, device) = (
        st.db.clone(),
        st.events.clone(),
        st.metrics.clone(),
        input.scope.clone(),
        dev.row.id.clone(),
    );
    // A task of its own: a client that goes away mid-push drops this handler, but a commit it
    // caused is still announced to the scope's event streams and counted in the metrics.
    let outcome = tokio::spawn(async move {
        let outcome = db
            .write(move |c| {
                if touch_due {
                    devices::touch(c, &id, &seen)?;
                }
                ops::push(c, &input, &time::now_rfc3339())
            })
            .await;
        // The writer job has returned: the ops are committed and durable.
        if let Ok(PushOutcome::Stored {
            stats, advanced, ..
        }) = &outcome
        {
            metrics.ops_accepted.fetch_add(stats.stored, Relaxed);
            metrics.ops_duplicate.fetch_add(stats.duplicates, Relaxed);
            metrics
                .ops_rejected_duplicate
                .fetch_add(stats.rejected_duplicates, Relaxed);
            metrics.conflicts.fetch_add(stats.conflicts, Relaxed);
            if let Some((after, seq)) = advanced {
                hub.published(&scope, *after, *seq, &device);
            }
        }
        outcome
    })
    .await
    .map_err(ApiError::internal)??;
    if touch_due {
        dev.touched(&st);
    }
    match outcome {
        PushOutcome::Stored { body, .. } => Ok(raw_json(StatusCode::OK, body)),
        PushOutcome::Replay(body) => Ok(raw_json(StatusCode::OK, body)),
        PushOutcome::KeyReused => Err(ApiError::IdempotencyKeyReused),
        PushOutcome::Rejected(e) => Err(e.into()),
    }
}

/// The push checks after authentication (§4.7 from step 5 on): scope, body, validation.
fn push_input(
    st: &AppState,
    dev: &Device,
    body: Result<AppJson<PushRequest>, ApiError>,
) -> Result<PushInput, ApiError> {
    let scope = dev.scope()?;
    let AppJson(r) = body?;
    validate_push(&r, &st.config.limits)?;
    Ok(PushInput::new(
        scope,
        dev.row.id.clone(),
        r.idempotency_key,
        r.ops,
    ))
}

/// §4.8: authenticate, scope, decode, then the handler's checks.
async fn pull(
    State(st): State<AppState>,
    ScopedDevice { scope, device_id }: ScopedDevice,
    AppJson(r): AppJson<PullRequest>,
) -> Result<Response, ApiError> {
    if r.since_sequence < 0 || r.page_limit < 0 {
        return Err(ApiError::InvalidRequest(
            "sequence and page_limit must be non-negative",
        ));
    }
    let limit = pull_limit(r.page_limit, st.config.limits.max_pull_page);
    let since = r.since_sequence;
    st.marks
        .pulled(&device_id, &scope, since, time::now_rfc3339());
    let puller = ops::Puller {
        device_id,
        compact_min_backlog: st.history().compact_min_backlog,
    };
    let page = st
        .db
        .read(move |c| ops::pull(c, &scope, &puller, since, limit))
        .await?;
    st.metrics
        .pull_ops_served
        .fetch_add(page.ops.len() as u64, Relaxed);
    Ok(json_response(StatusCode::OK, &page))
}
