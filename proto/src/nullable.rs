//! Serde helper: a JSON `null` deserialises to the type's zero value (spec §2.5 rule 5).

use serde::{Deserialize, Deserializer};

/// Use with `#[serde(default, deserialize_with = "crate::nullable::zero")]`.
pub(crate) fn zero<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
