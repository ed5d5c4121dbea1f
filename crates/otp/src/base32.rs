//! RFC 4648 §6 base32, the encoding authenticator apps use for secrets.
//!
//! Decoding accepts upper and lower case, with or without `=` padding; when padding is present
//! it must be complete and correct. Anything else (another character, an impossible length,
//! misplaced padding) is a [`Base32Error`]. The unused low bits of the last character are
//! ignored, as RFC 4648 §3.5 permits, because secrets typed as random characters by other
//! servers often have them set.

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Why text is not base32.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Base32Error {
    /// A character outside `A–Z`, `a–z`, `2–7` (and trailing `=`).
    #[error("invalid character {character:?} at position {position}")]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its index in characters from the start of the input.
        position: usize,
    },
    /// The number of data characters leaves 1, 3 or 6 characters in the last group, which no
    /// byte string encodes to.
    #[error("invalid length: {0} characters cannot be base32")]
    InvalidLength(usize),
    /// Padding that is incomplete, too long, or not at the end.
    #[error("invalid padding")]
    InvalidPadding,
}

/// Encodes bytes as upper-case base32, with `=` padding to a multiple of 8 when `pad` is true.
pub fn encode(bytes: &[u8], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        // Characters needed for this many bytes: ceil(len * 8 / 5).
        let used = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < used {
                let index = ((bits >> (35 - i * 5)) & 0x1f) as usize;
                out.push(ALPHABET[index] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

fn value_of(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
    }
}

/// Decodes base32 text; see the module documentation for what is accepted.
pub fn decode(text: &str) -> Result<Vec<u8>, Base32Error> {
    let bytes = text.as_bytes();
    let data_len = bytes.iter().rposition(|&b| b != b'=').map_or(0, |p| p + 1);
    let pad_len = bytes.len() - data_len;

    for (position, ch) in text.chars().enumerate().take(data_len) {
        // A multi-byte character is never valid; report it by character position.
        if !ch.is_ascii() || value_of(ch as u8).is_none() {
            return Err(Base32Error::InvalidCharacter {
                character: ch,
                position,
            });
        }
    }

    let rem = data_len % 8;
    if matches!(rem, 1 | 3 | 6) {
        return Err(Base32Error::InvalidLength(data_len));
    }
    if pad_len > 0 {
        let expected = match rem {
            0 => 0,
            2 => 6,
            4 => 4,
            5 => 3,
            _ => 1,
        };
        if pad_len != expected {
            return Err(Base32Error::InvalidPadding);
        }
    }

    let mut out = Vec::with_capacity(data_len * 5 / 8);
    let mut acc: u32 = 0;
    let mut nbits = 0u32;
    for &b in &bytes[..data_len] {
        let v = value_of(b).unwrap_or(0);
        acc = (acc << 5) | u32::from(v);
        nbits += 5;
        if nbits >= 8 {
            nbits -= 8;
            out.push((acc >> nbits) as u8);
            acc &= (1 << nbits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // RFC 4648 §10 test vectors.
    const VECTORS: &[(&str, &str)] = &[
        ("", ""),
        ("f", "MY======"),
        ("fo", "MZXQ===="),
        ("foo", "MZXW6==="),
        ("foob", "MZXW6YQ="),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI======"),
    ];

    #[test]
    fn rfc4648_vectors() {
        for (plain, encoded) in VECTORS {
            assert_eq!(encode(plain.as_bytes(), true), *encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
            let unpadded = encoded.trim_end_matches('=');
            assert_eq!(encode(plain.as_bytes(), false), unpadded);
            assert_eq!(decode(unpadded).unwrap(), plain.as_bytes());
            assert_eq!(decode(&unpadded.to_lowercase()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn rejects_bad_input_with_typed_errors() {
        assert_eq!(
            decode("MZXW1"),
            Err(Base32Error::InvalidCharacter {
                character: '1',
                position: 4
            })
        );
        assert_eq!(
            decode("MZ XW"),
            Err(Base32Error::InvalidCharacter {
                character: ' ',
                position: 2
            })
        );
        assert_eq!(
            decode("MZé"),
            Err(Base32Error::InvalidCharacter {
                character: 'é',
                position: 2
            })
        );
        assert_eq!(decode("M"), Err(Base32Error::InvalidLength(1)));
        assert_eq!(decode("MZX"), Err(Base32Error::InvalidLength(3)));
        assert_eq!(decode("MZXW6Y"), Err(Base32Error::InvalidLength(6)));
        assert_eq!(decode("MY==="), Err(Base32Error::InvalidPadding));
        assert_eq!(decode("MZXW6YTB="), Err(Base32Error::InvalidPadding));
        assert_eq!(
            decode("MY=A===="),
            Err(Base32Error::InvalidCharacter {
                character: '=',
                position: 2
            })
        );
        assert_eq!(
            decode("MY====é"),
            Err(Base32Error::InvalidCharacter {
                character: '=',
                position: 2
            })
        );
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64), pad: bool, lower: bool) {
            let mut text = encode(&bytes, pad);
            if lower { text = text.to_lowercase(); }
            prop_assert_eq!(decode(&text).unwrap(), bytes);
        }

        #[test]
        fn decode_never_panics(text in "\\PC{0,40}") {
            let _ = decode(&text);
        }
    }
}
