//! `verstak-sync-host`: runs the `verstak.sync` engine component in wasmtime.
//!
//! * [`manifest`] validates `manifest.json`; [`grants`] turns its permissions into per-import grants.
//! * [`runtime`] compiles the component once, links the imports ([`imports`]) and instantiates it
//!   per vault with a memory cap and a per-call deadline ([`limits`]).
//! * [`vault`] knows where the plugin's state lives in a vault and writes it atomically;
//!   [`confine`] keeps the `files` import inside the vault (canonical paths, no symlinks).
//! * [`live`] is live sync: the vault's file watcher and the server's event stream trigger
//!   syncs within about a second (`watch`, and `serve` beside the panel).
//! * [`serve`] is the local shell stand-in for the settings panel; [`bridge`] answers its
//!   `VerstakPluginAPI` calls; [`push`] streams the live status to the page.
//! * [`package`] assembles and verifies the installable plugin package.
//! * [`trash`] lists the vault trash and restores from it (`trash` command).
//! * [`cli`] is the command line; `main.rs` only parses and dispatches.

pub mod bindings;
pub mod bridge;
pub mod cli;
pub mod compile_cache;
pub mod confine;
pub mod dto;
pub mod grants;
pub mod history;
mod imports;
pub mod limits;
pub mod live;
pub mod manifest;
pub mod package;
pub mod push;
pub mod report;
pub mod runtime;
pub mod serve;
pub mod session;
pub mod state;
pub mod trash;
pub mod vault;
pub mod vault_lock;
pub mod watch;
