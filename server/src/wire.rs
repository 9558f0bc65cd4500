//! Strict decoding (spec §2.5) of the proto request types: exact field names, `null` as zero
//! value, strict integers, duplicate known keys rejected.

use verstak_sync_proto::{
    AuthTestRequest, PairRequest, PullRequest, PushOp, PushRequest, RegisterDeviceRequest,
    RevokeDeviceRequest,
};

use crate::json::{DecodeError, Fields, FromJson};

impl FromJson for PairRequest {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(PairRequest {
            login: f.string("login")?,
            password: f.string("password")?,
            device_name: f.string("device_name")?,
            client_version: f.string("client_version")?,
            vault_id: f.string("vault_id")?,
        })
    }
}

impl FromJson for RegisterDeviceRequest {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(RegisterDeviceRequest {
            name: f.string("name")?,
            username: f.string("username")?,
            password: f.string("password")?,
            vault_id: f.string("vault_id")?,
        })
    }
}

impl FromJson for AuthTestRequest {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(AuthTestRequest {
            username: f.string("username")?,
            password: f.string("password")?,
        })
    }
}

impl FromJson for RevokeDeviceRequest {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(RevokeDeviceRequest {
            device_id: f.string("device_id")?,
            password: f.string("password")?,
        })
    }
}

impl FromJson for PullRequest {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(PullRequest {
            since_sequence: f.int("since_sequence")?,
            page_limit: f.int("page_limit")?,
        })
    }
}

fn push_op(f: &Fields<'_>) -> Result<PushOp, DecodeError> {
    Ok(PushOp {
        op_id: f.string("op_id")?,
        entity_type: f.string("entity_type")?,
        entity_id: f.string("entity_id")?,
        op_type: f.string("op_type")?,
        payload_json: f.string("payload_json")?,
        client_sequence: f.int("client_sequence")?,
        last_seen_server_seq: f.int("last_seen_server_seq")?,
        created_at: f.string("created_at")?,
    })
}

impl FromJson for PushRequest {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(PushRequest {
            device_id: f.string("device_id")?,
            idempotency_key: f.string("idempotency_key")?,
            ops: f.objects("ops", push_op)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::decode;

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
}
