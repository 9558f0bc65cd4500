//! The sans-IO sync engine.

pub mod batch;
pub mod command;
pub mod conflict;
pub(crate) mod derive;
pub mod engine;
pub mod error;
pub mod event;
pub mod guard;
pub mod hash;
pub mod ids;
pub mod ignore;
pub(crate) mod io;
pub mod merge;
pub mod path;
pub mod payload;
pub(crate) mod pullcheck;
mod run;
pub mod saved;
pub mod settings;
pub mod status;
pub mod summary;

#[cfg(test)]
mod sim;
