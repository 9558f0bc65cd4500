//! Strict JSON request decoding (spec §2.5).
//!
//! [`decode`] parses the first JSON value into a [`JVal`] tree that keeps every object key in
//! order (so duplicates stay visible), then checks what follows: another value gives
//! `trailing_json`, anything else `invalid_json`. Request types implement [`FromJson`] on top of
//! [`Fields`], whose accessors turn absent or `null` into zero values and reject wrong types,
//! non-integral or out-of-range integers and duplicated known keys with `invalid_json`.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Why a body could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    InvalidJson,
    TrailingJson,
}

impl From<DecodeError> for crate::error::ApiError {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::InvalidJson => crate::error::ApiError::InvalidJson,
            DecodeError::TrailingJson => crate::error::ApiError::TrailingJson,
        }
    }
}

/// A parsed JSON value. Numbers that are not i64 integers are kept only as `NotInt`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JVal {
    Null,
    Bool(bool),
    Int(i64),
    NotInt,
    Str(String),
    Arr(Vec<JVal>),
    Obj(Vec<(String, JVal)>),
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

/// Decodes a whole request body that must hold one JSON object (`null` counts as `{}`).
pub(crate) fn decode<T: FromJson>(body: &[u8]) -> Result<T, DecodeError> {
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<JVal>();
    let first = match stream.next() {
        Some(Ok(v)) => v,
        _ => return Err(DecodeError::InvalidJson),
    };
    match stream.next() {
        None => {}
        Some(Ok(_)) => return Err(DecodeError::TrailingJson),
        Some(Err(_)) => return Err(DecodeError::InvalidJson),
    }
    match first {
        JVal::Null => T::from_fields(&Fields(&[])),
        JVal::Obj(pairs) => T::from_fields(&Fields(&pairs)),
        _ => Err(DecodeError::InvalidJson),
    }
}

/// Builds a request type from a decoded object.
pub(crate) trait FromJson: Sized {
    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError>;
}

/// The key/value pairs of one JSON object, with typed accessors.
pub(crate) struct Fields<'a>(pub(crate) &'a [(String, JVal)]);

impl<'a> Fields<'a> {
    /// The value of `name`; a key given twice is an error.
    pub(crate) fn get(&self, name: &str) -> Result<Option<&'a JVal>, DecodeError> {
        let mut found = None;
        for (k, v) in self.0 {
            if k == name {
                if found.is_some() {
                    return Err(DecodeError::InvalidJson);
                }
                found = Some(v);
            }
        }
        Ok(found)
    }

    pub(crate) fn string(&self, name: &str) -> Result<String, DecodeError> {
        match self.get(name)? {
            None | Some(JVal::Null) => Ok(String::new()),
            Some(JVal::Str(s)) => Ok(s.clone()),
            Some(_) => Err(DecodeError::InvalidJson),
        }
    }

    pub(crate) fn int(&self, name: &str) -> Result<i64, DecodeError> {
        match self.get(name)? {
            None | Some(JVal::Null) => Ok(0),
            Some(JVal::Int(i)) => Ok(*i),
            Some(_) => Err(DecodeError::InvalidJson),
        }
    }

    /// An array of objects; each element is passed to `f`.
    pub(crate) fn objects<T>(
        &self,
        name: &str,
        f: impl Fn(&Fields<'_>) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        match self.get(name)? {
            None | Some(JVal::Null) => Ok(Vec::new()),
            Some(JVal::Arr(items)) => items
                .iter()
                .map(|it| match it {
                    JVal::Obj(p) => f(&Fields(p)),
                    JVal::Null => f(&Fields(&[])),
                    _ => Err(DecodeError::InvalidJson),
                })
                .collect(),
            Some(_) => Err(DecodeError::InvalidJson),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct T {
        s: String,
        n: i64,
    }
    impl FromJson for T {
        fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
            Ok(T {
                s: f.string("s")?,
                n: f.int("n")?,
            })
        }
    }

    #[test]
    fn decoding_rules() {
        use DecodeError::*;
        let ok = |b: &str| decode::<T>(b.as_bytes());
        assert_eq!(
            ok(r#"{"s":"x","n":3}"#),
            Ok(T {
                s: "x".into(),
                n: 3
            })
        );
        assert_eq!(
            ok("null"),
            Ok(T {
                s: String::new(),
                n: 0
            })
        );
        assert_eq!(
            ok(r#"{"s":null,"n":null,"other":[1,2]}"#),
            Ok(T {
                s: String::new(),
                n: 0
            })
        );
        assert_eq!(
            ok(" {} \n"),
            Ok(T {
                s: String::new(),
                n: 0
            })
        );
        assert_eq!(ok(""), Err(InvalidJson));
        assert_eq!(ok("[]"), Err(InvalidJson));
        assert_eq!(ok(r#"{"n":1.0}"#), Err(InvalidJson));
        assert_eq!(ok(r#"{"n":1.5}"#), Err(InvalidJson));
        assert_eq!(ok(r#"{"n":"1"}"#), Err(InvalidJson));
        assert_eq!(ok(r#"{"n":9223372036854775808}"#), Err(InvalidJson));
        assert_eq!(ok(r#"{"n":-9223372036854775808}"#).unwrap().n, i64::MIN);
        assert_eq!(ok(r#"{"s":"a","s":"b"}"#), Err(InvalidJson));
        assert_eq!(ok(r#"{"x":1,"x":2}"#).unwrap().n, 0);
        assert_eq!(ok(r#"{"S":"a"}"#).unwrap().s, "");
        assert_eq!(ok("{} {}"), Err(TrailingJson));
        assert_eq!(ok("{}{}"), Err(TrailingJson));
        assert_eq!(ok("{} x"), Err(InvalidJson));
        assert_eq!(decode::<T>(b"{\"s\":\"\xff\"}"), Err(InvalidJson));
    }
}
