//! `Answer`: what a finished action gives back in `Command::Finished`, by export: a sync run
//! its `Summary`, `Action::Status` the status snapshot, every other action the empty summary.

use super::error::EngineError;
use super::status::Status;
use super::summary::Summary;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Summary(Summary),
    Status(Box<Status>),
}

/// How an action ended.
pub type Finish = Result<Answer, EngineError>;

impl Answer {
    /// The summary of a sync run (empty for the other actions).
    pub fn summary(self) -> Summary {
        match self {
            Answer::Summary(s) => s,
            Answer::Status(_) => Summary::default(),
        }
    }

    /// The snapshot of `Action::Status` (the empty status for the other actions).
    pub fn status(self) -> Status {
        match self {
            Answer::Status(s) => *s,
            Answer::Summary(_) => Status::default(),
        }
    }
}
