//! Wire types shared by the sync server (`server/`) and the sync engine (`plugin/`).
//!
//! No IO here: the crate builds for `wasm32-wasip2` as well as natively. The JSON shapes follow
//! `shared/spec/server-api.md` §4 and §5.
//!
//! * [`codes`]: the stable machine codes of the `{code, error}` body (§2.4) and [`ErrorBody`].
//! * [`limits`]: configurable limit defaults (§1.7) and the fixed field limits.
//! * [`paths`]: the client route paths (§4).
//! * [`device`]: pair, device register, auth test, me, revoke (§4.1 to §4.6).
//! * [`sync`]: push and pull (§4.7, §4.8) with conflicts; [`kinds`]: typed `entity_type` and
//!   `op_type`; [`payload`]: file and folder payloads, built and read (plugin-contract §4.5,
//!   server-api §5.8).
//! * [`blob`]: the blob upload response (§4.9) and [`BlobRef`]; [`hash`]: [`Sha256Hex`].
//! * [`blob_batch`]: many small blobs in one download (an addition, `docs/api-extensions.md`).
//! * [`history`]: version history of paths and restorable deletions (issue #13).
//! * [`health`]: health and liveness bodies (§4.11).
//! * [`events`]: the live event stream (an addition to the reference API, `docs/events.md`).
//! * [`time`]: RFC 3339 UTC timestamps (§2.7).
//!
//! The structs are plain serde types. Deserialising is lenient in the way clients need: absent
//! fields and `null` become the zero value, unknown fields are ignored. The server applies the
//! stricter request-decoding rules of §2.5 by running the same serde derives over a [`jval::JVal`]
//! tree, so these types are the only definition of the request fields.

pub mod blob;
pub mod blob_batch;
pub mod codes;
pub mod device;
pub mod events;
pub mod hash;
pub mod health;
pub mod history;
pub mod jval;
pub mod kinds;
pub mod limits;
pub mod paths;
pub mod payload;
pub mod sync;
pub mod time;

mod nullable;

pub use blob::{BlobBulkResponse, BlobRef, BlobUploadResponse};
pub use codes::ErrorBody;
pub use device::{
    AuthTestRequest, MeResponse, PairRequest, PairResponse, RegisterDeviceRequest,
    RegisterDeviceResponse, RevokeDeviceRequest, StatusResponse,
};
pub use hash::Sha256Hex;
pub use health::{HealthStatus, LiveStatus};
pub use kinds::{EntityType, OpType};
pub use limits::Limits;
pub use sync::{Conflict, PullRequest, PullResponse, PulledOp, PushOp, PushRequest, PushResponse};
