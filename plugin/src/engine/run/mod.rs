//! One action of the engine, written as an `async fn` over [`Io`] (see `io.rs`).
//!
//! [`run_action`] runs a pairing or settings action or the `Status` read (`pair.rs`), or a sync
//! run. A sync run first reads the pairing, the device token and the settings (`pair::paired`),
//! and at its end records what it learned about connectivity in the pairing document
//! (`pair::record`).
//!
//! A sync run (§5.4) goes: scan (of the whole vault, or for `sync-changed` only the hinted
//! paths: `scan_hint.rs`) → resend the pending batch (if a crash or lost response left
//! one) → retry the set-aside remote ops (`set_aside.rs`) → pull (with the incoming guard) → mark bootstrap complete → derive and push (with the
//! outgoing guard) → pull again. The state is checkpointed (`store.rs`: a journal record of
//! what changed, or a snapshot) after the scan, after every pull page, before and after every
//! push batch, and at the end. Every run ends with exactly one
//! `Command::Finished`.

mod apply;
mod apply_dir;
mod bulk_upload;
mod conflicts;
mod files;
mod history;
pub(crate) mod http;
mod lookahead;
mod materialize;
mod pair;
mod prefetch;
mod pull;
mod push;
mod replaced;
mod restore;
mod restore_version;
mod scan;
mod scan_hint;
mod set_aside;
mod store;

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::answer::Answer;
use super::command::{Command, Endpoint, HttpBody, HttpRequest, Method};
use super::config::Config;
use super::conflict::rfc3339;
use super::conflict_list::ConflictList;
use super::error::EngineError;
use super::event::Action;
use super::event::HttpResponse;
use super::guard::{self, Direction};
use super::ignore::Rules;
use super::io::Io;
use super::path::VaultPath;
use super::saved::{GuardDecision, SavedState};
use super::summary::{EngineStatus, Outcome, Summary};

pub(crate) struct Run {
    io: Io,
    cfg: Rc<Config>,
    /// The paired server and this device's token.
    server: Endpoint,
    rules: Rules,
    st: SavedState,
    sum: Summary,
    /// `restoreDeletions("incoming")` is in effect for this run.
    keep_incoming_deletes: bool,
    /// Deletes from other devices in the pages of this pull already fetched (path → highest
    /// sequence), so a create can clear a file or folder the server is replacing (`make_way`).
    upcoming_deletes: BTreeMap<VaultPath, i64>,
    /// How far the current pull may go (`pull.rs`), set by its first page.
    pull_bound: Option<pull::PullBound>,
    /// File versions in the pages of this pull already fetched (path → sequence and hash), so
    /// an incoming version that a later one replaces by the local content is not a conflict.
    upcoming_versions: BTreeMap<VaultPath, Vec<(i64, super::hash::ContentHash)>>,
    /// The stored conflict list (`conflicts.rs`), loaded when the run starts.
    conflicts: ConflictList,
    /// The replaced-files list (`replaced.rs`), read on the run's first replacement.
    replaced: Option<super::replaced_list::ReplacedList>,
    /// The server has no bulk upload route (`bulk_upload.rs`): upload one blob per request.
    no_bulk_upload: bool,
    /// Merge bases waiting to be written as one pack (`store.rs`).
    bases: store::PendingBases,
    /// Blobs fetched in batches ahead of their ops (`prefetch.rs`).
    prefetch: prefetch::Prefetch,
}

/// Fills the engine-owned status fields from the state.
pub(crate) fn fill_status(s: &mut EngineStatus, st: &SavedState) {
    s.unpushed_ops = st.unpushed_ops() as u64;
    s.last_sync_at = st.last_sync_at.clone();
    s.last_error = st.last_error.clone();
    s.last_warning = st.last_warning.clone();
    s.guard = st.guard.clone();
}

/// Runs `action` to its end and queues its one `Command::Finished`; gives the state back.
pub(crate) async fn run_action(
    io: Io,
    cfg: Rc<Config>,
    mut st: SavedState,
    action: Action,
) -> SavedState {
    io.begin();
    let finish = match action {
        Action::Sync
        | Action::SyncChanged(_)
        | Action::ConfirmDeletions(_)
        | Action::RestoreDeletions(_) => {
            let (back, outcome) = sync_action(&io, cfg, st, action).await;
            st = back;
            // A host permission refusal ends the run as that refusal, so the caller sees
            // `not_permitted` rather than the failure it caused.
            match (outcome, io.refusal()) {
                (Err(_), Some(refused)) => Err(refused),
                (outcome, _) => outcome.map(Answer::Summary),
            }
        }
        Action::History { path, limit } => history::versions(&io, &path, limit)
            .await
            .map(Answer::History),
        Action::Deleted { limit } => history::deleted(&io, limit).await.map(Answer::Deleted),
        Action::Restore { ref path, version } => {
            let path = path.clone();
            // A path or version that does not exist fails before the run, leaving no error in
            // the status.
            if let Err(e) = restore_version::precheck(&io, &path, version).await {
                io.finish(Command::Finished(Err(e)));
                return st;
            }
            let (back, outcome) = sync_action(&io, cfg, st, action).await;
            st = back;
            match (outcome, io.refusal()) {
                (Err(_), Some(refused)) => Err(refused),
                (outcome, _) => outcome.map(|s| restore_version::answer(path, version, s)),
            }
        }
        Action::Status => pair::status(&io).await.map(|s| Answer::Status(Box::new(s))),
        Action::DismissConflicts(ids) => conflicts::dismiss(&io, &ids)
            .await
            .map(|()| Answer::Summary(Summary::default())),
        _ => {
            let result = pair::pairing_action(&io, &cfg, &mut st, action).await;
            let st = &st;
            io.status(|s| fill_status(s, st));
            result.map(|()| Answer::Summary(Summary::default()))
        }
    };
    io.finish(Command::Finished(finish));
    st
}

/// One sync run (§5.4) for a paired vault, from reading the pairing to recording what the run
/// learned about the server.
async fn sync_action(
    io: &Io,
    cfg: Rc<Config>,
    st: SavedState,
    action: Action,
) -> (SavedState, Outcome) {
    let (pairing, server, settings, conflicts) = match prologue(io).await {
        Ok(found) => found,
        Err(e) => return (st, Err(e)),
    };
    let mut cfg = Config::clone(&cfg);
    cfg.device_id = pairing.device_id.clone();
    if !pairing.device_name.is_empty() {
        cfg.device_name = pairing.device_name.clone();
    }
    let rules = match &settings.ignore {
        Some(list) => Rules::new(list.iter().cloned()),
        None => Rules::default(),
    };
    io.status(|s| {
        s.syncing = true;
        s.progress = None;
    });
    let mut run = Run {
        io: io.clone(),
        cfg: Rc::new(cfg),
        server,
        rules,
        st,
        sum: Summary::default(),
        keep_incoming_deletes: false,
        upcoming_deletes: BTreeMap::new(),
        pull_bound: None,
        upcoming_versions: BTreeMap::new(),
        conflicts,
        replaced: None,
        no_bulk_upload: false,
        bases: store::PendingBases::default(),
        prefetch: prefetch::Prefetch::default(),
    };
    let mut result = run.sync(action).await;
    if result.is_ok() {
        result = run.prune_conflicts().await;
    }
    let now = io.now();
    match &result {
        Ok(()) => {
            run.st.last_sync_at = rfc3339(now);
            run.st.last_error.clear();
            // The held deletes were decided (or went away): their warning goes too.
            if guard::is_stale_warning(&run.st.last_warning, run.st.guard.as_ref()) {
                run.st.last_warning.clear();
            }
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
    let outcome = match pair::record(io, pairing).await {
        Ok(()) => outcome,
        Err(e) => Err(e),
    };
    (st, outcome)
}

/// What a run needs before it starts: the pairing, the server, the settings (ignore list) and
/// the conflict list.
async fn prologue(
    io: &Io,
) -> Result<
    (
        super::account::Pairing,
        Endpoint,
        super::settings::Settings,
        ConflictList,
    ),
    EngineError,
> {
    let (pairing, server) = pair::paired(io).await?;
    let settings = pair::load_settings(io).await?;
    let conflicts = conflicts::load(io).await?;
    Ok((pairing, server, settings, conflicts))
}

impl Run {
    async fn sync(&mut self, action: Action) -> Result<(), EngineError> {
        if self.cfg.device_id.is_empty() {
            return Err(EngineError::NotConfigured);
        }
        if self.st.salt.is_empty() {
            self.st.salt = hex::encode(self.cfg.entropy);
        }
        let mut hint = None;
        match action {
            Action::Sync => {}
            Action::SyncChanged(paths) => hint = Some(paths),
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
            Action::Restore { path, version } => self.restore_version(&path, version).await?,
            _ => unreachable!("run_action runs the other actions itself"),
        }
        // `sync-changed` scans only the hinted paths when the hint is usable (`scan_hint.rs`).
        match hint.and_then(|paths| self.hint_scope(&paths)) {
            Some(paths) => self.scan_paths(paths).await?,
            None => self.scan().await?,
        }
        if self.st.pending.is_none() {
            // With a batch in flight its ops are not in the synced tree yet; push derives later.
            self.queue_local_changes();
        }
        self.save().await?;
        self.resend_pending().await?;
        self.retry_set_aside().await?;
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

impl Run {
    /// Sends a request to the paired server (see [`http::send`]).
    pub(super) async fn http(&mut self, request: HttpRequest) -> Result<HttpResponse, EngineError> {
        http::send(&self.io, &self.server, &request).await
    }

    /// POST a JSON body and decode a JSON answer.
    pub(super) async fn post_json<Q: Serialize, A: DeserializeOwned>(
        &mut self,
        path: &str,
        body: &Q,
    ) -> Result<A, EngineError> {
        let request = HttpRequest {
            method: Method::Post,
            path: path.to_string(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: HttpBody::Json(serde_json::to_string(body).expect("plain request")),
        };
        let resp = self.http(request).await?;
        serde_json::from_slice(&resp.body).map_err(|_| EngineError::InvalidResponse)
    }
}
