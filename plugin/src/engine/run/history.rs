//! The `History` and `Deleted` actions (issue #13): one GET to the server's history routes with
//! the device token, under the retry policy of `http.rs`, decoded with the wire types of
//! `verstak_sync_proto::history`. Nothing local changes.

use verstak_sync_proto::history::{self, DeletedResponse, VersionsResponse};

use super::super::command::{Endpoint, HttpBody, HttpRequest, Method};
use super::super::error::EngineError;
use super::super::history::{DeletedFile, Version};
use super::super::io::Io;
use super::super::path::VaultPath;
use super::{http, pair};

/// A plain GET of `path` on the paired server.
pub(super) fn get(path: String) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        path,
        headers: Vec::new(),
        body: HttpBody::Empty,
    }
}

/// The server's answer to a history request; a 404 `not_found` is `EngineError::NotFound`
/// with `missing` as its message.
pub(super) async fn fetch(
    io: &Io,
    to: &Endpoint,
    path: String,
    missing: impl FnOnce() -> String,
) -> Result<Vec<u8>, EngineError> {
    match http::send(io, to, &get(path)).await {
        Ok(resp) => Ok(resp.body),
        Err(EngineError::Server { code, status: 404 }) if code == "not_found" => {
            Err(EngineError::NotFound(missing()))
        }
        Err(e) => Err(e),
    }
}

/// A vault path as the user typed it, checked like every path the engine syncs.
pub(super) fn vault_path(path: &str) -> Result<VaultPath, EngineError> {
    VaultPath::parse(path)
        .map_err(|_| EngineError::InvalidPath(format!("{path:?} is not a vault path")))
}

/// `history(path, limit)`: the stored versions of `path`, newest first.
pub(super) async fn versions(io: &Io, path: &str, limit: u32) -> Result<Vec<Version>, EngineError> {
    let path = vault_path(path)?;
    let (_, server) = pair::paired(io).await?;
    let missing = || format!("{path} has no stored version on the server");
    let body = fetch(
        io,
        &server,
        history::versions_path(path.as_str(), limit),
        missing,
    )
    .await?;
    let answer: VersionsResponse =
        serde_json::from_slice(&body).map_err(|_| EngineError::InvalidResponse)?;
    Ok(answer.versions)
}

/// `deleted(limit)`: the deleted files the server can still restore, newest deletion first.
pub(super) async fn deleted(io: &Io, limit: u32) -> Result<Vec<DeletedFile>, EngineError> {
    let (_, server) = pair::paired(io).await?;
    let missing = || "the server has no version history".to_string();
    let body = fetch(io, &server, history::deleted_path(limit), missing).await?;
    let answer: DeletedResponse =
        serde_json::from_slice(&body).map_err(|_| EngineError::InvalidResponse)?;
    Ok(answer.files)
}
