//! `Engine`: the public state machine. See the module doc of `engine` for the driving loop.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

pub use super::config::Config;

use super::command::Command;
use super::error::EngineError;
use super::event::{Action, Event};
use super::ids::Millis;
use super::io::Io;
use super::run;
use super::saved::SavedState;
use super::summary::EngineStatus;

type RunFuture = Pin<Box<dyn Future<Output = SavedState>>>;

/// The sync engine for one vault.
pub struct Engine {
    cfg: Rc<Config>,
    io: Io,
    /// The state while idle; moved into the run while one is active.
    state: Option<SavedState>,
    run: Option<RunFuture>,
    queue: VecDeque<Action>,
    last_now: Millis,
}

impl Engine {
    /// Creates the engine from the stored state: the snapshot ([`super::journal::STATE_KEY`])
    /// and the journal ([`super::journal::JOURNAL_KEY`]) documents, each if it exists.
    pub fn new(
        cfg: Config,
        snapshot: Option<&str>,
        journal: Option<&str>,
    ) -> Result<Engine, EngineError> {
        let (state, stored) = super::journal::load(snapshot, journal)
            .map_err(|e| EngineError::SaveState(e.to_string()))?;
        let io = Io::default();
        io.0.borrow_mut().journal = stored;
        io.status(|s| run::fill_status(s, &state));
        Ok(Engine {
            cfg: Rc::new(cfg),
            io,
            state: Some(state),
            run: None,
            queue: VecDeque::new(),
            last_now: Millis(0),
        })
    }

    /// The only mutator. Drain [`Engine::poll_command`] after every call.
    pub fn handle(&mut self, now: Millis, event: Event) {
        self.last_now = self.last_now.max(now);
        self.io.0.borrow_mut().now = self.last_now;
        match event {
            Event::Start(action) => self.queue.push_back(action),
            Event::Reply { id, result } => {
                if !self.io.deliver(id, result) {
                    return;
                }
            }
            Event::Timeout => {
                if !self.io.fire_timer(self.last_now) {
                    return;
                }
            }
        }
        self.drive();
    }

    /// The next command to execute, in order. `Command::Finished` ends an action.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.io.0.borrow_mut().outbox.pop_front()
    }

    /// When to send `Event::Timeout` next, if the engine is sleeping (a retry back-off).
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.io.0.borrow().wake_at
    }

    /// The engine's part of the status (§3.2, §3.13), from memory only.
    pub fn status(&self) -> EngineStatus {
        self.io.0.borrow().status.clone()
    }

    /// The state, when no action is running.
    pub fn state(&self) -> Option<&SavedState> {
        self.state.as_ref()
    }

    /// Replaces the configuration (device name, UTC offset, entropy) of an engine kept between
    /// calls; takes effect with the next action.
    pub fn reconfigure(&mut self, cfg: Config) {
        self.cfg = Rc::new(cfg);
    }

    /// Whether `action` may change the engine state (the snapshot and journal documents).
    /// Only these need the vault lock and tell other processes to reload (`glue/driver.rs`);
    /// the others read it, or write only documents every run reads afresh (settings, conflict
    /// list). An action not listed here counts as changing it.
    pub fn changes_state(action: &Action) -> bool {
        !matches!(
            action,
            Action::Status
                | Action::TestConnection(_)
                | Action::SetInterval(_)
                | Action::SetIgnore(_)
                | Action::DismissConflicts(_)
        )
    }

    fn drive(&mut self) {
        loop {
            if self.run.is_none() {
                let Some(action) = self.queue.pop_front() else {
                    return;
                };
                let state = self.state.take().expect("the state is home while idle");
                self.run = Some(Box::pin(run::run_action(
                    self.io.clone(),
                    self.cfg.clone(),
                    state,
                    action,
                )));
            }
            let fut = self.run.as_mut().expect("just set");
            match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(state) => {
                    self.state = Some(state);
                    self.run = None;
                }
                Poll::Pending => return,
            }
        }
    }
}
