//! [`EventStream`]: one open stream's response body, in Server-Sent Events framing.
//!
//! It yields the first event (if the opening read found one), then waits for whichever comes
//! first: the close signal (one `closed` event, then the body ends), news of its scope (a
//! `sequence` event when [`next_event`] says so), or the heartbeat (a `: ping` comment; the
//! first one after half to one period, spread over streams, then every period). An idle
//! stream is one parked task: no timer but the heartbeat, no buffer but hyper's.

use axum::body::Body;
use bytes::Bytes;
use std::convert::Infallible;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use verstak_sync_proto::events::{self as wire, ClosedEvent, SequenceEvent};

use super::news::{Announce, next_event};
use super::{CloseReason, Subscription};

/// The heartbeat comment.
const PING: &[u8] = b": ping\n\n";

pub(crate) struct EventStream {
    sub: Subscription,
    own: String,
    /// Everything up to this sequence is announced (or was the client's own).
    told: i64,
    first: Option<Announce>,
    heartbeat: Interval,
    done: bool,
}

impl EventStream {
    pub(crate) fn new(
        sub: Subscription,
        own: String,
        told: i64,
        first: Option<Announce>,
        heartbeat: Duration,
    ) -> Self {
        // The first beat comes after half to one whole period, so streams opened together
        // (a reconnect wave after a restart) do not all beat in the same instant forever.
        let beat = heartbeat / 2 + heartbeat.mul_f64(sub.spread() as f64 / 2000.0);
        let mut heartbeat = tokio::time::interval_at(Instant::now() + beat, heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        EventStream {
            sub,
            own,
            told,
            first,
            heartbeat,
            done: false,
        }
    }

    /// The response body.
    pub(crate) fn into_body(self) -> Body {
        Body::from_stream(futures_util::stream::unfold(self, |mut s| async move {
            let frame = s.next().await?;
            Some((Ok::<Bytes, Infallible>(frame), s))
        }))
    }

    async fn next(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        if let Some(a) = self.first.take() {
            return Some(self.announce(&a));
        }
        loop {
            tokio::select! {
                biased;
                reason = &mut self.sub.close => {
                    self.done = true;
                    let reason = reason.unwrap_or(CloseReason::ServerShutdown);
                    self.sub.metrics().events_closed.fetch_add(1, Relaxed);
                    return Some(closed_frame(reason));
                }
                changed = self.sub.news.changed() => {
                    if changed.is_err() {
                        // The hub keeps a scope's channel while a stream is registered in it.
                        self.done = true;
                        return None;
                    }
                    let (event, told) = next_event(self.told, &self.own, &self.sub.news.borrow_and_update());
                    self.told = told;
                    if let Some(a) = event {
                        self.heartbeat.reset();
                        return Some(self.announce(&a));
                    }
                }
                _ = self.heartbeat.tick() => {
                    self.sub.metrics().event_heartbeats.fetch_add(1, Relaxed);
                    return Some(Bytes::from_static(PING));
                }
            }
        }
    }

    fn announce(&self, a: &Announce) -> Bytes {
        self.sub.metrics().events_sequence.fetch_add(1, Relaxed);
        sequence_frame(a)
    }
}

/// `event: sequence`, `id:` and `data:` of one announcement.
pub(crate) fn sequence_frame(a: &Announce) -> Bytes {
    let data = serde_json::to_string(&SequenceEvent {
        server_sequence: a.seq,
        device_id: a.device.to_string(),
    })
    .expect("wire types always serialise");
    let seq = a.seq;
    Bytes::from(format!(
        "event: {}\nid: {seq}\ndata: {data}\n\n",
        wire::SEQUENCE
    ))
}

/// `event: closed` and `data:` of the last message.
pub(crate) fn closed_frame(r: CloseReason) -> Bytes {
    let data = serde_json::to_string(&ClosedEvent {
        code: r.code().into(),
        message: r.message().into(),
    })
    .expect("wire types always serialise");
    Bytes::from(format!("event: {}\ndata: {data}\n\n", wire::CLOSED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn frames_are_server_sent_events() {
        let a = Announce {
            seq: 42,
            device: Arc::from("dev_b"),
        };
        assert_eq!(
            sequence_frame(&a),
            "event: sequence\nid: 42\ndata: {\"server_sequence\":42,\"device_id\":\"dev_b\"}\n\n"
        );
        assert_eq!(
            closed_frame(CloseReason::DeviceRevoked),
            "event: closed\ndata: {\"code\":\"device_revoked\",\"message\":\"device revoked\"}\n\n"
        );
        assert_eq!(PING, b": ping\n\n");
    }
}
