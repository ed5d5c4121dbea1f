//! COSE public keys (RFC 9052 §7, RFC 9053, RFC 8230) and the signature checks under them.
//!
//! Three shapes are accepted, each only with its own algorithm:
//! - EC2 (kty 2) on P-256 (crv 1) with 32-byte x and y, alg ES256 (-7);
//! - OKP (kty 1) on Ed25519 (crv 6) with a 32-byte x, alg EdDSA (-8);
//! - RSA (kty 3) with a 2048- to 8192-bit n and an e, alg RS256 (-257).
//!
//! Parsing hands the key to AWS-LC at once, so a P-256 point off the curve or an inconsistent RSA
//! key is refused at registration, not at the first sign-in.

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};

use super::cbor::{self, Value};
use super::{ALGORITHMS, EDDSA, ES256, RS256, WebauthnError};

// COSE key parameter labels.
const KTY: i128 = 1;
const ALG: i128 = 3;
const CRV_OR_N: i128 = -1;
const X_OR_E: i128 = -2;
const Y: i128 = -3;

const KTY_OKP: i128 = 1;
const KTY_EC2: i128 = 2;
const KTY_RSA: i128 = 3;
const CRV_P256: i128 = 1;
const CRV_ED25519: i128 = 6;

const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 8192;

/// A credential public key ready to check signatures.
#[derive(Debug)]
pub(crate) struct PublicKey {
    pub(crate) algorithm: i64,
    key: ParsedPublicKey,
}

impl PublicKey {
    /// Parses a COSE_Key (the whole of `bytes`) and has AWS-LC accept it.
    pub(crate) fn from_cose(bytes: &[u8]) -> Result<Self, WebauthnError> {
        let map = cbor::decode(bytes)?;
        if !matches!(map, Value::Map(_)) {
            return Err(WebauthnError::Malformed("COSE key is not a map"));
        }
        let int = |label, what| match map.get_int(label) {
            Some(Value::Int(n)) => Ok(*n),
            _ => Err(WebauthnError::Malformed(what)),
        };
        let bytes = |label, what| match map.get_int(label) {
            Some(Value::Bytes(b)) => Ok(*b),
            _ => Err(WebauthnError::Malformed(what)),
        };
        let kty = int(KTY, "COSE key has no kty")?;
        let alg = int(ALG, "COSE key has no alg")?;
        let algorithm =
            i64::try_from(alg).map_err(|_| WebauthnError::Malformed("COSE alg out of range"))?;
        if !ALGORITHMS.contains(&algorithm) {
            return Err(WebauthnError::UnsupportedAlgorithm(algorithm));
        }
        let rejected = |_| WebauthnError::BadPublicKey("refused by the crypto library");
        let key = match algorithm {
            ES256 => {
                if kty != KTY_EC2 || int(CRV_OR_N, "EC2 key has no crv")? != CRV_P256 {
                    return Err(WebauthnError::BadPublicKey(
                        "ES256 needs an EC2 key on P-256",
                    ));
                }
                let x = bytes(X_OR_E, "EC2 key has no x")?;
                let y = bytes(Y, "EC2 key has no y")?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(WebauthnError::BadPublicKey(
                        "P-256 coordinates are not 32 bytes",
                    ));
                }
                let point = [&[0x04], x, y].concat();
                ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point)
                    .map_err(|_| WebauthnError::BadPublicKey("P-256 point is not on the curve"))?
            }
            EDDSA => {
                if kty != KTY_OKP || int(CRV_OR_N, "OKP key has no crv")? != CRV_ED25519 {
                    return Err(WebauthnError::BadPublicKey(
                        "EdDSA needs an OKP key on Ed25519",
                    ));
                }
                let x = bytes(X_OR_E, "OKP key has no x")?;
                if x.len() != 32 {
                    return Err(WebauthnError::BadPublicKey("Ed25519 key is not 32 bytes"));
                }
                ParsedPublicKey::new(&signature::ED25519, x).map_err(rejected)?
            }
            RS256 => {
                if kty != KTY_RSA {
                    return Err(WebauthnError::BadPublicKey("RS256 needs an RSA key"));
                }
                let n = strip_zeros(bytes(CRV_OR_N, "RSA key has no n")?);
                let e = strip_zeros(bytes(X_OR_E, "RSA key has no e")?);
                if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bit_length(n)) {
                    return Err(WebauthnError::BadPublicKey(
                        "RSA modulus is not 2048 to 8192 bits",
                    ));
                }
                if e.is_empty() || e.len() > 4 {
                    return Err(WebauthnError::BadPublicKey("RSA exponent out of range"));
                }
                RsaPublicKeyComponents { n, e }
                    .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
                    .map_err(rejected)?
            }
            other => return Err(WebauthnError::UnsupportedAlgorithm(other)),
        };
        Ok(PublicKey { algorithm, key })
    }

    /// Checks `signature` over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), WebauthnError> {
        self.key
            .verify_sig(message, signature)
            .map_err(|_| WebauthnError::BadSignature)
    }
}

/// Big-endian integers may carry leading zero bytes; AWS-LC wants them without.
fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// The bit length of a big-endian integer without leading zero bytes.
fn bit_length(n: &[u8]) -> usize {
    match n.first() {
        Some(&top) => n.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}
