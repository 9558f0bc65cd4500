//! The bridge between the run (an `async fn`) and the command/event queue.
//!
//! `await` inside the engine never waits for real IO: [`Io::call`] queues a `Command` and
//! returns `Pending` until `Engine::handle` stores the matching reply and polls the run again.
//! There is no executor, no thread and no waker: the engine polls the one run future with a
//! no-op waker after every event. This keeps the run readable top to bottom while the public
//! API stays a plain `handle`/`poll_command` state machine.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::codes::HostCode;
use super::command::Command;
use super::error::EngineError;
use super::event::{IoError, Reply};
use super::ids::{Millis, RequestId};
use super::summary::EngineStatus;

#[derive(Default)]
pub(crate) struct Shared {
    next_id: u64,
    pub(crate) outbox: VecDeque<Command>,
    pub(crate) waiting: Option<RequestId>,
    reply: Option<Result<Reply, IoError>>,
    pub(crate) wake_at: Option<Millis>,
    woke: bool,
    pub(crate) now: Millis,
    pub(crate) status: EngineStatus,
    /// The first permission refusal of the host during the current action.
    refusal: Option<EngineError>,
    /// Where the stored state stands (snapshot and journal, `journal.rs`).
    pub(crate) journal: super::journal::Journal,
}

/// A cheap handle to the shared queue, owned by the run and by the engine. It also counts the
/// bytes the commands move (`EngineStatus::bytes`) and the host's first permission refusal.
#[derive(Clone, Default)]
pub(crate) struct Io(pub(crate) Rc<RefCell<Shared>>);

impl Io {
    /// Queues the command built by `make` and waits for its answer.
    pub(crate) async fn call(
        &self,
        make: impl FnOnce(RequestId) -> Command,
    ) -> Result<Reply, IoError> {
        {
            let mut s = self.0.borrow_mut();
            s.next_id += 1;
            let id = RequestId(s.next_id);
            let cmd = make(id);
            if let Command::WriteFile { bytes, .. } = &cmd {
                s.status.bytes += bytes.len() as u64;
            }
            s.outbox.push_back(cmd);
            s.waiting = Some(id);
            s.reply = None;
        }
        WaitReply(self.clone()).await
    }

    /// Waits until the glue reports `Event::Timeout` at or after `until`.
    pub(crate) async fn sleep_until(&self, until: Millis) {
        {
            let mut s = self.0.borrow_mut();
            s.wake_at = Some(until);
            s.woke = false;
        }
        WaitTimer(self.clone()).await
    }

    pub(crate) fn now(&self) -> Millis {
        self.0.borrow().now
    }

    pub(crate) fn status(&self, f: impl FnOnce(&mut EngineStatus)) {
        f(&mut self.0.borrow_mut().status)
    }

    /// The engine's part of the status as it is now.
    pub(crate) fn engine_status(&self) -> EngineStatus {
        self.0.borrow().status.clone()
    }

    /// Starts an action: forgets the refusals and the server answers of the last one. What the
    /// last answers meant is already in the stored pairing document (a sync records it), and a
    /// resident engine must not carry them past a reset key, a disconnect or a new pairing.
    pub(crate) fn begin(&self) {
        let mut s = self.0.borrow_mut();
        s.refusal = None;
        s.status.bytes = 0;
        s.status.connected = None;
        s.status.revoked = false;
    }

    /// The first `not_permitted` answer of the host during this action, as an error.
    pub(crate) fn refusal(&self) -> Option<EngineError> {
        self.0.borrow().refusal.clone()
    }

    pub(crate) fn finish(&self, cmd: Command) {
        self.0.borrow_mut().outbox.push_back(cmd);
    }

    /// Stores the reply if the run waits for `id`; returns whether it did.
    pub(crate) fn deliver(&self, id: RequestId, result: Result<Reply, IoError>) -> bool {
        let mut s = self.0.borrow_mut();
        if s.waiting == Some(id) {
            s.waiting = None;
            s.status.bytes += match &result {
                Ok(Reply::Bytes(b)) => b.len() as u64,
                Ok(Reply::Digest(d)) => d.size,
                Ok(Reply::Staged { size, .. }) => *size,
                Ok(Reply::Http(r)) => r.body.len() as u64,
                _ => 0,
            };
            if let Err(IoError::Host { code, message }) = &result
                && *code == HostCode::NotPermitted
                && s.refusal.is_none()
            {
                s.refusal = Some(EngineError::Host {
                    code: *code,
                    message: message.clone(),
                });
            }
            s.reply = Some(result);
            true
        } else {
            false
        }
    }

    /// Fires the timer when it is due; returns whether it did.
    pub(crate) fn fire_timer(&self, now: Millis) -> bool {
        let mut s = self.0.borrow_mut();
        match s.wake_at {
            Some(t) if t <= now => {
                s.wake_at = None;
                s.woke = true;
                true
            }
            _ => false,
        }
    }
}

struct WaitReply(Io);

impl Future for WaitReply {
    type Output = Result<Reply, IoError>;
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.0.borrow_mut().reply.take() {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }
}

struct WaitTimer(Io);

impl Future for WaitTimer {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.0.0.borrow_mut();
        if s.woke {
            s.woke = false;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
