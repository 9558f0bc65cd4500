//! Blobs of a push batch uploaded several per request (`POST /api/v1/blobs/bulk`, an
//! extension of this project's server: `docs/api-extensions.md`).
//!
//! A first upload sends every binary file of the vault; one request per blob cost a round trip
//! each and, on the server, durability steps for each. A blob-bound file small enough to be read
//! whole (up to the text limit, 2 MiB) is kept in memory while its batch is built and sent with
//! others in one `multipart/form-data` request of at most [`GROUP_BYTES`]. Its op is built only
//! after the server's answer: the answer's hash and size (the server hashes what it received)
//! must be the scanned ones, otherwise the file changed after the scan and its op waits for the
//! next scan, exactly as when a staged copy does not match.
//!
//! A server without the route (the reference server, older versions of this one) answers 400,
//! 404, 405 or 501: the run remembers it and uploads one blob per request from then on, each
//! staged and verified as before (`push.rs`).

use verstak_sync_proto::blob::{MAX_BULK_FILES, UPLOAD_FIELD};
use verstak_sync_proto::{BlobBulkResponse, PushOp, paths};

use super::super::command::{HttpBody, HttpRequest, Method};
use super::super::error::EngineError;
use super::super::ids::derive_uuid;
use super::super::payload::blob_payload;
use super::super::saved::{BatchEntry, Change, QueuedOp};
use super::super::summary::{Phase, Progress};
use super::Run;

/// The most file bytes the engine puts in one bulk upload (the server takes up to 16 MiB).
pub(super) const GROUP_BYTES: u64 = 8 << 20;

/// What a queued op needs before it can be sent.
pub(super) enum Wire {
    /// Ready.
    Op(PushOp),
    /// A file whose content goes as a blob, read whole: uploaded with others first.
    Upload(Vec<u8>),
}

/// Blob-bound files waiting for a bulk upload: the batch slot each fills, its op, its bytes.
#[derive(Default)]
pub(super) struct Uploads {
    items: Vec<(usize, QueuedOp, Vec<u8>)>,
    bytes: u64,
}

impl Uploads {
    pub(super) fn add(&mut self, slot: usize, op: QueuedOp, bytes: Vec<u8>) {
        self.bytes += bytes.len() as u64;
        self.items.push((slot, op, bytes));
    }

    pub(super) fn full(&self) -> bool {
        self.bytes >= GROUP_BYTES || self.items.len() >= MAX_BULK_FILES
    }
}

/// The `multipart/form-data` body of a bulk upload: one `file` part per blob, named by its
/// hash, between `boundary` lines.
fn multipart(boundary: &str, items: &[(usize, QueuedOp, Vec<u8>)]) -> Vec<u8> {
    let size: usize = items.iter().map(|(_, _, b)| b.len() + 200).sum();
    let mut body = Vec::with_capacity(size);
    for (_, op, bytes) in items {
        let name = match &op.change {
            Change::File { hash, .. } => hash.as_str(),
            _ => "blob",
        };
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{UPLOAD_FIELD}\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

impl Run {
    /// Uploads the waiting blobs and fills their slots with ops (left empty for a file that
    /// changed after the scan). Empties `uploads`.
    pub(super) async fn upload_many(
        &mut self,
        uploads: &mut Uploads,
        slots: &mut [Option<BatchEntry>],
    ) -> Result<(), EngineError> {
        let items = std::mem::take(&mut uploads.items);
        uploads.bytes = 0;
        let answers = match items.len() {
            0 => return Ok(()),
            1 => None,
            _ if self.no_bulk_upload => None,
            _ => self.send_bulk(&items).await?,
        };
        for (k, (slot, q, _)) in items.iter().enumerate() {
            let Change::File { hash, size, .. } = &q.change else {
                continue;
            };
            let stored = match &answers {
                Some(a) => a[k].sha256 == hash.as_str() && a[k].size == *size as i64,
                None => self.upload_blob(&q.path, hash, *size).await?,
            };
            if stored {
                let payload = blob_payload(q.path.as_str(), hash, *size);
                slots[*slot] = Some(BatchEntry {
                    op: q.clone(),
                    wire: self.push_op(q, payload),
                });
            }
        }
        Ok(())
    }

    /// One bulk upload: the server's hash and size of every part in order, or `None` when the
    /// server has no bulk route (remembered for the run).
    async fn send_bulk(
        &mut self,
        items: &[(usize, QueuedOp, Vec<u8>)],
    ) -> Result<Option<Vec<verstak_sync_proto::BlobUploadResponse>>, EngineError> {
        let total: u64 = items.iter().map(|(_, _, b)| b.len() as u64).sum();
        self.io.status(|s| {
            s.report(Progress {
                phase: Phase::Upload,
                done: 0,
                total,
            })
        });
        let boundary = format!(
            "verstak-bulk-{}",
            derive_uuid(&self.st.salt, "bulk", self.st.next_batch)
        );
        let request = HttpRequest {
            method: Method::Post,
            path: paths::BLOBS_BULK.to_string(),
            headers: vec![(
                "Content-Type".into(),
                format!("multipart/form-data; boundary={boundary}"),
            )],
            body: HttpBody::Bytes(multipart(&boundary, items)),
        };
        let invalid = || EngineError::BlobUpload(Box::new(EngineError::InvalidBlobUploadResponse));
        match self.http(request).await {
            Ok(resp) => match serde_json::from_slice::<BlobBulkResponse>(&resp.body) {
                Ok(r) if r.blobs.len() == items.len() => Ok(Some(r.blobs)),
                _ => Err(invalid()),
            },
            Err(
                EngineError::Server {
                    status: 400 | 404 | 405 | 501,
                    ..
                }
                | EngineError::NotSyncServer(404 | 405 | 501),
            ) => {
                self.no_bulk_upload = true;
                Ok(None)
            }
            Err(e) => {
                self.warn(e.to_string());
                Err(EngineError::BlobUpload(Box::new(e)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::hash::ContentHash;
    use crate::engine::path::p;

    fn file_op(path: &str, bytes: &[u8]) -> QueuedOp {
        QueuedOp {
            op_id: format!("op-{path}"),
            client_seq: 1,
            path: p(path),
            change: Change::File {
                update: false,
                hash: ContentHash::of(bytes),
                size: bytes.len() as u64,
            },
        }
    }

    #[test]
    fn multipart_body_has_one_file_part_per_blob_in_order() {
        let items = vec![
            (0, file_op("a.bin", b"\x00\x01"), b"\x00\x01".to_vec()),
            (2, file_op("b.bin", b"zz"), b"zz".to_vec()),
        ];
        let body = multipart("B0", &items);
        let text = String::from_utf8_lossy(&body);
        let want = format!(
            "--B0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n\u{0}\u{1}\r\n\
             --B0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\nzz\r\n--B0--\r\n",
            ContentHash::of(b"\x00\x01"),
            ContentHash::of(b"zz"),
        );
        assert_eq!(text, want);
    }

    #[test]
    fn uploads_fill_up_by_bytes_or_count() {
        let mut u = Uploads::default();
        u.add(0, file_op("a", b"x"), vec![0; (GROUP_BYTES - 1) as usize]);
        assert!(!u.full());
        u.add(1, file_op("b", b"y"), vec![0; 1]);
        assert!(u.full());
        let mut u = Uploads::default();
        for i in 0..MAX_BULK_FILES {
            assert!(!u.full());
            u.add(i, file_op("c", b"z"), vec![1]);
        }
        assert!(u.full());
    }
}
