//! The live event stream (`docs/events.md`) against the real binary over real HTTP: change
//! notices from other devices only, resume, heartbeats, closing with a reason (revocation,
//! blocking, shutdown), limits and metrics.

mod common;

use common::sse::{self, Frame, Sse};
use common::web::admin_login;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const EVENTS: &str = "/api/v1/sync/events";
const WAIT: Duration = Duration::from_secs(10);
const ADMIN_PW: &str = "admin-pass-123";

/// A server whose streams ping every second, so "nothing but a heartbeat" is observable.
fn fast_heartbeat(extra: &str) -> TestServer {
    TestServer::start_with(
        Some(&format!("events:\n  heartbeat_seconds: 1\n{extra}")),
        &[],
    )
}

fn stream(s: &TestServer, token: &str, extra: &[(&str, &str)]) -> Sse {
    try_stream(s, token, "", extra).unwrap_or_else(|r| panic!("refused: {} {}", r.status, r.text()))
}

fn try_stream(
    s: &TestServer,
    token: &str,
    query: &str,
    extra: &[(&str, &str)],
) -> Result<Sse, Resp> {
    let auth = format!("Bearer {token}");
    let mut h = vec![("Authorization", auth.as_str())];
    h.extend_from_slice(extra);
    sse::open(&s.addr, &format!("{EVENTS}{query}"), &h)
}

/// A stream held by node `i` of `s`.
fn stream_on(s: &TestServer, i: usize, token: &str, extra: &[(&str, &str)]) -> Sse {
    let auth = format!("Bearer {token}");
    let mut h = vec![("Authorization", auth.as_str())];
    h.extend_from_slice(extra);
    sse::open(s.addr_of(i), EVENTS, &h)
        .unwrap_or_else(|r| panic!("refused: {} {}", r.status, r.text()))
}

fn push_one(s: &TestServer, token: &str, id: &str) {
    let r = s.push(token, vec![op(id)], None);
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Asserts a `sequence` event for `seq` naming `device`.
fn assert_sequence(f: Option<Frame>, seq: i64, device: &str) {
    let f = f.unwrap_or_else(|| panic!("no event; expected sequence {seq}"));
    assert_eq!(f.event.as_deref(), Some("sequence"), "{f:?}");
    assert_eq!(f.id, Some(seq.to_string()), "{f:?}");
    assert_eq!(
        f.json(),
        json!({"server_sequence": seq, "device_id": device})
    );
}

fn assert_closed(f: Option<Frame>, code: &str, message: &str) {
    let f = f.expect("no closed event");
    assert_eq!(f.event.as_deref(), Some("closed"), "{f:?}");
    assert_eq!(f.json(), json!({"code": code, "message": message}));
}

/// A metric of node 0, which holds the tests' streams (metrics are per process).
fn metric(s: &TestServer, line_start: &str) -> i64 {
    let m = s.get_on(0, "/metrics", None).text();
    m.lines()
        .find_map(|l| {
            l.strip_prefix(line_start)
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no {line_start} in metrics:\n{m}"))
}

/// Polls `f` until it holds, within [`WAIT`].
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < end, "not within {WAIT:?}: {what}");
        std::thread::park_timeout(Duration::from_millis(20));
    }
}

#[test]
fn a_stream_hears_other_devices_pushes_and_not_its_own() {
    let s = TestServer::start();
    let (ta, da) = s.user_device("alice", "v1");
    let (tb, db) = s.pair("alice", "v1");
    let (_tc, _) = s.pair("alice", "v2");

    let mut a = stream(&s, &ta, &[("Last-Event-ID", "0")]);
    assert_eq!(a.header("content-type"), Some("text/event-stream"));
    assert_eq!(a.header("cache-control"), Some("no-cache"));
    assert_eq!(a.header("x-accel-buffering"), Some("no"));
    let mut b = stream(&s, &tb, &[("Last-Event-ID", "0")]);

    push_one(&s, &ta, "op-1"); // A's own: A hears nothing, B hears sequence 1 from A.
    assert_sequence(b.next_event(WAIT), 1, &da);
    push_one(&s, &tb, "op-2");
    // Had A's own push been echoed, sequence 1 would come first.
    assert_sequence(a.next_event(WAIT), 2, &db);
    // Had B's own push been echoed, sequence 2 would come before A's 3.
    push_one(&s, &ta, "op-3");
    assert_sequence(b.next_event(WAIT), 3, &da);
}

#[test]
fn without_a_cursor_the_first_event_is_the_current_sequence() {
    let s = TestServer::start();
    let (ta, _) = s.user_device("bob", "v");
    let (tb, db) = s.pair("bob", "v");
    let mut a = stream(&s, &ta, &[]);
    assert_sequence(a.next_event(WAIT), 0, "");
    push_one(&s, &tb, "op-1");
    push_one(&s, &ta, "op-2");
    let mut a2 = stream(&s, &ta, &[]);
    assert_sequence(a2.next_event(WAIT), 2, &db);
}

#[test]
fn resume_with_a_cursor_gets_a_missed_change_at_once() {
    let s = fast_heartbeat("");
    let (ta, da) = s.user_device("carol", "v");
    let (tb, db) = s.pair("carol", "v");
    push_one(&s, &ta, "op-1");
    push_one(&s, &tb, "op-2");
    push_one(&s, &tb, "op-3");

    // A missed B's ops after 1: told at once, before any heartbeat.
    let mut a = stream(&s, &ta, &[("Last-Event-ID", "1")]);
    assert_sequence(a.next(WAIT), 3, &db);
    let mut q = try_stream(&s, &ta, "?since=1", &[]).unwrap();
    assert_sequence(q.next(WAIT), 3, &db);
    // Up to date: the first thing is a heartbeat.
    let mut up = try_stream(&s, &ta, "?since=3", &[]).unwrap();
    assert!(up.next(WAIT).unwrap().is_ping());
    // Only its own ops after the cursor: nothing to announce.
    push_one(&s, &ta, "op-4");
    let mut own = stream(&s, &ta, &[("Last-Event-ID", "3")]);
    assert!(own.next(WAIT).unwrap().is_ping());
    // B missed A's op 4.
    let mut b = stream(&s, &tb, &[("Last-Event-ID", "3")]);
    assert_sequence(b.next(WAIT), 4, &da);

    try_stream(&s, &ta, "?since=x", &[])
        .unwrap_err()
        .assert_error(400, "invalid_request", "invalid since");
    try_stream(&s, &ta, "", &[("Last-Event-ID", "-2")])
        .unwrap_err()
        .assert_error(400, "invalid_request", "invalid Last-Event-ID");
}

#[test]
fn heartbeats_keep_an_idle_stream_talking() {
    let s = fast_heartbeat("");
    let (t, _) = s.user_device("dave", "v");
    let mut a = stream(&s, &t, &[("Last-Event-ID", "0")]);
    for _ in 0..2 {
        let f = a.next(WAIT).expect("a heartbeat");
        assert!(f.is_ping(), "{f:?}");
    }
    assert!(metric(&s, "verstak_event_stream_heartbeats_total ") >= 2);
}

#[test]
fn revocation_closes_the_stream_with_the_reason() {
    let s = TestServer::start();
    let (ta, _) = s.user_device("erin", "v");
    let (tb, _) = s.pair("erin", "v");
    let mut a = stream(&s, &ta, &[("Last-Event-ID", "0")]);
    let mut b = stream(&s, &tb, &[("Last-Event-ID", "0")]);
    let r = s.post("/api/client/revoke-current", Some(&ta), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_closed(a.next_event(WAIT), "device_revoked", "device revoked");
    assert!(a.ends_within(WAIT), "the stream ends after closed");
    // The other device's stream stays open.
    assert!(b.next(Duration::from_millis(200)).is_none() && !b.ended);
    try_stream(&s, &ta, "", &[])
        .unwrap_err()
        .assert_error(401, "unauthorized", "device revoked");
    sse::open(&s.addr, EVENTS, &[]).unwrap_err().assert_error(
        401,
        "unauthorized",
        "API key required",
    );
}

#[test]
fn blocking_the_user_closes_the_stream_with_the_reason() {
    let s = TestServer::start_with(None, &["--admin-user", "root", "--admin-pass", ADMIN_PW]);
    let (t, _) = s.user_device("frank", "v");
    let (other, _) = s.user_device("gina", "v");
    let mut a = stream(&s, &t, &[("Last-Event-ID", "0")]);
    let mut g = stream(&s, &other, &[("Last-Event-ID", "0")]);
    let mut admin = admin_login(&s, "root", ADMIN_PW);
    let users = admin.get("/admin/api/users?filter=frank").json();
    let id = users["users"][0]["id"].as_str().unwrap().to_owned();
    let r = admin.mutate("POST", &format!("/admin/api/users/{id}/block"), "", b"");
    assert_eq!(r.json()["blocked"], 1);
    assert_closed(a.next_event(WAIT), "user_blocked", "user blocked");
    assert!(a.ends_within(WAIT));
    assert!(g.next(Duration::from_millis(200)).is_none() && !g.ended);
    try_stream(&s, &t, "", &[])
        .unwrap_err()
        .assert_error(403, "forbidden", "user blocked");
}

#[test]
fn the_per_user_limit_refuses_with_429_too_many_streams() {
    let s = fast_heartbeat("  max_streams_per_user: 2\n");
    let (t, _) = s.user_device("hank", "v");
    let (other, _) = s.user_device("iris", "v");
    let first = stream(&s, &t, &[]);
    let _second = stream(&s, &t, &[]);
    let r = try_stream(&s, &t, "", &[]).unwrap_err();
    r.assert_error(429, "too_many_streams", "too many event streams");
    assert_eq!(r.header("retry-after"), Some("30"));
    assert!(
        try_stream(&s, &other, "", &[]).is_ok(),
        "other users have their own limit"
    );
    assert_eq!(
        metric(&s, "verstak_event_streams_refused_total{limit=\"user\"} "),
        1
    );
    // A stream that ends gives its slot back (noticed at its next heartbeat at the latest).
    drop(first);
    eventually("a freed slot", || try_stream(&s, &t, "", &[]).is_ok());
}

#[test]
fn the_per_ip_limit_counts_the_forwarded_ip_behind_a_trusted_proxy() {
    let s = TestServer::start_with(
        Some("events:\n  max_streams_per_ip: 1\n"),
        &["--trusted-proxies", "127.0.0.1"],
    );
    let (ta, _) = s.user_device("jack", "v");
    let (tb, _) = s.user_device("kate", "v");
    let _a = stream(&s, &ta, &[("X-Forwarded-For", "198.51.100.1")]);
    let r = try_stream(&s, &tb, "", &[("X-Forwarded-For", "198.51.100.1")]).unwrap_err();
    r.assert_error(429, "too_many_streams", "too many event streams");
    assert!(try_stream(&s, &tb, "", &[("X-Forwarded-For", "198.51.100.2")]).is_ok());
    assert_eq!(
        metric(&s, "verstak_event_streams_refused_total{limit=\"ip\"} "),
        1
    );
}

#[test]
fn metrics_count_open_streams_and_events() {
    let s = TestServer::start();
    let (ta, _) = s.user_device("lena", "v");
    let (tb, _) = s.pair("lena", "v");
    assert_eq!(metric(&s, "verstak_event_streams_open "), 0);
    let mut a = stream(&s, &ta, &[("Last-Event-ID", "0")]);
    let b = stream(&s, &tb, &[("Last-Event-ID", "0")]);
    assert_eq!(metric(&s, "verstak_event_streams_open "), 2);
    push_one(&s, &tb, "op-1");
    assert!(a.next_event(WAIT).is_some());
    assert_eq!(
        metric(&s, "verstak_event_stream_events_total{event=\"sequence\"} "),
        1
    );
    let m = s.get_on(0, "/metrics", None).text();
    assert!(m.contains("verstak_http_requests_total{route=\"/api/v1/sync/events\",method=\"GET\",status=\"200\"} 2"), "{m}");
    drop(b);
    let r = s.post("/api/client/revoke-current", Some(&ta), &json!({}));
    assert_eq!(r.status, 200);
    assert!(a.next_event(WAIT).is_some());
    assert_eq!(
        metric(&s, "verstak_event_stream_events_total{event=\"closed\"} "),
        1
    );
    drop(a);
    // Both ended: B's departure is noticed at its next heartbeat at the latest (25 s here), so
    // only A's end is certain now.
    eventually("A's stream counted as ended", || {
        metric(&s, "verstak_event_streams_open ") <= 1
    });
}

#[test]
fn shutdown_closes_streams_and_does_not_wait_for_them() {
    let mut s = TestServer::start();
    let (t, _) = s.user_device("mona", "v");
    let mut a = stream(&s, &t, &[("Last-Event-ID", "0")]);
    let mut b = stream(&s, &t, &[]);
    assert_sequence(b.next_event(WAIT), 0, "");
    s.sigterm();
    assert_closed(
        a.next_event(WAIT),
        "server_shutdown",
        "server shutting down",
    );
    assert_closed(
        b.next_event(WAIT),
        "server_shutdown",
        "server shutting down",
    );
    assert!(a.ends_within(WAIT));
    // Draining waits up to 20 s for in-flight requests; open streams must not hold it up.
    assert_eq!(s.wait_exit(WAIT), Some(0));
}

#[test]
fn the_route_takes_get_only_and_needs_a_device_token() {
    let s = TestServer::start();
    let (t, _) = s.user_device("nina", "v");
    let auth = format!("Bearer {t}");
    let r = s.req("POST", EVENTS, &[("Authorization", &auth)], b"");
    r.assert_error(405, "method_not_allowed", "method not allowed");
    assert_eq!(r.header("allow"), Some("GET"));
    try_stream(&s, "nope", "", &[]).unwrap_err().assert_error(
        401,
        "unauthorized",
        "invalid API key",
    );
}

#[test]
fn a_stream_outlives_the_header_and_idle_clocks() {
    // Connection clocks shortened to 0.5 s (header) and 1.5 s (no progress); 1 s heartbeats.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yml"),
        "events:\n  heartbeat_seconds: 1\n",
    )
    .unwrap();
    let s = TestServer::start_in_env(
        dir,
        &[],
        &[
            ("VERSTAK_TEST_HEADER_TIMEOUT_MS", "500"),
            ("VERSTAK_TEST_IDLE_TIMEOUT_MS", "1500"),
        ],
    );
    let (ta, _) = s.user_device("olga", "v");
    let (tb, db) = s.pair("olga", "v");
    let mut a = stream(&s, &ta, &[("Last-Event-ID", "0")]);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        let f = a.next(WAIT).expect("the stream stays open");
        assert!(f.is_ping(), "{f:?}");
    }
    push_one(&s, &tb, "op-1");
    assert_sequence(a.next_event(WAIT), 1, &db);
}

/// Issue 16: a device may hit a different node on every request, so a push through one node
/// reaches the streams every other node holds (PostgreSQL `LISTEN/NOTIFY`), in both
/// directions and without a new push to carry it.
#[test]
fn a_push_through_one_node_reaches_streams_held_by_another() {
    let Some(s) = TestServer::start_nodes(2, None, &[]) else {
        return;
    };
    let (ta, da) = s.user_device("alice", "v");
    let (tb, db) = s.pair("alice", "v");
    let (tc, _) = s.pair("alice", "other");
    let mut a = stream_on(&s, 0, &ta, &[("Last-Event-ID", "0")]);
    let mut b = stream_on(&s, 1, &tb, &[("Last-Event-ID", "0")]);
    let mut c = stream_on(&s, 0, &tc, &[("Last-Event-ID", "0")]);

    assert_eq!(s.push_on(1, &tb, vec![op("n1")], None).status, 200);
    assert_sequence(a.next_event(WAIT), 1, &db);
    assert_eq!(s.push_on(0, &ta, vec![op("n0")], None).status, 200);
    assert_sequence(b.next_event(WAIT), 2, &da);
    // Another vault of the same user hears nothing of either.
    assert!(
        c.next_event(Duration::from_millis(500)).is_none(),
        "a stream of another vault was told"
    );
}
