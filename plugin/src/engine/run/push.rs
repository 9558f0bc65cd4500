//! Push (§4.9) with the outgoing guard (§5.4.5): derive the ops from the snapshot and the synced
//! tree, build payloads (text inline when §4.6 allows, else a blob staged, verified and uploaded
//! first), persist each batch with its idempotency key before sending it, halve on
//! `too_many_operations`, and fold `accepted` into the synced tree.

use std::collections::BTreeSet;

use verstak_sync_proto::limits::MAX_TEXT_BYTES;
use verstak_sync_proto::{
    BlobUploadResponse, EntityType, OpType, PushOp, PushRequest, PushResponse, codes, paths,
};

use super::super::batch::BatchSize;
use super::super::command::{Command, HttpBody, HttpRequest, Method};
use super::super::conflict::rfc3339;
use super::super::derive::{derive_state, reconcile};
use super::super::error::EngineError;
use super::super::guard::{self, Direction};
use super::super::hash::ContentHash;
use super::super::ids::derive_uuid;
use super::super::path::VaultPath;
use super::super::payload::{
    Incoming, Source, blob_payload, folder_payload, path_payload, text_payload,
};
use super::super::saved::{
    BatchEntry, Change, OpKind, PendingBatch, QueuedOp, SyncedEntry, Unechoed,
};
use super::super::summary::{Phase, Progress};
use super::Run;

impl Run {
    /// Resends the batch a crash or a lost response left behind, with the same key.
    pub(super) async fn resend_pending(&mut self) -> Result<(), EngineError> {
        let Some(batch) = self.st.pending.clone() else {
            return Ok(());
        };
        match self.send(batch).await {
            Ok(()) => Ok(()),
            Err(e @ EngineError::Server { status, .. })
                if (400..500).contains(&status) && ![401, 403, 408, 429].contains(&status) =>
            {
                // The server refuses this exact batch for good; its ops are derived again.
                self.st.pending = None;
                self.warn(format!("push: {e}"));
                self.save().await
            }
            Err(e) => Err(EngineError::Push(Box::new(e))),
        }
    }

    /// Turns the difference between the local snapshot and the synced tree into the op log
    /// (ids of ops still wanted are kept), so `unpushedOps` counts local changes from the scan
    /// on, even when the run fails before it gets to push.
    pub(super) fn queue_local_changes(&mut self) {
        let wanted = derive_state(&mut self.st, &self.rules);
        let mut next = self.st.next_client_seq;
        let fresh = reconcile(&self.st.oplog, wanted, &self.st.salt, &mut next);
        self.st.oplog.replace(fresh);
        self.st.next_client_seq = next;
    }

    pub(super) async fn push(&mut self) -> Result<(), EngineError> {
        self.queue_local_changes();

        let decision = self
            .st
            .guard_decision
            .filter(|d| d.direction == Direction::Outgoing);
        let deletes = self
            .st
            .oplog
            .iter()
            .filter(|q| q.change == Change::Delete { dir: false })
            .count() as u64;
        let files = self.st.synced.values().filter(|e| !e.is_dir()).count() as u64;
        let mut held = false;
        match decision {
            Some(d) if !d.confirm => {
                self.restore_outgoing_deletes().await?;
                return self.finish_guard_decision().await;
            }
            Some(_) => {}
            None => {
                if let Some(g) = guard::check(Direction::Outgoing, deletes, files) {
                    self.warn(format!("mass deletion awaiting confirmation: {deletes} local deletions of {files} files"));
                    self.st.guard = Some(g.clone());
                    self.sum.guard = Some(g);
                    held = true;
                }
            }
        }
        let queue: Vec<QueuedOp> = self
            .st
            .oplog
            .iter()
            .filter(|q| !(held && q.change.kind() == OpKind::Delete))
            .cloned()
            .collect();
        if held && queue.is_empty() {
            self.save().await?;
            return Err(EngineError::MassDeletionPending);
        }
        let mut size = BatchSize::new(self.cfg.batch_limit);
        let mut i = 0;
        while i < queue.len() {
            let end = (i + size.get()).min(queue.len());
            let mut entries = Vec::new();
            for q in &queue[i..end] {
                if let Some(wire) = self.wire_op(q).await? {
                    entries.push(BatchEntry {
                        op: q.clone(),
                        wire,
                    });
                }
            }
            if entries.is_empty() {
                i = end;
                continue;
            }
            // Reported once the batch's blobs are up, so the first uploads show as `upload`
            // (progress never goes back from `push`, see `Progress::after`).
            self.io.status(|s| {
                s.report(Progress {
                    phase: Phase::Push,
                    done: i as u64,
                    total: queue.len() as u64,
                })
            });
            let key = derive_uuid(&self.st.salt, "batch", self.st.next_batch);
            self.st.next_batch += 1;
            self.st.pending = Some(PendingBatch { key, entries });
            self.save().await?;
            let batch = self.st.pending.clone().expect("just set");
            match self.send(batch).await {
                Ok(()) => i = end,
                Err(e) if e.server_code() == Some(codes::TOO_MANY_OPERATIONS) => {
                    match size.halve(end - i) {
                        Some(smaller) => {
                            size = smaller;
                            self.st.pending = None;
                            self.save().await?;
                        }
                        None => return Err(EngineError::Push(Box::new(e))),
                    }
                }
                Err(e) => return Err(EngineError::Push(Box::new(e))),
            }
        }
        if decision.is_some() {
            self.finish_guard_decision().await?;
        }
        Ok(())
    }

    async fn finish_guard_decision(&mut self) -> Result<(), EngineError> {
        self.st.guard = None;
        self.st.guard_decision = None;
        self.save().await
    }

    /// Sends one persisted batch and folds the answer into the state.
    async fn send(&mut self, batch: PendingBatch) -> Result<(), EngineError> {
        let req = PushRequest {
            device_id: self.cfg.device_id.clone(),
            idempotency_key: batch.key.clone(),
            ops: batch.entries.iter().map(|e| e.wire.clone()).collect(),
        };
        let resp: PushResponse = self.post_json(paths::PUSH, &req).await?;
        let accepted: BTreeSet<&String> = resp.accepted_ids().iter().collect();
        // Every op of the batch leaves the log in one pass: an accepted one is in the synced
        // tree now, one not stored under its id (a colliding duplicate) is derived again with
        // a new id.
        let ids: Vec<String> = batch.entries.iter().map(|e| e.op.op_id.clone()).collect();
        for entry in batch.entries {
            if accepted.contains(&entry.op.op_id) {
                self.sum.pushed += 1;
                self.accept_entry(entry, true).await?;
            }
        }
        self.st
            .oplog
            .remove_ids(&ids.iter().map(String::as_str).collect());
        self.sum
            .conflicts
            .extend(resp.conflict_list().iter().cloned());
        self.st.pending = None;
        self.save().await
    }

    /// The server holds this op now: update the synced tree and the base store. The caller
    /// takes it out of the op log.
    pub(super) async fn accept_entry(
        &mut self,
        entry: BatchEntry,
        await_echo: bool,
    ) -> Result<(), EngineError> {
        let op = &entry.op;
        match &op.change {
            Change::File { hash, size, .. } => {
                let inc = Incoming::parse(&entry.wire.payload_json)
                    .map_err(|_| EngineError::InvalidResponse)?;
                let text = matches!(inc.source, Source::Inline(_));
                if let Source::Inline(bytes) = &inc.source {
                    self.put_base(hash, &String::from_utf8_lossy(bytes)).await?;
                }
                for a in op.path.ancestors() {
                    self.st.synced.insert_if_absent(a, SyncedEntry::dir);
                }
                self.st.synced.insert(
                    op.path.clone(),
                    SyncedEntry::File {
                        hash: hash.clone(),
                        text,
                        size: *size,
                    },
                );
            }
            Change::Folder => {
                self.st.synced.insert(op.path.clone(), SyncedEntry::dir());
            }
            Change::Delete { .. } => {
                self.st.synced.remove(&op.path);
            }
        }
        if await_echo {
            let u = Unechoed {
                path: op.path.clone(),
                kind: op.change.kind(),
                hash: op.change.hash().cloned(),
            };
            self.st.unechoed.insert(op.op_id.clone(), u);
        }
        Ok(())
    }

    /// The wire form of a queued op, or `None` when the file changed since the scan (the next
    /// scan picks the change up).
    async fn wire_op(&mut self, q: &QueuedOp) -> Result<Option<PushOp>, EngineError> {
        let path = q.path.as_str();
        let payload = match &q.change {
            Change::Delete { .. } => path_payload(path),
            Change::Folder => folder_payload(path),
            Change::File { hash, size, .. } => {
                let mut inline = None;
                if *size <= MAX_TEXT_BYTES {
                    let Ok(bytes) = self.io.read_all(&q.path, self.cfg.chunk_size).await else {
                        return Ok(None);
                    };
                    // Binary content goes as a blob, whose staged copy the host hashes: only
                    // inline text is hashed here, to prove it is what the scan saw.
                    inline = text_payload(path, hash, &bytes);
                    if inline.is_some() && ContentHash::of(&bytes) != *hash {
                        return Ok(None);
                    }
                }
                match inline {
                    Some(p) => p,
                    None => {
                        if !self.upload_blob(&q.path, hash, *size).await? {
                            return Ok(None);
                        }
                        blob_payload(path, hash, *size)
                    }
                }
            }
        };
        Ok(Some(PushOp {
            op_id: q.op_id.clone(),
            entity_type: if q.change.is_dir() {
                EntityType::Folder
            } else {
                EntityType::File
            },
            entity_id: q.path.to_string(),
            op_type: OpType::from(q.change.kind()),
            payload_json: payload,
            client_sequence: q.client_seq,
            last_seen_server_seq: self.st.cursor.0,
            created_at: rfc3339(self.io.now()),
        }))
    }

    /// Stages an immutable copy, checks its hash, uploads it (§4.8). `false` when the file changed.
    async fn upload_blob(
        &mut self,
        path: &VaultPath,
        hash: &ContentHash,
        size: u64,
    ) -> Result<bool, EngineError> {
        let stage = format!("up-{hash}");
        let staged = self.io.stage_copy(path, &stage).await;
        let ok = matches!(&staged, Ok((n, h)) if h == hash && *n == size);
        if ok {
            self.io.status(|s| {
                s.report(Progress {
                    phase: Phase::Upload,
                    done: 0,
                    total: size,
                })
            });
            let request = HttpRequest {
                method: Method::Post,
                path: paths::BLOBS.to_string(),
                headers: vec![],
                body: HttpBody::StagedFile {
                    stage: stage.clone(),
                    filename: hash.to_string(),
                },
            };
            let result = match self.http(request).await {
                Ok(resp) => match serde_json::from_slice::<BlobUploadResponse>(&resp.body) {
                    Ok(r) if r.sha256 == hash.as_str() && r.size == size as i64 => Ok(()),
                    _ => Err(EngineError::BlobUpload(Box::new(
                        EngineError::InvalidBlobUploadResponse,
                    ))),
                },
                Err(e) => Err(EngineError::BlobUpload(Box::new(e))),
            };
            if let Err(e) = result {
                self.warn(e.to_string());
                let _ = self.io.done(|id| Command::DeleteStage { id, stage }).await;
                return Err(e);
            }
        }
        let _ = self.io.done(|id| Command::DeleteStage { id, stage }).await;
        Ok(ok)
    }
}
