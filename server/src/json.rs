//! Strict JSON request decoding (spec §2.5).
//!
//! [`decode`] parses the first JSON value into a [`JVal`] tree (proto's, which keeps every
//! object key in order, so duplicates stay visible), then checks what follows: another value
//! gives `trailing_json`, anything else `invalid_json`. Request types implement [`FromJson`] on
//! top of [`Fields`]. The proto request types do it with [`Fields::deserialize`], which runs
//! their own serde derives over the tree through [`Strict`]: so the field names and types are
//! declared once, in `proto/`. [`Strict`] turns absent or `null` into zero values (the derives'
//! `nullable::zero`) and rejects wrong types, non-integral or out-of-range integers, an array
//! where an object belongs and duplicated known keys, all with `invalid_json`.

use serde::de::value::StrDeserializer;
use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer,
    MapAccess, SeqAccess, Visitor,
};
use std::fmt;

pub(crate) use verstak_sync_proto::jval::JVal;

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

/// Decodes a whole request body that must hold one JSON object (`null` counts as `{}`).
pub(crate) fn decode<T: FromJson>(body: &[u8]) -> Result<T, DecodeError> {
    let body = unsign_negative_zero(body);
    let mut stream = serde_json::Deserializer::from_slice(&body).into_iter::<JVal>();
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

/// `body` with the sign of every integer literal `-0` blanked out (`-0` → ` 0`), so it reads as
/// the integer 0. serde_json reports `-0` as the float `-0.0`, which would make it `invalid_json`
/// like `1.0`; it is an integer in JSON's grammar. Only a `-0` that starts a value (after `:`,
/// `,`, `[` or at the start, outside strings) and ends there (`.`, `e` or a digit does not follow)
/// changes, so no invalid body becomes valid and offsets stay the same. Copies only when needed.
fn unsign_negative_zero(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut hits = Vec::new();
    let (mut in_str, mut escaped) = (false, false);
    let mut prev = b'['; // the last byte outside strings that is not whitespace
    for (i, &b) in body.iter().enumerate() {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'-' if matches!(prev, b':' | b',' | b'[')
                && body.get(i + 1) == Some(&b'0')
                && !matches!(body.get(i + 2), Some(b'0'..=b'9' | b'.' | b'e' | b'E')) =>
            {
                hits.push(i)
            }
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            prev = b;
        }
    }
    if hits.is_empty() {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut out = body.to_vec();
    for i in hits {
        out[i] = b' ';
    }
    std::borrow::Cow::Owned(out)
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

    /// The whole object as `T`, through `T`'s serde derive (see [`Strict`]).
    pub(crate) fn deserialize<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        T::deserialize(StrictObject(self.0)).map_err(|_| DecodeError::InvalidJson)
    }

    /// A string field; absent or `null` is `""`.
    pub(crate) fn string(&self, name: &str) -> Result<String, DecodeError> {
        self.zero_or(name)
    }

    fn zero_or<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T, DecodeError> {
        match self.get(name)? {
            None => Ok(T::default()),
            Some(v) => Option::<T>::deserialize(Strict(v))
                .map(Option::unwrap_or_default)
                .map_err(|_| DecodeError::InvalidJson),
        }
    }
}

/// A [`JVal`] as a serde `Deserializer` with the §2.5 rules (see the module doc). Objects are
/// read only as maps (never as a struct's field sequence) and `null` reads as an empty object
/// where a struct is expected, so `[null]` in an array of objects is one zero-valued object.
#[derive(Clone, Copy)]
pub(crate) struct Strict<'a>(pub(crate) &'a JVal);

/// The pairs of one object, read as a map.
#[derive(Clone, Copy)]
struct StrictObject<'a>(&'a [(String, JVal)]);

/// Any failure: the caller answers `invalid_json`.
#[derive(Debug)]
pub(crate) struct StrictError;

impl fmt::Display for StrictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid JSON request")
    }
}

impl std::error::Error for StrictError {}

impl de::Error for StrictError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        StrictError
    }
}

impl<'de> Deserializer<'de> for Strict<'_> {
    type Error = StrictError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, StrictError> {
        match self.0 {
            JVal::Null => v.visit_unit(),
            JVal::Bool(b) => v.visit_bool(*b),
            JVal::Int(i) => v.visit_i64(*i),
            JVal::NotInt => Err(StrictError),
            JVal::Str(s) => v.visit_str(s),
            JVal::Arr(items) => v.visit_seq(StrictSeq(items.iter())),
            JVal::Obj(pairs) => StrictObject(pairs).deserialize_any(v),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, StrictError> {
        match self.0 {
            JVal::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, StrictError> {
        match self.0 {
            JVal::Null => StrictObject(&[]).deserialize_any(v),
            JVal::Obj(pairs) => StrictObject(pairs).deserialize_any(v),
            _ => Err(StrictError),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, StrictError> {
        v.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
    }
}

impl<'de> Deserializer<'de> for StrictObject<'_> {
    type Error = StrictError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, StrictError> {
        v.visit_map(StrictMap {
            pairs: self.0.iter(),
            value: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct StrictSeq<'a>(std::slice::Iter<'a, JVal>);

impl<'de> SeqAccess<'de> for StrictSeq<'_> {
    type Error = StrictError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, StrictError> {
        self.0
            .next()
            .map(|v| seed.deserialize(Strict(v)))
            .transpose()
    }
}

struct StrictMap<'a> {
    pairs: std::slice::Iter<'a, (String, JVal)>,
    value: Option<&'a JVal>,
}

impl<'de> MapAccess<'de> for StrictMap<'_> {
    type Error = StrictError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, StrictError> {
        let Some((k, v)) = self.pairs.next() else {
            return Ok(None);
        };
        self.value = Some(v);
        let key: StrDeserializer<'_, StrictError> = k.as_str().into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, StrictError> {
        let v = self.value.take().ok_or(StrictError)?;
        seed.deserialize(Strict(v))
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
                n: f.zero_or("n")?,
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

    #[test]
    fn negative_zero_is_the_integer_zero() {
        use DecodeError::*;
        let ok = |b: &str| decode::<T>(b.as_bytes());
        assert_eq!(ok(r#"{"n":-0}"#).unwrap().n, 0);
        assert_eq!(
            ok(r#"{"n": -0 ,"s":"-0"}"#).unwrap(),
            T {
                s: "-0".into(),
                n: 0
            }
        );
        assert_eq!(ok(r#"{"x":[-0,1],"n":-0}"#).unwrap().n, 0);
        assert_eq!(ok(r#"{"n":-0.0}"#), Err(InvalidJson));
        assert_eq!(ok(r#"{"n":-0e0}"#), Err(InvalidJson));
        assert_eq!(ok(r#"{"n":-01}"#), Err(InvalidJson));
        assert_eq!(ok(r#"{"n":1-0}"#), Err(InvalidJson));
        assert_eq!(ok(r#"{"n":--0}"#), Err(InvalidJson));
        assert_eq!(ok("-0"), Err(InvalidJson));
        // Inside strings nothing changes, escaped quotes included.
        assert_eq!(ok(r#"{"s":"a\",-0"}"#).unwrap().s, "a\",-0");
    }
}
