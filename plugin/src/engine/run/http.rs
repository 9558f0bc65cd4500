//! HTTP with the retry policy of §3.11: three tries on network errors and on 408, 429, 500,
//! 502, 503, 504, sleeping 250 ms then 500 ms, or `Retry-After` (at most 60 s) on 429/503.
//! Error bodies become `sync-server:<code> (HTTP <n>)`, `sync-server:request_failed (HTTP <n>)`
//! or `not a Verstak Sync server (HTTP <n>)`.

use serde::Serialize;
use serde::de::DeserializeOwned;
use verstak_sync_proto::ErrorBody;

use super::super::command::{HttpBody, HttpRequest, Method};
use super::super::error::EngineError;
use super::super::event::{HttpResponse, IoError};
use super::Run;

const RETRY_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// The error an unsuccessful response stands for.
pub(crate) fn error_from(resp: &HttpResponse) -> EngineError {
    let body = &resp.body[..resp.body.len().min(500)];
    if let Ok(e) = serde_json::from_slice::<ErrorBody>(&resp.body)
        && !e.code.is_empty()
    {
        return EngineError::Server {
            code: e.code,
            status: resp.status,
        };
    }
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    if text.trim_start().starts_with('<') || text.contains("<html") {
        return EngineError::NotSyncServer(resp.status);
    }
    EngineError::Server {
        code: "request_failed".into(),
        status: resp.status,
    }
}

/// True for 401 `device revoked` / `invalid API key` (§3.2).
pub(crate) fn is_revocation(resp: &HttpResponse) -> bool {
    resp.status == 401
        && serde_json::from_slice::<ErrorBody>(&resp.body)
            .is_ok_and(|e| e.error == "device revoked" || e.error == "invalid API key")
}

/// How many times one request is tried (§3.11).
pub(crate) const ATTEMPTS: u32 = 3;

/// What one attempt means under the retry policy of §3.11.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// A 2xx answer.
    Success(HttpResponse),
    /// A final failure; `revoked` when the server says this device's credential is gone.
    Failed { error: EngineError, revoked: bool },
    /// Worth another try after `delay_ms`, if attempts remain; `error` is reported otherwise.
    Retry { error: EngineError, delay_ms: u64 },
}

/// Classifies the result of attempt number `attempt` (0-based): network errors and 408, 429,
/// 500, 502, 503, 504 are retried after 250 ms then 500 ms, or after `Retry-After` (at most 60 s)
/// on 429 and 503.
pub(crate) fn classify(attempt: u32, result: Result<HttpResponse, IoError>) -> Attempt {
    let delay_ms = 250u64 << attempt;
    match result {
        Err(IoError::Network(m)) | Err(IoError::Other(m)) => Attempt::Retry {
            error: EngineError::ConnectionFailed(m),
            delay_ms,
        },
        Err(e) => Attempt::Retry {
            error: EngineError::ConnectionFailed(e.to_string()),
            delay_ms,
        },
        Ok(resp) if (200..300).contains(&resp.status) => Attempt::Success(resp),
        Ok(resp) if RETRY_STATUSES.contains(&resp.status) => {
            let retry_after = matches!(resp.status, 429 | 503)
                .then(|| {
                    resp.header("retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                })
                .flatten();
            Attempt::Retry {
                error: error_from(&resp),
                delay_ms: retry_after.map_or(delay_ms, |secs| secs.min(60) * 1000),
            }
        }
        Ok(resp) => Attempt::Failed {
            revoked: is_revocation(&resp),
            error: error_from(&resp),
        },
    }
}

impl Run {
    pub(super) async fn http(&mut self, request: HttpRequest) -> Result<HttpResponse, EngineError> {
        let mut last = EngineError::ConnectionFailed("no attempt".into());
        for attempt in 0..ATTEMPTS {
            match classify(attempt, self.io.http(request.clone()).await) {
                Attempt::Success(resp) => {
                    self.io.status(|s| s.connected = Some(true));
                    return Ok(resp);
                }
                Attempt::Failed { error, revoked } => {
                    if revoked {
                        self.io.status(|s| s.revoked = true);
                    }
                    return Err(error);
                }
                Attempt::Retry { error, delay_ms } => {
                    last = error;
                    if attempt + 1 < ATTEMPTS {
                        let until = self.io.now().plus(delay_ms);
                        self.io.sleep_until(until).await;
                    }
                }
            }
        }
        self.io.status(|s| s.connected = Some(false));
        Err(last)
    }

    /// POST a JSON body and decode a JSON answer.
    pub(super) async fn post_json<Q: Serialize, A: DeserializeOwned>(
        &mut self,
        path: &str,
        body: &Q,
    ) -> Result<A, EngineError> {
        let request = HttpRequest {
            method: Method::Post,
            path: path.to_string(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: HttpBody::Json(serde_json::to_string(body).expect("plain request")),
        };
        let resp = self.http(request).await?;
        serde_json::from_slice(&resp.body).map_err(|_| EngineError::InvalidResponse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn error_bodies() {
        let cases = [
            (
                resp(413, r#"{"code":"too_many_operations","error":"x"}"#),
                "sync-server:too_many_operations (HTTP 413)",
            ),
            (
                resp(502, "bad gateway"),
                "sync-server:request_failed (HTTP 502)",
            ),
            (
                resp(404, "<!doctype html><html>"),
                "not a Verstak Sync server (HTTP 404)",
            ),
            (
                resp(500, r#"{"error":"no code"}"#),
                "sync-server:request_failed (HTTP 500)",
            ),
        ];
        for (r, want) in cases {
            assert_eq!(error_from(&r).to_string(), want);
        }
        assert!(is_revocation(&resp(
            401,
            r#"{"code":"unauthorized","error":"device revoked"}"#
        )));
        assert!(!is_revocation(&resp(
            401,
            r#"{"code":"unauthorized","error":"API key required"}"#
        )));
    }
}
