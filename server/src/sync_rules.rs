//! Pure sync validation (spec §4.7, §4.8, §5.8): push structure checks in the spec's order,
//! the API errors of a blob-reference refusal, and the pull page size. No IO; unit-tested
//! below. What the push's writer job consumes (fingerprint, blob checks) is in
//! [`crate::push_prep`], which needs nothing from the API error type.

use serde::de::IgnoredAny;
use verstak_sync_proto::limits::{Limits, fixed};
use verstak_sync_proto::payload::PayloadError;
use verstak_sync_proto::{PushOp, PushRequest};

use crate::error::ApiError;
use crate::push_prep::BlobRefusal;

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

/// The page size of a pull: `page_limit` when within `1..=max`, otherwise `max` (§4.8).
pub(crate) fn pull_limit(page_limit: i64, max: i64) -> i64 {
    if (1..=max).contains(&page_limit) {
        page_limit
    } else {
        max
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use verstak_sync_proto::EntityType;

    /// A file create `id` of entity `a` with an empty payload (push_prep's tests use it too).
    pub(crate) fn op(id: &str) -> PushOp {
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
    fn pull_limit_clamps() {
        assert_eq!(pull_limit(0, 100), 100);
        assert_eq!(pull_limit(5, 100), 5);
        assert_eq!(pull_limit(500, 100), 100);
    }
}
