//! Pulled ops that cannot be applied locally never stall the vault (issue 14 item 2, §4.2):
//! a name the file system refuses (too long, invalid on this OS, an unresolvable case
//! collision), a permission denied, or a name with control or bidi characters (refused before
//! any write) sets the op aside in `SavedState::set_aside` with a warning naming the path; the
//! cursor moves on. `Run::sync` calls [`Run::retry_set_aside`] before each run's pull, since
//! the condition may have changed; `apply.rs` calls [`Run::set_aside`].

use verstak_sync_proto::PulledOp;

use super::super::error::EngineError;
use super::super::event::IoError;
use super::super::path::unsafe_name;
use super::super::payload::Incoming;
use super::super::saved::SetAside;
use super::Run;

/// How the warning starts (it names the path next).
const WARNING: &str = "set aside remote change to";

impl Run {
    /// The reason to refuse `op` before writing anything, when one of its paths is unsafe.
    pub(super) fn unsafe_op(op: &PulledOp) -> Option<&'static str> {
        let inc = Incoming::parse(&op.payload_json).ok();
        let paths = inc.iter().flat_map(|i| {
            [&i.path, &i.from_path, &i.to_path, &i.previous_path]
                .into_iter()
                .flatten()
        });
        let mut all = std::iter::once(&op.entity_id).chain(paths);
        all.any(|p| unsafe_name(p))
            .then_some("the name holds control or bidirectional-override characters")
    }

    /// Whether a failed apply is about this op's local target (set it aside) rather than the
    /// run (stop): a local file-system refusal that is not the host's permission refusal.
    /// A file that vanished or changed under the apply is not such a refusal: the run stops as
    /// before and the next one rescans.
    pub(super) fn can_set_aside(&self, e: &EngineError) -> bool {
        let passing = [IoError::NotFound, IoError::Changed, IoError::NotEmpty];
        matches!(e, EngineError::LocalIo(m) if !passing.iter().any(|p| p.to_string() == *m))
            && self.io.refusal().is_none()
    }

    /// After `op` was applied: set-aside ops for the same path that are older are superseded
    /// (retrying them later would apply them out of order).
    pub(super) fn supersede_set_aside(&mut self, op: &PulledOp) {
        if self.st.set_aside.is_empty() {
            return;
        }
        let target = |o: &PulledOp| {
            Incoming::parse(&o.payload_json)
                .ok()
                .and_then(|i| i.path)
                .unwrap_or_else(|| o.entity_id.clone())
        };
        let path = target(op);
        self.st
            .set_aside
            .retain(|s| s.op.server_sequence >= op.server_sequence || target(&s.op) != path);
    }

    /// Records `op` as set aside (once) with a warning that names its path.
    pub(super) fn set_aside(&mut self, op: &PulledOp, reason: String) {
        self.warn(format!(
            "{WARNING} {:?} ({reason}); it is retried on every sync",
            op.entity_id
        ));
        self.sum.skipped += 1;
        let entry = SetAside {
            op: op.clone(),
            reason,
        };
        match self
            .st
            .set_aside
            .iter_mut()
            .find(|s| s.op.op_id == op.op_id)
        {
            Some(old) => *old = entry,
            None => {
                self.st.set_aside.push(entry);
                self.st.set_aside.sort_by_key(|s| s.op.server_sequence);
            }
        }
    }

    /// Tries every set-aside op again, in server order; those that still fail stay aside.
    pub(super) async fn retry_set_aside(&mut self) -> Result<(), EngineError> {
        if self.st.set_aside.is_empty() {
            return Ok(());
        }
        let ops: Vec<PulledOp> = self.st.set_aside.iter().map(|s| s.op.clone()).collect();
        for op in ops {
            // `apply_pulled` puts it back when it fails again.
            self.st.set_aside.retain(|s| s.op.op_id != op.op_id);
            self.apply_pulled(&op).await?;
        }
        if self.st.set_aside.is_empty() && self.st.last_warning.starts_with(WARNING) {
            self.st.last_warning.clear();
        }
        self.save().await
    }
}
