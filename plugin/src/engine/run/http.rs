//! HTTP with the retry policy of §3.11, the only one in the engine (sync runs and pairing):
//! three tries on network errors and on 408, 429, 500, 502, 503, 504, sleeping 250 ms then
//! 500 ms, or `Retry-After` (at most 60 s) on 429/503. Error bodies become
//! `sync-server:<code> (HTTP <n>)`, `sync-server:request_failed (HTTP <n>)` or
//! `not a Verstak Sync server (HTTP <n>)`.
//!
//! A request without the device token is a pairing step (health, auth test, pair), which sends
//! the typed username and password: there a 401 `unauthorized` means the username or password is
//! wrong, and a 429 is not retried (every try counts against the server's login limit), the error
//! saying how long to wait.
//!
//! [`next`] is the pure policy and [`send`] runs it over [`Io`]; `Run::http` (in `run/mod.rs`)
//! sends to the paired server.

use verstak_sync_proto::{ErrorBody, codes};

use super::super::command::{Endpoint, HttpRequest};
use super::super::error::EngineError;
use super::super::event::{HttpResponse, IoError};
use super::super::io::Io;

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

/// True when the server says the credential a request carried is gone (§3.2): a 401 with the
/// code `unauthorized` on a request sent with the device token. Device authentication (server
/// API §3) answers that code for an unknown key (`invalid API key`) and a revoked device
/// (`device revoked`), in this server and the reference alike; its third 401, `API key
/// required`, needs a request without a token, and those (pair, auth test) are never revocations.
pub(crate) fn is_revocation(resp: &HttpResponse, credentialed: bool) -> bool {
    credentialed
        && resp.status == 401
        && serde_json::from_slice::<ErrorBody>(&resp.body)
            .is_ok_and(|e| e.code == codes::UNAUTHORIZED)
}

/// The seconds of a `Retry-After: <seconds>` header (the HTTP-date form is not used by servers
/// of this protocol).
fn retry_after(resp: &HttpResponse) -> Option<u64> {
    resp.header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// How many times one request is tried (§3.11).
pub(crate) const ATTEMPTS: u32 = 3;

/// What to do after try number `number` (0-based) of a request.
#[derive(Debug)]
pub(crate) enum Next {
    /// A 2xx answer.
    Done(HttpResponse),
    /// Try again after this many milliseconds.
    Wait(u64),
    /// A final failure. `revoked`: the server says the credential is gone; `unreachable`: the
    /// tries ran out on network errors or transient statuses.
    GiveUp {
        error: EngineError,
        revoked: bool,
        unreachable: bool,
    },
}

/// The retry policy of §3.11: network errors and 408, 429, 500, 502, 503, 504 are retried after
/// 250 ms then 500 ms, or after `Retry-After` (at most 60 s) on 429 and 503; three tries in all.
/// `credentialed`: the request carried the device token.
pub(crate) fn next(number: u32, result: Result<HttpResponse, IoError>, credentialed: bool) -> Next {
    let backoff = 250u64 << number;
    let (error, delay_ms) = match result {
        Ok(resp) if !credentialed && resp.status == 429 => {
            return Next::GiveUp {
                error: EngineError::RateLimited(retry_after(&resp)),
                revoked: false,
                unreachable: false,
            };
        }
        Err(IoError::Network(m)) | Err(IoError::Other(m)) => {
            (EngineError::ConnectionFailed(m), backoff)
        }
        Err(e) => (EngineError::ConnectionFailed(e.to_string()), backoff),
        Ok(resp) if (200..300).contains(&resp.status) => return Next::Done(resp),
        Ok(resp) if RETRY_STATUSES.contains(&resp.status) => {
            let retry_after = matches!(resp.status, 429 | 503)
                .then(|| retry_after(&resp))
                .flatten();
            let delay = retry_after.map_or(backoff, |secs| secs.min(60) * 1000);
            (error_from(&resp), delay)
        }
        Ok(resp) => {
            let error = match error_from(&resp) {
                EngineError::Server { code, status: 401 }
                    if !credentialed && code == codes::UNAUTHORIZED =>
                {
                    EngineError::WrongCredentials
                }
                e => e,
            };
            return Next::GiveUp {
                revoked: is_revocation(&resp, credentialed),
                error,
                unreachable: false,
            };
        }
    };
    if number + 1 < ATTEMPTS {
        Next::Wait(delay_ms)
    } else {
        Next::GiveUp {
            error,
            revoked: false,
            unreachable: true,
        }
    }
}

/// Sends `request` to `to` under the retry policy, recording what the answers say about
/// connectivity and revocation in the status; a 2xx answer is `Ok`.
pub(crate) async fn send(
    io: &Io,
    to: &Endpoint,
    request: &HttpRequest,
) -> Result<HttpResponse, EngineError> {
    let mut number = 0;
    loop {
        let result = io.http(to.clone(), request.clone()).await;
        match next(number, result, to.token.is_some()) {
            Next::Done(resp) => {
                io.status(|s| s.connected = Some(true));
                return Ok(resp);
            }
            Next::Wait(ms) => {
                let until = io.now().plus(ms);
                io.sleep_until(until).await;
                number += 1;
            }
            Next::GiveUp {
                error,
                revoked,
                unreachable,
            } => {
                if revoked {
                    io.status(|s| s.revoked = true);
                }
                if unreachable {
                    io.status(|s| s.connected = Some(false));
                }
                return Err(error);
            }
        }
    }
}

/// Sends `request` once and ignores the outcome (revoking a credential being dropped anyway).
pub(crate) async fn best_effort(io: &Io, to: &Endpoint, request: HttpRequest) {
    let _ = io.http(to.clone(), request).await;
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
        assert!(is_revocation(
            &resp(401, r#"{"code":"unauthorized","error":"device revoked"}"#),
            true
        ));
        assert!(is_revocation(
            &resp(401, r#"{"code":"unauthorized","error":"invalid API key"}"#),
            true
        ));
        // `API key required` answers a request without a token; the engine sends none of
        // those with a credential, and a credential-less 401 is never a revocation.
        assert!(!is_revocation(
            &resp(401, r#"{"code":"unauthorized","error":"API key required"}"#),
            false
        ));
        assert!(!is_revocation(
            &resp(
                401,
                r#"{"code":"unauthorized","error":"invalid credentials"}"#
            ),
            false
        ));
        assert!(!is_revocation(
            &resp(403, r#"{"code":"forbidden","error":"user blocked"}"#),
            true
        ));
        assert!(!is_revocation(&resp(401, "<html>"), true));
    }

    #[test]
    fn retries_follow_the_policy() {
        let net = || Err(IoError::Network("refused".into()));
        assert!(matches!(next(0, net(), true), Next::Wait(250)));
        assert!(matches!(next(1, net(), true), Next::Wait(500)));
        let Next::GiveUp {
            error, unreachable, ..
        } = next(2, net(), true)
        else {
            panic!("gives up after three tries")
        };
        assert_eq!(
            (unreachable, error.to_string()),
            (true, "connection failed: refused".to_string())
        );
        let limited = HttpResponse {
            status: 429,
            headers: vec![("Retry-After".into(), "7".into())],
            body: br#"{"code":"rate_limited","error":"x"}"#.to_vec(),
        };
        assert!(matches!(
            next(0, Ok(limited.clone()), true),
            Next::Wait(7000)
        ));
        assert!(matches!(
            next(
                0,
                Ok(resp(400, r#"{"code":"invalid_request","error":"x"}"#)),
                true
            ),
            Next::GiveUp {
                unreachable: false,
                revoked: false,
                ..
            }
        ));
    }

    #[test]
    fn a_pairing_step_says_what_a_refusal_means_and_never_retries_a_rate_limit() {
        let wrong = resp(
            401,
            r#"{"code":"unauthorized","error":"invalid credentials"}"#,
        );
        let Next::GiveUp { error, revoked, .. } = next(0, Ok(wrong.clone()), false) else {
            panic!("a 401 is final")
        };
        assert_eq!(
            (revoked, error.to_string()),
            (
                false,
                "sync-server:unauthorized (HTTP 401): the username or password is wrong".into()
            )
        );
        assert_eq!(error.server_code(), Some("unauthorized"));
        // With the device token the same answer is a revocation, as before.
        let Next::GiveUp { error, revoked, .. } = next(0, Ok(wrong), true) else {
            panic!("a 401 is final")
        };
        assert_eq!(
            (revoked, error.to_string()),
            (true, "sync-server:unauthorized (HTTP 401)".into())
        );
        let limited = HttpResponse {
            status: 429,
            headers: vec![("Retry-After".into(), "42".into())],
            body: br#"{"code":"rate_limited","error":"x"}"#.to_vec(),
        };
        let Next::GiveUp {
            error, unreachable, ..
        } = next(0, Ok(limited), false)
        else {
            panic!("a rate-limited pairing step is not retried")
        };
        assert!(!unreachable);
        assert_eq!(
            error.to_string(),
            "sync-server:rate_limited (HTTP 429): too many attempts; wait 42 s before trying again"
        );
        let bare = resp(429, r#"{"code":"rate_limited","error":"x"}"#);
        assert!(matches!(
            next(0, Ok(bare), false),
            Next::GiveUp {
                error: EngineError::RateLimited(None),
                ..
            }
        ));
    }
}
