//! Wire types shared by the sync server (`server/`) and the sync engine (`plugin/`).
//!
//! No IO here: the crate builds for `wasm32-wasip2` as well as natively. The JSON shapes follow
//! `shared/spec/server-api.md` §4 and §5.
