//! The rules of pairing and the account calls of `api.sync` (plugin-contract §3.4 to §3.8):
//! the requests they send, how the answers are read, and the pairing document kept in private
//! storage. Pure: `run/pair.rs` runs the actions, sending these requests through the engine's
//! one retry policy (`run/http.rs`).
//!
//! The device token lives only in the private storage document [`TOKEN_KEY`]; it never reaches
//! settings, logs or the UI.

use verstak_sync_proto::limits::fixed;
use verstak_sync_proto::{AuthTestRequest, PairRequest, PairResponse, paths};

use super::command::{HttpBody, HttpRequest, Method};
use super::error::EngineError;
use super::event::HttpResponse;
pub use super::pairing::{PAIRING_KEY, Pairing, TOKEN_KEY};

/// Sent as `client_version` when pairing (§3.4).
pub const CLIENT_VERSION: &str = concat!("verstak-sync/", env!("CARGO_PKG_VERSION"));

/// The server URL as typed, checked and without a trailing `/` (`invalid URL: …` otherwise).
pub fn server_url(typed: &str) -> Result<String, EngineError> {
    let url = typed.trim().trim_end_matches('/');
    let invalid = |why: &str| EngineError::InvalidUrl(format!("{why}: {typed:?}"));
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| invalid("the URL must start with http:// or https://"))?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() || authority.contains(['@', ' ', '?', '#']) {
        return Err(invalid("the URL has no valid host"));
    }
    if rest.contains(['?', '#']) {
        return Err(invalid("the URL must not have a query or fragment"));
    }
    Ok(url.to_string())
}

/// The remote vault a `configure` targets (§3.4 step 2).
pub fn target_vault(typed: &str, local_vault_id: &str) -> String {
    let typed = typed.trim();
    if typed.is_empty() {
        local_vault_id.to_string()
    } else {
        typed.to_string()
    }
}

/// §3.4 step 3: a paired vault with unpushed ops must not switch remote vaults.
pub fn check_remote_change(
    current: &Pairing,
    target: &str,
    unpushed: usize,
) -> Result<(), EngineError> {
    let paired = !current.device_id.is_empty() || !current.effective_vault_id.is_empty();
    if paired && current.effective_vault_id != target && unpushed > 0 {
        return Err(EngineError::RemoteVaultLocked(unpushed));
    }
    Ok(())
}

fn json(path: &str, body: String) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        path: path.to_string(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: HttpBody::Json(body),
    }
}

/// `GET /api/v1/health`, unauthenticated (§3.6 step 1).
pub fn health() -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        path: paths::HEALTH.to_string(),
        headers: vec![],
        body: HttpBody::Empty,
    }
}

/// `POST /api/auth/test` with the typed credentials (§3.6 step 2).
pub fn auth_test(username: &str, password: &str) -> HttpRequest {
    let body = AuthTestRequest {
        username: username.into(),
        password: password.into(),
    };
    json(
        paths::AUTH_TEST,
        serde_json::to_string(&body).expect("plain strings"),
    )
}

/// The device name to pair with: the one the user chose, else `<host> · <vault folder>` (just the
/// host when the folder has no name), so a user's devices and vaults tell apart on the dashboard.
/// Control characters become spaces and runs of white space one space; the result is cut on a
/// character boundary to the server's limit (`fixed::DEVICE_NAME` bytes) and is never empty.
pub fn device_name(chosen: Option<&str>, host: &str, vault_folder: &str) -> String {
    let tidy = |s: &str| {
        let spaced: String = s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        spaced.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let name = match chosen.map(tidy).filter(|c| !c.is_empty()) {
        Some(c) => c,
        None => {
            let host = Some(tidy(host))
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "unknown".into());
            match tidy(vault_folder) {
                v if v.is_empty() => host,
                v => format!("{host} · {v}"),
            }
        }
    };
    let mut end = name.len().min(fixed::DEVICE_NAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].trim_end().to_string()
}

/// `POST /api/client/pair` (§3.4 step 4).
pub fn pair(username: &str, password: &str, device_name: &str, vault_id: &str) -> HttpRequest {
    let body = PairRequest {
        login: username.into(),
        password: password.into(),
        device_name: device_name.into(),
        client_version: CLIENT_VERSION.into(),
        vault_id: vault_id.into(),
    };
    json(
        paths::PAIR,
        serde_json::to_string(&body).expect("plain strings"),
    )
}

/// `POST /api/client/revoke-current`, sent with the credential being dropped (§3.5, §3.8).
pub fn revoke_current() -> HttpRequest {
    json(paths::REVOKE_CURRENT, "{}".into())
}

/// §3.6 step 1: health must answer 200 with `"status"` or `"ok"` in the body.
pub fn read_health(result: Result<HttpResponse, EngineError>) -> Result<(), EngineError> {
    match result {
        Ok(resp) => {
            let body = String::from_utf8_lossy(&resp.body);
            if resp.status == 200 && (body.contains("\"status\"") || body.contains("ok")) {
                Ok(())
            } else if resp.status != 200 {
                Err(EngineError::NotSyncServer(resp.status))
            } else {
                Err(EngineError::NotSyncServerUnexpected)
            }
        }
        Err(EngineError::Server { status, .. }) => Err(EngineError::NotSyncServer(status)),
        Err(e) => Err(e),
    }
}

/// The pair answer, or the failure prefixed `pair: ` (§3.4 step 4).
pub fn read_pair(result: Result<HttpResponse, EngineError>) -> Result<PairResponse, EngineError> {
    let pair = |e| EngineError::Pair(Box::new(e));
    let resp = result.map_err(pair)?;
    let answer: PairResponse =
        serde_json::from_slice(&resp.body).map_err(|_| pair(EngineError::InvalidResponse))?;
    if answer.device_id.is_empty() || answer.device_token.is_empty() {
        return Err(pair(EngineError::InvalidResponse));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_device_name_carries_the_vault_folder() {
        use super::device_name;
        assert_eq!(device_name(None, "laptop", "notes"), "laptop · notes");
        assert_eq!(device_name(Some(" "), "laptop", "notes"), "laptop · notes");
        assert_eq!(device_name(None, "laptop", ""), "laptop");
        assert_eq!(device_name(None, "", "notes"), "unknown · notes");
        assert_eq!(
            device_name(None, "lap\ttop\n", "my\u{7}\r\nnotes"),
            "lap top · my notes"
        );
        assert_eq!(device_name(Some("work pc"), "laptop", "notes"), "work pc");
        assert_eq!(
            device_name(Some("a\u{1b}[31mb"), "laptop", "notes"),
            "a [31mb"
        );
        // Cut to the server's limit on a character boundary.
        let long = device_name(None, "laptop", &"ж".repeat(200));
        assert!(long.len() <= fixed::DEVICE_NAME, "{}", long.len());
        assert!(long.starts_with("laptop · жж"));
        assert!(!long.chars().any(char::is_control));
    }

    use super::*;
    use crate::engine::run::http;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn server_urls_are_checked_and_trimmed() {
        assert_eq!(
            server_url(" http://127.0.0.1:47732/ ").unwrap(),
            "http://127.0.0.1:47732"
        );
        assert_eq!(
            server_url("https://sync.example.com/base").unwrap(),
            "https://sync.example.com/base"
        );
        for bad in [
            "ftp://h",
            "127.0.0.1:47732",
            "http://",
            "http://u@h",
            "http://h/?x=1",
        ] {
            let e = server_url(bad).unwrap_err();
            assert!(e.to_string().starts_with("invalid URL: "), "{bad}: {e}");
        }
    }

    #[test]
    fn target_vault_defaults_to_the_local_id() {
        assert_eq!(target_vault("  ", "local-1"), "local-1");
        assert_eq!(target_vault(" team ", "local-1"), "team");
    }

    #[test]
    fn switching_remote_vaults_with_unpushed_ops_is_refused() {
        let paired = Pairing {
            device_id: "dev_1".into(),
            effective_vault_id: "a".into(),
            ..Pairing::default()
        };
        assert!(check_remote_change(&paired, "a", 5).is_ok());
        assert!(check_remote_change(&paired, "b", 0).is_ok());
        assert!(check_remote_change(&Pairing::default(), "b", 5).is_ok());
        let e = check_remote_change(&paired, "b", 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot change remote vault with 2 unpushed local operation(s); synchronize or resolve them first"
        );
    }

    #[test]
    fn pair_request_carries_the_spec_fields() {
        let call = pair("alice", "pw", "laptop", "v1");
        assert_eq!(call.path, "/api/client/pair");
        let HttpBody::Json(text) = &call.body else {
            panic!("a JSON body")
        };
        let body: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(body["login"], "alice");
        assert_eq!(body["device_name"], "laptop");
        assert_eq!(body["vault_id"], "v1");
        assert!(
            body["client_version"]
                .as_str()
                .unwrap()
                .starts_with("verstak-sync/")
        );
    }

    #[test]
    fn pair_failures_are_prefixed() {
        let e = read_pair(Err(http::error_from(&resp(
            401,
            r#"{"code":"unauthorized","error":"invalid credentials"}"#,
        ))))
        .unwrap_err();
        assert_eq!(e.to_string(), "pair: sync-server:unauthorized (HTTP 401)");
        let e = read_pair(Ok(resp(200, "{}"))).unwrap_err();
        assert_eq!(e.to_string(), "pair: invalid server response");
        let ok = read_pair(Ok(resp(200, r#"{"device_id":"dev_1","device_token":"t"}"#))).unwrap();
        assert_eq!(ok.device_id, "dev_1");
    }

    #[test]
    fn health_answers() {
        assert!(read_health(Ok(resp(200, r#"{"status":"ok"}"#))).is_ok());
        assert_eq!(
            read_health(Ok(resp(200, "{}"))).unwrap_err().to_string(),
            "not a Verstak Sync server (unexpected response)"
        );
        let degraded = http::error_from(&resp(503, r#"{"status":"degraded"}"#));
        assert_eq!(
            read_health(Err(degraded)).unwrap_err().to_string(),
            "not a Verstak Sync server (HTTP 503)"
        );
        let html = http::error_from(&resp(404, "<html>"));
        assert_eq!(
            read_health(Err(html)).unwrap_err().to_string(),
            "not a Verstak Sync server (HTTP 404)"
        );
    }

    #[test]
    fn observing_runs_updates_connectivity_and_keeps_revocation() {
        let mut p = Pairing::default();
        p.observe(Some(true), false, "2026-11-22T10:00:00Z");
        assert!(p.connected && p.last_checked_at == "2026-11-22T10:00:00Z");
        p.observe(Some(true), true, "2026-11-22T10:01:00Z");
        assert!(p.revoked && !p.connected);
        p.observe(None, false, "x");
        assert!(p.revoked, "only configure clears revoked");
        let reset = Pairing {
            server_url: "http://h".into(),
            device_id: "d".into(),
            ..Pairing::default()
        }
        .key_reset();
        assert_eq!(
            (reset.server_url.as_str(), reset.device_id.as_str()),
            ("http://h", "")
        );
    }
}
