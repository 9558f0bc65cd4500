//! Small pure helpers: clock formatting ([`time`]), random ids and hashing ([`ids`]).

pub(crate) mod ids;
pub(crate) mod time;
