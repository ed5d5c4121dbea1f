//! RADIUS authentication packets (RFC 2865) with the Message-Authenticator of RFC 3579.
//!
//! Both sides, as pure functions over byte slices: a **server** parses a datagram with
//! [`Packet::parse`], checks its Message-Authenticator with
//! [`Packet::message_authenticator_valid`], reveals the password with
//! [`decode_user_password`] and answers with the bytes of [`encode_response`]; a **client** (a
//! load generator, a test) builds a request with [`encode_request`] and checks the answer with
//! [`Packet::response_valid`].
//!
//! # The protocol, in short
//!
//! A packet is a 20-octet header — Code, Identifier, Length (big-endian, 20 to 4096) and a
//! 16-octet Authenticator — followed by attributes, each Type, Length (2 to 255, the two header
//! octets included) and Value. Octets past Length are padding and ignored.
//!
//! - An Access-Request's Authenticator is 16 random octets (the Request Authenticator). The
//!   User-Password is hidden under it: XOR with `MD5(secret | Request Authenticator)`, then with
//!   `MD5(secret | previous 16 hidden octets)`, over the password padded with NULs to a multiple
//!   of 16 (§5.2).
//! - An answer's Authenticator is the Response Authenticator,
//!   `MD5(Code | Identifier | Length | Request Authenticator | Attributes | secret)` (§3).
//! - The Message-Authenticator (attribute 80, RFC 3579 §3.2) is
//!   `HMAC-MD5(secret, packet)` with its own value zeroed; in an answer the Authenticator field
//!   holds the Request Authenticator while it is computed, and the Response Authenticator is
//!   computed after it, over its value.
//!
//! # Hardening
//!
//! Every answer built here carries a Message-Authenticator as its **first** attribute, and so
//! does a request built with `message_authenticator: true`: an attacker who can forge MD5
//! chosen-prefix collisions on the Response Authenticator (BlastRADIUS, CVE-2024-3596) cannot
//! also forge the HMAC. Requiring one in requests is the server's choice
//! ([`Packet::has_message_authenticator`]). Comparisons of authenticators are constant-time.
//!
//! What is left to the server: which clients may speak (their addresses and secrets), which codes
//! and attributes it accepts, and duplicate detection (RFC 5080).

use hmac::{Hmac, KeyInit};

mod encode;
mod error;
mod packet;
mod password;
#[cfg(test)]
mod tests;

pub use encode::{encode_request, encode_response, reply_messages};
pub use error::PacketError;
pub use packet::{Attributes, Packet};
pub use password::{decode_user_password, encode_user_password};

/// The longest packet (RFC 2865 §3).
pub const MAX_PACKET: usize = 4096;
/// The shortest packet: the header alone.
pub const MIN_PACKET: usize = 20;
/// The length of the header: Code, Identifier, Length and Authenticator.
pub const HEADER_LEN: usize = 20;
/// The longest attribute value (an attribute's Length octet counts its 2 header octets too).
pub const MAX_ATTRIBUTE_VALUE: usize = 253;
/// The longest User-Password in clear (RFC 2865 §5.2).
pub const MAX_PASSWORD: usize = 128;

/// The Code of a packet (RFC 2865 §3; the authentication ones by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// 1: Access-Request.
    AccessRequest,
    /// 2: Access-Accept.
    AccessAccept,
    /// 3: Access-Reject.
    AccessReject,
    /// 11: Access-Challenge.
    AccessChallenge,
    /// Any other code (accounting, Status-Server, CoA…). [`Code::from`] never gives `Other` of
    /// 1, 2, 3 or 11.
    Other(u8),
}

impl From<u8> for Code {
    fn from(code: u8) -> Self {
        match code {
            1 => Code::AccessRequest,
            2 => Code::AccessAccept,
            3 => Code::AccessReject,
            11 => Code::AccessChallenge,
            other => Code::Other(other),
        }
    }
}

impl From<Code> for u8 {
    fn from(code: Code) -> Self {
        match code {
            Code::AccessRequest => 1,
            Code::AccessAccept => 2,
            Code::AccessReject => 3,
            Code::AccessChallenge => 11,
            Code::Other(other) => other,
        }
    }
}

/// Attribute types (RFC 2865 §5, RFC 3162, RFC 3579).
pub mod attr {
    /// User-Name: the user's name as the client sent it (text).
    pub const USER_NAME: u8 = 1;
    /// User-Password: the hidden password (see [`decode_user_password`](super::decode_user_password)).
    pub const USER_PASSWORD: u8 = 2;
    /// NAS-IP-Address: the client's IPv4 address (4 octets).
    pub const NAS_IP_ADDRESS: u8 = 4;
    /// NAS-Port: the client's port number (4 octets, big-endian).
    pub const NAS_PORT: u8 = 5;
    /// Reply-Message: text shown to the user (see [`reply_messages`](super::reply_messages)).
    pub const REPLY_MESSAGE: u8 = 18;
    /// State: opaque octets of an Access-Challenge, sent back in the next Access-Request.
    pub const STATE: u8 = 24;
    /// Calling-Station-Id: where the user calls from (a phone number, a MAC or IP address).
    pub const CALLING_STATION_ID: u8 = 31;
    /// NAS-Identifier: the client's name for itself (text).
    pub const NAS_IDENTIFIER: u8 = 32;
    /// Proxy-State: a proxy's opaque octets, copied into the answer unchanged and in order.
    pub const PROXY_STATE: u8 = 33;
    /// Message-Authenticator: HMAC-MD5 over the packet (16 octets, RFC 3579 §3.2).
    pub const MESSAGE_AUTHENTICATOR: u8 = 80;
    /// NAS-IPv6-Address: the client's IPv6 address (16 octets, RFC 3162).
    pub const NAS_IPV6_ADDRESS: u8 = 95;
}

// --- MD5 and HMAC-MD5 ---------------------------------------------------------------------------

/// HMAC-MD5 keyed with the shared secret.
fn hmac_md5(secret: &[u8]) -> Hmac<md5::Md5> {
    match <Hmac<md5::Md5> as KeyInit>::new_from_slice(secret) {
        Ok(m) => m,
        // Unreachable: HMAC takes keys of any length. An all-zero key rather than a panic.
        Err(_) => <Hmac<md5::Md5> as KeyInit>::new(&Default::default()),
    }
}

/// Copies a 16-octet digest into an array.
fn digest16(digest: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, d) in out.iter_mut().zip(digest) {
        *o = *d;
    }
    out
}
