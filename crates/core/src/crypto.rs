//! The cryptography of the core: sealing secrets at rest, password hashes, lookup hashes for
//! backup codes and API tokens, and the randomness port.
//!
//! Sealing is XChaCha20-Poly1305 under a key derived from the master key, with a random 24-byte
//! nonce and the row the value belongs to as associated data, so a sealed value copied into another
//! row (or another setting) no longer opens.

use std::fmt;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A source of cryptographically secure random bytes.
pub trait Rng: Send + Sync {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&self, buf: &mut [u8]) {
        // getrandom only fails when the OS has no entropy source at all; there is no safe way to
        // continue without one.
        #[allow(clippy::expect_used)]
        getrandom::fill(buf).expect("the operating system's random source failed");
    }
}

const SEAL_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// A sealed (encrypted and authenticated) value: version byte, nonce, ciphertext and tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(pub Vec<u8>);

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

/// A sealed value did not open: wrong master key, another row's value, or damage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sealed value could not be opened (wrong master key or tampered data)")]
pub struct OpenError;

/// The 32-byte master key and the keys derived from it.
///
/// Only the derived keys are kept, and they are wiped when the key is dropped. The HMAC and
/// cipher states made from them for each call wipe themselves on drop too (the `zeroize`
/// features of `hmac`, `sha2` and `chacha20poly1305`), since their state is as good as the key.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MasterKey {
    aead: [u8; 32],
    lookup: [u8; 32],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

fn derive(master: &[u8; 32], purpose: &str, out: &mut [u8; 32]) {
    // HMAC-SHA-256 as a PRF keyed by the master key (HKDF-Expand with one block). The tag is
    // copied out of the `CtOutput`, which wipes itself on drop; `into_bytes` would leave an
    // unwiped copy of the derived key behind.
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(master)
        .unwrap_or_else(|_| unreachable_hmac());
    mac.update(purpose.as_bytes());
    mac.update(&[1]);
    out.copy_from_slice(mac.finalize().as_bytes());
}

fn unreachable_hmac() -> Hmac<Sha256> {
    // HMAC takes keys of any length; this is never reached.
    <Hmac<Sha256> as hmac::KeyInit>::new(&Default::default())
}

impl MasterKey {
    /// Derives the working keys from the 32 master-key bytes.
    pub fn from_bytes(mut bytes: [u8; 32]) -> Self {
        let mut key = MasterKey {
            aead: [0; 32],
            lookup: [0; 32],
        };
        derive(&bytes, "twofold/v1/seal", &mut key.aead);
        derive(&bytes, "twofold/v1/lookup", &mut key.lookup);
        bytes.zeroize();
        key
    }

    /// The cipher under the sealing key. It is built from a reference to the key, not a copy
    /// of it, and wipes its own copy when dropped.
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.aead).into())
    }

    /// Encrypts `plaintext`, binding it to `context` (the row it belongs to).
    pub fn seal(&self, rng: &dyn Rng, plaintext: &[u8], context: &str) -> Sealed {
        let cipher = self.cipher();
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let xnonce = XNonce::from(nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        // Encryption fails only for plaintexts beyond 256 GiB.
        let ct = cipher.encrypt(&xnonce, payload).unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Sealed(out)
    }

    /// Decrypts a sealed value made for `context`.
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let b = &sealed.0;
        if b.len() < 1 + NONCE_LEN + 16 || b[0] != SEAL_VERSION {
            return Err(OpenError);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&b[1..=NONCE_LEN]);
        let cipher = self.cipher();
        let payload = Payload {
            msg: &b[1 + NONCE_LEN..],
            aad: context.as_bytes(),
        };
        cipher
            .decrypt(&XNonce::from(nonce), payload)
            .map(Zeroizing::new)
            .map_err(|_| OpenError)
    }

    /// A CSRF token for forms bound to `binding` (a session, or an anonymous visitor's cookie).
    pub fn csrf_token(&self, binding: &str) -> String {
        self.lookup_hash("csrf", binding.as_bytes())
    }

    /// Checks a CSRF token in constant time.
    pub fn csrf_ok(&self, binding: &str, token: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.csrf_token(binding);
        !token.is_empty() && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }

    /// A keyed hash for finding a secret value (a backup code) without storing it: HMAC-SHA-256
    /// under a key derived from the master key, as lower-case hex.
    pub fn lookup_hash(&self, context: &str, value: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.lookup)
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        hex(&mac.finalize().into_bytes())
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-256 of an API token, hex: tokens carry 256 random bits, so an unkeyed hash is enough to
/// make a stolen database useless for calling the API.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Hashes a password with Argon2id (the crate's defaults: 19 MiB, 2 passes) into a PHC string.
pub fn hash_password(rng: &dyn Rng, password: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    let mut salt = [0u8; 16];
    rng.fill(&mut salt);
    argon2::Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Checks a password against a PHC string in (Argon2's) constant time. An empty or malformed
/// hash never verifies.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// `n` random bytes as URL-safe text from an unambiguous alphabet (for tokens and links).
pub fn random_token(rng: &dyn Rng, prefix: &str, bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rng.fill(&mut b);
    format!("{prefix}{}", hex(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes([7; 32])
    }

    #[test]
    fn seal_and_open_bound_to_context() {
        let k = key();
        let s = k.seal(&OsRng, b"secret bytes", "factor:abc:secret");
        assert!(!s.0.windows(12).any(|w| w == b"secret bytes"));
        assert_eq!(&*k.open(&s, "factor:abc:secret").unwrap(), b"secret bytes");
        assert_eq!(k.open(&s, "factor:abd:secret"), Err(OpenError));
        assert_eq!(
            MasterKey::from_bytes([8; 32]).open(&s, "factor:abc:secret"),
            Err(OpenError)
        );
        let mut tampered = s.clone();
        let last = tampered.0.len() - 1;
        tampered.0[last] ^= 1;
        assert_eq!(k.open(&tampered, "factor:abc:secret"), Err(OpenError));
        assert_eq!(k.open(&Sealed(vec![1, 2, 3]), "x"), Err(OpenError));
        // Two seals of one value differ (random nonces).
        assert_ne!(k.seal(&OsRng, b"x", "c"), k.seal(&OsRng, b"x", "c"));
    }

    #[test]
    fn lookup_hash_is_keyed_and_contextual() {
        let k = key();
        let a = k.lookup_hash("user:1", b"abcdefghjk");
        assert_eq!(a.len(), 64);
        assert_eq!(a, k.lookup_hash("user:1", b"abcdefghjk"));
        assert_ne!(a, k.lookup_hash("user:2", b"abcdefghjk"));
        assert_ne!(
            a,
            MasterKey::from_bytes([8; 32]).lookup_hash("user:1", b"abcdefghjk")
        );
    }

    /// Wiping a key (what dropping it does) leaves none of its derived keys: what it sealed no
    /// longer opens and its lookup hashes change.
    #[test]
    fn zeroize_wipes_every_derived_key() {
        let mut k = key();
        let sealed = k.seal(&OsRng, b"secret bytes", "ctx");
        let hash = k.lookup_hash("user:1", b"abcdefghjk");
        k.zeroize();
        assert_eq!(k.aead, [0; 32]);
        assert_eq!(k.lookup, [0; 32]);
        assert_eq!(k.open(&sealed, "ctx"), Err(OpenError));
        assert_ne!(k.lookup_hash("user:1", b"abcdefghjk"), hash);
    }

    /// The derivation gives the working keys (checked against HMAC-SHA-256 computed here) and
    /// leaves nothing of them but the copy in the key.
    #[test]
    fn derived_keys_are_hmac_of_the_purpose() {
        let mut expected = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&[7; 32]).unwrap();
        expected.update(b"twofold/v1/lookup\x01");
        let expected: [u8; 32] = expected.finalize().into_bytes().into();
        assert_eq!(key().lookup, expected);
        assert_ne!(key().aead, key().lookup);
    }

    /// The per-call states that hold key material wipe themselves on drop. This is a property of
    /// the dependencies' `zeroize` features, so it is checked where it would silently vanish:
    /// without the features these types do not implement `ZeroizeOnDrop` and this fails to
    /// compile.
    #[test]
    fn per_call_key_states_wipe_themselves() {
        // The type parameter is the whole check: it only compiles for types that wipe.
        #[allow(clippy::extra_unused_type_parameters)]
        fn wipes_on_drop<T: ZeroizeOnDrop>() -> bool {
            true
        }
        assert!(wipes_on_drop::<MasterKey>());
        assert!(wipes_on_drop::<XChaCha20Poly1305>());
        assert!(wipes_on_drop::<<Sha256 as hmac::EagerHash>::Core>());
        assert!(wipes_on_drop::<hmac::digest::CtOutput<Hmac<Sha256>>>());
    }

    #[test]
    fn passwords() {
        let h = hash_password(&OsRng, "correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("Correct horse", &h));
        assert!(!verify_password("correct horse", ""));
        assert!(!verify_password("correct horse", "$argon2id$garbage"));
    }
}
