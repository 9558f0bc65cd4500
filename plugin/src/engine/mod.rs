//! The sans-IO sync engine.

pub mod conflict;
pub mod error;
pub mod guard;
pub mod hash;
pub mod ids;
pub mod ignore;
pub mod merge;
pub mod path;
pub mod payload;
pub mod settings;
pub mod status;
