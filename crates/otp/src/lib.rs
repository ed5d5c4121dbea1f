//! One-time passwords for Twofold, with no I/O, no clock and no async.
//!
//! - [`hotp`]: HOTP (RFC 4226) and TOTP (RFC 6238) with SHA-1, SHA-256 and SHA-512, 6 to 8
//!   digits, 64-bit counters and times. Verification returns the matched step or counter so the
//!   caller can record it (replay protection, clock drift).
//! - [`base32`]: RFC 4648 base32, the encoding of authenticator-app secrets.
//! - [`uri`]: `otpauth://` key URIs (the Google Authenticator key-URI format).
//! - [`qr`]: QR codes of key URIs as SVG and PGM (feature `qr`, on by default).
//! - [`yubico`]: Yubico OTP: modhex, AES-128 token decryption, CRC-16 and the counter order.
//! - [`wsapi`]: Yubico validation protocol 2.0 messages and their HMAC-SHA1 signatures.
//! - [`radius`]: RADIUS authentication packets (RFC 2865) with the Message-Authenticator (RFC 3579).
//! - [`webauthn`]: WebAuthn (Level 3) relying-party verification of registrations and assertions.
//!
//! Time and randomness are inputs: every function that needs "now" takes a Unix time, and
//! secret generation takes a caller-supplied source of random bytes.
#![deny(missing_docs)]

pub mod base32;
pub mod hotp;
#[cfg(feature = "qr")]
pub mod qr;
pub mod radius;
pub mod secret;
pub mod text;
pub mod uri;
pub mod webauthn;
pub mod wsapi;
pub mod yubico;

pub use hotp::{Algorithm, Code, Digits, Hotp, Totp, TotpMatch};
pub use secret::Secret;
pub use uri::{KeyUri, OtpKind};
