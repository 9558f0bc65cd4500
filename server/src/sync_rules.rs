//! Pure sync validation (spec §4.7, §4.8, §5.5, §5.8): push structure checks in the spec's
//! order, the idempotency fingerprint, the blob-reference reading of file payloads and the
//! pull page size. No IO; unit-tested below.

use serde::de::IgnoredAny;
use serde_json::Value;
use sha2::{Digest, Sha256};
use verstak_sync_proto::limits::{Limits, fixed};
use verstak_sync_proto::{PushOp, PushRequest};

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
        ("op_id", &op.op_id, fixed::OP_ID),
        ("entity_type", &op.entity_type, fixed::ENTITY_TYPE),
        ("entity_id", &op.entity_id, fixed::ENTITY_ID),
        ("op_type", &op.op_type, fixed::OP_TYPE),
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
        s(&op.entity_type);
        s(&op.entity_id);
        s(&op.op_type);
        s(&op.payload_json);
        s(&op.client_sequence.to_string());
        s(&op.last_seen_server_seq.to_string());
        s(&op.created_at);
    }
    hex::encode(h.finalize())
}

/// A blob reference found in a file op's payload.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BlobRef {
    pub sha256: String,
    pub size: i64,
}

/// Why a file op's payload was rejected at push (§5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PayloadError {
    InvalidPayload,
    InlineBinary,
    InvalidBlobRef,
    BlobNotOwned,
    SizeMismatch,
}

impl From<PayloadError> for ApiError {
    fn from(e: PayloadError) -> Self {
        match e {
            PayloadError::InvalidPayload => ApiError::InvalidPayload,
            PayloadError::InlineBinary => ApiError::InlineBinaryForbidden,
            PayloadError::InvalidBlobRef => {
                ApiError::InvalidBlobReference("invalid blob reference")
            }
            PayloadError::BlobNotOwned => ApiError::BlobNotOwned,
            PayloadError::SizeMismatch => {
                ApiError::InvalidBlobReference("blob size does not match uploaded content")
            }
        }
    }
}

/// Reads the blob reference of a non-empty file payload; `Ok(None)` when there is none.
pub(crate) fn blob_reference(payload: &str) -> Result<Option<BlobRef>, PayloadError> {
    let v: Value = serde_json::from_str(payload).map_err(|_| PayloadError::InvalidPayload)?;
    let obj = match v {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        _ => return Err(PayloadError::InvalidPayload),
    };
    let data = obj.get("dataBase64").unwrap_or(&Value::Null);
    let blob = obj.get("blob").unwrap_or(&Value::Null);
    if !(data.is_null() || data.is_string()) || !(blob.is_null() || blob.is_object()) {
        return Err(PayloadError::InvalidPayload);
    }
    let (sha, size) = match blob {
        Value::Object(b) => {
            let sha = match b.get("sha256").unwrap_or(&Value::Null) {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                _ => return Err(PayloadError::InvalidPayload),
            };
            let size = match b.get("size").unwrap_or(&Value::Null) {
                Value::Null => 0,
                Value::Number(n) => n.as_i64().ok_or(PayloadError::InvalidPayload)?,
                _ => return Err(PayloadError::InvalidPayload),
            };
            (Some(sha), size)
        }
        _ => (None, 0),
    };
    if !data.is_null() {
        return Err(PayloadError::InlineBinary);
    }
    let Some(sha) = sha else { return Ok(None) };
    if !verstak_sync_proto::blob::is_sha256_hex(&sha) || size < 0 {
        return Err(PayloadError::InvalidBlobRef);
    }
    Ok(Some(BlobRef { sha256: sha, size }))
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
        o.entity_type = String::new();
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
                sha256: sha.clone(),
                size: 12
            }))
        );
        let neg = format!(r#"{{"blob":{{"sha256":"{sha}","size":-1}}}}"#);
        assert_eq!(blob_reference(&neg), Err(InvalidBlobRef));
        let frac = format!(r#"{{"blob":{{"sha256":"{sha}","size":1.5}}}}"#);
        assert_eq!(blob_reference(&frac), Err(InvalidPayload));
    }

    #[test]
    fn pull_limit_clamps() {
        assert_eq!(pull_limit(0, 100), 100);
        assert_eq!(pull_limit(5, 100), 5);
        assert_eq!(pull_limit(500, 100), 100);
    }
}
