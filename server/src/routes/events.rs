//! `GET /api/v1/sync/events` (`docs/events.md`): the live event stream, an addition to the
//! reference API. Checks in order: method (405), device authentication as for pull (§3, 401 /
//! 403), scope (403), the cursor (400), the stream limits (429 `too_many_streams`); then the
//! stream subscribes, makes its one opening read and answers 200 `text/event-stream`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use std::time::Duration;
use verstak_sync_proto::events as wire;

use super::only;
use crate::error::ApiError;
use crate::events::{EventStream, news};
use crate::extract::{ClientIp, DeviceAuth};
use crate::state::AppState;
use crate::store::events::{DeviceState, stream_start};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(wire::EVENTS, only("GET").get(events))
}

async fn events(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    DeviceAuth(dev): DeviceAuth,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let scope = dev.scope()?;
    let cursor = cursor(&headers, &uri)?;
    let device = dev.row.id.clone();
    let sub = st
        .events
        .open(&scope, &device, ip)
        .map_err(|_| ApiError::TooManyStreams)?;
    // Subscribed first, read second: a change the read misses reaches the subscription.
    let (s, d) = (scope.clone(), device.clone());
    let start = st
        .db
        .read(move |c| stream_start(c, &s, &d, cursor.unwrap_or(0)))
        .await?;
    match start.device {
        DeviceState::Active => {}
        DeviceState::Revoked => return Err(ApiError::Unauthorized("device revoked")),
        DeviceState::Blocked => return Err(ApiError::Forbidden("user blocked")),
        DeviceState::Gone => return Err(ApiError::Unauthorized("invalid API key")),
    }
    let (first, told) = news::opening(cursor, start.latest, start.foreign);
    let beat = Duration::from_secs(st.events.cfg().heartbeat_seconds);
    let body = EventStream::new(sub, device, told, first, beat).into_body();
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

/// The client's cursor: `Last-Event-ID` (what a reconnecting `EventSource` sends), else the
/// `since` query parameter; a non-negative integer, and an empty header counts as absent.
fn cursor(headers: &HeaderMap, uri: &Uri) -> Result<Option<i64>, ApiError> {
    let parse = |v: &str| v.trim().parse::<i64>().ok().filter(|n| *n >= 0);
    if let Some(v) = headers.get(wire::LAST_EVENT_ID) {
        let v = v.to_str().unwrap_or("\u{0}");
        if !v.trim().is_empty() {
            return parse(v)
                .map(Some)
                .ok_or(ApiError::InvalidRequest("invalid Last-Event-ID"));
        }
    }
    let since = uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == wire::SINCE_PARAM)
            .map(|(_, v)| v.into_owned())
    });
    match since {
        Some(v) => parse(&v)
            .map(Some)
            .ok_or(ApiError::InvalidRequest("invalid since")),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(last: Option<&str>, uri: &str) -> Result<Option<i64>, String> {
        let mut h = HeaderMap::new();
        if let Some(v) = last {
            h.insert("last-event-id", HeaderValue::from_str(v).unwrap());
        }
        cursor(&h, &uri.parse().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn the_cursor_comes_from_last_event_id_then_since() {
        assert_eq!(cur(None, "/e"), Ok(None));
        assert_eq!(cur(Some("12"), "/e?since=3"), Ok(Some(12)));
        assert_eq!(cur(Some(" "), "/e?since=3"), Ok(Some(3)));
        assert_eq!(cur(None, "/e?api_key=k&since=0"), Ok(Some(0)));
        assert_eq!(cur(Some("-1"), "/e"), Err("invalid Last-Event-ID".into()));
        assert_eq!(cur(Some("x"), "/e"), Err("invalid Last-Event-ID".into()));
        assert_eq!(cur(None, "/e?since="), Err("invalid since".into()));
        assert_eq!(cur(None, "/e?since=1e3"), Err("invalid since".into()));
    }
}
