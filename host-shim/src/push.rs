//! `serve`'s live status push: `GET /events` is a Server-Sent Events stream of the vault's
//! status, so the panel and the status bar show "Syncing…", progress, pending changes and the
//! last sync as they happen, without polling.
//!
//! [`Hub`] keeps one channel per open page; the bridge publishes the status DTO (with
//! `live: true` while `serve` runs the live loop) when a run starts, while it makes progress
//! and when it ends, and after every call that changes the state. [`serve_events`] owns one
//! subscriber's connection on its own thread: it writes the current status at once, then each
//! published one as `event: status`, and a `: ping` comment every [`HEARTBEAT`] so a dead page
//! is noticed and dropped.

use serde_json::Value;
use std::io::Write;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Pages that may listen at once (each holds one thread and one connection).
pub const MAX_SUBSCRIBERS: usize = 16;
/// A comment on an idle stream this often.
pub const HEARTBEAT: Duration = Duration::from_secs(25);

/// The open `/events` streams.
#[derive(Default)]
pub struct Hub {
    subscribers: Mutex<Vec<Sender<String>>>,
}

impl Hub {
    /// A new subscriber, or `None` when [`MAX_SUBSCRIBERS`] listen already.
    pub fn subscribe(&self) -> Option<Receiver<String>> {
        let mut subs = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if subs.len() >= MAX_SUBSCRIBERS {
            return None;
        }
        let (tx, rx) = mpsc::channel();
        subs.push(tx);
        Some(rx)
    }

    /// True when someone listens (so a status is worth computing).
    pub fn has_subscribers(&self) -> bool {
        !self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Sends `status` to every subscriber; those that went away are dropped.
    pub fn publish(&self, status: &Value) {
        let text = status.to_string();
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|tx| tx.send(text.clone()).is_ok());
    }
}

/// Writes the SSE response: the head, `first`, then every published status, until the page
/// goes away. Runs on the subscriber's own thread.
pub fn serve_events(mut out: Box<dyn Write + Send>, first: &Value, rx: Receiver<String>) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
    let event = |data: &str| format!("event: status\ndata: {data}\n\n");
    if out
        .write_all(head.as_bytes())
        .and_then(|()| out.write_all(event(&first.to_string()).as_bytes()))
        .and_then(|()| out.flush())
        .is_err()
    {
        return;
    }
    loop {
        let chunk = match rx.recv_timeout(HEARTBEAT) {
            Ok(data) => event(&data),
            Err(RecvTimeoutError::Timeout) => ": ping\n\n".to_string(),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if out
            .write_all(chunk.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            return; // the page went away; the hub drops our sender on its next publish
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_subscriber_gets_the_current_status_then_each_published_one() {
        let hub = Hub::default();
        let rx = hub.subscribe().unwrap();
        let sink = Sink::default();
        let out = sink.clone();
        let writer = std::thread::spawn(move || {
            serve_events(Box::new(out), &serde_json::json!({"syncing": false}), rx)
        });
        hub.publish(&serde_json::json!({"syncing": true}));
        drop(hub); // the last sender goes: the stream ends
        writer.join().unwrap();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"));
        assert!(text.ends_with(
            "event: status\ndata: {\"syncing\":false}\n\nevent: status\ndata: {\"syncing\":true}\n\n"
        ));
    }

    #[test]
    fn subscribers_are_bounded() {
        let hub = Hub::default();
        let held: Vec<_> = (0..MAX_SUBSCRIBERS)
            .map(|_| hub.subscribe().unwrap())
            .collect();
        assert!(hub.subscribe().is_none());
        drop(held);
        hub.publish(&serde_json::json!({}));
        assert!(!hub.has_subscribers(), "gone pages are dropped on publish");
        assert!(hub.subscribe().is_some());
    }
}
