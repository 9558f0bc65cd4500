//! Bench-only guest component: the SHA-256 work of the engine's file hashing (the engine's
//! `sha2` crate over in-memory data), with no host calls in the timed loop.

#[cfg(target_family = "wasm")]
mod hash;

#[cfg(target_family = "wasm")]
mod component {
    wit_bindgen::generate!({
        path: "wit",
        world: "hasher",
    });

    struct Component;

    impl Guest for Component {
        fn sha256_mib(mib: u32, seed: u8) -> String {
            hex::encode(super::hash::sha256_mib(mib, seed))
        }
    }

    export!(Component);
}
