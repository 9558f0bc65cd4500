//! Strict decoding (spec §2.5) of the proto request types. Each decodes through its own serde
//! derive ([`Fields::deserialize`]), so the exact field names and types are those `proto/`
//! declares; `null` reads as the zero value, integers are strict and duplicate known keys are
//! rejected (see `json.rs`).

use verstak_sync_proto::blob_batch::BlobBatchRequest;
use verstak_sync_proto::{
    AuthTestRequest, PairRequest, PullRequest, PushRequest, RegisterDeviceRequest,
    RevokeDeviceRequest,
};

use crate::json::{DecodeError, Fields, FromJson};

macro_rules! decode_with_serde {
    ($($t:ty),* $(,)?) => {
        $(impl FromJson for $t {
            fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
                f.deserialize()
            }
        })*
    };
}

decode_with_serde!(
    PairRequest,
    RegisterDeviceRequest,
    AuthTestRequest,
    RevokeDeviceRequest,
    PullRequest,
    PushRequest,
    BlobBatchRequest,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::decode;
    use verstak_sync_proto::{EntityType, OpType};

    #[test]
    fn push_request_decodes_strictly() {
        let body = br#"{"device_id":"d","ops":[{"op_id":"a","payload_json":"{}","client_sequence":1}, null]}"#;
        let r: PushRequest = decode(body).unwrap();
        assert_eq!(r.ops.len(), 2);
        assert_eq!(r.ops[0].client_sequence, 1);
        assert!(decode::<PushRequest>(br#"{"ops":[{"op_id":"a","op_id":"b"}]}"#).is_err());
        assert!(decode::<PushRequest>(br#"{"ops":[{"payload_json":{}}]}"#).is_err());
        assert!(decode::<PushRequest>(br#"{"ops":{}}"#).is_err());
        assert!(decode::<PullRequest>(br#"{"since_sequence":"1"}"#).is_err());
    }

    #[test]
    fn serde_derives_keep_the_strict_rules() {
        // An object is never read as a struct's field sequence.
        assert!(decode::<PushRequest>(br#"{"ops":[["a","file"]]}"#).is_err());
        assert!(decode::<PushRequest>(br#"{"ops":[1]}"#).is_err());
        assert!(decode::<PullRequest>(br#"{"page_limit":1.0}"#).is_err());
        assert!(decode::<PullRequest>(br#"{"page_limit":true}"#).is_err());
        assert!(decode::<PairRequest>(br#"{"login":"a","login":"a"}"#).is_err());
        let r: PairRequest = decode(br#"{"login":null,"x":1,"x":[2.5]}"#).unwrap();
        assert_eq!(r, PairRequest::default());
        // Types are typed; unknown ones are kept verbatim.
        let r: PushRequest = decode(
            br#"{"ops":[{"entity_type":"file","op_type":"delete"},{"entity_type":"plugin-record","op_type":"trash"}]}"#,
        )
        .unwrap();
        assert_eq!(
            (&r.ops[0].entity_type, &r.ops[0].op_type),
            (&EntityType::File, &OpType::Delete)
        );
        assert_eq!(r.ops[1].entity_type.as_str(), "plugin-record");
        assert_eq!(r.ops[1].op_type, OpType::Other("trash".into()));
        assert!(decode::<PushRequest>(br#"{"ops":[{"entity_type":5}]}"#).is_err());
    }
}
