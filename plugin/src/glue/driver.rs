//! The drain loop: executes the engine's commands through the host imports and feeds the
//! answers back, until the action finishes. One short arm per command; no decisions.

use super::convert::{self, expect, io_error};
use super::service::{Failure, now};
use super::verstak::sync::types::{ErrorCode, HostError};
use super::verstak::sync::{files, network, progress, storage};
use crate::engine::command::{Command, HttpBody, HttpRequest, Method};
use crate::engine::event::{Digest, Event, Reply};
use crate::engine::hash::ContentHash;
use crate::engine::machine::Engine;
use crate::engine::summary::Summary;
use std::time::Duration;

/// Where sync requests go and the credential they carry.
pub(super) struct Server {
    pub base: String,
    pub token: String,
}

/// Runs the engine until `Command::Finished`. A host permission refusal ends the run as that
/// refusal, so the caller sees `not_permitted` rather than a generic failure.
pub(super) fn drive(engine: &mut Engine, server: &Server) -> Result<Summary, Failure> {
    let mut denied: Option<HostError> = None;
    let mut bytes = 0u64;
    loop {
        while let Some(cmd) = engine.poll_command() {
            let id = match cmd {
                Command::Finished(outcome) => {
                    return match (outcome, denied) {
                        (Ok(summary), _) => Ok(summary),
                        (Err(_), Some(refusal)) => Err(Failure::Host(refusal)),
                        (Err(e), None) => Err(Failure::Engine(e)),
                    };
                }
                ref other => other.id().expect("every command but Finished has an id"),
            };
            let result = execute(cmd, server, &mut bytes).map_err(|e| {
                if e.code == ErrorCode::NotPermitted {
                    denied.get_or_insert(e.clone());
                }
                io_error(e)
            });
            engine.handle(now(), Event::Reply { id, result });
            if let Some(p) = engine.status().progress {
                progress::report(progress::Progress {
                    phase: convert::phase(p.phase),
                    done: p.done,
                    total: p.total,
                    bytes,
                });
            }
        }
        match engine.poll_timeout() {
            Some(at) => {
                std::thread::sleep(Duration::from_millis(at.0.saturating_sub(now().0)));
                engine.handle(now(), Event::Timeout);
            }
            None => {
                return Err(Failure::Engine(crate::engine::error::EngineError::LocalIo(
                    "the sync engine stopped without finishing".into(),
                )));
            }
        }
    }
}

fn http(request: HttpRequest, server: &Server) -> Result<Reply, HostError> {
    let mut headers = request.headers;
    headers.push(("Authorization".into(), format!("Bearer {}", server.token)));
    let body = match request.body {
        HttpBody::Empty => network::Body::Empty,
        HttpBody::Json(text) => network::Body::Bytes(text.into_bytes()),
        HttpBody::StagedFile { stage, filename } => {
            network::Body::StagedFile(network::StagedFile { stage, filename })
        }
    };
    let method = match request.method {
        Method::Get => network::Method::Get,
        Method::Post => network::Method::Post,
    };
    let req = network::Request {
        method,
        url: format!("{}{}", server.base, request.path),
        headers,
        body,
    };
    network::send(&req).map(|r| Reply::Http(convert::response(r)))
}

fn execute(cmd: Command, server: &Server, bytes: &mut u64) -> Result<Reply, HostError> {
    use Command::*;
    Ok(match cmd {
        ListDir { dir, .. } => Reply::Listed(
            files::list_dir(dir.as_ref().map_or("", |d| d.as_str()))?
                .into_iter()
                .map(convert::entry)
                .collect(),
        ),
        ReadFile {
            path, offset, len, ..
        } => {
            let data = files::read(path.as_str(), offset, len.min(u32::MAX as u64) as u32)?;
            *bytes += data.len() as u64;
            Reply::Bytes(data)
        }
        HashFile { path, .. } => {
            let d = files::hash(path.as_str())?;
            *bytes += d.size;
            Reply::Digest(Digest {
                size: d.size,
                mtime: d.mtime_ms,
                hash: hash(&d.sha256)?,
            })
        }
        WriteFile {
            path,
            bytes: data,
            expect: e,
            ..
        } => {
            *bytes += data.len() as u64;
            Reply::Written(convert::meta(files::write(
                path.as_str(),
                &data,
                &expect(e),
            )?))
        }
        CopyFile {
            from,
            to,
            from_hash,
            ..
        } => Reply::Written(convert::meta(files::copy(
            from.as_str(),
            to.as_str(),
            from_hash.as_str(),
        )?)),
        Rename { from, to, .. } => {
            files::rename(from.as_str(), to.as_str()).map(|()| Reply::Done)?
        }
        Trash {
            path, expect: e, ..
        } => files::trash(path.as_str(), &expect(e)).map(|()| Reply::Done)?,
        Mkdir { path, .. } => files::mkdir(path.as_str()).map(|()| Reply::Done)?,
        RemoveDir { path, .. } => files::remove_dir(path.as_str()).map(|()| Reply::Done)?,
        StageWrite {
            stage,
            offset,
            bytes: data,
            ..
        } => files::stage_write(&stage, offset, &data).map(|()| Reply::Done)?,
        StageCopy { from, stage, .. } => {
            let staged = files::stage_copy(from.as_str(), &stage)?;
            *bytes += staged.size;
            Reply::Staged {
                size: staged.size,
                hash: hash(&staged.sha256)?,
            }
        }
        CommitStage {
            stage,
            to,
            expect: e,
            ..
        } => Reply::Written(convert::meta(files::commit_stage(
            &stage,
            to.as_str(),
            &expect(e),
        )?)),
        DeleteStage { stage, .. } => files::delete_stage(&stage).map(|()| Reply::Done)?,
        Http { request, .. } => {
            let reply = http(request, server)?;
            if let Reply::Http(r) = &reply {
                *bytes += r.body.len() as u64;
            }
            reply
        }
        StorageRead { key, .. } => Reply::Stored(storage::get(&key)?),
        StorageWrite {
            key,
            value,
            durable,
            ..
        } => if durable {
            storage::set(&key, &value)
        } else {
            storage::set_cache(&key, &value)
        }
        .map(|()| Reply::Done)?,
        StorageDelete { key, .. } => storage::delete(&key).map(|()| Reply::Done)?,
        Finished(_) => unreachable!("handled by the loop"),
    })
}

fn hash(hex: &str) -> Result<ContentHash, HostError> {
    ContentHash::parse(hex).map_err(|_| HostError {
        code: ErrorCode::Io,
        message: format!("the host returned an invalid hash {hex:?}"),
    })
}
