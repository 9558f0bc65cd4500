//! The sans-IO sync engine: plain data in, plain data out. No file system, network, clock or OS
//! randomness in here; the glue (`plugin/src/glue/`) executes [`command::Command`]s against the
//! host imports and feeds the answers back as [`event::Event`]s.
//!
//! # Driving it (the glue's whole job)
//!
//! ```text
//! let mut engine = Engine::new(config, storage.read("engine-state"),    // once per call
//!                              storage.read("engine-journal"))?;
//! engine.handle(now(), Event::Start(Action::Sync));                      // now()
//! loop {
//!     while let Some(cmd) = engine.poll_command() {                       // drain fully
//!         if let Command::Finished(finish) = cmd { return finish; }     // Answer or EngineError
//!         let id = cmd.id().unwrap();
//!         let result = execute(cmd);                                     // one host call
//!         engine.handle(now(), Event::Reply { id, result });
//!     }
//!     if let Some(t) = engine.poll_timeout() {                            // retry back-off
//!         sleep_until(t);
//!         engine.handle(now(), Event::Timeout);
//!     }
//! }
//! ```
//!
//! * [`machine::Engine`] is the only state machine: `handle` is the only mutator (inputs),
//!   `poll_command`/`poll_timeout` are the outputs, `status()`/`state()` are cheap getters.
//!   Exactly one command is outstanding at a time; an answer for any other id is dropped.
//!   Time comes in with every `handle` and may jump (the engine keeps the maximum seen).
//! * Inside, one action runs as an `async fn` (`run/`) whose `await`s are commands; the engine
//!   polls it with a no-op waker (`io.rs`). There is no executor and no thread.
//! * What each command means for the glue (atomic writes, `Expect` re-checked at the last
//!   moment, staging files, storage keys, HTTP prefixing and auth) is documented in `command.rs`.
//!
//! # State
//!
//! [`saved::SavedState`] (observations: local snapshot, synced tree, cursor, op log, in-flight
//! batch, unechoed ops, guard, set-aside remote ops) is stored as a snapshot, the JSON document
//! `engine-state` in the format every version wrote, plus an append-only journal
//! `engine-journal` with one checksummed record of changes per checkpoint, compacted into a new
//! snapshot once it outgrows the old one ([`journal`]; the big collections track their changes,
//! [`tracked`]). So a checkpoint writes O(its changes), and a kill at any point restarts from
//! the last checkpoint; applies are idempotent and the in-flight batch is resent with the same
//! idempotency key. One document `base-<sha256>` per synced text version is the merge base
//! store.
//!
//! # Pieces
//!
//! * Edge types: [`path::VaultPath`], [`hash::ContentHash`], [`ids`] (`ServerSeq`, `RequestId`, `Millis`).
//! * Pure rules: [`ignore`] (exclusions, ignore list), [`payload`] (payloads, text-or-blob),
//!   `derive` (what to publish, emission order), `incoming` (what to do with a pulled op),
//!   `verstak_sync_merge` (diff3, its own crate), [`conflict`] (copy names),
//!   [`guard`] (mass deletion), [`batch`] (batch halving), `pullcheck` (page ordering checks).
//! * Run phases: `run/scan.rs` (`run/scan_hint.rs`: only the paths `sync-changed` names),
//!   `run/pull.rs` (`run/lookahead.rs`: the guard's look-ahead windows), `run/apply*.rs` (with `run/set_aside.rs`: remote ops
//!   that cannot be applied here), `run/materialize.rs`, `run/push.rs`.
//! * Pairing: [`account`] (pure rules, requests), [`pairing`] (the pairing document) and
//!   `run/pair.rs` (the `Configure`, `TestConnection`, `Disconnect`, `ResetKey`, settings and
//!   `Status` actions, and the pairing part of a sync run). All HTTP goes through the one retry
//!   policy in `run/http.rs`.
//! * Version history (issue #13): [`history`] (answers), `run/history.rs` (list versions and
//!   deleted files), `run/restore_version.rs` (put a version back, then sync).
//! * Status and results: [`answer`] (what `Command::Finished` carries), [`summary`] (`now()`
//!   result, engine status fields), [`status`] (the DTO the `Status` action reads) and
//!   [`settings`] (the settings document), [`error::EngineError`] (§3.11 texts).
//! * Closed sets with stable strings: [`codes`] (`closed_enum!`, [`codes::ErrorCode`] that
//!   `EngineError::code()` returns, [`codes::HostCode`]), `summary::Phase`,
//!   `status::StatusLabel`, `command::Method`. Each mirrors its WIT enum case for case, so the
//!   glue maps them exhaustively.
//! * `sim/` (tests only): devices + in-memory server, story tests and the seeded random simulation.

pub mod account;
pub mod answer;
pub mod base_pack;
pub mod batch;
pub mod codes;
pub mod command;
pub mod config;
pub mod conflict;
pub mod conflict_list;
pub(crate) mod derive;
pub mod error;
pub mod event;
#[doc(hidden)]
pub mod fuzzing;
pub mod guard;
pub mod hash;
pub mod history;
pub mod ids;
pub mod ignore;
pub(crate) mod incoming;
pub(crate) mod io;
pub mod journal;
pub mod machine;
pub mod pairing;
pub mod path;
pub mod payload;
pub(crate) mod pullcheck;
pub mod replaced_list;
mod run;
pub mod saved;
pub mod settings;
pub mod status;
pub mod summary;
pub mod tracked;

#[cfg(test)]
mod sim;
