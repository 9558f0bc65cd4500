//! Health, readiness, liveness (spec §4.11) and Prometheus metrics (§4.12). No authentication
//! except the optional metrics token; no response contains a path or a secret.
//!
//! `blob_storage_writable` is the write probe of §4.11 and, beyond it, at least 1 MiB free on
//! the data directory's file system, so a full disk (writes answered 507 `storage_full`) shows
//! as `degraded` and turns back to `ok` by itself when space returns.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use verstak_sync_proto::{HealthStatus, LiveStatus, paths};

use super::{not_allowed, only};
use crate::error::ApiError;
use crate::http::{not_found_page, peer};
use crate::metrics::Gauges;
use crate::reply::json_response;
use crate::state::AppState;
use crate::store::{blobs, devices, ops, users};
use crate::util::{ids::ct_eq, time};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::HEALTH, only("GET").get(health))
        .route(paths::READYZ, only("GET").get(health))
        .route(paths::LIVEZ, only("GET").get(livez))
        // §4.12: with metrics disabled the route does not exist, whatever the method.
        .route(
            paths::METRICS,
            any(|State(st): State<AppState>| async move {
                if st.config.metrics_enabled {
                    not_allowed("GET").into_response()
                } else {
                    not_found_page()
                }
            })
            .get(metrics),
        )
}

pub(crate) async fn readiness(st: &AppState) -> HealthStatus {
    let schema = st
        .db
        .read(|c| {
            c.query_row("SELECT 1", crate::store::sql::params![], |_| Ok(()))?;
            crate::store::schema_version(c)
        })
        .await;
    let blobs = st.blobs.clone();
    // The SQLite file's disk must have room; PostgreSQL watches its own.
    let data_dir = st
        .db
        .sqlite_path()
        .and_then(Path::parent)
        .map(Path::to_owned);
    let writable = tokio::task::spawn_blocking(move || {
        blobs.probe_writable() && data_dir.is_none_or(|d| has_room(&d))
    })
    .await
    .unwrap_or(false);
    let db_ok = schema.is_ok();
    HealthStatus {
        status: if db_ok && writable { "ok" } else { "degraded" }.into(),
        version: crate::VERSION.into(),
        build_commit: crate::COMMIT.into(),
        uptime_seconds: st.started.elapsed().as_secs() as i64,
        database_reachable: db_ok,
        blob_storage_writable: writable,
        schema_version: schema.unwrap_or(0),
        server_time: time::now_rfc3339(),
    }
}

/// Free space below which the data directory counts as full: writes there are about to be
/// refused (507 `storage_full`), so readiness reports `degraded` until space returns.
const MIN_FREE_BYTES: u64 = 1024 * 1024;

/// Whether the file system holding `dir` has at least [`MIN_FREE_BYTES`] available to this
/// (unprivileged) process. If it cannot be asked, the write probe alone decides.
fn has_room(dir: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return true;
    };
    let mut vfs = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a NUL-terminated path and `vfs` is a properly sized out-buffer that
    // statvfs fills completely when it returns 0.
    if unsafe { libc::statvfs(c.as_ptr(), vfs.as_mut_ptr()) } != 0 {
        return true;
    }
    // SAFETY: statvfs returned 0, so it initialised `vfs`.
    let vfs = unsafe { vfs.assume_init() };
    #[allow(clippy::unnecessary_cast)] // both are narrower than u64 on some targets
    let free = (vfs.f_bavail as u64).saturating_mul(vfs.f_frsize as u64);
    free >= MIN_FREE_BYTES
}

async fn health(State(st): State<AppState>) -> Result<Response, ApiError> {
    let h = readiness(&st).await;
    let status = if h.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(json_response(status, &h))
}

async fn livez() -> Result<Response, ApiError> {
    Ok(json_response(
        StatusCode::OK,
        &LiveStatus {
            server_time: time::now_rfc3339(),
            status: "ok".into(),
        },
    ))
}

async fn metrics(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    if !st.config.metrics_enabled {
        return Ok(not_found_page());
    }
    let token = &st.config.metrics_token;
    if !token.is_empty() {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !ct_eq(given.as_bytes(), token.as_bytes()) {
            return Err(ApiError::Unauthorized("metrics token required"));
        }
    } else {
        let proxied = req.headers().contains_key("x-forwarded-for")
            || req.headers().contains_key("forwarded");
        if !peer(req.extensions()).ip().is_loopback() || proxied {
            return Err(ApiError::Forbidden("metrics are only available locally"));
        }
    }
    let ready = readiness(&st).await.status == "ok";
    let counts = st
        .db
        .read(|c| {
            let (blobs, bytes) = blobs::totals(c)?;
            let (active, revoked) = devices::count_by_state(c)?;
            Ok((
                users::count(c)?,
                ops::count(c)?,
                blobs,
                bytes,
                active,
                revoked,
            ))
        })
        .await
        .unwrap_or_default();
    let g = Gauges {
        uptime: st.started.elapsed().as_secs(),
        users: counts.0,
        operations: counts.1,
        blobs: counts.2,
        blob_bytes: counts.3,
        devices_active: counts.4,
        devices_revoked: counts.5,
        ready,
    };
    let mut resp = st.metrics.render(&g).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(resp)
}
