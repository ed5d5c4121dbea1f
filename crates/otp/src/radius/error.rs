//! The errors of packets and passwords.

/// A datagram that is not a valid RADIUS packet (RFC 2865 §3: silently discarded), or a packet or
/// password that cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// The datagram is shorter than the 20-octet header (its length).
    #[error("the datagram has {0} octets, fewer than the 20 of a RADIUS header")]
    TooShort(usize),
    /// The Length field is below 20.
    #[error("the Length field says {0} octets, fewer than the 20 of a RADIUS header")]
    LengthTooSmall(u16),
    /// The Length field is above 4096.
    #[error("the Length field says {0} octets, more than the 4096 a packet may have")]
    LengthTooLarge(u16),
    /// The Length field is larger than the datagram received.
    #[error("the Length field says {length} octets but the datagram has only {received}")]
    Truncated {
        /// The Length field.
        length: u16,
        /// The datagram's length.
        received: usize,
    },
    /// An attribute's Length is 0 or 1 (it counts the two header octets, so 2 is the least).
    #[error("attribute {ty} has Length {length}, less than 2")]
    AttributeTooShort {
        /// The attribute's type.
        ty: u8,
        /// Its Length field.
        length: u8,
    },
    /// An attribute (or its header) runs past the end of the packet.
    #[error("attribute {ty} runs past the end of the packet")]
    AttributeOverrun {
        /// The attribute's type.
        ty: u8,
    },
    /// The packet has more than one Message-Authenticator.
    #[error("the packet has more than one Message-Authenticator")]
    DuplicateMessageAuthenticator,
    /// A Message-Authenticator's Length is not 18 (its Length field).
    #[error("the Message-Authenticator has Length {0}, not 18")]
    MessageAuthenticatorLength(u8),
    /// A hidden User-Password's length is not a multiple of 16 from 16 to 128 (its length).
    #[error("the hidden User-Password has {0} octets, not a multiple of 16 from 16 to 128")]
    HiddenPasswordLength(usize),
    /// A password to hide is longer than 128 octets (its length).
    #[error("the password has {0} octets, more than the 128 RADIUS can carry")]
    PasswordTooLong(usize),
    /// An attribute value to encode is longer than 253 octets.
    #[error("the value of attribute {ty} has {len} octets, more than the 253 an attribute holds")]
    AttributeTooLong {
        /// The attribute's type.
        ty: u8,
        /// The value's length.
        len: usize,
    },
    /// The packet to encode would be longer than 4096 octets (its length).
    #[error("the packet would have {0} octets, more than the 4096 a packet may have")]
    PacketTooLong(usize),
    /// An attribute the encoder adds itself was given: Message-Authenticator, or Proxy-State in
    /// an answer (the request's are copied).
    #[error("attribute {0} is added by the encoder and may not be given")]
    ReservedAttribute(u8),
}
