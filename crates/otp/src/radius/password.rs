//! The hidden User-Password (RFC 2865 §5.2).

use md5::{Digest, Md5};
use zeroize::{Zeroize, Zeroizing};

use super::{MAX_PASSWORD, PacketError, digest16};

/// The keystream block `MD5(secret | previous)`: `previous` is the Request Authenticator for the
/// first block, then the previous 16 hidden octets.
fn keystream(secret: &[u8], previous: &[u8]) -> Zeroizing<[u8; 16]> {
    let mut md5 = Md5::new();
    md5.update(secret);
    md5.update(previous);
    let mut digest = md5.finalize();
    let block = Zeroizing::new(digest16(&digest));
    digest.as_mut_slice().zeroize();
    block
}

/// Reveals a hidden User-Password: each 16 octets XOR `MD5(secret | previous)`, where `previous`
/// is the Request Authenticator, then the previous 16 hidden octets. Trailing NULs (the padding)
/// are stripped.
///
/// A wrong secret gives other bytes, not an error: the caller compares the result with what it
/// expects.
///
/// # Errors
///
/// [`PacketError::HiddenPasswordLength`] unless the hidden value's length is a multiple of 16
/// from 16 to 128.
pub fn decode_user_password(
    hidden: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Zeroizing<Vec<u8>>, PacketError> {
    if hidden.is_empty() || !hidden.len().is_multiple_of(16) || hidden.len() > MAX_PASSWORD {
        return Err(PacketError::HiddenPasswordLength(hidden.len()));
    }
    let mut password = Zeroizing::new(Vec::with_capacity(hidden.len()));
    let mut previous: &[u8] = request_authenticator;
    for chunk in hidden.chunks(16) {
        let key = keystream(secret, previous);
        password.extend(chunk.iter().zip(key.iter()).map(|(c, k)| c ^ k));
        previous = chunk;
    }
    while password.last() == Some(&0) {
        password.pop();
    }
    Ok(password)
}

/// Hides a password for a User-Password attribute: padded with NULs to a multiple of 16 (at
/// least 16), then each 16 octets XOR `MD5(secret | previous)`, where `previous` is the Request
/// Authenticator, then the previous 16 hidden octets.
///
/// # Errors
///
/// [`PacketError::PasswordTooLong`] for a password of more than 128 octets.
pub fn encode_user_password(
    password: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Vec<u8>, PacketError> {
    if password.len() > MAX_PASSWORD {
        return Err(PacketError::PasswordTooLong(password.len()));
    }
    let padded_len = password.len().div_ceil(16).max(1) * 16;
    let mut hidden = Vec::with_capacity(padded_len);
    let mut previous = *request_authenticator;
    for block in 0..padded_len / 16 {
        let key = keystream(secret, &previous);
        for (i, k) in key.iter().enumerate() {
            let clear = password.get(block * 16 + i).copied().unwrap_or(0);
            previous[i] = clear ^ k;
        }
        hidden.extend_from_slice(&previous);
    }
    Ok(hidden)
}
