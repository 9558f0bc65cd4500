//! `restoreDeletions("outgoing")` (§5.4.5): drop the held local deletes by putting every
//! deleted file back from its last synced version (base store text, or a blob download).

use super::super::command::{Command, Expect};
use super::super::error::EngineError;
use super::super::payload::{Incoming, Source};
use super::super::saved::{LocalEntry, SyncedEntry};
use super::Run;
use super::materialize::Fail;

impl Run {
    pub(super) async fn restore_outgoing_deletes(&mut self) -> Result<(), EngineError> {
        let missing: Vec<_> = self
            .st
            .synced
            .iter()
            .filter(|(p, e)| !self.st.local.contains_key(*p) && !self.rules.ignores(p, e.is_dir()))
            .map(|(p, e)| (p.clone(), e.clone()))
            .collect();
        for (path, entry) in missing {
            let SyncedEntry::File { hash, text, size } = entry else {
                if self
                    .io
                    .done(|id| Command::Mkdir {
                        id,
                        path: path.clone(),
                    })
                    .await
                    .is_ok()
                {
                    self.st.local.insert(path, LocalEntry::dir());
                }
                continue;
            };
            let source = if text {
                match self.get_base(&hash).await {
                    Some(text) => Source::Inline(text.into_bytes()),
                    None => continue,
                }
            } else {
                Source::Blob {
                    hash: hash.clone(),
                    size,
                }
            };
            let inc = Incoming {
                path: None,
                hash: Some(hash.clone()),
                source,
                from_path: None,
                to_path: None,
                previous_path: None,
            };
            match self.materialize(&path, &inc, &hash, Expect::Absent).await {
                Ok(()) | Err(Fail::Changed) => {}
                Err(Fail::Err(e)) => return Err(e),
            }
        }
        self.save().await
    }
}
