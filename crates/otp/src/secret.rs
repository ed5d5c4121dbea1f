//! The shared secret of an HOTP/TOTP factor: bytes that never print and are wiped on drop.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::base32;

/// The number of bytes [`Secret::generate`] draws: 160 bits, the length RFC 4226 §4
/// recommends and every authenticator app accepts.
pub const DEFAULT_SECRET_LEN: usize = 20;

/// An HOTP/TOTP shared secret (the HMAC key).
///
/// Its `Debug` form shows only the length, and the bytes are zeroed when it is dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Secret(Vec<u8>);

/// Why bytes or text could not become a [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The secret has no bytes.
    #[error("the secret is empty")]
    Empty,
    /// The text is not RFC 4648 base32.
    #[error("the secret is not valid base32: {0}")]
    Base32(#[from] base32::Base32Error),
}

impl Secret {
    /// Wraps raw key bytes; at least one byte.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretError> {
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Secret(bytes))
    }

    /// Decodes base32 text (upper or lower case, with or without padding).
    pub fn from_base32(text: &str) -> Result<Self, SecretError> {
        Self::from_bytes(base32::decode(text)?)
    }

    /// Draws a new 160-bit secret from `fill`, which must write random bytes into the slice it is
    /// given (for example the operating system's CSPRNG).
    pub fn generate(fill: impl FnOnce(&mut [u8])) -> Self {
        Self::generate_len(DEFAULT_SECRET_LEN, fill)
    }

    /// Draws a secret of `len` bytes (at least one) from `fill`.
    pub fn generate_len(len: usize, fill: impl FnOnce(&mut [u8])) -> Self {
        let mut bytes = vec![0u8; len.max(1)];
        fill(&mut bytes);
        Secret(bytes)
    }

    /// The key bytes. Handle with care: never log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as unpadded upper-case base32, as authenticator apps show it.
    pub fn to_base32(&self) -> String {
        base32::encode(&self.0, false)
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a secret has at least one byte. Present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([redacted; {} bytes])", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_bytes() {
        let s = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secret([redacted; 20 bytes])");
        assert!(!shown.contains("1234"));
    }

    #[test]
    fn empty_is_refused() {
        assert_eq!(Secret::from_bytes(vec![]), Err(SecretError::Empty));
        assert_eq!(Secret::from_base32(""), Err(SecretError::Empty));
    }

    #[test]
    fn generate_uses_the_source_and_default_length() {
        let s = Secret::generate(|b| b.fill(7));
        assert_eq!(s.expose(), &[7u8; 20]);
        assert_eq!(Secret::generate_len(0, |b| b.fill(1)).len(), 1);
    }
}
