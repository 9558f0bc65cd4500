//! Small helpers: clock formatting ([`time`]), random ids and hashing ([`ids`]), and the
//! command line's password sources ([`password`]).

pub(crate) mod ids;
pub(crate) mod password;
pub(crate) mod seal;
pub(crate) mod time;
