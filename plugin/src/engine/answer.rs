//! `Answer`: what a finished action gives back in `Command::Finished`, by export: a sync run
//! its `Summary`, `Action::Status` the status snapshot, every other action the empty summary.

use super::error::EngineError;
use super::history::{DeletedFile, Restored, Version};
use super::status::Status;
use super::summary::Summary;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Summary(Summary),
    Status(Box<Status>),
    History(Vec<Version>),
    Deleted(Vec<DeletedFile>),
    Restored(Box<Restored>),
}

/// How an action ended.
pub type Finish = Result<Answer, EngineError>;

impl Answer {
    /// The summary of a sync run (empty for the other actions).
    pub fn summary(self) -> Summary {
        match self {
            Answer::Summary(s) => s,
            Answer::Restored(r) => r.summary,
            _ => Summary::default(),
        }
    }

    /// The snapshot of `Action::Status` (the empty status for the other actions).
    pub fn status(self) -> Status {
        match self {
            Answer::Status(s) => *s,
            _ => Status::default(),
        }
    }

    /// The versions of `Action::History` (empty for the other actions).
    pub fn history(self) -> Vec<Version> {
        match self {
            Answer::History(v) => v,
            _ => Vec::new(),
        }
    }

    /// The files of `Action::Deleted` (empty for the other actions).
    pub fn deleted(self) -> Vec<DeletedFile> {
        match self {
            Answer::Deleted(v) => v,
            _ => Vec::new(),
        }
    }

    /// What `Action::Restore` did (the default for the other actions).
    pub fn restored(self) -> Restored {
        match self {
            Answer::Restored(r) => *r,
            _ => Restored::default(),
        }
    }
}
