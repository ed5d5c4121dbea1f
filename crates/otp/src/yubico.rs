//! Yubico OTP: what a YubiKey types when touched.
//!
//! An OTP is the key's public id followed by a 16-byte token, both in modhex (a hex alphabet of
//! keys that sit in the same place on most keyboard layouts). The token is one AES-128 block
//! holding the private id, a use counter (bumped at each plug-in), a timestamp, a session counter
//! (bumped at each touch), random bytes and a CRC-16. Replay protection orders OTPs by
//! (use counter, session counter): see [`Counter`].
//!
//! Checking an OTP is: [`YubicoOtp::parse`] (modhex, length), [`YubicoOtp::decrypt`] (AES, CRC),
//! [`OtpFields::check_private_id`], then comparing [`OtpFields::counter`] with the last one seen.

use std::fmt;

use aes::Aes128;
use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The modhex alphabet: `cbdefghijklnrtuv` stands for `0123456789abcdef`.
pub const MODHEX: &[u8; 16] = b"cbdefghijklnrtuv";

/// Length of the token part of an OTP in modhex characters (16 bytes).
pub const TOKEN_CHARS: usize = 32;
/// The longest public id a key can be programmed with, in bytes.
pub const MAX_PUBLIC_ID: usize = 16;

/// Why a string is not a valid OTP for a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum YubicoError {
    /// A character outside the modhex alphabet.
    #[error("invalid modhex character {character:?} at position {position}")]
    Modhex {
        /// The offending character.
        character: char,
        /// Its index in characters.
        position: usize,
    },
    /// Not an even number of characters between 32 and 64.
    #[error("a Yubico OTP has 32 to 64 modhex characters (usually 44), not {0}")]
    Length(usize),
    /// The decrypted token fails its CRC: wrong key, or the OTP was altered.
    #[error("the OTP does not decrypt with this key (CRC mismatch)")]
    Crc,
    /// The token decrypted but belongs to another key's private id.
    #[error("the OTP's private id does not match the key")]
    PrivateId,
    /// Hex key material of the wrong length or with non-hex characters.
    #[error("expected {expected} hex characters")]
    Hex {
        /// Hex characters expected.
        expected: usize,
    },
}

/// Decodes modhex (either case) into bytes.
pub fn modhex_decode(text: &str) -> Result<Vec<u8>, YubicoError> {
    let mut nibbles = Vec::with_capacity(text.len());
    for (position, character) in text.chars().enumerate() {
        let lower = character.to_ascii_lowercase();
        let v = MODHEX.iter().position(|&m| char::from(m) == lower);
        match v {
            Some(v) => nibbles.push(v as u8),
            None => {
                return Err(YubicoError::Modhex {
                    character,
                    position,
                });
            }
        }
    }
    if nibbles.len() % 2 != 0 {
        return Err(YubicoError::Length(nibbles.len()));
    }
    Ok(nibbles.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Encodes bytes as lower-case modhex.
pub fn modhex_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(MODHEX[usize::from(b >> 4)]));
        out.push(char::from(MODHEX[usize::from(b & 0x0f)]));
    }
    out
}

fn hex_decode<const N: usize>(text: &str) -> Result<[u8; N], YubicoError> {
    let err = YubicoError::Hex { expected: N * 2 };
    let t = text.trim();
    if t.len() != N * 2 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err);
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&t[i * 2..i * 2 + 2], 16).map_err(|_| err.clone())?;
    }
    Ok(out)
}

/// A YubiKey's AES-128 secret. `Debug` never shows it; it is wiped on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct AesKey([u8; 16]);

impl AesKey {
    /// Wraps 16 key bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        AesKey(bytes)
    }

    /// Parses 32 hex characters, as `ykpersonalize` prints the key.
    pub fn from_hex(text: &str) -> Result<Self, YubicoError> {
        hex_decode::<16>(text).map(AesKey)
    }

    /// The key bytes. Never log them.
    pub fn expose(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey([redacted])")
    }
}

/// A key's 6-byte private id (the "uid" field), secret like the AES key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PrivateId(pub [u8; 6]);

impl PrivateId {
    /// Parses 12 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, YubicoError> {
        hex_decode::<6>(text).map(PrivateId)
    }
}

impl fmt::Debug for PrivateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateId([redacted])")
    }
}

/// An OTP split into the key's public id and its encrypted token.
#[derive(Clone, PartialEq, Eq)]
pub struct YubicoOtp {
    public_id: Vec<u8>,
    token: [u8; 16],
}

impl YubicoOtp {
    /// Parses an OTP: an even number of modhex characters, 32 to 64 (a public id of 0–16 bytes
    /// and the 32-character token). Upper case, which a key types when Caps Lock is on, is
    /// accepted.
    pub fn parse(text: &str) -> Result<Self, YubicoError> {
        let n = text.chars().count();
        if !(TOKEN_CHARS..=TOKEN_CHARS + MAX_PUBLIC_ID * 2).contains(&n) || !n.is_multiple_of(2) {
            return Err(YubicoError::Length(n));
        }
        let bytes = modhex_decode(text)?;
        let (public_id, token) = bytes.split_at(bytes.len() - 16);
        let mut t = [0u8; 16];
        t.copy_from_slice(token);
        Ok(YubicoOtp {
            public_id: public_id.to_vec(),
            token: t,
        })
    }

    /// The public id bytes (6 on factory-programmed keys).
    pub fn public_id(&self) -> &[u8] {
        &self.public_id
    }

    /// The public id in lower-case modhex: the first 12 characters a key types.
    pub fn public_id_modhex(&self) -> String {
        modhex_encode(&self.public_id)
    }

    /// The whole OTP in canonical lower-case modhex.
    pub fn to_modhex(&self) -> String {
        let mut s = modhex_encode(&self.public_id);
        s.push_str(&modhex_encode(&self.token));
        s
    }

    /// Decrypts the token with `key` and checks its CRC. A wrong key fails the CRC.
    pub fn decrypt(&self, key: &AesKey) -> Result<OtpFields, YubicoError> {
        let cipher = Aes128::new(&(*key.expose()).into());
        let mut block = self.token.into();
        cipher.decrypt_block(&mut block);
        let plain: [u8; 16] = block.into();
        if crc16(&plain) != CRC_RESIDUE {
            return Err(YubicoError::Crc);
        }
        Ok(OtpFields::from_plain(&plain))
    }
}

impl fmt::Debug for YubicoOtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "YubicoOtp {{ public_id: {:?}, token: [redacted] }}",
            self.public_id_modhex()
        )
    }
}

/// The (use counter, session counter) pair that orders a key's OTPs. Derives `Ord`
/// lexicographically: a later plug-in beats any touch of an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counter {
    /// Non-volatile counter, bumped at each power-up (15 bits).
    pub use_counter: u16,
    /// Volatile counter, bumped at each touch within a power-up.
    pub session_counter: u8,
}

impl Counter {
    /// The pair packed into one integer with the same order, for storage and SQL comparisons.
    pub fn packed(self) -> u32 {
        u32::from(self.use_counter) << 8 | u32::from(self.session_counter)
    }

    /// The inverse of [`Counter::packed`].
    pub fn from_packed(v: u32) -> Self {
        Counter {
            use_counter: (v >> 8) as u16,
            session_counter: v as u8,
        }
    }
}

/// The fields of a decrypted token.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpFields {
    /// The private id ("uid").
    pub private_id: PrivateId,
    /// The use counter as stored, including the high "Caps Lock trigger" flag bit.
    pub use_counter_raw: u16,
    /// The 24-bit timestamp (8 Hz ticks since power-up, from a random start).
    pub timestamp: u32,
    /// The session counter.
    pub session_counter: u8,
    /// The random field.
    pub random: u16,
}

impl OtpFields {
    fn from_plain(p: &[u8; 16]) -> Self {
        let mut uid = [0u8; 6];
        uid.copy_from_slice(&p[..6]);
        OtpFields {
            private_id: PrivateId(uid),
            use_counter_raw: u16::from_le_bytes([p[6], p[7]]),
            timestamp: u32::from_le_bytes([p[8], p[9], p[10], 0]),
            session_counter: p[11],
            random: u16::from_le_bytes([p[12], p[13]]),
        }
    }

    /// The replay-ordering counter; the flag bit of the use counter is masked off.
    pub fn counter(&self) -> Counter {
        Counter {
            use_counter: self.use_counter_raw & 0x7fff,
            session_counter: self.session_counter,
        }
    }

    /// Compares the private id with the one the key was programmed with, in constant time.
    pub fn check_private_id(&self, expected: &PrivateId) -> Result<(), YubicoError> {
        if bool::from(self.private_id.0.ct_eq(&expected.0)) {
            Ok(())
        } else {
            Err(YubicoError::PrivateId)
        }
    }

    /// Encrypts these fields into an OTP for `public_id`, as a key would (the CRC is computed).
    /// Twofold uses this to emulate keys in tests and tools; it is the inverse of `decrypt`.
    pub fn encrypt(&self, key: &AesKey, public_id: &[u8]) -> YubicoOtp {
        let mut p = [0u8; 16];
        p[..6].copy_from_slice(&self.private_id.0);
        p[6..8].copy_from_slice(&self.use_counter_raw.to_le_bytes());
        p[8..11].copy_from_slice(&self.timestamp.to_le_bytes()[..3]);
        p[11] = self.session_counter;
        p[12..14].copy_from_slice(&self.random.to_le_bytes());
        let crc = !crc16(&p[..14]);
        p[14..].copy_from_slice(&crc.to_le_bytes());
        let cipher = Aes128::new(&(*key.expose()).into());
        let mut block = p.into();
        cipher.encrypt_block(&mut block);
        YubicoOtp {
            public_id: public_id.to_vec(),
            token: block.into(),
        }
    }
}

impl fmt::Debug for OtpFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpFields")
            .field("counter", &self.counter())
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

/// The CRC-16 of a whole valid token (data plus its stored CRC) is this constant.
const CRC_RESIDUE: u16 = 0xf0b8;

/// CRC-16/ISO-IEC 13239 (reflected polynomial 0x8408, initial 0xffff), as the YubiKey uses.
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xffff;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            let lsb = crc & 1;
            crc >>= 1;
            if lsb != 0 {
                crc ^= 0x8408;
            }
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example OTP from Yubico's documentation; the field values were read back with the
    // independent PyPI `yubiotp` implementation.
    const KEY: &str = "ecde18dbe76fbd0c33330f1c354871db";
    const OTP: &str = "dteffujehknhfjbrjnlnldnhcujvddbikngjrtgh";

    #[test]
    fn modhex_round_trip_and_errors() {
        assert_eq!(modhex_encode(b"test"), "ifhgieif");
        assert_eq!(modhex_decode("ifhgieif").unwrap(), b"test");
        assert_eq!(modhex_decode("IFHGIEIF").unwrap(), b"test");
        assert_eq!(
            modhex_decode("ifa"),
            Err(YubicoError::Modhex {
                character: 'a',
                position: 2
            })
        );
        assert_eq!(modhex_decode("ifh"), Err(YubicoError::Length(3)));
    }

    #[test]
    fn decrypts_the_documented_example() {
        let otp = YubicoOtp::parse(OTP).unwrap();
        assert_eq!(otp.public_id_modhex(), "dteffuje");
        let f = otp.decrypt(&AesKey::from_hex(KEY).unwrap()).unwrap();
        assert_eq!(f.private_id, PrivateId::from_hex("8792ebfe26cc").unwrap());
        assert_eq!(
            f.counter(),
            Counter {
                use_counter: 19,
                session_counter: 17
            }
        );
        assert_eq!(f.timestamp, 0x00c230);
        assert_eq!(f.random, 0x9fc8);
        assert_eq!(otp.to_modhex(), OTP);
    }

    #[test]
    fn encrypt_is_the_inverse_of_decrypt() {
        let key = AesKey::from_hex(KEY).unwrap();
        let fields = OtpFields {
            private_id: PrivateId::from_hex("0102030405ff").unwrap(),
            use_counter_raw: 0x8005,
            timestamp: 0xabcdef,
            session_counter: 9,
            random: 0x1234,
        };
        let otp = fields.encrypt(&key, &[1, 2, 3, 4, 5, 6]);
        let text = otp.to_modhex();
        assert_eq!(text.len(), 44);
        let back = YubicoOtp::parse(&text).unwrap().decrypt(&key).unwrap();
        assert_eq!(back, fields);
        assert_eq!(
            back.counter(),
            Counter {
                use_counter: 5,
                session_counter: 9
            }
        );
    }

    #[test]
    fn wrong_key_flipped_byte_and_private_id_fail() {
        let key = AesKey::from_hex(KEY).unwrap();
        let other = AesKey::from_hex("00000000000000000000000000000000").unwrap();
        let otp = YubicoOtp::parse(OTP).unwrap();
        assert_eq!(otp.decrypt(&other), Err(YubicoError::Crc));
        let mut flipped = OTP.to_owned().into_bytes();
        flipped[20] = if flipped[20] == b'c' { b'b' } else { b'c' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            YubicoOtp::parse(&flipped).unwrap().decrypt(&key),
            Err(YubicoError::Crc)
        );
        let f = otp.decrypt(&key).unwrap();
        assert_eq!(
            f.check_private_id(&PrivateId([0; 6])),
            Err(YubicoError::PrivateId)
        );
        assert!(
            f.check_private_id(&PrivateId::from_hex("8792ebfe26cc").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn length_and_hex_errors() {
        assert_eq!(
            YubicoOtp::parse(&"c".repeat(43)),
            Err(YubicoError::Length(43))
        );
        assert_eq!(
            YubicoOtp::parse(&"c".repeat(30)),
            Err(YubicoError::Length(30))
        );
        assert_eq!(
            YubicoOtp::parse(&"c".repeat(66)),
            Err(YubicoError::Length(66))
        );
        assert!(matches!(
            YubicoOtp::parse(&"x".repeat(44)),
            Err(YubicoError::Modhex { .. })
        ));
        assert_eq!(
            AesKey::from_hex("abc"),
            Err(YubicoError::Hex { expected: 32 })
        );
        assert_eq!(
            PrivateId::from_hex("zz0000000000"),
            Err(YubicoError::Hex { expected: 12 })
        );
    }

    #[test]
    fn counter_order_and_packing() {
        let a = Counter {
            use_counter: 1,
            session_counter: 255,
        };
        let b = Counter {
            use_counter: 2,
            session_counter: 0,
        };
        assert!(a < b);
        assert!(a.packed() < b.packed());
        assert_eq!(Counter::from_packed(b.packed()), b);
    }

    #[test]
    fn debug_hides_secrets() {
        let key = AesKey::from_hex(KEY).unwrap();
        assert!(!format!("{key:?}").contains("ecde"));
        let otp = YubicoOtp::parse(OTP).unwrap();
        assert!(!format!("{otp:?}").contains("ffujehknhf"));
    }
}
