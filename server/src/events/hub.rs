//! [`EventHub`]: the open event streams, their limits, and one watch channel per scope that has
//! a stream.
//!
//! Everything sits behind one mutex, taken only when a stream opens or ends, when a push that
//! stored ops is published, and when streams are closed (revocation, blocking, deletion,
//! shutdown; rare, so those walk every stream). A scope without streams has no channel, so
//! publishing there is one hash lookup.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot, watch};

use super::CloseReason;
use super::news::{News, Push};
use super::relay::Note;
use crate::config::EventsCfg;
use crate::metrics::Metrics;
use crate::store::Scope;

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The user holds `max_streams_per_user` streams.
    User,
    /// The client IP holds `max_streams_per_ip` streams.
    Ip,
}

impl Refusal {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Refusal::User => "user",
            Refusal::Ip => "ip",
        }
    }
}

pub(crate) struct EventHub {
    cfg: EventsCfg,
    metrics: Arc<Metrics>,
    reg: Mutex<Registry>,
    /// Where publishing also goes when other server processes share the database
    /// ([`super::relay`]).
    relay: Mutex<Option<mpsc::UnboundedSender<Note>>>,
    /// Another server process saved console settings (`crate::console_settings`).
    settings_news: tokio::sync::Notify,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    streams: HashMap<u64, Entry>,
    per_user: HashMap<String, usize>,
    per_ip: HashMap<IpAddr, usize>,
    scopes: HashMap<Scope, watch::Sender<News>>,
    shutting_down: bool,
}

struct Entry {
    device: String,
    scope: Scope,
    ip: IpAddr,
    /// Taken when the stream is told to close.
    close: Option<oneshot::Sender<CloseReason>>,
}

/// An open stream's registration: its scope's news and its close signal. Dropping it ends the
/// registration (and the scope's channel when it was the scope's last stream).
pub(crate) struct Subscription {
    hub: Arc<EventHub>,
    id: u64,
    pub(crate) news: watch::Receiver<News>,
    pub(crate) close: oneshot::Receiver<CloseReason>,
}

impl EventHub {
    pub(crate) fn new(cfg: EventsCfg, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(EventHub {
            cfg,
            metrics,
            reg: Mutex::new(Registry::default()),
            relay: Mutex::new(None),
            settings_news: tokio::sync::Notify::new(),
        })
    }

    pub(crate) fn cfg(&self) -> EventsCfg {
        self.cfg
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.reg.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a stream of `device` in `scope` from `ip`, within the limits. During shutdown
    /// the stream is told to close at once, so it opens and ends with `server_shutdown`.
    pub(crate) fn open(
        self: &Arc<Self>,
        scope: &Scope,
        device: &str,
        ip: IpAddr,
    ) -> Result<Subscription, Refusal> {
        let mut r = self.lock();
        let refusal = if r.per_user.get(&scope.user_id).copied().unwrap_or(0)
            >= self.cfg.max_streams_per_user
        {
            Some(Refusal::User)
        } else if r.per_ip.get(&ip).copied().unwrap_or(0) >= self.cfg.max_streams_per_ip {
            Some(Refusal::Ip)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            self.metrics.stream_refused(refusal.label());
            return Err(refusal);
        }
        *r.per_user.entry(scope.user_id.clone()).or_default() += 1;
        *r.per_ip.entry(ip).or_default() += 1;
        let news = match r.scopes.get(scope) {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = watch::channel(News::default());
                r.scopes.insert(scope.clone(), tx);
                rx
            }
        };
        let (tx, close) = oneshot::channel();
        let tx = if r.shutting_down {
            let _ = tx.send(CloseReason::ServerShutdown);
            None
        } else {
            Some(tx)
        };
        r.next_id += 1;
        let id = r.next_id;
        r.streams.insert(
            id,
            Entry {
                device: device.to_owned(),
                scope: scope.clone(),
                ip,
                close: tx,
            },
        );
        self.metrics.event_streams_open.fetch_add(1, Relaxed);
        Ok(Subscription {
            hub: self.clone(),
            id,
            news,
            close,
        })
    }

    /// A push by `device` moved `scope` from `after` to `seq`; called after its commit.
    pub(crate) fn published(&self, scope: &Scope, after: i64, seq: i64, device: &str) {
        self.deliver(scope, after, seq, device);
        self.relay(|| Note::Pushed {
            scope: scope.clone(),
            after,
            seq,
            device: device.to_owned(),
        });
    }

    fn deliver(&self, scope: &Scope, after: i64, seq: i64, device: &str) {
        let r = self.lock();
        if let Some(tx) = r.scopes.get(scope) {
            let device = Arc::from(device);
            tx.send_modify(|n| n.record(Push { after, seq, device }));
        }
    }

    /// Tells every stream of `device` to close with `reason`.
    pub(crate) fn close_device(&self, device: &str, reason: CloseReason) {
        self.close_where(|e| e.device == device, reason);
        self.relay(|| Note::CloseDevice(device.to_owned(), reason));
    }

    /// Tells every stream of `user`'s devices to close with `reason`.
    pub(crate) fn close_user(&self, user: &str, reason: CloseReason) {
        self.close_where(|e| e.scope.user_id == user, reason);
        self.relay(|| Note::CloseUser(user.to_owned(), reason));
    }

    /// Sends what this process published to the others as well, from now on.
    pub(crate) fn relay_to(&self, tx: mpsc::UnboundedSender<Note>) {
        *self.relay.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
    }

    fn relay(&self, note: impl FnOnce() -> Note) {
        if let Some(tx) = &*self.relay.lock().unwrap_or_else(|p| p.into_inner()) {
            let _ = tx.send(note());
        }
    }

    /// What another server process published: delivered to this process's streams only.
    pub(crate) fn apply(&self, note: Note) {
        match note {
            Note::Pushed {
                scope,
                after,
                seq,
                device,
            } => self.deliver(&scope, after, seq, &device),
            Note::CloseDevice(d, reason) => self.close_where(|e| e.device == d, reason),
            Note::CloseUser(u, reason) => self.close_where(|e| e.scope.user_id == u, reason),
            Note::Settings => self.settings_news.notify_one(),
        }
    }

    /// Tells the other server processes that the console saved settings.
    pub(crate) fn settings_saved(&self) {
        self.relay(|| Note::Settings);
    }

    /// Waits until another server process saved console settings (at once when it did since
    /// the last wait).
    pub(crate) async fn settings_news(&self) {
        self.settings_news.notified().await;
    }

    /// Tells every stream to close with `server_shutdown`, and any stream opened from now on.
    pub(crate) fn shutdown(&self) {
        self.lock().shutting_down = true;
        self.close_where(|_| true, CloseReason::ServerShutdown);
    }

    fn close_where(&self, pick: impl Fn(&Entry) -> bool, reason: CloseReason) {
        let mut r = self.lock();
        for e in r.streams.values_mut().filter(|e| pick(e)) {
            if let Some(tx) = e.close.take() {
                let _ = tx.send(reason);
            }
        }
    }

    fn ended(&self, id: u64) {
        let mut r = self.lock();
        let Some(e) = r.streams.remove(&id) else {
            return;
        };
        decrement(&mut r.per_user, &e.scope.user_id);
        decrement(&mut r.per_ip, &e.ip);
        // The ending stream still holds its receiver: it was the last one when only it is left.
        if r.scopes
            .get(&e.scope)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            r.scopes.remove(&e.scope);
        }
        self.metrics.event_streams_open.fetch_sub(1, Relaxed);
    }

    /// Open streams and scopes with a channel, for tests.
    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        let r = self.lock();
        (r.streams.len(), r.scopes.len())
    }
}

fn decrement<K: std::hash::Hash + Eq>(m: &mut HashMap<K, usize>, k: &K) {
    if let Some(n) = m.get_mut(k) {
        *n -= 1;
        if *n == 0 {
            m.remove(k);
        }
    }
}

impl Subscription {
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.hub.metrics
    }

    /// A number in `0..1000` that differs from stream to stream (for spreading heartbeats).
    pub(crate) fn spread(&self) -> u64 {
        self.id.wrapping_mul(7919) % 1000
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.ended(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(u: &str) -> Scope {
        Scope {
            user_id: u.into(),
            vault_id: "v".into(),
        }
    }

    fn hub(per_user: usize, per_ip: usize) -> Arc<EventHub> {
        let cfg = EventsCfg {
            heartbeat_seconds: 25,
            max_streams_per_user: per_user,
            max_streams_per_ip: per_ip,
        };
        EventHub::new(cfg, Arc::default())
    }

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const IP2: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn limits_per_user_and_per_ip_are_released_when_streams_end() {
        let h = hub(2, 3);
        let a = h.open(&scope("u"), "d1", IP).unwrap();
        let _b = h.open(&scope("u"), "d2", IP2).unwrap();
        assert_eq!(h.open(&scope("u"), "d1", IP).err(), Some(Refusal::User));
        let _c = h.open(&scope("w"), "d3", IP).unwrap();
        let _d = h.open(&scope("x"), "d4", IP).unwrap();
        assert_eq!(h.open(&scope("y"), "d5", IP).err(), Some(Refusal::Ip));
        drop(a);
        let _e = h.open(&scope("u"), "d1", IP2).unwrap();
        assert_eq!(h.metrics.event_streams_open.load(Relaxed), 4);
    }

    #[test]
    fn a_scope_channel_lives_as_long_as_its_streams() {
        let h = hub(10, 10);
        let a = h.open(&scope("u"), "d1", IP).unwrap();
        let mut b = h.open(&scope("u"), "d2", IP).unwrap();
        assert_eq!(h.counts(), (2, 1));
        h.published(&scope("u"), 0, 3, "d1");
        assert!(b.news.has_changed().unwrap());
        assert_eq!(b.news.borrow_and_update().recent_len(), 1);
        drop(a);
        assert_eq!(h.counts(), (1, 1));
        drop(b);
        assert_eq!(h.counts(), (0, 0));
        // No stream, no channel: publishing is a lookup and nothing more.
        h.published(&scope("u"), 3, 4, "d1");
        assert_eq!(h.counts(), (0, 0));
    }

    #[test]
    fn closing_reaches_the_chosen_streams_and_shutdown_reaches_late_ones() {
        let h = hub(10, 10);
        let mut a = h.open(&scope("u"), "d1", IP).unwrap();
        let mut b = h.open(&scope("u"), "d2", IP).unwrap();
        let mut c = h.open(&scope("w"), "d3", IP).unwrap();
        h.close_device("d1", CloseReason::DeviceRevoked);
        assert_eq!(a.close.try_recv(), Ok(CloseReason::DeviceRevoked));
        assert!(b.close.try_recv().is_err());
        h.close_user("u", CloseReason::UserBlocked);
        assert_eq!(b.close.try_recv(), Ok(CloseReason::UserBlocked));
        assert!(c.close.try_recv().is_err());
        h.shutdown();
        assert_eq!(c.close.try_recv(), Ok(CloseReason::ServerShutdown));
        let mut late = h.open(&scope("w"), "d3", IP).unwrap();
        assert_eq!(late.close.try_recv(), Ok(CloseReason::ServerShutdown));
    }
}
