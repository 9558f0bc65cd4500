//! Pure sync validation (spec §4.7, §4.8, §5.5, §5.8): push structure checks in the spec's
//! order, the idempotency fingerprint, the blob references of file payloads (read with proto's
//! one payload reader, before the writer transaction: [`blob_checks`]) and the pull page size.
//! No IO; unit-tested below.

use serde::de::IgnoredAny;
use sha2::{Digest, Sha256};
use verstak_sync_proto::limits::{Limits, fixed};
use verstak_sync_proto::payload::{Payload, PayloadError};
use verstak_sync_proto::{BlobRef, EntityType, PushOp, PushRequest};

use crate::error::ApiError;

/// Checks 4 to 6 of §4.7, in order. The first failure decides the answer.
pub(crate) fn validate_push(req: &PushRequest, limits: &Limits) -> Result<(), ApiError> {
    if req.ops.len() as i64 > limits.max_push_operations {
        return Err(ApiError::TooManyOperations);
    }
    if req.device_id.len() > fixed::PUSH_DEVICE_ID {
        return Err(ApiError::FieldTooLong("device_id is too long".into()));
    }
    if req.idempotency_key.len() > fixed::IDEMPOTENCY_KEY {
        return Err(ApiError::FieldTooLong("idempotency_key is too long".into()));
    }
    for op in &req.ops {
        validate_op(op, limits)?;
    }
    Ok(())
}

fn validate_op(op: &PushOp, limits: &Limits) -> Result<(), ApiError> {
    for (name, value, max) in [
        ("op_id", op.op_id.as_str(), fixed::OP_ID),
        ("entity_type", op.entity_type.as_str(), fixed::ENTITY_TYPE),
        ("entity_id", op.entity_id.as_str(), fixed::ENTITY_ID),
        ("op_type", op.op_type.as_str(), fixed::OP_TYPE),
    ] {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(ApiError::InvalidOperation(format!("{name} is required")));
        }
        if trimmed.len() > max {
            return Err(ApiError::FieldTooLong(format!("{name} is too long")));
        }
    }
    if op.payload_json.len() as i64 > limits.max_payload_json {
        return Err(ApiError::PayloadTooLarge);
    }
    if !op.payload_json.is_empty() && serde_json::from_str::<IgnoredAny>(&op.payload_json).is_err()
    {
        return Err(ApiError::InvalidPayload);
    }
    if op.client_sequence < 0 || op.last_seen_server_seq < 0 {
        return Err(ApiError::InvalidOperation(
            "operation sequences must be non-negative".into(),
        ));
    }
    Ok(())
}

/// SHA-256 over a length-prefixed serialisation of the ops' eight fields (§5.5), hex.
pub(crate) fn fingerprint(ops: &[PushOp]) -> String {
    let mut h = Sha256::new();
    h.update((ops.len() as u64).to_le_bytes());
    let mut s = |v: &str| {
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    };
    for op in ops {
        s(&op.op_id);
        s(op.entity_type.as_str());
        s(&op.entity_id);
        s(op.op_type.as_str());
        s(&op.payload_json);
        s(&op.client_sequence.to_string());
        s(&op.last_seen_server_seq.to_string());
        s(&op.created_at);
    }
    hex::encode(h.finalize())
}

/// Why a push was refused over a file op's blob reference (§5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlobRefusal {
    /// The payload itself (read before the writer transaction).
    Payload(PayloadError),
    /// No reference to the blob in this scope.
    BlobNotOwned,
    /// The uploaded blob has another size.
    SizeMismatch,
}

impl From<BlobRefusal> for ApiError {
    fn from(e: BlobRefusal) -> Self {
        match e {
            BlobRefusal::Payload(PayloadError::InlineBinary) => ApiError::InlineBinaryForbidden,
            BlobRefusal::Payload(PayloadError::InvalidBlobRef) => {
                ApiError::InvalidBlobReference("invalid blob reference")
            }
            // `read` and `blob_ref` give no other error; all mean the payload is unusable.
            BlobRefusal::Payload(_) => ApiError::InvalidPayload,
            BlobRefusal::BlobNotOwned => ApiError::BlobNotOwned,
            BlobRefusal::SizeMismatch => {
                ApiError::InvalidBlobReference("blob size does not match uploaded content")
            }
        }
    }
}

/// The blob reference of a non-empty file payload (§5.8); `Ok(None)` when there is none.
pub(crate) fn blob_reference(payload: &str) -> Result<Option<BlobRef>, PayloadError> {
    match Payload::read(payload)? {
        Some(p) => p.blob_ref(),
        None => Ok(None),
    }
}

/// One step of the §5.8 check that needs the database, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlobCheck {
    /// The scope must hold this blob with this size.
    Owned(BlobRef),
    /// Refuse the push here (after the idempotency check, as §5.8 orders it).
    Refuse(PayloadError),
}

/// Reads the blob references of the file ops of a push, in request order, up to the first
/// unreadable one (nothing after it is reached). Pure, so it runs before the writer job.
pub(crate) fn blob_checks(ops: &[PushOp]) -> Vec<BlobCheck> {
    let mut out = Vec::new();
    for op in ops {
        if op.entity_type != EntityType::File || op.payload_json.is_empty() {
            continue;
        }
        match blob_reference(&op.payload_json) {
            Ok(Some(r)) => out.push(BlobCheck::Owned(r)),
            Ok(None) => {}
            Err(e) => {
                out.push(BlobCheck::Refuse(e));
                break;
            }
        }
    }
    out
}

/// The page size of a pull: `page_limit` when within `1..=max`, otherwise `max` (§4.8).
pub(crate) fn pull_limit(page_limit: i64, max: i64) -> i64 {
    if (1..=max).contains(&page_limit) {
        page_limit
    } else {
        max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: &str) -> PushOp {
        PushOp {
            op_id: id.into(),
            entity_type: "file".into(),
            entity_id: "a".into(),
            op_type: "create".into(),
            payload_json: "{}".into(),
            ..Default::default()
        }
    }

    #[test]
    fn push_checks_run_in_spec_order() {
        let limits = Limits {
            max_push_operations: 2,
            max_payload_json: 8,
            ..Limits::default()
        };
        let req = |ops: Vec<PushOp>| PushRequest {
            ops,
            ..Default::default()
        };
        let code = |r: &PushRequest| {
            validate_push(r, &limits)
                .err()
                .map(|e| (e.code(), e.to_string()))
        };
        assert_eq!(code(&req(vec![op("a"), op("b")])), None);
        assert_eq!(
            code(&req(vec![op("a"), op("b"), op("c")])).unwrap().0,
            "too_many_operations"
        );
        let mut r = req(vec![op("a")]);
        r.device_id = "x".repeat(129);
        r.idempotency_key = "k".repeat(129);
        assert_eq!(code(&r).unwrap().1, "device_id is too long");
        r.device_id.clear();
        assert_eq!(code(&r).unwrap().1, "idempotency_key is too long");
        let mut o = op(" ");
        o.entity_type = EntityType::default();
        assert_eq!(
            code(&req(vec![o])).unwrap(),
            ("invalid_operation", "op_id is required".into())
        );
        let mut o = op("a");
        o.entity_id = "e".repeat(4097);
        assert_eq!(
            code(&req(vec![o])).unwrap(),
            ("field_too_long", "entity_id is too long".into())
        );
        let mut o = op("a");
        o.payload_json = "{\"a\":12345}".into();
        assert_eq!(code(&req(vec![o])).unwrap().0, "payload_too_large");
        let mut o = op("a");
        o.payload_json = "{".into();
        assert_eq!(code(&req(vec![o])).unwrap().0, "invalid_payload");
        let mut o = op("a");
        o.last_seen_server_seq = -1;
        assert_eq!(
            code(&req(vec![o])).unwrap().1,
            "operation sequences must be non-negative"
        );
    }

    #[test]
    fn fingerprint_ignores_nothing_but_device() {
        let a = vec![op("a")];
        let mut b = a.clone();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b[0].created_at = "x".into();
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }

    #[test]
    fn blob_reference_table() {
        use PayloadError::*;
        let sha = "a".repeat(64);
        let sha = &*sha;
        assert_eq!(blob_reference("null"), Ok(None));
        assert_eq!(blob_reference("[]"), Err(InvalidPayload));
        assert_eq!(blob_reference(r#"{"content":"hi"}"#), Ok(None));
        assert_eq!(
            blob_reference(r#"{"dataBase64":"AAAA"}"#),
            Err(InlineBinary)
        );
        assert_eq!(blob_reference(r#"{"dataBase64":5}"#), Err(InvalidPayload));
        assert_eq!(blob_reference(r#"{"blob":"x"}"#), Err(InvalidPayload));
        assert_eq!(
            blob_reference(r#"{"blob":{"sha256":1}}"#),
            Err(InvalidPayload)
        );
        assert_eq!(
            blob_reference(r#"{"blob":{"sha256":"abc","size":1}}"#),
            Err(InvalidBlobRef)
        );
        let ok = format!(r#"{{"blob":{{"sha256":"{sha}","size":12}}}}"#);
        assert_eq!(
            blob_reference(&ok),
            Ok(Some(BlobRef {
                sha256: verstak_sync_proto::Sha256Hex::parse(sha).unwrap(),
                size: 12
            }))
        );
        let neg = format!(r#"{{"blob":{{"sha256":"{sha}","size":-1}}}}"#);
        assert_eq!(blob_reference(&neg), Err(InvalidBlobRef));
        let frac = format!(r#"{{"blob":{{"sha256":"{sha}","size":1.5}}}}"#);
        assert_eq!(blob_reference(&frac), Err(InvalidPayload));
    }

    #[test]
    fn blob_checks_stop_at_the_first_refusal() {
        let sha = "b".repeat(64);
        let with = |entity: &str, payload: String| PushOp {
            entity_type: entity.into(),
            payload_json: payload,
            ..op("x")
        };
        let good = format!(r#"{{"blob":{{"sha256":"{sha}","size":3}}}}"#);
        let ops = vec![
            with("folder", r#"{"dataBase64":"AA"}"#.into()),
            with("file", String::new()),
            with("file", r#"{"content":"x"}"#.into()),
            with("file", good.clone()),
            with("file", "[]".into()),
            with("file", good),
        ];
        let owned = BlobCheck::Owned(BlobRef {
            sha256: verstak_sync_proto::Sha256Hex::parse(&sha).unwrap(),
            size: 3,
        });
        assert_eq!(
            blob_checks(&ops),
            vec![owned, BlobCheck::Refuse(PayloadError::InvalidPayload)]
        );
    }

    #[test]
    fn pull_limit_clamps() {
        assert_eq!(pull_limit(0, 100), 100);
        assert_eq!(pull_limit(5, 100), 5);
        assert_eq!(pull_limit(500, 100), 100);
    }
}
