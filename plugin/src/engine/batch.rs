//! Push batch sizing (plugin-contract §4.9): at most the server's default
//! `max_push_operations` (100) ops per batch, halved on `too_many_operations` while the batch
//! is larger than one op.

use verstak_sync_proto::limits::DEFAULT_MAX_PUSH_OPERATIONS;

/// The largest batch the server accepts by default.
const MAX_BATCH: usize = DEFAULT_MAX_PUSH_OPERATIONS as usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchSize(usize);

impl BatchSize {
    pub(crate) fn new(limit: usize) -> BatchSize {
        BatchSize(limit.clamp(1, MAX_BATCH))
    }

    pub(crate) fn get(self) -> usize {
        self.0
    }

    /// After `too_many_operations` for a batch of `sent` ops: the smaller size to retry with,
    /// or `None` when a single op was refused (nothing left to cut).
    pub(crate) fn halve(self, sent: usize) -> Option<BatchSize> {
        (sent > 1).then(|| BatchSize((sent / 2).max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(BatchSize::new(500).get(), 100);
        assert_eq!(BatchSize::new(0).get(), 1);
        let cases = [(100, Some(50)), (3, Some(1)), (2, Some(1)), (1, None)];
        for (sent, want) in cases {
            assert_eq!(
                BatchSize::new(100).halve(sent).map(BatchSize::get),
                want,
                "sent {sent}"
            );
        }
        // Repeated halving reaches one op in log2 steps.
        let (mut b, mut steps) = (BatchSize::new(100), 0);
        while let Some(n) = b.halve(b.get()) {
            b = n;
            steps += 1;
        }
        assert_eq!((b.get(), steps), (1, 6));
    }
}
