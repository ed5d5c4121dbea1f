//! Building requests and answers.

use hmac::Mac;
use md5::{Digest, Md5};

use super::{
    Code, HEADER_LEN, MAX_ATTRIBUTE_VALUE, MAX_PACKET, Packet, PacketError, attr,
    encode_user_password, hmac_md5,
};

/// Where a Message-Authenticator placed first puts its value.
const FIRST_MA_VALUE: usize = HEADER_LEN + 2;

/// Builds the answer to `request`, signed with the client's `secret`:
///
/// 1. a Message-Authenticator, first (RFC 3579; the BlastRADIUS hardening);
/// 2. `attributes`, in order (a Reply-Message longer than 253 octets is split by the caller, with
///    [`reply_messages`]);
/// 3. every Proxy-State of the request, unchanged and in order (RFC 2865 §5.33);
///
/// with the request's Identifier and the Response Authenticator of RFC 2865 §3.
///
/// # Errors
///
/// A value longer than 253 octets, a packet longer than 4096, or a Message-Authenticator or
/// Proxy-State among `attributes` (they are added here) — [`PacketError::ReservedAttribute`].
pub fn encode_response(
    code: Code,
    request: &Packet<'_>,
    attributes: &[(u8, &[u8])],
    secret: &[u8],
) -> Result<Vec<u8>, PacketError> {
    response(code, request, attributes, secret, true)
}

/// [`encode_response`], with the Message-Authenticator left out when `message_authenticator` is
/// false (only to reproduce answers of the RFC's examples, which predate it).
pub(super) fn response(
    code: Code,
    request: &Packet<'_>,
    attributes: &[(u8, &[u8])],
    secret: &[u8],
    message_authenticator: bool,
) -> Result<Vec<u8>, PacketError> {
    if let Some((ty, _)) = attributes
        .iter()
        .find(|(ty, _)| *ty == attr::MESSAGE_AUTHENTICATOR || *ty == attr::PROXY_STATE)
    {
        return Err(PacketError::ReservedAttribute(*ty));
    }
    let mut packet = start(
        code,
        request.identifier,
        &request.authenticator,
        message_authenticator,
    );
    for (ty, value) in attributes {
        push(&mut packet, *ty, value)?;
    }
    for (ty, value) in request.attributes() {
        if ty == attr::PROXY_STATE {
            push(&mut packet, ty, value)?;
        }
    }
    finish(&mut packet, message_authenticator, secret)?;
    // The Response Authenticator: MD5 over the packet with the Request Authenticator still in
    // place, then the secret.
    let mut md5 = Md5::new();
    md5.update(&packet);
    md5.update(secret);
    packet[4..HEADER_LEN].copy_from_slice(&md5.finalize());
    Ok(packet)
}

/// Builds an Access-Request with the given Identifier, Request Authenticator (16 random octets
/// in real use) and `attributes` in order. A User-Password is given in clear and hidden here
/// ([`encode_user_password`](super::encode_user_password)). With `message_authenticator`, a
/// Message-Authenticator is added first.
///
/// # Errors
///
/// A password longer than 128 octets, a value longer than 253, a packet longer than 4096, or a
/// Message-Authenticator among `attributes` ([`PacketError::ReservedAttribute`]).
pub fn encode_request(
    identifier: u8,
    authenticator: &[u8; 16],
    attributes: &[(u8, &[u8])],
    secret: &[u8],
    message_authenticator: bool,
) -> Result<Vec<u8>, PacketError> {
    if attributes
        .iter()
        .any(|(ty, _)| *ty == attr::MESSAGE_AUTHENTICATOR)
    {
        return Err(PacketError::ReservedAttribute(attr::MESSAGE_AUTHENTICATOR));
    }
    let mut packet = start(
        Code::AccessRequest,
        identifier,
        authenticator,
        message_authenticator,
    );
    for (ty, value) in attributes {
        if *ty == attr::USER_PASSWORD {
            let hidden = encode_user_password(value, secret, authenticator)?;
            push(&mut packet, *ty, &hidden)?;
        } else {
            push(&mut packet, *ty, value)?;
        }
    }
    finish(&mut packet, message_authenticator, secret)?;
    Ok(packet)
}

/// Splits `text` into Reply-Message values of at most 253 octets, on character boundaries; none
/// for an empty text (a Reply-Message holds at least one octet).
#[must_use]
pub fn reply_messages(text: &str) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(MAX_ATTRIBUTE_VALUE);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (value, after) = rest.split_at(cut);
        values.push(value.as_bytes().to_vec());
        rest = after;
    }
    values
}

/// The header (Length filled in by [`finish`]) and, if asked, a zeroed Message-Authenticator.
fn start(code: Code, identifier: u8, authenticator: &[u8; 16], ma: bool) -> Vec<u8> {
    let mut packet = Vec::with_capacity(256);
    packet.extend_from_slice(&[u8::from(code), identifier, 0, 0]);
    packet.extend_from_slice(authenticator);
    if ma {
        packet.extend_from_slice(&[attr::MESSAGE_AUTHENTICATOR, 18]);
        packet.extend_from_slice(&[0u8; 16]);
    }
    packet
}

fn push(packet: &mut Vec<u8>, ty: u8, value: &[u8]) -> Result<(), PacketError> {
    let length = u8::try_from(value.len() + 2)
        .ok()
        .filter(|_| value.len() <= MAX_ATTRIBUTE_VALUE)
        .ok_or(PacketError::AttributeTooLong {
            ty,
            len: value.len(),
        })?;
    packet.extend_from_slice(&[ty, length]);
    packet.extend_from_slice(value);
    Ok(())
}

/// Fills in the Length and, if present, the Message-Authenticator (HMAC-MD5 over the packet as
/// it stands, the Message-Authenticator's value zero).
fn finish(packet: &mut [u8], ma: bool, secret: &[u8]) -> Result<(), PacketError> {
    let length = u16::try_from(packet.len())
        .ok()
        .filter(|_| packet.len() <= MAX_PACKET)
        .ok_or(PacketError::PacketTooLong(packet.len()))?;
    packet[2..4].copy_from_slice(&length.to_be_bytes());
    if ma {
        let mut mac = hmac_md5(secret);
        mac.update(packet);
        let value = mac.finalize().into_bytes();
        packet[FIRST_MA_VALUE..FIRST_MA_VALUE + 16].copy_from_slice(&value);
    }
    Ok(())
}
