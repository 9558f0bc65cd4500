//! Push preparation (spec §5.5, §5.8): the pure work on a push's ops that its writer job
//! needs, done before the job: the idempotency [`fingerprint`] and the blob references of file
//! payloads ([`blob_checks`], read with proto's one payload reader). A refused reference is a
//! [`BlobRefusal`] value; `crate::sync_rules` maps it to the API error. A leaf module: the
//! store uses it without depending on the HTTP error type.

use sha2::{Digest, Sha256};
use verstak_sync_proto::payload::{Payload, PayloadError};
use verstak_sync_proto::{BlobRef, EntityType, PushOp};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync_rules::tests::op;

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
}
