//! `verstak:sync/progress`: the engine's live progress (no permission needed).
//!
//! `report` only stores the latest value in a [`ProgressHandle`]; the store-owning thread is
//! busy inside the component while a sync runs, so the CLI's progress line and the bridge's
//! `status()` read a clone of the handle from their own threads.

use crate::bindings::Phase;
use crate::bindings::verstak::sync::progress::{Host, Progress as WitProgress};
use crate::state::HostState;
use std::sync::{Arc, Mutex, PoisonError};

/// The latest progress of a running sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// `scan`, `pull`, `upload` or `push` (`Phase::as_str`).
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
    /// Bytes transferred so far in this run.
    pub bytes: u64,
}

/// A cheap, cloneable, thread-safe slot holding the latest [`Progress`].
#[derive(Debug, Clone, Default)]
pub struct ProgressHandle(Arc<Mutex<Option<Progress>>>);

impl ProgressHandle {
    /// The latest report, or `None` when no sync is running (or nothing was reported yet).
    pub fn latest(&self) -> Option<Progress> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set(&self, p: Progress) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(p);
    }

    /// Forgets the progress; call it when the sync call returns.
    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl Host for HostState {
    fn report(&mut self, p: WitProgress) {
        self.progress.set(Progress {
            phase: p.phase,
            done: p.done,
            total: p.total,
            bytes: p.bytes,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::testing::state_with;

    #[test]
    fn reports_are_visible_through_a_handle_on_another_thread() {
        let (_vault, mut state) = state_with(&[]);
        let handle = state.progress();
        assert_eq!(handle.latest(), None);
        state.report(WitProgress {
            phase: Phase::Upload,
            done: 3,
            total: 10,
            bytes: 4096,
        });
        let seen = std::thread::spawn(move || handle.latest()).join().unwrap();
        assert_eq!(
            seen,
            Some(Progress {
                phase: Phase::Upload,
                done: 3,
                total: 10,
                bytes: 4096
            })
        );
        state.report(WitProgress {
            phase: Phase::Push,
            done: 1,
            total: 1,
            bytes: 0,
        });
        assert_eq!(state.progress().latest().unwrap().phase, "push");
        state.progress().clear();
        assert_eq!(state.progress().latest(), None);
    }
}
