//! Authenticator data (WebAuthn §6.1): the bytes the authenticator signs.
//!
//! `rpIdHash (32) | flags (1) | signCount (4, big-endian)`, then attested credential data if
//! flag AT is set — `aaguid (16) | credentialIdLength (2, big-endian) | credentialId |
//! credentialPublicKey (a COSE_Key in CBOR)` — then an extensions CBOR map if flag ED is set.
//! Nothing may follow.

use super::WebauthnError;
use super::cbor::{self, Value};

/// The longest credential ID (WebAuthn §5.8.3 bounds it at 1023 bytes).
pub const MAX_CREDENTIAL_ID: usize = 1023;

/// Flag bit: user present.
pub(crate) const UP: u8 = 1 << 0;
/// Flag bit: user verified.
pub(crate) const UV: u8 = 1 << 2;
/// Flag bit: backup eligible.
pub(crate) const BE: u8 = 1 << 3;
/// Flag bit: backed up.
pub(crate) const BS: u8 = 1 << 4;
/// Flag bit: attested credential data included.
pub(crate) const AT: u8 = 1 << 6;
/// Flag bit: extension data included.
pub(crate) const ED: u8 = 1 << 7;

/// Parsed authenticator data, borrowing from the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthenticatorData<'a> {
    pub(crate) rp_id_hash: &'a [u8],
    pub(crate) flags: u8,
    pub(crate) sign_count: u32,
    pub(crate) credential: Option<AttestedCredential<'a>>,
}

/// The attested credential data of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttestedCredential<'a> {
    pub(crate) aaguid: [u8; 16],
    pub(crate) id: &'a [u8],
    /// The COSE_Key exactly as encoded, its extent found by decoding it.
    pub(crate) public_key: &'a [u8],
}

impl AuthenticatorData<'_> {
    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

const TRUNCATED: WebauthnError = WebauthnError::Malformed("truncated authenticator data");

/// Splits `n` bytes off the front of `rest`.
fn split<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], WebauthnError> {
    let (head, tail) = rest.split_at_checked(n).ok_or(TRUNCATED)?;
    *rest = tail;
    Ok(head)
}

/// Parses authenticator data; every byte must be accounted for.
pub(crate) fn parse(bytes: &[u8]) -> Result<AuthenticatorData<'_>, WebauthnError> {
    let mut rest = bytes;
    let rp_id_hash = split(&mut rest, 32)?;
    let [flags] = *split(&mut rest, 1)? else {
        return Err(TRUNCATED);
    };
    let sign_count = u32::from_be_bytes(split(&mut rest, 4)?.try_into().map_err(|_| TRUNCATED)?);
    if flags & BS != 0 && flags & BE == 0 {
        return Err(WebauthnError::Malformed(
            "backed up but not backup eligible",
        ));
    }
    let credential = if flags & AT != 0 {
        let aaguid = split(&mut rest, 16)?.try_into().map_err(|_| TRUNCATED)?;
        let len = u16::from_be_bytes(split(&mut rest, 2)?.try_into().map_err(|_| TRUNCATED)?);
        let len = usize::from(len);
        if len == 0 || len > MAX_CREDENTIAL_ID {
            return Err(WebauthnError::Malformed(
                "credential ID length out of range",
            ));
        }
        let id = split(&mut rest, len)?;
        let (key, used) = cbor::decode_prefix(rest)?;
        if !matches!(key, Value::Map(_)) {
            return Err(WebauthnError::Malformed(
                "credential public key is not a map",
            ));
        }
        let public_key = split(&mut rest, used)?;
        Some(AttestedCredential {
            aaguid,
            id,
            public_key,
        })
    } else {
        None
    };
    if flags & ED != 0 {
        // Extension outputs are not used, only checked to be a map so their extent is known.
        let (extensions, used) = cbor::decode_prefix(rest)?;
        if !matches!(extensions, Value::Map(_)) {
            return Err(WebauthnError::Malformed("extensions are not a map"));
        }
        split(&mut rest, used)?;
    }
    if !rest.is_empty() {
        return Err(WebauthnError::Malformed(
            "trailing bytes after authenticator data",
        ));
    }
    Ok(AuthenticatorData {
        rp_id_hash,
        flags,
        sign_count,
        credential,
    })
}
