//! HTTP through the `network` import, with the retry policy the engine uses for sync runs.

use super::convert;
use super::verstak::sync::network;
use crate::engine::account::{self, Call};
use crate::engine::command::Method;
use crate::engine::error::EngineError;
use crate::engine::event::{HttpResponse, IoError};
use std::time::Duration;

fn request(call: &Call) -> network::Request {
    network::Request {
        method: match call.method {
            Method::Get => network::Method::Get,
            Method::Post => network::Method::Post,
        },
        url: call.url.clone(),
        headers: call.headers.clone(),
        body: match &call.body {
            Some(b) => network::Body::Bytes(b.clone().into_bytes()),
            None => network::Body::Empty,
        },
    }
}

fn once(call: &Call) -> Result<HttpResponse, IoError> {
    network::send(&request(call))
        .map(convert::response)
        .map_err(convert::io_error)
}

/// Sends `call`, retrying on network errors and transient statuses; a 2xx answer is `Ok`.
pub(super) fn send(call: &Call) -> Result<HttpResponse, EngineError> {
    let mut number = 0;
    loop {
        match account::attempt(number, once(call)) {
            Ok(resp) => return Ok(resp),
            Err(retry) => match retry.delay_ms {
                Some(ms) => std::thread::sleep(Duration::from_millis(ms)),
                None => return Err(retry.error),
            },
        }
        number += 1;
    }
}

/// Sends `call` once and ignores the outcome (revoking a credential we are dropping anyway).
pub(super) fn best_effort(call: &Call) {
    let _ = once(call);
}
