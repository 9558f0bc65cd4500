//! Prometheus metrics (spec §4.12): in-process counters and a request-duration histogram,
//! rendered as text exposition format 0.0.4. No per-user or per-vault labels.

use axum::http::Method;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;
use verstak_sync_proto::paths as p;

const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Hist {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    durations: Mutex<BTreeMap<&'static str, Hist>>,
    rate_limited: Mutex<BTreeMap<&'static str, u64>>,
    pub ops_accepted: AtomicU64,
    pub ops_duplicate: AtomicU64,
    pub ops_rejected_duplicate: AtomicU64,
    pub conflicts: AtomicU64,
    pub pull_ops_served: AtomicU64,
    pub blob_upload_bytes: AtomicU64,
    pub blob_download_bytes: AtomicU64,
    /// TCP connections open now (kept by `crate::conns`).
    pub open_connections: AtomicI64,
    /// Event streams open now (kept by `crate::events::hub`).
    pub event_streams_open: AtomicI64,
    pub events_sequence: AtomicU64,
    pub events_closed: AtomicU64,
    pub event_heartbeats: AtomicU64,
    /// Streams refused at a limit, by limit (`user`, `ip`).
    streams_refused: Mutex<BTreeMap<&'static str, u64>>,
}

/// The label of every blob download path: [`p::BLOBS`] followed by `{sha256}`.
static BLOB_ROUTE: LazyLock<String> = LazyLock::new(|| format!("{}{{sha256}}", p::BLOBS));

/// The route template of a path, never the raw path.
pub(crate) fn route_template(path: &str) -> &'static str {
    const KNOWN: [&str; 15] = [
        p::PAIR,
        p::DEVICE_REGISTER,
        p::AUTH_TEST,
        p::ME,
        p::REVOKE_CURRENT,
        p::REVOKE_DEVICE,
        p::PUSH,
        p::PULL,
        p::BLOBS,
        p::BLOB_BATCH,
        p::HEALTH,
        p::READYZ,
        p::LIVEZ,
        p::METRICS,
        verstak_sync_proto::events::EVENTS,
    ];
    if let Some(k) = KNOWN.iter().find(|k| **k == path) {
        return k;
    }
    if path.starts_with(p::BLOBS) {
        return BLOB_ROUTE.as_str();
    }
    "other"
}

impl Metrics {
    pub(crate) fn observe_request(&self, path: &str, method: &Method, status: u16, took: Duration) {
        let route = route_template(path);
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route, method.as_str().to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut d) = self.durations.lock() {
            let h = d.entry(route).or_default();
            let secs = took.as_secs_f64();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.total += 1;
        }
    }

    pub(crate) fn stream_refused(&self, limit: &'static str) {
        if let Ok(mut m) = self.streams_refused.lock() {
            *m.entry(limit).or_default() += 1;
        }
    }

    pub(crate) fn rate_limited(&self, action: &'static str) {
        if let Ok(mut m) = self.rate_limited.lock() {
            *m.entry(action).or_default() += 1;
        }
    }

    /// Renders everything; `gauges` are the values computed from the database at scrape time.
    pub(crate) fn render(&self, g: &Gauges) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# TYPE verstak_build_info gauge");
        let _ = writeln!(
            o,
            "verstak_build_info{{version=\"{}\",commit=\"{}\"}} 1",
            crate::VERSION,
            crate::COMMIT
        );
        let _ = writeln!(
            o,
            "# TYPE verstak_uptime_seconds gauge\nverstak_uptime_seconds {}",
            g.uptime
        );
        let _ = writeln!(o, "# TYPE verstak_http_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((route, method, status), n) in m.iter() {
                let _ = writeln!(
                    o,
                    "verstak_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(o, "# TYPE verstak_http_request_duration_seconds histogram");
        if let Ok(d) = self.durations.lock() {
            for (route, h) in d.iter() {
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        o,
                        "verstak_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    o,
                    "verstak_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.total
                );
                let _ = writeln!(
                    o,
                    "verstak_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    o,
                    "verstak_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.total
                );
            }
        }
        for (name, v) in [
            ("verstak_sync_ops_accepted_total", &self.ops_accepted),
            ("verstak_sync_ops_duplicate_total", &self.ops_duplicate),
            (
                "verstak_sync_ops_rejected_duplicate_total",
                &self.ops_rejected_duplicate,
            ),
            ("verstak_sync_conflicts_reported_total", &self.conflicts),
            ("verstak_sync_pull_ops_served_total", &self.pull_ops_served),
            ("verstak_blob_upload_bytes_total", &self.blob_upload_bytes),
            (
                "verstak_blob_download_bytes_total",
                &self.blob_download_bytes,
            ),
        ] {
            let _ = writeln!(o, "# TYPE {name} counter\n{name} {}", v.load(Relaxed));
        }
        let _ = writeln!(o, "# TYPE verstak_rate_limited_total counter");
        if let Ok(m) = self.rate_limited.lock() {
            for (action, n) in m.iter() {
                let _ = writeln!(o, "verstak_rate_limited_total{{action=\"{action}\"}} {n}");
            }
        }
        for (name, v) in [
            ("verstak_users", g.users),
            ("verstak_operations", g.operations),
            ("verstak_blobs", g.blobs),
            ("verstak_blob_referenced_bytes", g.blob_bytes),
            ("verstak_ready", g.ready as i64),
        ] {
            let _ = writeln!(o, "# TYPE {name} gauge\n{name} {v}");
        }
        let _ = writeln!(
            o,
            "# TYPE verstak_http_open_connections gauge\nverstak_http_open_connections {}",
            self.open_connections.load(Relaxed)
        );
        self.render_events(&mut o);
        let _ = writeln!(o, "# TYPE verstak_devices gauge");
        let _ = writeln!(
            o,
            "verstak_devices{{state=\"active\"}} {}",
            g.devices_active
        );
        let _ = writeln!(
            o,
            "verstak_devices{{state=\"revoked\"}} {}",
            g.devices_revoked
        );
        o
    }
}

impl Metrics {
    /// The event stream's gauge and counters (`docs/events.md`).
    fn render_events(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "# TYPE verstak_event_streams_open gauge\nverstak_event_streams_open {}",
            self.event_streams_open.load(Relaxed)
        );
        let _ = writeln!(o, "# TYPE verstak_event_stream_events_total counter");
        for (event, v) in [
            ("sequence", &self.events_sequence),
            ("closed", &self.events_closed),
        ] {
            let _ = writeln!(
                o,
                "verstak_event_stream_events_total{{event=\"{event}\"}} {}",
                v.load(Relaxed)
            );
        }
        let _ = writeln!(
            o,
            "# TYPE verstak_event_stream_heartbeats_total counter\nverstak_event_stream_heartbeats_total {}",
            self.event_heartbeats.load(Relaxed)
        );
        let _ = writeln!(o, "# TYPE verstak_event_streams_refused_total counter");
        if let Ok(m) = self.streams_refused.lock() {
            for limit in ["user", "ip"] {
                let n = m.get(limit).copied().unwrap_or(0);
                let _ = writeln!(
                    o,
                    "verstak_event_streams_refused_total{{limit=\"{limit}\"}} {n}"
                );
            }
        }
    }
}

/// Values computed at scrape time.
#[derive(Debug, Default)]
pub(crate) struct Gauges {
    pub uptime: u64,
    pub users: i64,
    pub operations: i64,
    pub blobs: i64,
    pub blob_bytes: i64,
    pub devices_active: i64,
    pub devices_revoked: i64,
    pub ready: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_are_templates() {
        assert_eq!(route_template("/api/v1/sync/push"), "/api/v1/sync/push");
        assert_eq!(route_template("/api/v1/blobs/"), "/api/v1/blobs/");
        let sha = "ab".repeat(32);
        assert_eq!(
            route_template(&format!("/api/v1/blobs/{sha}")),
            "/api/v1/blobs/{sha256}"
        );
        assert_eq!(
            route_template("/api/v1/blobs/anything"),
            "/api/v1/blobs/{sha256}"
        );
        assert_eq!(route_template("/dashboard"), "other");
    }
}
