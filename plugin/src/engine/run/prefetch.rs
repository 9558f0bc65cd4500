//! Prefetching a pulled page's small blobs in batches (`POST /api/v1/blob-batch`, the server's
//! addition: `docs/api-extensions.md`), so applying the page does not wait for one download
//! request per binary.
//!
//! Before a page is applied, `pull.rs` calls [`Run::prefetch_blobs`]: [`wanted`] picks the
//! blobs the page's file ops will likely write (another device's create or update whose
//! payload is a blob of at most [`MAX_PREFETCH_BLOB`] bytes, not ignored, and not already the
//! local file's content); [`batches`] packs them within the route's caps and tops the last
//! batch up with the blobs of the window's later pages (noted as each page was fetched, held
//! in memory or set aside: [`Run::note_upcoming_blobs`]). Each answer is checked frame by frame
//! (the hash named, the size and the SHA-256, as `materialize.rs` checks a download) and each
//! blob written to the staging file a download uses (`dl-<hash>`). Only what passed that check
//! in this run is in [`Prefetch::ready`]; `materialize` takes a blob from there instead of
//! downloading it ([`Run::take_prefetched`]), and a stage from an earlier run is never
//! trusted. At the end of a pull the stages nobody took are deleted
//! ([`Run::drop_prefetched`]).
//!
//! Nothing here fails a run: a blob the answer marks unavailable or that does not verify, a
//! failed batch, or a staging write that fails just leaves the blob to the single download,
//! which then fails (or not) exactly as it does without a prefetch. A server without the
//! route (404 or 405: the reference server) is remembered for the run, and every blob is
//! downloaded singly, as before. What ends up on disk and in the state does not change; only
//! the number of requests does.

use std::collections::{BTreeSet, VecDeque};

use verstak_sync_proto::blob_batch::{BlobBatchRequest, MAX_BLOBS, MAX_BYTES, parse_frames};
use verstak_sync_proto::{EntityType, OpType, PulledOp, paths};

use super::super::command::{Command, HttpBody, HttpRequest, Method};
use super::super::error::EngineError;
use super::super::hash::ContentHash;
use super::super::path::VaultPath;
use super::super::payload::{Incoming, Source};
use super::Run;

/// Blobs up to this size are prefetched; larger ones keep the ranged single download.
pub(crate) const MAX_PREFETCH_BLOB: u64 = 1024 * 1024;

/// At most this many later candidates are looked at to top a batch up, so a window whose
/// later blobs are mostly here already is not walked again for every page.
const TOP_UP_SCAN: usize = 2 * MAX_BLOBS;

/// What one run knows about prefetching.
#[derive(Debug, Default)]
pub(crate) struct Prefetch {
    /// The server has no batch route: download every blob singly for the rest of the run.
    unsupported: bool,
    /// Blobs whose staging file `dl-<hash>` this run wrote and verified, not yet taken.
    ready: BTreeSet<ContentHash>,
    /// The blob versions of the pages this pull fetched and has not applied yet (the whole
    /// look-ahead window, held in memory or set aside), in sequence order: what tops a batch up.
    upcoming: VecDeque<Candidate>,
}

/// A blob to prefetch, as a payload declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Want {
    pub hash: ContentHash,
    pub size: u64,
}

/// A pulled op that would write a small blob: where, and the content it brings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    seq: i64,
    path: VaultPath,
    content: ContentHash,
    want: Want,
}

/// The blob `op` would write, when it is another device's file create or update whose payload
/// is a blob of at most [`MAX_PREFETCH_BLOB`] bytes.
fn candidate(op: &PulledOp, own_device: &str) -> Option<Candidate> {
    if op.device_id == own_device
        || op.entity_type != EntityType::File
        || !matches!(op.op_type, OpType::Create | OpType::Update)
    {
        return None;
    }
    let inc = Incoming::parse(&op.payload_json).ok()?;
    let Source::Blob { hash, size } = inc.source else {
        return None;
    };
    (size <= MAX_PREFETCH_BLOB).then_some(Candidate {
        seq: op.server_sequence,
        path: VaultPath::parse(&op.entity_id).ok()?,
        content: inc.hash.unwrap_or_else(|| hash.clone()),
        want: Want { hash, size },
    })
}

/// The blobs of `candidates` worth prefetching, in order, each once and none in `skip`: those
/// at a path `keep` accepts (a path and the incoming content hash: false when the path is
/// ignored or the local file already has that content).
pub(crate) fn wanted<'a, I>(
    candidates: I,
    skip: &'a mut BTreeSet<ContentHash>,
    keep: impl Fn(&VaultPath, &ContentHash) -> bool + 'a,
) -> impl Iterator<Item = Want> + 'a
where
    I: IntoIterator<Item = &'a Candidate>,
    I::IntoIter: 'a,
{
    candidates
        .into_iter()
        .filter(move |c| keep(&c.path, &c.content) && skip.insert(c.want.hash.clone()))
        .map(|c| c.want.clone())
}

/// `now` packed into batches of at most [`MAX_BLOBS`] blobs and [`MAX_BYTES`] bytes, in order;
/// the last batch is topped up with the blobs of `later` until the next one does not fit. No
/// batch when `now` is empty.
pub(crate) fn batches(now: Vec<Want>, later: impl IntoIterator<Item = Want>) -> Vec<Vec<Want>> {
    let fits = |b: &[Want], w: &Want| {
        b.len() < MAX_BLOBS && b.iter().map(|w| w.size).sum::<u64>() + w.size <= MAX_BYTES
    };
    let mut out: Vec<Vec<Want>> = Vec::new();
    for w in now {
        match out.last_mut() {
            Some(b) if fits(b, &w) => b.push(w),
            _ => out.push(vec![w]),
        }
    }
    if let Some(last) = out.last_mut() {
        for w in later {
            if !fits(last, &w) {
                break;
            }
            last.push(w);
        }
    }
    out
}

/// The staging file a blob is downloaded to (also by `materialize.rs`).
pub(super) fn stage_name(hash: &ContentHash) -> String {
    format!("dl-{hash}")
}

impl Run {
    /// Remembers the small blobs `ops` (pulled, not applied yet) would write, to top batches
    /// up with (`Run::note_upcoming`).
    pub(super) fn note_upcoming_blobs(&mut self, ops: &[PulledOp]) {
        let own = self.cfg.device_id.as_str();
        let found = ops.iter().filter_map(|op| candidate(op, own));
        self.prefetch.upcoming.extend(found);
    }

    /// Forgets the blobs earlier pages said were coming.
    pub(super) fn clear_upcoming_blobs(&mut self) {
        self.prefetch.upcoming.clear();
    }

    /// Prefetches the small blobs `page` will likely write, topping the last batch up with
    /// the blobs of the pages after it ([`Prefetch::upcoming`]). Never fails: what is not
    /// prefetched is downloaded singly when its op is applied.
    pub(super) async fn prefetch_blobs(&mut self, page: &[PulledOp]) {
        let last = page.iter().map(|op| op.server_sequence).max().unwrap_or(0);
        while self
            .prefetch
            .upcoming
            .front()
            .is_some_and(|c| c.seq <= last)
        {
            self.prefetch.upcoming.pop_front();
        }
        if self.prefetch.unsupported {
            return;
        }
        let own = self.cfg.device_id.as_str();
        let here: Vec<Candidate> = page.iter().filter_map(|op| candidate(op, own)).collect();
        let mut skip = self.prefetch.ready.clone();
        let (local, rules) = (&self.st.local, &self.rules);
        let keep = |p: &VaultPath, h: &ContentHash| {
            !rules.ignores(p, false) && local.get(p).and_then(|e| e.hash()) != Some(h)
        };
        let now: Vec<Want> = wanted(&here, &mut skip, keep).collect();
        if now.is_empty() {
            return;
        }
        let upcoming = self.prefetch.upcoming.iter().take(TOP_UP_SCAN);
        let later = wanted(upcoming, &mut skip, keep);
        for batch in batches(now, later) {
            self.fetch_batch(&batch).await;
            if self.prefetch.unsupported {
                return;
            }
        }
    }

    /// One batch request; each blob that verifies goes to its staging file and into `ready`.
    async fn fetch_batch(&mut self, batch: &[Want]) {
        let body = BlobBatchRequest {
            sha256: batch.iter().map(|w| w.hash.to_string()).collect(),
        };
        let request = HttpRequest {
            method: Method::Post,
            path: paths::BLOB_BATCH.to_string(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: HttpBody::Json(serde_json::to_string(&body).expect("plain request")),
        };
        let resp = match self.http(request).await {
            Ok(resp) => resp,
            Err(EngineError::Server {
                status: 404 | 405, ..
            })
            | Err(EngineError::NotSyncServer(404 | 405)) => {
                self.prefetch.unsupported = true;
                return;
            }
            // Left to the single downloads, which report any lasting failure themselves.
            Err(_) => return,
        };
        let Ok(frames) = parse_frames(&resp.body) else {
            return;
        };
        for (want, frame) in batch.iter().zip(frames) {
            if frame.sha256 != want.hash {
                // Out of step with the request: trust nothing after this.
                return;
            }
            let Some(bytes) = frame.bytes else {
                continue;
            };
            if bytes.len() as u64 != want.size || ContentHash::of(bytes) != want.hash {
                continue;
            }
            let (stage, bytes) = (stage_name(&want.hash), bytes.to_vec());
            let written = self
                .io
                .done(|id| Command::StageWrite {
                    id,
                    stage,
                    offset: 0,
                    bytes,
                })
                .await;
            if written.is_ok() {
                self.prefetch.ready.insert(want.hash.clone());
            }
        }
    }

    /// Whether `hash` was prefetched and verified in this run; it is taken (its staging file
    /// is about to be moved into place), so a second use downloads again.
    pub(super) fn take_prefetched(&mut self, hash: &ContentHash) -> bool {
        self.prefetch.ready.remove(hash)
    }

    /// Deletes the staging files of prefetched blobs no op took (best effort).
    pub(super) async fn drop_prefetched(&mut self) {
        for hash in std::mem::take(&mut self.prefetch.ready) {
            let stage = stage_name(&hash);
            let _ = self.io.done(|id| Command::DeleteStage { id, stage }).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(seq: i64, device: &str, op_type: &str, path: &str, payload: String) -> PulledOp {
        PulledOp {
            op_id: format!("o{seq}"),
            server_sequence: seq,
            device_id: device.into(),
            entity_type: "file".into(),
            entity_id: path.into(),
            op_type: op_type.into(),
            payload_json: payload,
            created_at: String::new(),
        }
    }

    fn blob(path: &str, bytes: &[u8]) -> String {
        super::super::super::payload::blob_payload(
            path,
            &ContentHash::of(bytes),
            bytes.len() as u64,
        )
    }

    fn want(bytes: &[u8]) -> Want {
        Want {
            hash: ContentHash::of(bytes),
            size: bytes.len() as u64,
        }
    }

    #[test]
    fn only_other_devices_small_blobs_not_already_here_are_wanted() {
        let big = vec![7u8; MAX_PREFETCH_BLOB as usize + 1];
        let edge = vec![8u8; MAX_PREFETCH_BLOB as usize];
        let ops = vec![
            op(1, "dev_b", "create", "a.bin", blob("a.bin", b"a")),
            op(2, "dev_me", "create", "mine.bin", blob("mine.bin", b"mine")),
            op(
                3,
                "dev_b",
                "create",
                "t.md",
                r#"{"path":"t.md","content":"x"}"#.into(),
            ),
            op(4, "dev_b", "delete", "a.bin", r#"{"path":"a.bin"}"#.into()),
            op(5, "dev_b", "update", "big.bin", blob("big.bin", &big)),
            op(6, "dev_b", "update", "edge.bin", blob("edge.bin", &edge)),
            // The same bytes again, at another path: fetched once.
            op(7, "dev_b", "create", "copy.bin", blob("copy.bin", b"a")),
            op(8, "dev_b", "create", "here.bin", blob("here.bin", b"here")),
            op(9, "dev_b", "create", "skip.bin", blob("skip.bin", b"skip")),
            op(10, "dev_b", "create", "bad", "{not json".into()),
        ];
        let found: Vec<Candidate> = ops.iter().filter_map(|o| candidate(o, "dev_me")).collect();
        let seqs: Vec<i64> = found.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, vec![1, 6, 7, 8, 9]);
        let here = ContentHash::of(b"here");
        let mut skip = BTreeSet::from([ContentHash::of(b"skip")]);
        let keep = |p: &VaultPath, h: &ContentHash| !(p.as_str() == "here.bin" && *h == here);
        let got: Vec<Want> = wanted(&found, &mut skip, keep).collect();
        assert_eq!(got, vec![want(b"a"), want(&edge)]);
        assert!(skip.contains(&ContentHash::of(b"a")));
        // Already wanted: not again.
        assert_eq!(wanted(&found[..1], &mut skip, |_, _| true).count(), 0);
    }

    #[test]
    fn batches_stay_within_the_caps_and_top_up_the_last_one() {
        let sized = |n: u64, tag: u8| Want {
            hash: ContentHash::of(&[tag]),
            size: n,
        };
        let mib = 1024 * 1024;
        assert!(batches(vec![], vec![sized(1, 1)]).is_empty());
        let now: Vec<Want> = (0..9).map(|i| sized(mib, i)).collect();
        let later = vec![sized(mib, 100), sized(mib, 101), sized(1, 102)];
        let got = batches(now.clone(), later.clone());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], now[..8].to_vec());
        // 1 MiB of `now`, then `later` until 8 MiB would be passed.
        let mut second = vec![now[8].clone()];
        second.extend(later.iter().cloned());
        assert_eq!(got[1], second);
        // A full last batch takes nothing more.
        let got = batches(now[..8].to_vec(), later.clone());
        assert_eq!(got, vec![now[..8].to_vec()]);
        // At most MAX_BLOBS per batch.
        let tiny: Vec<Want> = (0..MAX_BLOBS as u64 + 1)
            .map(|i| sized(1, i as u8))
            .collect();
        let got = batches(tiny, vec![]);
        assert_eq!(
            got.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![MAX_BLOBS, 1]
        );
    }
}
