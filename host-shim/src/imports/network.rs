//! `verstak:sync/network`: HTTP to the configured sync server only (needs `network.remote`).
//!
//! `send`: (1) the grant; (2) validation (the method is a WIT enum) — an absolute http(s)
//! URL without credentials, header names and values that cannot smuggle a second header, and
//! the URL's [`Origin`] equal to the allowed one (`forbidden-origin` otherwise, before any
//! connection); (3) the request through [`super::http`], with a 16 MiB response cap and a
//! total time limit ([`request_time_limit`]); `https` trusts what [`super::tls`] describes
//! (platform store plus `VERSTAK_SYNC_CA_FILE`).
//!
//! The time limit exists because the call's deadline (an epoch interrupt) stops only guest
//! code, never a blocking host read: a request gets what is left of the call, minus a reserve
//! for the engine to handle the failure, and at most [`MAX_REQUEST_TIME`] (plus upload time).
//! A request that runs out is a `network` error, which the engine's retry policy handles.
//!
//! The allowed origin is the one set by [`crate::state::HostState::allow_origin`] (the URL the
//! user typed, for `configure` / `test-connection`), else the paired server the host recorded
//! after the last successful `configure` ([`crate::vault::VaultDirs::paired_server`]; read once
//! per export call, since the host writes it only between calls). Never the settings: the
//! component can write those.

use super::http::{self, Body as HttpBody, HttpError};
use super::staging::Stage;
use super::tls::Tls;
use super::{err, io_error};
use crate::bindings::verstak::sync::network::{Body, Host, Request, Response};
use crate::bindings::{ErrorCode, HostError};
use crate::grants::Permission;
use crate::state::HostState;
use std::time::{Duration, Instant};

/// The largest response body (network.wit).
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// The longest one request may take, uploads aside: room for a 4 MiB download chunk on a slow
/// link, far beyond any JSON exchange.
pub const MAX_REQUEST_TIME: Duration = Duration::from_secs(300);
/// An upload gets one more second per this many body bytes (a 256 MiB file: about 2.3 h more).
const MIN_UPLOAD_BYTES_PER_SEC: u64 = 32 << 10;
/// The part of a call kept back from its requests, so the engine can back off, give up and
/// record the failure before the deadline stops it: a tenth of the call, but at least
/// [`MIN_CALL_RESERVE`] (the retry policy's sleeps take 0.75 s), at most [`MAX_CALL_RESERVE`],
/// and never more than half the call.
const MIN_CALL_RESERVE: Duration = Duration::from_secs(2);
const MAX_CALL_RESERVE: Duration = Duration::from_secs(10);

/// How long a request that uploads `upload_bytes` may take at `now`, during a call that began
/// at `call.0` and may run for `call.1` (no call: the per-request maximum only). Zero means
/// there is no time left for a request.
pub(crate) fn request_time_limit(
    call: Option<(Instant, Duration)>,
    upload_bytes: u64,
    now: Instant,
) -> Duration {
    let own = MAX_REQUEST_TIME + Duration::from_secs(upload_bytes / MIN_UPLOAD_BYTES_PER_SEC);
    let Some((start, length)) = call else {
        return own;
    };
    let reserve = (length / 10)
        .clamp(MIN_CALL_RESERVE, MAX_CALL_RESERVE)
        .min(length / 2);
    let usable = length - reserve;
    own.min((start + usable).saturating_duration_since(now))
}

/// Headers the host writes itself; the guest may not set them.
const HOST_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
];

/// A URL's scheme, host and port: what the allow-list compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

fn invalid(message: impl Into<String>) -> HostError {
    err(ErrorCode::InvalidInput, message)
}

/// Parses an absolute http(s) URL without credentials (`invalid-input` otherwise).
fn parse_url(text: &str) -> Result<url::Url, HostError> {
    let url = url::Url::parse(text).map_err(|e| invalid(format!("invalid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "invalid URL: scheme {:?} is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("invalid URL: no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("invalid URL: credentials in URLs are refused"));
    }
    Ok(url)
}

impl Origin {
    /// The origin of an absolute http(s) URL; `invalid-input` otherwise.
    pub fn parse(url: &str) -> Result<Origin, HostError> {
        Ok(Origin::of(&parse_url(url)?))
    }

    fn of(url: &url::Url) -> Origin {
        Origin {
            scheme: url.scheme().to_string(),
            host: url.host_str().unwrap_or_default().to_ascii_lowercase(),
            port: url.port_or_known_default().unwrap_or(0),
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

fn check_headers(headers: &[(String, String)]) -> Result<(), HostError> {
    for (name, value) in headers {
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        // Control characters (CR and LF above all) could end the header early; tab is allowed.
        let value_ok = !value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f);
        if !name_ok || !value_ok {
            return Err(invalid(format!("invalid header {name:?}")));
        }
        if HOST_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(invalid(format!("the header {name:?} is set by the host")));
        }
    }
    Ok(())
}

impl HostState {
    /// The origin `send` may reach right now.
    fn current_origin(&mut self) -> Result<Origin, HostError> {
        if let Some(o) = &self.allowed_origin {
            return Ok(o.clone());
        }
        let forbidden = |why: &str| {
            err(
                ErrorCode::ForbiddenOrigin,
                format!("no sync server is configured ({why})"),
            )
        };
        match self
            .paired_server()
            .map_err(|e| io_error("read the paired server", e))?
        {
            Some(url) => Origin::parse(&url).map_err(|_| forbidden("invalid paired server URL")),
            None => Err(forbidden("not paired")),
        }
    }
}

impl Host for HostState {
    fn send(&mut self, req: Request) -> Result<Response, HostError> {
        self.send_with(req, None)
    }
}

impl HostState {
    /// `send`, with `https` trusting `tls` instead of the process's configuration when given.
    fn send_with(&mut self, req: Request, tls: Option<&Tls>) -> Result<Response, HostError> {
        self.grants.check(Permission::NetworkRemote)?;
        let url = parse_url(&req.url)?;
        check_headers(&req.headers)?;
        let allowed = self.current_origin()?;
        let origin = Origin::of(&url);
        if origin != allowed {
            return Err(err(
                ErrorCode::ForbiddenOrigin,
                format!("{origin} is not the sync server {allowed}"),
            ));
        }
        let call_window = self.call_window;
        let send = |body, upload_bytes| {
            let time_limit = request_time_limit(call_window, upload_bytes, Instant::now());
            if time_limit.is_zero() {
                return Err(HttpError::NoResponse(format!(
                    "no time is left for a request in this call (its time limit is {} s)",
                    call_window.map_or(0, |(_, length)| length.as_secs())
                )));
            }
            http::send(
                http::Request {
                    method: req.method,
                    url: &url,
                    headers: &req.headers,
                    body,
                    time_limit,
                },
                MAX_RESPONSE_BYTES,
                tls,
            )
        };
        let result = match req.body {
            Body::Empty => send(HttpBody::Empty, 0),
            Body::Bytes(bytes) => {
                let len = bytes.len() as u64;
                send(HttpBody::Bytes(bytes.into()), len)
            }
            Body::StagedFile(staged) => {
                if staged.filename.is_empty()
                    || staged
                        .filename
                        .bytes()
                        .any(|b| matches!(b, b'"' | b'\r' | b'\n' | b'\\' | 0))
                {
                    return Err(invalid(format!("invalid filename {:?}", staged.filename)));
                }
                let stage = Stage::new(&staged.stage)?;
                if self.write_behind.holds_stage(&stage.key) {
                    self.settle_writes()?;
                }
                let fs = self.vault_fs()?;
                let file = self
                    .with_staging(fs.root(), false, |dir| match dir {
                        Some(dir) => stage.open(dir),
                        None => Err(err(
                            ErrorCode::NotFound,
                            format!("open staging file: {:?} was never written", stage.key),
                        )),
                    })
                    .map_err(|e| err(ErrorCode::Io, e.message))?;
                let len = file
                    .metadata()
                    .map_err(|e| io_error("stat staging file", e))?
                    .len();
                let boundary = format!("verstak-{}", super::atomic::random_hex(12)?);
                send(
                    HttpBody::Multipart {
                        file: Box::new(file),
                        len,
                        filename: staged.filename,
                        boundary,
                    },
                    len,
                )
            }
        };
        match result {
            Ok(r) => Ok(Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(HttpError::TooLarge(max)) => Err(err(
                ErrorCode::TooLarge,
                format!("the response body exceeds {max} bytes"),
            )),
            Err(HttpError::Source(e)) => Err(io_error("staging file", e)),
            Err(HttpError::NoResponse(m)) => Err(err(ErrorCode::Network, m)),
        }
    }
}

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;
