//! Parsing a datagram, reading its attributes, checking its authenticators.

use std::fmt;

use hmac::Mac;
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

use super::{Code, HEADER_LEN, MAX_PACKET, MIN_PACKET, PacketError, attr, digest16, hmac_md5};

/// The Length of a Message-Authenticator attribute: 2 header octets and 16 of HMAC-MD5.
const MESSAGE_AUTHENTICATOR_LEN: u8 = 18;

/// A parsed packet, borrowing the datagram.
///
/// [`Packet::parse`] has checked its structure, so the accessors cannot fail. Its `Debug` shows
/// the header and the attribute types, never their values.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The Code.
    pub code: Code,
    /// The Identifier, which pairs an answer with its request.
    pub identifier: u8,
    /// The Authenticator: the Request Authenticator of a request, the Response Authenticator of
    /// an answer.
    pub authenticator: [u8; 16],
    /// The packet, cut to its Length (no padding).
    raw: &'a [u8],
    /// The offset in `raw` of the Message-Authenticator's 16-octet value, if it has one.
    message_authenticator: Option<usize>,
}

impl fmt::Debug for Packet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let types: Vec<u8> = self.attributes().map(|(ty, _)| ty).collect();
        f.debug_struct("Packet")
            .field("code", &self.code)
            .field("identifier", &self.identifier)
            .field("length", &self.raw.len())
            .field("attribute_types", &types)
            .finish_non_exhaustive()
    }
}

impl<'a> Packet<'a> {
    /// Parses a datagram (RFC 2865 §3).
    ///
    /// # Errors
    ///
    /// A datagram shorter than 20 octets, a Length field below 20, above 4096 or beyond the
    /// datagram, an attribute with a Length below 2 or running past Length, more than one
    /// Message-Authenticator, or one whose Length is not 18. The RFC's answer to each is to drop
    /// the datagram silently. Octets beyond Length are padding and ignored. Any Code is accepted
    /// ([`Code::Other`]); which to serve is the caller's choice.
    pub fn parse(datagram: &'a [u8]) -> Result<Packet<'a>, PacketError> {
        let (Some(&code), Some(&identifier), Some(length_field), Some(authenticator)) = (
            datagram.first(),
            datagram.get(1),
            datagram.get(2..4),
            datagram.get(4..HEADER_LEN),
        ) else {
            return Err(PacketError::TooShort(datagram.len()));
        };
        let length = u16::from_be_bytes([length_field[0], length_field[1]]);
        if usize::from(length) < MIN_PACKET {
            return Err(PacketError::LengthTooSmall(length));
        }
        if usize::from(length) > MAX_PACKET {
            return Err(PacketError::LengthTooLarge(length));
        }
        let Some(raw) = datagram.get(..usize::from(length)) else {
            return Err(PacketError::Truncated {
                length,
                received: datagram.len(),
            });
        };

        let mut message_authenticator = None;
        let mut at = HEADER_LEN;
        while at < raw.len() {
            let ty = raw[at];
            let Some(&attribute_length) = raw.get(at + 1) else {
                return Err(PacketError::AttributeOverrun { ty });
            };
            if attribute_length < 2 {
                return Err(PacketError::AttributeTooShort {
                    ty,
                    length: attribute_length,
                });
            }
            let end = at + usize::from(attribute_length);
            if end > raw.len() {
                return Err(PacketError::AttributeOverrun { ty });
            }
            if ty == attr::MESSAGE_AUTHENTICATOR {
                if message_authenticator.is_some() {
                    return Err(PacketError::DuplicateMessageAuthenticator);
                }
                if attribute_length != MESSAGE_AUTHENTICATOR_LEN {
                    return Err(PacketError::MessageAuthenticatorLength(attribute_length));
                }
                message_authenticator = Some(at + 2);
            }
            at = end;
        }

        let mut auth = [0u8; 16];
        auth.copy_from_slice(authenticator);
        Ok(Packet {
            code: Code::from(code),
            identifier,
            authenticator: auth,
            raw,
            message_authenticator,
        })
    }

    /// The packet's octets, cut to its Length (padding left out).
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// Every attribute as `(type, value)`, in the order of the packet.
    #[must_use]
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            rest: self.raw.get(HEADER_LEN..).unwrap_or_default(),
        }
    }

    /// The value of the first attribute of type `ty`.
    #[must_use]
    pub fn attribute(&self, ty: u8) -> Option<&'a [u8]> {
        self.attributes().find(|(t, _)| *t == ty).map(|(_, v)| v)
    }

    /// How many attributes of type `ty` the packet has.
    #[must_use]
    pub fn count(&self, ty: u8) -> usize {
        self.attributes().filter(|(t, _)| *t == ty).count()
    }

    /// Whether the packet has a Message-Authenticator (it has at most one: [`Packet::parse`]
    /// refuses two).
    #[must_use]
    pub fn has_message_authenticator(&self) -> bool {
        self.message_authenticator.is_some()
    }

    /// Checks a request's Message-Authenticator (RFC 3579 §3.2):
    /// `HMAC-MD5(secret, packet with the Message-Authenticator's value zeroed)`, compared in
    /// constant time. `None` if the packet has none; `Some(false)` for a wrong secret or a
    /// changed octet.
    #[must_use]
    pub fn message_authenticator_valid(&self, secret: &[u8]) -> Option<bool> {
        let offset = self.message_authenticator?;
        let expected = self.hmac_with(None, secret);
        Some(self.message_authenticator_matches(offset, &expected))
    }

    /// Checks an answer to a request whose Request Authenticator was `request_authenticator`:
    /// its Response Authenticator,
    /// `MD5(Code | Identifier | Length | Request Authenticator | Attributes | secret)`, and, if it
    /// has one, its Message-Authenticator (HMAC-MD5 with the Request Authenticator in the
    /// Authenticator field). Constant-time comparisons. The caller checks the Identifier and
    /// whether a Message-Authenticator is required.
    #[must_use]
    pub fn response_valid(&self, request_authenticator: &[u8; 16], secret: &[u8]) -> bool {
        let mut md5 = Md5::new();
        md5.update(&self.raw[..4]);
        md5.update(request_authenticator);
        md5.update(&self.raw[HEADER_LEN..]);
        md5.update(secret);
        let expected = digest16(&md5.finalize());
        let response_ok = bool::from(expected.ct_eq(&self.authenticator));
        let ma_ok = match self.message_authenticator {
            None => true,
            Some(offset) => {
                let expected = self.hmac_with(Some(request_authenticator), secret);
                self.message_authenticator_matches(offset, &expected)
            }
        };
        response_ok & ma_ok
    }

    /// HMAC-MD5 of the packet with the Message-Authenticator's value zeroed, and the
    /// Authenticator field replaced by `authenticator` when given.
    fn hmac_with(&self, authenticator: Option<&[u8; 16]>, secret: &[u8]) -> [u8; 16] {
        let mut mac = hmac_md5(secret);
        match authenticator {
            Some(auth) => {
                mac.update(&self.raw[..4]);
                mac.update(auth);
            }
            None => mac.update(&self.raw[..HEADER_LEN]),
        }
        match self.message_authenticator {
            Some(offset) => {
                mac.update(&self.raw[HEADER_LEN..offset]);
                mac.update(&[0u8; 16]);
                mac.update(&self.raw[offset + 16..]);
            }
            None => mac.update(&self.raw[HEADER_LEN..]),
        }
        digest16(&mac.finalize().into_bytes())
    }

    fn message_authenticator_matches(&self, offset: usize, expected: &[u8; 16]) -> bool {
        match self.raw.get(offset..offset + 16) {
            Some(given) => bool::from(given.ct_eq(expected)),
            None => false,
        }
    }
}

/// The attributes of a [`Packet`], as `(type, value)` in order ([`Packet::attributes`]).
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attributes<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (&ty, after) = self.rest.split_first()?;
        let length = usize::from(*after.first()?);
        // Checked by `Packet::parse`; stop rather than panic should it not hold.
        let (Some(value), Some(rest)) = (self.rest.get(2..length), self.rest.get(length..)) else {
            self.rest = &[];
            return None;
        };
        self.rest = rest;
        Some((ty, value))
    }
}
