//! What a scope's subscribers are told: the recent pushes of one scope ([`News`]) and the pure
//! decision of one stream ([`next_event`]) whether they hold a change it must announce.
//!
//! [`News`] lives in a `tokio::sync::watch` channel per scope, so a slow stream never queues:
//! it wakes up, reads the latest value and decides once. The value remembers the last
//! [`REMEMBERED`] pushes (sorted by sequence; handlers publish after their commit in any
//! order), which is what lets a stream skip its own device's pushes without missing another
//! device's push that was coalesced with them.

use std::collections::VecDeque;
use std::sync::Arc;

/// Pushes remembered per scope. A stream that falls further behind still announces the change,
/// without naming the device (the gap case of [`next_event`]).
pub(crate) const REMEMBERED: usize = 16;

/// One committed push that stored new ops: sequences `after + 1 ..= seq`, all by `device`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Push {
    pub after: i64,
    pub seq: i64,
    pub device: Arc<str>,
}

/// The value of a scope's watch channel.
#[derive(Debug, Default)]
pub(crate) struct News {
    recent: VecDeque<Push>,
}

impl News {
    /// Records `p`, keeping [`REMEMBERED`] pushes in sequence order.
    pub(crate) fn record(&mut self, p: Push) {
        let at = self.recent.partition_point(|q| q.seq < p.seq);
        self.recent.insert(at, p);
        if self.recent.len() > REMEMBERED {
            self.recent.pop_front();
        }
    }

    #[cfg(test)]
    pub(crate) fn recent_len(&self) -> usize {
        self.recent.len()
    }
}

/// What a stream announces: the scope's sequence and the device to name (`""` if unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Announce {
    pub seq: i64,
    pub device: Arc<str>,
}

/// The decision of a stream for `own` device that has told its client everything up to
/// `told`: the event to send, if any, and the new `told`.
///
/// * Nothing newer than `told`: nothing.
/// * A newer push by another device: announce the newest sequence, naming the newest such
///   device.
/// * Only the stream's own pushes, contiguous from `told`: nothing (the client has those ops),
///   but `told` moves past them.
/// * Otherwise some sequences after `told` are not remembered (the stream fell behind, or a
///   push published late): announce, naming no device. Announcing too much costs a pull;
///   announcing too little would lose a change.
pub(crate) fn next_event(told: i64, own: &str, news: &News) -> (Option<Announce>, i64) {
    let newer: Vec<&Push> = news.recent.iter().filter(|p| p.seq > told).collect();
    let Some(latest) = newer.last().map(|p| p.seq) else {
        return (None, told);
    };
    if let Some(p) = newer.iter().rev().find(|p| &*p.device != own) {
        let device = p.device.clone();
        return (
            Some(Announce {
                seq: latest,
                device,
            }),
            latest,
        );
    }
    let mut covered = told;
    for p in &newer {
        if p.after > covered {
            let device: Arc<str> = Arc::from("");
            return (
                Some(Announce {
                    seq: latest,
                    device,
                }),
                latest,
            );
        }
        covered = covered.max(p.seq);
    }
    (None, latest)
}

/// The first event of a stream that opens with the client's `cursor` (if it sent one) when the
/// scope is at `latest` and `foreign` is the newest op after the cursor by another device;
/// and the stream's starting `told`.
///
/// * No cursor: the current sequence, always.
/// * A cursor behind `latest`: the latest sequence, unless every op after the cursor is the
///   client's own.
/// * A cursor ahead of `latest` (the server was restored from a backup): the latest sequence,
///   so the client sees the server is behind it.
/// * A cursor at `latest`: nothing.
pub(crate) fn opening(
    cursor: Option<i64>,
    latest: i64,
    foreign: Option<(i64, String)>,
) -> (Option<Announce>, i64) {
    let announce = |device: &str| Announce {
        seq: latest,
        device: Arc::from(device),
    };
    let foreign_device = foreign.map(|(_, d)| d);
    let first = match cursor {
        None => Some(announce(foreign_device.as_deref().unwrap_or(""))),
        Some(c) if c < latest => foreign_device.as_deref().map(announce),
        Some(c) if c > latest => Some(announce("")),
        Some(_) => None,
    };
    (first, latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(after: i64, seq: i64, device: &str) -> Push {
        Push {
            after,
            seq,
            device: Arc::from(device),
        }
    }

    fn news(pushes: &[Push]) -> News {
        let mut n = News::default();
        for p in pushes {
            n.record(p.clone());
        }
        n
    }

    fn said(r: (Option<Announce>, i64)) -> (Option<(i64, String)>, i64) {
        (r.0.map(|a| (a.seq, a.device.to_string())), r.1)
    }

    #[test]
    fn the_opening_event_follows_the_cursor() {
        let f = || Some((7, "b".to_owned()));
        assert_eq!(said(opening(None, 9, f())), (Some((9, "b".into())), 9));
        assert_eq!(said(opening(None, 0, None)), (Some((0, String::new())), 0));
        assert_eq!(said(opening(Some(3), 9, f())), (Some((9, "b".into())), 9));
        assert_eq!(said(opening(Some(3), 9, None)), (None, 9));
        assert_eq!(said(opening(Some(9), 9, None)), (None, 9));
        assert_eq!(
            said(opening(Some(12), 9, None)),
            (Some((9, String::new())), 9)
        );
    }

    #[test]
    fn another_devices_push_is_announced_and_an_own_push_is_not() {
        let n = news(&[push(0, 3, "b")]);
        assert_eq!(said(next_event(0, "a", &n)), (Some((3, "b".into())), 3));
        assert_eq!(said(next_event(0, "b", &n)), (None, 3));
        assert_eq!(said(next_event(3, "a", &n)), (None, 3));
    }

    #[test]
    fn a_foreign_push_coalesced_with_own_pushes_is_still_announced() {
        let n = news(&[push(0, 2, "b"), push(2, 5, "a")]);
        assert_eq!(said(next_event(0, "a", &n)), (Some((5, "b".into())), 5));
        assert_eq!(said(next_event(2, "a", &n)), (None, 5));
    }

    #[test]
    fn forgotten_sequences_are_announced_without_a_device() {
        let mut n = News::default();
        for i in 0..REMEMBERED as i64 + 4 {
            n.record(push(i, i + 1, "a"));
        }
        assert_eq!(
            said(next_event(0, "a", &n)),
            (Some((20, String::new())), 20)
        );
        assert_eq!(said(next_event(4, "a", &n)), (None, 20));
    }

    #[test]
    fn pushes_published_out_of_order_are_kept_sorted() {
        // The later push's handler published first: a stream between the two sees a gap.
        let early = news(&[push(4, 9, "a")]);
        assert_eq!(
            said(next_event(0, "a", &early)),
            (Some((9, String::new())), 9)
        );
        let both = news(&[push(4, 9, "a"), push(0, 4, "a")]);
        assert_eq!(said(next_event(0, "a", &both)), (None, 9));
    }
}
