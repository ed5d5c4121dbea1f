//! A small, strict CBOR decoder (RFC 8949) for the three things WebAuthn encodes in it: the
//! attestation object, COSE keys and authenticator extensions.
//!
//! Accepted: unsigned and negative integers, byte and text strings, arrays, maps whose keys are
//! integers or text (no duplicates), `true`, `false` and `null`, all with definite lengths.
//! Refused: indefinite lengths, tags, floats and other simple values, nesting deeper than 16,
//! invalid UTF-8. Every length is checked against the bytes that remain before anything is
//! allocated, so hostile input cannot make the decoder reserve more than its own size.

use super::WebauthnError;

/// The deepest nesting of arrays and maps accepted.
const MAX_DEPTH: usize = 16;

/// A decoded CBOR data item, borrowing its strings from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// Major types 0 and 1: from -2^64 to 2^64 - 1.
    Int(i128),
    /// Major type 2.
    Bytes(&'a [u8]),
    /// Major type 3.
    Text(&'a str),
    /// Major type 4.
    Array(Vec<Value<'a>>),
    /// Major type 5, in encoded order.
    Map(Vec<(Value<'a>, Value<'a>)>),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl<'a> Value<'a> {
    /// The value under integer `key` if this is a map.
    pub(crate) fn get_int(&self, key: i128) -> Option<&Value<'a>> {
        self.entries()?
            .iter()
            .find(|(k, _)| *k == Value::Int(key))
            .map(|(_, v)| v)
    }

    /// The value under text `key` if this is a map.
    pub(crate) fn get_text(&self, key: &str) -> Option<&Value<'a>> {
        self.entries()?
            .iter()
            .find(|(k, _)| *k == Value::Text(key))
            .map(|(_, v)| v)
    }

    fn entries(&self) -> Option<&[(Value<'a>, Value<'a>)]> {
        match self {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// Decodes exactly one data item filling all of `input`.
pub(crate) fn decode(input: &[u8]) -> Result<Value<'_>, WebauthnError> {
    let (value, used) = decode_prefix(input)?;
    if used == input.len() {
        Ok(value)
    } else {
        Err(WebauthnError::Malformed("trailing bytes after CBOR"))
    }
}

/// Decodes the data item at the start of `input`; returns it and the number of bytes it took.
pub(crate) fn decode_prefix(input: &[u8]) -> Result<(Value<'_>, usize), WebauthnError> {
    let mut reader = Reader { input, pos: 0 };
    let value = reader.item(0)?;
    Ok((value, reader.pos))
}

const TRUNCATED: WebauthnError = WebauthnError::Malformed("truncated CBOR");

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WebauthnError> {
        let end = self.pos.checked_add(n).ok_or(TRUNCATED)?;
        let bytes = self.input.get(self.pos..end).ok_or(TRUNCATED)?;
        self.pos = end;
        Ok(bytes)
    }

    fn uint(&mut self, n: usize) -> Result<u64, WebauthnError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// The argument of a head: the value, or the length or count that follows.
    fn argument(&mut self, info: u8) -> Result<u64, WebauthnError> {
        match info {
            0..=23 => Ok(u64::from(info)),
            24 => self.uint(1),
            25 => self.uint(2),
            26 => self.uint(4),
            27 => self.uint(8),
            31 => Err(WebauthnError::Malformed("indefinite-length CBOR")),
            _ => Err(WebauthnError::Malformed(
                "reserved CBOR additional information",
            )),
        }
    }

    /// A length or count that must fit in what remains, each element taking at least
    /// `min_size` bytes.
    fn length(&mut self, info: u8, min_size: usize) -> Result<usize, WebauthnError> {
        let n = usize::try_from(self.argument(info)?).map_err(|_| TRUNCATED)?;
        match n.checked_mul(min_size) {
            Some(needed) if needed <= self.remaining() => Ok(n),
            _ => Err(TRUNCATED),
        }
    }

    fn item(&mut self, depth: usize) -> Result<Value<'a>, WebauthnError> {
        if depth > MAX_DEPTH {
            return Err(WebauthnError::Malformed("CBOR nested too deeply"));
        }
        let [initial] = self.take(1)? else {
            return Err(TRUNCATED);
        };
        let (major, info) = (initial >> 5, initial & 0x1f);
        match major {
            0 => Ok(Value::Int(i128::from(self.argument(info)?))),
            1 => Ok(Value::Int(-1 - i128::from(self.argument(info)?))),
            2 => {
                let len = self.length(info, 1)?;
                Ok(Value::Bytes(self.take(len)?))
            }
            3 => {
                let len = self.length(info, 1)?;
                let text = std::str::from_utf8(self.take(len)?)
                    .map_err(|_| WebauthnError::Malformed("CBOR text is not UTF-8"))?;
                Ok(Value::Text(text))
            }
            4 => {
                let count = self.length(info, 1)?;
                let mut items = Vec::with_capacity(count.min(16));
                for _ in 0..count {
                    items.push(self.item(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                let count = self.length(info, 2)?;
                let mut entries = Vec::with_capacity(count.min(16));
                for _ in 0..count {
                    let key = self.item(depth + 1)?;
                    if !matches!(key, Value::Int(_) | Value::Text(_)) {
                        return Err(WebauthnError::Malformed("CBOR map key is not int or text"));
                    }
                    entries.push((key, self.item(depth + 1)?));
                }
                if has_duplicate_keys(&entries) {
                    return Err(WebauthnError::Malformed("duplicate CBOR map key"));
                }
                Ok(Value::Map(entries))
            }
            6 => Err(WebauthnError::Malformed("CBOR tags are not accepted")),
            _ => match info {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                22 => Ok(Value::Null),
                _ => Err(WebauthnError::Malformed("CBOR float or simple value")),
            },
        }
    }
}

/// Sorting the keys keeps the check O(n log n) for maps of thousands of entries.
fn has_duplicate_keys(entries: &[(Value<'_>, Value<'_>)]) -> bool {
    fn rank<'v>(key: &'v Value<'_>) -> (u8, i128, &'v [u8]) {
        match key {
            Value::Int(n) => (0, *n, &[]),
            Value::Text(t) => (1, 0, t.as_bytes()),
            _ => (2, 0, &[]),
        }
    }
    let mut keys: Vec<_> = entries.iter().map(|(k, _)| rank(k)).collect();
    keys.sort_unstable();
    keys.windows(2).any(|pair| matches!(pair, [a, b] if a == b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_the_accepted_types() {
        // RFC 8949 appendix A examples.
        assert_eq!(decode(&hex("00")), Ok(Value::Int(0)));
        assert_eq!(decode(&hex("1903e8")), Ok(Value::Int(1000)));
        assert_eq!(
            decode(&hex("1bffffffffffffffff")),
            Ok(Value::Int(u64::MAX.into()))
        );
        assert_eq!(
            decode(&hex("3bffffffffffffffff")),
            Ok(Value::Int(-1 - i128::from(u64::MAX)))
        );
        assert_eq!(decode(&hex("3863")), Ok(Value::Int(-100)));
        assert_eq!(decode(&hex("4401020304")), Ok(Value::Bytes(&[1, 2, 3, 4])));
        assert_eq!(decode(&hex("62c3bc")), Ok(Value::Text("ü")));
        assert_eq!(decode(&hex("f4")), Ok(Value::Bool(false)));
        assert_eq!(decode(&hex("f5")), Ok(Value::Bool(true)));
        assert_eq!(decode(&hex("f6")), Ok(Value::Null));
        let bytes = hex("a201020326");
        let map = decode(&bytes).unwrap();
        assert_eq!(map.get_int(1), Some(&Value::Int(2)));
        assert_eq!(map.get_int(3), Some(&Value::Int(-7)));
        let bytes = hex("a26161016162820203");
        let nested = decode(&bytes).unwrap();
        assert_eq!(nested.get_text("a"), Some(&Value::Int(1)));
        assert_eq!(
            nested.get_text("b"),
            Some(&Value::Array(vec![Value::Int(2), Value::Int(3)]))
        );
    }

    #[test]
    fn reports_the_extent_of_a_prefix() {
        let bytes = hex("a10102ffff");
        let (value, used) = decode_prefix(&bytes).unwrap();
        assert_eq!(used, 3);
        assert_eq!(value.get_int(1), Some(&Value::Int(2)));
        assert!(decode(&hex("a10102ff")).is_err());
    }

    #[test]
    fn refuses_what_webauthn_does_not_need() {
        for bad in [
            "",                   // nothing
            "5f4101ff",           // indefinite byte string
            "9f01ff",             // indefinite array
            "c11a514b67b0",       // tag
            "f93c00",             // half float
            "f7",                 // undefined
            "1c",                 // reserved additional information
            "a1f601",             // null as a map key
            "a201020103",         // duplicate int key
            "a2616101616102",     // duplicate text key
            "62c328",             // invalid UTF-8
            "5a00000010",         // length past the end
            "1b000000",           // truncated argument
            "9bffffffffffffffff", // huge count: refused before allocating
            "bbffffffffffffffff",
        ] {
            assert!(decode(&hex(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounds_the_nesting() {
        let ok = [vec![0x81; 16], vec![0x00]].concat();
        assert!(decode(&ok).is_ok());
        let deep = [vec![0x81; 17], vec![0x00]].concat();
        assert_eq!(
            decode(&deep),
            Err(WebauthnError::Malformed("CBOR nested too deeply"))
        );
        let very_deep = vec![0x81; 100_000];
        assert!(decode(&very_deep).is_err());
    }
}
