//! One action of the engine, written as an `async fn` over [`Io`] (see `io.rs`).
//!
//! A sync run (§5.4) goes: scan → resend the pending batch (if a crash or lost response left
//! one) → pull (with the incoming guard) → mark bootstrap complete → derive and push (with the
//! outgoing guard) → pull again. The state is saved after the scan, after every pull page,
//! before and after every push batch, and at the end. Every run ends with exactly one
//! `Command::Finished`.

mod apply;
mod apply_dir;
mod files;
pub(crate) mod http;
mod materialize;
mod pull;
mod push;
mod restore;
mod scan;
mod store;

use std::collections::BTreeMap;
use std::rc::Rc;

use super::command::Command;
use super::conflict::rfc3339;
use super::error::EngineError;
use super::event::Action;
use super::guard::Direction;
use super::ignore::Rules;
use super::io::Io;
use super::machine::Config;
use super::path::VaultPath;
use super::saved::{GuardDecision, SavedState};
use super::summary::{EngineStatus, Summary};

pub(crate) struct Run {
    io: Io,
    cfg: Rc<Config>,
    rules: Rules,
    st: SavedState,
    sum: Summary,
    /// `restoreDeletions("incoming")` is in effect for this run.
    keep_incoming_deletes: bool,
    /// Deletes from other devices in the pages of this pull already fetched (path → highest
    /// sequence), so a create can clear a file or folder the server is replacing (`make_way`).
    upcoming_deletes: BTreeMap<VaultPath, i64>,
}

/// Fills the engine-owned status fields from the state.
pub(crate) fn fill_status(s: &mut EngineStatus, st: &SavedState) {
    s.unpushed_ops = st.unpushed_ops() as u64;
    s.last_sync_at = st.last_sync_at.clone();
    s.last_error = st.last_error.clone();
    s.last_warning = st.last_warning.clone();
    s.guard = st.guard.clone();
}

pub(crate) async fn run_action(
    io: Io,
    cfg: Rc<Config>,
    st: SavedState,
    action: Action,
) -> SavedState {
    let rules = match &cfg.ignore {
        Some(list) => Rules::new(list.iter().cloned()),
        None => Rules::default(),
    };
    io.status(|s| {
        s.syncing = true;
        s.progress = None;
    });
    let mut run = Run {
        io: io.clone(),
        cfg,
        rules,
        st,
        sum: Summary::default(),
        keep_incoming_deletes: false,
        upcoming_deletes: BTreeMap::new(),
    };
    let result = run.sync(action).await;
    let now = io.now();
    match &result {
        Ok(()) => {
            run.st.last_sync_at = rfc3339(now);
            run.st.last_error.clear();
        }
        Err(e) => run.st.last_error = e.to_string(),
    }
    let saved = run.save().await;
    if saved.is_ok() && result.is_ok() {
        run.gc_bases().await;
    }
    let outcome = match (result, saved) {
        (Ok(()), Err(e)) => Err(e),
        (Ok(()), Ok(())) => Ok(run.sum.clone()),
        (Err(e), _) => Err(e),
    };
    let st = run.st;
    io.status(|s| {
        fill_status(s, &st);
        s.syncing = false;
        s.progress = None;
    });
    io.finish(Command::Finished(outcome));
    st
}

impl Run {
    async fn sync(&mut self, action: Action) -> Result<(), EngineError> {
        if self.cfg.device_id.is_empty() {
            return Err(EngineError::NotConfigured);
        }
        if self.st.salt.is_empty() {
            self.st.salt = hex::encode(self.cfg.entropy);
        }
        match action {
            Action::Sync => {}
            Action::ConfirmDeletions(direction) => {
                self.st.guard_decision = Some(GuardDecision {
                    direction,
                    confirm: true,
                });
            }
            Action::RestoreDeletions(direction) => {
                self.st.guard_decision = Some(GuardDecision {
                    direction,
                    confirm: false,
                });
            }
        }
        self.scan().await?;
        if self.st.pending.is_none() {
            // With a batch in flight its ops are not in the synced tree yet; push derives later.
            self.queue_local_changes();
        }
        self.save().await?;
        self.resend_pending().await?;
        let decision = self
            .st
            .guard_decision
            .filter(|d| d.direction == Direction::Incoming);
        self.keep_incoming_deletes = decision.is_some_and(|d| !d.confirm);
        let pulled = self.pull(decision.is_none()).await?;
        if !pulled {
            // The incoming guard holds this run; nothing else may happen before the user decides.
            return Ok(());
        }
        if decision.is_some() {
            self.st.guard_decision = None;
            self.st.guard = None;
            self.keep_incoming_deletes = false;
        }
        self.st.bootstrap_complete = true;
        self.save().await?;
        self.push().await?;
        self.pull(false).await?;
        Ok(())
    }

    fn warn(&mut self, text: String) {
        self.st.last_warning = text;
    }
}
