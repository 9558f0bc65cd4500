//! The version-history JSON API (issue 13, server/README.md "Version history"): the same reads
//! and writes for a device (bearer token, the token's scope) under `/api/v1/history/` and for
//! the signed-in web user (cookie session; writes need the session CSRF token, §6.7) under
//! `/api/v1/user/vaults/{vault}/`. A vault that is not the user's is 404 on every route, as is
//! a path or version the scope does not hold: nothing tells another tenant what exists.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering::Relaxed;

use super::download::{locate, open_blob};
use super::only;
use crate::error::ApiError;
use crate::extract::{AppJson, CsrfBody, ScopedDevice, UserSession};
use crate::history_ops::{self, RESTORE_DEVICE, WEB_DEVICE};
use crate::json::{DecodeError, Fields, FromJson, decode};
use crate::reply::json_response;
use crate::state::AppState;
use crate::store::Scope;
use crate::store::versions::{self, Content};
use crate::util::time;
use crate::web::form::Form;

const USER: &str = "/api/v1/user/vaults/{vault}";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/history/versions", only("GET").get(dev_versions))
        .route("/api/v1/history/deleted", only("GET").get(dev_deleted))
        .route("/api/v1/history/content", only("GET").get(dev_content))
        .route("/api/v1/history/restore", only("POST").post(dev_restore))
        .route("/api/v1/user/vaults", only("GET").get(user_vaults))
        .route(&format!("{USER}/files"), only("GET").get(user_files))
        .route(
            &format!("{USER}/history/versions"),
            only("GET").get(user_versions),
        )
        .route(
            &format!("{USER}/history/deleted"),
            only("GET").get(user_deleted),
        )
        .route(
            &format!("{USER}/history/content"),
            only("GET").get(user_content),
        )
        .route(
            &format!("{USER}/conflicts"),
            only("GET").get(user_conflicts),
        )
        .route(
            &format!("{USER}/history/restore"),
            only("POST").post(user_restore),
        )
        .route(
            &format!("{USER}/history/save"),
            only("POST").post(user_save),
        )
}

/// Default and largest `limit` of the list routes.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

fn query(uri: &Uri) -> Form {
    Form::parse(uri.query().unwrap_or("").as_bytes())
}

/// The required `path` parameter.
fn path_param(q: &Form) -> Result<String, ApiError> {
    match q.get("path") {
        "" => Err(ApiError::InvalidRequest("path is required")),
        p => Ok(p.to_owned()),
    }
}

/// `limit`: absent is [`DEFAULT_LIMIT`]; otherwise an integer, capped at [`MAX_LIMIT`].
fn limit_param(q: &Form) -> Result<i64, ApiError> {
    match q.get("limit") {
        "" => Ok(DEFAULT_LIMIT),
        l => l
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(|n| n.min(MAX_LIMIT))
            .ok_or(ApiError::InvalidRequest("limit must be a positive integer")),
    }
}

fn version_param(q: &Form) -> Result<i64, ApiError> {
    q.get("version")
        .parse::<i64>()
        .map_err(|_| ApiError::InvalidRequest("version must be an integer"))
}

async fn versions_of(st: &AppState, scope: Scope, uri: &Uri) -> Result<Response, ApiError> {
    let q = query(uri);
    let (path, limit) = (path_param(&q)?, limit_param(&q)?);
    let p = path.clone();
    let list = st
        .db
        .read(move |c| versions::versions(c, &scope, &p, limit))
        .await?;
    if list.is_empty() {
        return Err(ApiError::NotFound("no version of this path"));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"path": path, "versions": list}),
    ))
}

async fn deleted_of(st: &AppState, scope: Scope, uri: &Uri) -> Result<Response, ApiError> {
    let limit = limit_param(&query(uri))?;
    let files = st
        .db
        .read(move |c| versions::deleted(c, &scope, limit))
        .await?;
    Ok(json_response(StatusCode::OK, &json!({"files": files})))
}

/// The bytes of one version: text inline, a blob streamed from the blob store (the scope's
/// ref is checked again there, as for a blob download). Also the web dashboard's
/// `/vaults/{id}/download` (`routes::pages::vaults`).
pub(crate) async fn content_of(
    st: &AppState,
    scope: Scope,
    uri: &Uri,
) -> Result<Response, ApiError> {
    let q = query(uri);
    let (path, seq) = (path_param(&q)?, version_param(&q)?);
    let (s2, p2) = (scope.clone(), path.clone());
    let (_, content) = st
        .db
        .read(move |c| versions::version(c, &s2, &p2, seq))
        .await?
        .ok_or(ApiError::NotFound("version not found"))?;
    let name = path.rsplit('/').next().unwrap_or(&path);
    let (ctype, sha, len, body) = match content {
        Content::Text(t) => {
            let sha = sha256(t.as_bytes());
            let len = t.len() as u64;
            ("text/plain; charset=utf-8", sha, len, Body::from(t))
        }
        Content::Bytes(b) => {
            let sha = sha256(&b);
            let len = b.len() as u64;
            ("application/octet-stream", sha, len, Body::from(b))
        }
        Content::Blob { sha256, size } => {
            locate(st, &scope, &sha256).await?;
            st.marks.blob_read(&scope, &sha256, time::now_rfc3339());
            let len = size as u64;
            let stream = open_blob(st, &sha256, 0, len).await?;
            st.metrics.blob_download_bytes.fetch_add(len, Relaxed);
            let body = Body::from_stream(stream);
            ("application/octet-stream", sha256, len, body)
        }
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert("x-content-sha256", hv(&sha));
    h.insert(header::CONTENT_DISPOSITION, hv(&disposition(name)));
    Ok(resp)
}

fn sha256(b: &[u8]) -> String {
    verstak_sync_proto::Sha256Hex::of(b).as_str().to_owned()
}

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `attachment` with an ASCII `filename` fallback and the exact name as RFC 5987 `filename*`.
pub(crate) fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut pct = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            pct.push(b as char);
        } else {
            pct.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{pct}")
}

/// `{"path","version"}` of a restore.
#[derive(Deserialize)]
struct RestoreReq {
    path: String,
    version: i64,
}

impl FromJson for RestoreReq {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        f.deserialize()
    }
}

/// `{"path","content","expected_version","remove"}` of a save.
#[derive(Deserialize)]
struct SaveReq {
    path: String,
    content: String,
    #[serde(default)]
    expected_version: Option<i64>,
    #[serde(default)]
    remove: Vec<String>,
}

impl FromJson for SaveReq {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        f.deserialize()
    }
}

fn appended(a: history_ops::Appended) -> Response {
    json_response(StatusCode::OK, &a)
}

async fn dev_versions(
    State(st): State<AppState>,
    ScopedDevice { scope, .. }: ScopedDevice,
    uri: Uri,
) -> Result<Response, ApiError> {
    versions_of(&st, scope, &uri).await
}

async fn dev_deleted(
    State(st): State<AppState>,
    ScopedDevice { scope, .. }: ScopedDevice,
    uri: Uri,
) -> Result<Response, ApiError> {
    deleted_of(&st, scope, &uri).await
}

async fn dev_content(
    State(st): State<AppState>,
    ScopedDevice { scope, .. }: ScopedDevice,
    uri: Uri,
) -> Result<Response, ApiError> {
    content_of(&st, scope, &uri).await
}

async fn dev_restore(
    State(st): State<AppState>,
    ScopedDevice { scope, .. }: ScopedDevice,
    AppJson(r): AppJson<RestoreReq>,
) -> Result<Response, ApiError> {
    let a = history_ops::restore(&st, scope, RESTORE_DEVICE, r.path, r.version).await?;
    Ok(appended(a))
}

/// The user's scope for `vault`, or 404 when the vault is not the user's.
async fn user_scope(st: &AppState, user_id: &str, vault: String) -> Result<Scope, ApiError> {
    vault_scope(st, user_id, vault)
        .await?
        .ok_or(ApiError::NotFound("not found"))
}

/// The signed-in user's scope for `vault`, or `None` when the user has no such vault (the JSON
/// routes and the dashboard pages both answer 404 then, each in its own format).
pub(crate) async fn vault_scope(
    st: &AppState,
    user_id: &str,
    vault: String,
) -> Result<Option<Scope>, ApiError> {
    let uid = user_id.to_owned();
    let v = vault.clone();
    let has = st
        .db
        .read(move |c| versions::has_vault(c, &uid, &v))
        .await?;
    Ok(has.then(|| Scope {
        user_id: user_id.to_owned(),
        vault_id: vault,
    }))
}

async fn user_vaults(
    State(st): State<AppState>,
    UserSession { session: s, .. }: UserSession,
) -> Result<Response, ApiError> {
    let list = st.db.read(move |c| versions::vaults(c, &s.subject)).await?;
    Ok(json_response(StatusCode::OK, &json!({"vaults": list})))
}

async fn user_files(
    State(st): State<AppState>,
    UserSession { session: s, .. }: UserSession,
    Path(vault): Path<String>,
) -> Result<Response, ApiError> {
    let scope = user_scope(&st, &s.subject, vault).await?;
    let files = st.db.read(move |c| versions::live_files(c, &scope)).await?;
    Ok(json_response(StatusCode::OK, &json!({"files": files})))
}

async fn user_versions(
    State(st): State<AppState>,
    UserSession { session: s, .. }: UserSession,
    Path(vault): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let scope = user_scope(&st, &s.subject, vault).await?;
    versions_of(&st, scope, &uri).await
}

async fn user_deleted(
    State(st): State<AppState>,
    UserSession { session: s, .. }: UserSession,
    Path(vault): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let scope = user_scope(&st, &s.subject, vault).await?;
    deleted_of(&st, scope, &uri).await
}

async fn user_content(
    State(st): State<AppState>,
    UserSession { session: s, .. }: UserSession,
    Path(vault): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let scope = user_scope(&st, &s.subject, vault).await?;
    content_of(&st, scope, &uri).await
}

async fn user_conflicts(
    State(st): State<AppState>,
    UserSession { session: s, .. }: UserSession,
    Path(vault): Path<String>,
) -> Result<Response, ApiError> {
    let scope = user_scope(&st, &s.subject, vault).await?;
    let list = st.db.read(move |c| versions::conflicts(c, &scope)).await?;
    Ok(json_response(StatusCode::OK, &json!({"conflicts": list})))
}

/// Session, then body and CSRF (header or form field), then the vault. A form post carries
/// `path` and `version` fields; JSON the same keys.
async fn user_restore(
    State(st): State<AppState>,
    UserSession { session: s, .. }: UserSession,
    Path(vault): Path<String>,
    CsrfBody { bytes, form }: CsrfBody,
) -> Result<Response, ApiError> {
    let r = match &form {
        Some(f) => RestoreReq {
            path: f.get("path").to_owned(),
            version: version_param(f)?,
        },
        None => decode::<RestoreReq>(&bytes)?,
    };
    let scope = user_scope(&st, &s.subject, vault).await?;
    let a = history_ops::restore(&st, scope, WEB_DEVICE, r.path, r.version).await?;
    Ok(appended(a))
}

async fn user_save(
    State(st): State<AppState>,
    UserSession { session: s, .. }: UserSession,
    Path(vault): Path<String>,
    CsrfBody { bytes, .. }: CsrfBody,
) -> Result<Response, ApiError> {
    let r = decode::<SaveReq>(&bytes)?;
    if r.path.is_empty() {
        return Err(ApiError::InvalidRequest("path is required"));
    }
    let scope = user_scope(&st, &s.subject, vault).await?;
    let a = history_ops::save_text(
        &st,
        scope,
        WEB_DEVICE,
        r.path,
        r.content,
        r.expected_version,
        r.remove,
    )
    .await?;
    Ok(appended(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_keep_the_exact_name() {
        assert_eq!(
            disposition("a b.md"),
            "attachment; filename=\"a b.md\"; filename*=UTF-8''a%20b.md"
        );
        assert_eq!(
            disposition("заметка \"1\".md"),
            "attachment; filename=\"_______ _1_.md\"; filename*=UTF-8''%D0%B7%D0%B0%D0%BC%D0%B5%D1%82%D0%BA%D0%B0%20%221%22.md"
        );
    }

    #[test]
    fn limits_default_and_cap() {
        let q = |s: &str| limit_param(&Form::parse(s.as_bytes()));
        assert_eq!(q("").unwrap(), DEFAULT_LIMIT);
        assert_eq!(q("limit=5").unwrap(), 5);
        assert_eq!(q("limit=99999").unwrap(), MAX_LIMIT);
        assert!(q("limit=0").is_err() && q("limit=x").is_err());
    }
}
