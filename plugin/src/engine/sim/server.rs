//! An in-memory model of the server's push/pull/blob rules (server-api §4.7–§4.10, §5):
//! per-op-id duplicates, idempotency keys, blob ownership, pagination, ranged downloads and
//! batch downloads (the server's `POST /api/v1/blob-batch`, unless [`FakeServer::blob_batch`]
//! is off, as on the reference server);
//! and of its account routes (§3, §4.1–§4.5): one user, pairing, auth test, health,
//! revoke-current, and device authentication by bearer token.

use std::collections::BTreeMap;

use verstak_sync_proto::blob_batch::{self, BlobBatchRequest};
use verstak_sync_proto::{
    BlobBulkResponse, BlobUploadResponse, ErrorBody, PullRequest, PullResponse, PulledOp,
    PushRequest, PushResponse, paths,
};

use crate::engine::command::{Endpoint, HttpBody, HttpRequest, Method};
use crate::engine::event::HttpResponse;
use crate::engine::hash::ContentHash;
use crate::engine::payload::Incoming;

/// The one account's login and password.
pub(crate) const USER: &str = "ann";
pub(crate) const PASSWORD: &str = "correct horse";

/// A paired device.
pub(crate) struct FakeDevice {
    pub id: String,
    pub token: String,
    pub name: String,
    pub revoked: bool,
}

pub(crate) struct FakeServer {
    /// The base URL devices reach this server at.
    pub base: String,
    pub devices: Vec<FakeDevice>,
    pub ops: Vec<PulledOp>,
    keys: BTreeMap<String, (String, Vec<u8>)>,
    pub blobs: BTreeMap<String, Vec<u8>>,
    pub max_push: usize,
    pub max_pull: usize,
    /// Every pull answered: (device, `since_sequence`, ops served).
    pub pulls: Vec<(String, i64, usize)>,
    /// Whether `POST /api/v1/blobs/bulk` exists (this project's server) or answers 404 (the
    /// reference server).
    pub bulk_upload: bool,
    /// Blob upload requests answered: (files in the request, bulk or not).
    pub uploads: Vec<(usize, bool)>,
    /// The batch download route exists (else it is an unknown path, 404).
    pub blob_batch: bool,
    /// Requests answered, by route: `push`, `pull`, `upload`, `download` (one blob GET),
    /// `batch` (one batch download), `other`.
    pub requests: BTreeMap<&'static str, usize>,
}

fn json(status: u16, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![],
        body: serde_json::to_vec(&body).unwrap(),
    }
}

fn error(status: u16, code: &str) -> HttpResponse {
    json(status, ErrorBody::new(code, code))
}

impl FakeServer {
    pub(crate) fn new(max_push: usize, max_pull: usize) -> FakeServer {
        FakeServer {
            base: "http://sync.test".into(),
            devices: vec![],
            ops: vec![],
            keys: BTreeMap::new(),
            blobs: BTreeMap::new(),
            max_push,
            max_pull,
            pulls: vec![],
            bulk_upload: true,
            uploads: vec![],
            blob_batch: true,
            requests: BTreeMap::new(),
        }
    }

    pub(crate) fn handle(
        &mut self,
        to: &Endpoint,
        req: &HttpRequest,
        stage: &BTreeMap<String, Vec<u8>>,
    ) -> HttpResponse {
        if to.base != self.base {
            return error(404, "not_found");
        }
        match (req.method, req.path.as_str(), &req.body) {
            (Method::Get, paths::HEALTH, _) => json(200, serde_json::json!({"status": "ok"})),
            (Method::Post, paths::PAIR, HttpBody::Json(b)) => self.pair(b),
            (Method::Post, paths::AUTH_TEST, HttpBody::Json(b)) => {
                let v: serde_json::Value = serde_json::from_str(b).unwrap();
                if v["username"] == USER && v["password"] == PASSWORD {
                    json(200, serde_json::json!({"status": "ok"}))
                } else {
                    json(401, ErrorBody::new("unauthorized", "invalid credentials"))
                }
            }
            _ => self.device_route(to, req, stage),
        }
    }

    fn pair(&mut self, body: &str) -> HttpResponse {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        if v["login"] != USER || v["password"] != PASSWORD {
            return json(401, ErrorBody::new("unauthorized", "invalid credentials"));
        }
        let n = self.devices.len();
        let device = FakeDevice {
            id: format!("dev_{n}abcdefgh"),
            token: format!("token-{n}"),
            name: v["device_name"].as_str().unwrap_or_default().to_string(),
            revoked: false,
        };
        let answer = serde_json::json!({"device_id": device.id, "device_token": device.token});
        self.devices.push(device);
        json(200, answer)
    }

    /// Device authentication (server-api §3), then the device routes.
    fn device_route(
        &mut self,
        to: &Endpoint,
        req: &HttpRequest,
        stage: &BTreeMap<String, Vec<u8>>,
    ) -> HttpResponse {
        let unauthorized = |why: &str| json(401, ErrorBody::new("unauthorized", why));
        let Some(token) = to.token.as_deref().filter(|t| !t.is_empty()) else {
            return unauthorized("API key required");
        };
        let Some(i) = self.devices.iter().position(|d| d.token == token) else {
            return unauthorized("invalid API key");
        };
        if self.devices[i].revoked {
            return unauthorized("device revoked");
        }
        let device = self.devices[i].id.clone();
        let route = match (req.method, req.path.as_str()) {
            (Method::Post, paths::PUSH) => "push",
            (Method::Post, paths::PULL) => "pull",
            (Method::Post, paths::BLOBS) => "upload",
            (Method::Get, p) if p.starts_with(paths::BLOBS) => "download",
            (Method::Post, paths::BLOB_BATCH) => "batch",
            _ => "other",
        };
        *self.requests.entry(route).or_default() += 1;
        match (req.method, req.path.as_str(), &req.body) {
            (Method::Post, paths::REVOKE_CURRENT, _) => {
                self.devices[i].revoked = true;
                json(200, serde_json::json!({"status": "revoked"}))
            }
            (Method::Get, p, _) if p.starts_with("/api/v1/history/") => self.history(p),
            (Method::Post, paths::PUSH, HttpBody::Json(b)) => {
                self.push(&device, serde_json::from_str(b).unwrap())
            }
            (Method::Post, paths::PULL, HttpBody::Json(b)) => {
                let req: PullRequest = serde_json::from_str(b).unwrap();
                let since = req.since_sequence;
                let (resp, served) = self.pull(req);
                self.pulls.push((device.clone(), since, served));
                resp
            }
            (Method::Post, paths::BLOBS, HttpBody::StagedFile { stage: name, .. }) => {
                self.uploads.push((1, false));
                let bytes = stage.get(name).cloned().unwrap_or_default();
                json(200, self.store_blob(bytes))
            }
            (Method::Post, paths::BLOBS_BULK, HttpBody::Bytes(body)) if self.bulk_upload => {
                let Some(parts) = multipart_parts(req, body) else {
                    return error(400, "invalid_multipart");
                };
                self.uploads.push((parts.len(), true));
                let blobs = parts.into_iter().map(|b| self.store_blob(b)).collect();
                json(200, BlobBulkResponse { blobs })
            }
            (Method::Post, paths::BLOB_BATCH, HttpBody::Json(b)) if self.blob_batch => {
                self.blob_batch(serde_json::from_str(b).unwrap())
            }
            (Method::Get, p, _) if p.starts_with(paths::BLOBS) => {
                let Some(bytes) = self.blobs.get(&p[paths::BLOBS.len()..]) else {
                    return error(404, "blob_not_found");
                };
                let range = req
                    .headers
                    .iter()
                    .find(|(k, _)| k == "Range")
                    .map(|(_, v)| v.clone());
                match range.and_then(|r| {
                    let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
                    Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?))
                }) {
                    Some((a, b)) if a < bytes.len() => {
                        let end = (b + 1).min(bytes.len());
                        HttpResponse {
                            status: 206,
                            headers: vec![],
                            body: bytes[a..end].to_vec(),
                        }
                    }
                    _ => HttpResponse {
                        status: 200,
                        headers: vec![],
                        body: bytes.clone(),
                    },
                }
            }
            _ => error(404, "not_found"),
        }
    }

    fn store_blob(&mut self, bytes: Vec<u8>) -> BlobUploadResponse {
        let sha = ContentHash::of(&bytes).to_string();
        let size = bytes.len() as i64;
        self.blobs.insert(sha.clone(), bytes);
        BlobUploadResponse { sha256: sha, size }
    }

    /// The frames of a batch download, in request order (one user, so every stored blob is
    /// the scope's); the caps as the server's.
    fn blob_batch(&self, req: BlobBatchRequest) -> HttpResponse {
        if req.sha256.is_empty() {
            return error(400, "invalid_request");
        }
        let total: usize = req
            .sha256
            .iter()
            .filter_map(|h| self.blobs.get(h))
            .map(Vec::len)
            .sum();
        if req.sha256.len() > blob_batch::MAX_BLOBS || total as u64 > blob_batch::MAX_BYTES {
            return error(413, "blob_batch_too_large");
        }
        let mut body = Vec::new();
        for h in &req.sha256 {
            let bytes = self.blobs.get(h);
            let size = bytes.map(|b| b.len() as u64);
            body.extend_from_slice(blob_batch::frame_header(h, size).as_bytes());
            body.extend_from_slice(bytes.map_or(&[][..], Vec::as_slice));
        }
        HttpResponse {
            status: 200,
            headers: vec![],
            body,
        }
    }

    fn push(&mut self, device: &str, req: PushRequest) -> HttpResponse {
        if req.ops.len() > self.max_push {
            return error(413, "too_many_operations");
        }
        let fingerprint = serde_json::to_string(&req.ops).unwrap();
        if !req.idempotency_key.is_empty()
            && let Some((fp, body)) = self.keys.get(&req.idempotency_key)
        {
            if *fp != fingerprint {
                return error(409, "idempotency_key_reused");
            }
            return HttpResponse {
                status: 200,
                headers: vec![],
                body: body.clone(),
            };
        }
        for op in &req.ops {
            if op.entity_type == "file"
                && let Ok(inc) = Incoming::parse(&op.payload_json)
                && let crate::engine::payload::Source::Blob { hash, .. } = inc.source
                && !self.blobs.contains_key(hash.as_str())
            {
                return error(400, "blob_not_owned");
            }
        }
        let mut accepted = Vec::new();
        for op in req.ops {
            if let Some(old) = self.ops.iter().find(|o| o.op_id == op.op_id) {
                let same = old.entity_type == op.entity_type
                    && old.entity_id == op.entity_id
                    && old.op_type == op.op_type
                    && old.payload_json == op.payload_json;
                if same && !accepted.contains(&op.op_id) {
                    accepted.push(op.op_id.clone());
                }
                continue;
            }
            let seq = self.ops.len() as i64 + 1;
            accepted.push(op.op_id.clone());
            self.ops.push(PulledOp {
                op_id: op.op_id,
                server_sequence: seq,
                device_id: device.to_string(),
                entity_type: op.entity_type,
                entity_id: op.entity_id,
                op_type: op.op_type,
                payload_json: op.payload_json,
                created_at: op.created_at,
            });
        }
        let resp = json(200, PushResponse::new(accepted, vec![]));
        if !req.idempotency_key.is_empty() {
            self.keys
                .insert(req.idempotency_key, (fingerprint, resp.body.clone()));
        }
        resp
    }

    fn pull(&self, req: PullRequest) -> (HttpResponse, usize) {
        let limit = if (1..=self.max_pull as i64).contains(&req.page_limit) {
            req.page_limit as usize
        } else {
            self.max_pull
        };
        let mut ops: Vec<PulledOp> = self
            .ops
            .iter()
            .filter(|o| o.server_sequence > req.since_sequence)
            .take(limit + 1)
            .cloned()
            .collect();
        let has_more = ops.len() > limit;
        ops.truncate(limit);
        let page_last_sequence = ops.last().map_or(req.since_sequence, |o| o.server_sequence);
        let served = ops.len();
        let resp = json(
            200,
            PullResponse {
                has_more,
                ops,
                page_last_sequence,
                server_sequence: self.ops.len() as i64,
            },
        );
        (resp, served)
    }
}

/// The file parts of a `multipart/form-data` body whose boundary the request's `Content-Type`
/// names (the simple shape the engine writes: headers, a blank line, the bytes, CRLF).
fn multipart_parts(req: &HttpRequest, body: &[u8]) -> Option<Vec<Vec<u8>>> {
    let ct = req.headers.iter().find(|(k, _)| k == "Content-Type")?;
    let boundary = ct.1.split_once("boundary=")?.1;
    let delimiter = format!("\r\n--{boundary}");
    let text = body.strip_prefix(format!("--{boundary}").as_bytes())?;
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.starts_with(b"--") {
        let start = find(rest, b"\r\n\r\n")? + 4;
        let len = find(&rest[start..], delimiter.as_bytes())?;
        parts.push(rest[start..start + len].to_vec());
        rest = &rest[start + len + delimiter.len()..];
    }
    Some(parts)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
