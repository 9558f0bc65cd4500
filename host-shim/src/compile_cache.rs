//! A per-user cache of compiled components, so a one-shot CLI call does not pay Cranelift's
//! compile (≈0.7 s for the engine) every time; `serve` and `watch` compile once anyway.
//!
//! The key is the SHA-256 of the component bytes plus this host's version; wasmtime itself
//! refuses an artifact built by another wasmtime or with another configuration, and then the
//! component is simply compiled again. The cache lives in `$VERSTAK_SYNC_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/verstak-sync`, else `~/.cache/verstak-sync`, in a 0700 folder with 0600
//! files; setting `VERSTAK_SYNC_CACHE_DIR` to an empty value turns it off.

use crate::vault::write_atomic;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("VERSTAK_SYNC_CACHE_DIR") {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| Path::new(&h).join(".cache"))
        })?;
    Some(base.join("verstak-sync"))
}

fn key(bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update([0]);
    h.update(bytes);
    hex::encode(h.finalize())
}

/// The component from `bytes`, from the cache when a usable artifact is there.
pub fn load(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
    let cached = cache_dir().map(|d| d.join(format!("{}.cwasm", key(bytes))));
    if let Some(path) = cached.as_ref().filter(|p| p.is_file()) {
        // SAFETY: the artifact was written by `Component::serialize` of this host into the user's
        // private cache folder; wasmtime checks its version and configuration before use.
        match unsafe { Component::deserialize_file(engine, path) } {
            Ok(component) => return Ok(component),
            Err(e) => tracing::debug!("ignoring the cached component {}: {e:#}", path.display()),
        }
    }
    let component = Component::from_binary(engine, bytes)?;
    if let Some(path) = cached {
        let stored = component
            .serialize()
            .map_err(std::io::Error::other)
            .and_then(|art| {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(path.parent().expect("a file in the cache dir"))?;
                write_atomic(&path, &art, 0o600)
            });
        if let Err(e) = stored {
            tracing::debug!(
                "cannot cache the compiled component at {}: {e}",
                path.display()
            );
        }
    }
    Ok(component)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_change_with_the_bytes() {
        assert_ne!(key(b"a"), key(b"b"));
        assert_eq!(key(b"a"), key(b"a"));
        assert_eq!(key(b"a").len(), 64);
    }
}
