//! Device authentication (spec §3) and sync-scope resolution.
//!
//! The device extractors of `crate::extract::client` call [`authenticate`] (steps 1 to 7) or
//! [`identify`] (1 to 6); where they sit in a handler's signature (and, on the blob routes,
//! in the method router's refusal) places authentication in the route's check table.

use axum::http::{HeaderMap, Uri, header};
use verstak_sync_proto::limits::fixed::LEGACY_VAULT_PREFIX;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Scope;
use crate::store::devices::{self, DeviceRow};
use crate::util::{ids::sha256_hex, time};

/// An authenticated device and the time its `last_seen` is set to.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub row: DeviceRow,
    pub now: String,
    now_secs: i64,
}

impl Device {
    pub(crate) fn user_id(&self) -> Option<&str> {
        self.row.user_id.as_deref().filter(|u| !u.is_empty())
    }

    /// The device's scope; a device without a user is 403.
    pub(crate) fn scope(&self) -> Result<Scope, ApiError> {
        let user = self
            .user_id()
            .ok_or(ApiError::Forbidden("device is not associated with a user"))?;
        let vault = match self.row.vault_id.as_deref() {
            Some(v) if !v.is_empty() => v.to_owned(),
            _ => format!("{LEGACY_VAULT_PREFIX}{user}"),
        };
        Ok(Scope {
            user_id: user.to_owned(),
            vault_id: vault,
        })
    }
}

/// The API key: `Bearer <key>`, else the whole header, else the `api_key` query parameter.
pub(crate) fn extract_key(headers: &HeaderMap, uri: &Uri) -> String {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .map(|v| v.strip_prefix("Bearer ").map(str::to_owned).unwrap_or(v))
        .unwrap_or_default();
    if !from_header.is_empty() {
        return from_header;
    }
    uri.query()
        .map(|q| form_urlencoded::parse(q.as_bytes()))
        .and_then(|mut pairs| {
            pairs
                .find(|(k, _)| k == "api_key")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

/// Steps 1 to 7 of §3.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Device, ApiError> {
    let dev = identify(state, headers, uri).await?;
    touch(state, &dev).await?;
    Ok(dev)
}

/// Step 7 of §3 as a writer job of its own.
pub(crate) async fn touch(state: &AppState, dev: &Device) -> Result<(), ApiError> {
    if dev.touch_due(state) {
        let (id, n) = (dev.row.id.clone(), dev.now.clone());
        state.db.write(move |c| devices::touch(c, &id, &n)).await?;
        dev.touched(state);
    }
    Ok(())
}

/// Steps 1 to 6 of §3. The caller does step 7: either [`authenticate`], or a handler that writes
/// anyway runs [`devices::touch`] inside its own writer job (one commit instead of two).
pub(crate) async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Device, ApiError> {
    let key = extract_key(headers, uri);
    if key.is_empty() {
        return Err(ApiError::Unauthorized("API key required"));
    }
    let hash = sha256_hex(&key);
    let row = state
        .db
        .read(move |c| devices::by_token_hash(c, &hash))
        .await?
        .ok_or(ApiError::Unauthorized("invalid API key"))?;
    if row.revoked_at.as_deref().is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::Unauthorized("device revoked"));
    }
    let has_user = row.user_id.as_deref().is_some_and(|u| !u.is_empty());
    match &row.user {
        None if has_user => return Err(ApiError::Unauthorized("invalid API key")),
        Some(u) if u.blocked => return Err(ApiError::Forbidden("user blocked")),
        _ => {}
    }
    let now_secs = time::unix_now();
    Ok(Device {
        row,
        now: time::format_unix(now_secs),
        now_secs,
    })
}

impl Device {
    /// Whether `last_seen` still needs writing. Timestamps have whole seconds, so a second write
    /// within the same second would store the same value.
    pub(crate) fn touch_due(&self, state: &AppState) -> bool {
        state
            .seen
            .lock()
            .map(|m| m.get(&self.row.id).copied() != Some(self.now_secs))
            .unwrap_or(true)
    }

    /// Records that `last_seen` was written for this second.
    pub(crate) fn touched(&self, state: &AppState) {
        if let Ok(mut m) = state.seen.lock() {
            if m.len() > 100_000 {
                m.clear();
            }
            m.insert(self.row.id.clone(), self.now_secs);
        }
    }
}
