//! [`JVal`]: a JSON value read for strict checking. Unlike `serde_json::Value` it keeps every
//! object key in order, duplicates included, and keeps only i64 integers as numbers (any other
//! number is `NotInt`). The server's strict request decoder (server-api §2.5) and the file
//! payload reader ([`crate::payload`]) both read through it.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum JVal {
    Null,
    Bool(bool),
    Int(i64),
    /// A number that is not an i64 integer (a fraction, an exponent, or out of range).
    NotInt,
    Str(String),
    Arr(Vec<JVal>),
    Obj(Vec<(String, JVal)>),
}

impl JVal {
    /// The last value of `name` in an object (what `serde_json::Value` keeps for a key given
    /// twice) and how many times the key occurs; `(None, 0)` for anything but an object.
    pub fn field(&self, name: &str) -> (Option<&JVal>, usize) {
        let JVal::Obj(pairs) = self else {
            return (None, 0);
        };
        let mut hits = pairs.iter().filter(|(k, _)| k == name);
        let count = hits.clone().count();
        (hits.next_back().map(|(_, v)| v), count)
    }
}

impl<'de> Deserialize<'de> for JVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JValVisitor)
    }
}

struct JValVisitor;

impl<'de> Visitor<'de> for JValVisitor {
    type Value = JVal;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<JVal, E> {
        Ok(JVal::Null)
    }
    fn visit_none<E>(self) -> Result<JVal, E> {
        Ok(JVal::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<JVal, E> {
        Ok(JVal::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<JVal, E> {
        Ok(JVal::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<JVal, E> {
        Ok(i64::try_from(v).map(JVal::Int).unwrap_or(JVal::NotInt))
    }
    fn visit_f64<E>(self, _: f64) -> Result<JVal, E> {
        Ok(JVal::NotInt)
    }
    fn visit_str<E>(self, v: &str) -> Result<JVal, E> {
        Ok(JVal::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<JVal, E> {
        Ok(JVal::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JVal, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(JVal::Arr(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JVal, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, JVal>()? {
            out.push((k, v));
        }
        Ok(JVal::Obj(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicates_and_integers_only() {
        let v: JVal =
            serde_json::from_str(r#"{"a":1,"b":1.0,"a":"x","c":18446744073709551615}"#).unwrap();
        assert_eq!(v.field("a"), (Some(&JVal::Str("x".into())), 2));
        assert_eq!(v.field("b"), (Some(&JVal::NotInt), 1));
        assert_eq!(v.field("c"), (Some(&JVal::NotInt), 1));
        assert_eq!(v.field("d"), (None, 0));
        assert_eq!(JVal::Null.field("a"), (None, 0));
    }
}
