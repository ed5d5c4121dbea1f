//! The cryptography of the core: sealing secrets at rest, password hashes, lookup hashes for
//! backup codes and API tokens, and the randomness port.
//!
//! Sealing is XChaCha20-Poly1305 under a key derived from the master key, with a random 24-byte
//! nonce and the row the value belongs to as associated data, so a sealed value copied into another
//! row (or another setting) no longer opens. The master key is a ring: the first key seals, every
//! key opens, and each sealed value names the key that sealed it, so a rotation can reseal values
//! one by one while every value stays readable.

use std::fmt;
use std::sync::{Arc, RwLock};

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

/// The first form of a sealed value: version byte, nonce, ciphertext and tag. It does not name
/// its key: opening tries every key of the ring. Read, never written.
const SEAL_V1: u8 = 1;
/// A sealed value that names its key: version byte, the key's id, nonce, ciphertext and tag.
const SEAL_V2: u8 = 2;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// The length of a key id: the first bytes of a keyed hash of the key, public.
pub const KEY_ID_LEN: usize = 8;
/// The most keys a ring holds: the sealing key and the old ones a rotation has not dropped yet.
pub const MAX_KEYS: usize = 16;

/// A key's id, as it is written in sealed values and shown to operators.
pub type KeyId = [u8; KEY_ID_LEN];

/// A sealed (encrypted and authenticated) value: version byte, the sealing key's id, nonce,
/// ciphertext and tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(pub Vec<u8>);

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

impl Sealed {
    /// The id of the key that sealed this value, when it names one (values sealed before key
    /// rings existed do not).
    pub fn key_id(&self) -> Option<KeyId> {
        match self.0.first() {
            Some(&SEAL_V2) => self.0.get(1..=KEY_ID_LEN)?.try_into().ok(),
            _ => None,
        }
    }
}

/// A sealed value did not open: wrong master key, another row's value, or damage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sealed value could not be opened (wrong master key or tampered data)")]
pub struct OpenError;

/// Where a running server reads its keys again: the master key file. Asked when a sealed value
/// names a key the ring lacks (another node rotated first), and by the watcher that notices a new
/// file.
pub trait KeySource: Send + Sync {
    /// The keys, the sealing one first.
    fn load(&self) -> Result<Vec<Zeroizing<[u8; 32]>>, String>;
}

/// The keys derived from one master key.
///
/// Only the derived keys are kept, and they are wiped when the key is dropped. The HMAC and
/// cipher states made from them for each call wipe themselves on drop too (the `zeroize`
/// features of `hmac`, `sha2` and `chacha20poly1305`), since their state is as good as the key.
#[derive(Zeroize, ZeroizeOnDrop)]
struct KeyMaterial {
    id: KeyId,
    aead: [u8; 32],
    lookup: [u8; 32],
}

impl KeyMaterial {
    fn derive(bytes: &[u8; 32]) -> Self {
        let mut key = KeyMaterial {
            id: [0; KEY_ID_LEN],
            aead: [0; 32],
            lookup: [0; 32],
        };
        derive(bytes, "twofold/v1/seal", &mut key.aead);
        derive(bytes, "twofold/v1/lookup", &mut key.lookup);
        let mut id = Zeroizing::new([0u8; 32]);
        derive(bytes, "twofold/v1/key-id", &mut id);
        key.id.copy_from_slice(&id[..KEY_ID_LEN]);
        key
    }

    /// The cipher under the sealing key. It is built from a reference to the key, not a copy
    /// of it, and wipes its own copy when dropped.
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.aead).into())
    }

    fn open(
        &self,
        nonce: &[u8],
        ct: &[u8],
        context: &str,
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError)?;
        let payload = Payload {
            msg: ct,
            aad: context.as_bytes(),
        };
        self.cipher()
            .decrypt(&XNonce::from(nonce), payload)
            .map(Zeroizing::new)
            .map_err(|_| OpenError)
    }

    fn lookup_hash(&self, context: &str, value: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.lookup)
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        hex(&mac.finalize().into_bytes())
    }
}

/// The keys in use at one moment: the first seals, every one opens.
struct Ring {
    keys: Vec<KeyMaterial>,
}

impl Ring {
    fn first(&self) -> &KeyMaterial {
        // A ring is never empty: every constructor refuses an empty list.
        &self.keys[0]
    }
}

/// The master key ring: the keys of the master key file, the first of which seals while all
/// open. Every sealed value names its key. The ring can be replaced while the server runs (a
/// rotation on another node, a new key file), so it is read afresh for each operation.
pub struct MasterKey {
    ring: RwLock<Arc<Ring>>,
    source: Option<Box<dyn KeySource>>,
    /// When a value under an unknown key last made the ring read its source (milliseconds on a
    /// monotonic clock, plus the gap): at most one such read every 100 ms, so a value no key
    /// opens does not make every request read the file.
    last_reload_ms: std::sync::atomic::AtomicU64,
}

/// The least time between two reloads asked by values under unknown keys.
const RELOAD_GAP_MS: u64 = 100;

/// Milliseconds since the first call, on a monotonic clock.
fn monotonic_ms() -> u64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    // A rate limit of file reads, not a time any decision about users depends on.
    #[allow(clippy::disallowed_methods)]
    let start = *START.get_or_init(std::time::Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
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

/// Why a list of keys cannot be a ring.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    /// No key at all.
    #[error("the master key file holds no key")]
    Empty,
    /// More than [`MAX_KEYS`].
    #[error("the master key file holds more than {MAX_KEYS} keys: drop the old ones")]
    TooMany,
    /// One key twice.
    #[error("the master key file holds the same key twice")]
    Duplicate,
    /// A new ring without the key the running one seals with: a different or older file, not a
    /// rotation (what was sealed under the missing key would no longer open).
    #[error(
        "the new master key file lacks the key this server seals with (an older or another \
         file?): it was not taken; restart to use it"
    )]
    Unrelated,
}

fn ring_of(keys: &[Zeroizing<[u8; 32]>]) -> Result<Ring, RingError> {
    if keys.is_empty() {
        return Err(RingError::Empty);
    }
    if keys.len() > MAX_KEYS {
        return Err(RingError::TooMany);
    }
    let keys: Vec<KeyMaterial> = keys.iter().map(|k| KeyMaterial::derive(k)).collect();
    for (i, k) in keys.iter().enumerate() {
        if keys[..i].iter().any(|o| o.id == k.id) {
            return Err(RingError::Duplicate);
        }
    }
    Ok(Ring { keys })
}

impl MasterKey {
    /// A ring of one key, from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let bytes = Zeroizing::new(bytes);
        let ring = Ring {
            keys: vec![KeyMaterial::derive(&bytes)],
        };
        MasterKey {
            ring: RwLock::new(Arc::new(ring)),
            source: None,
            last_reload_ms: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A ring of the given keys, the sealing one first.
    pub fn from_keys(keys: &[Zeroizing<[u8; 32]>]) -> Result<Self, RingError> {
        Ok(MasterKey {
            ring: RwLock::new(Arc::new(ring_of(keys)?)),
            source: None,
            last_reload_ms: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Reads the keys again from `source` when a sealed value names a key this ring lacks, and
    /// on [`reload`](Self::reload).
    #[must_use]
    pub fn with_source(mut self, source: Box<dyn KeySource>) -> Self {
        self.source = Some(source);
        self
    }

    fn ring(&self) -> Arc<Ring> {
        // A panic while the lock was held cannot leave the ring half-written: it is replaced
        // whole.
        match self.ring.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the ring with `keys`. A list without the running ring's sealing key is refused
    /// unless `unrelated_ok`: a rotation adds a key before the sealing one and drops only keys
    /// after it, so a file without it is an older or another file, and what was sealed under
    /// the key would stop opening. Returns whether anything changed.
    pub fn replace(
        &self,
        keys: &[Zeroizing<[u8; 32]>],
        unrelated_ok: bool,
    ) -> Result<bool, RingError> {
        let fresh = ring_of(keys)?;
        let new_ids: Vec<KeyId> = fresh.keys.iter().map(|k| k.id).collect();
        // Checked and replaced under the write lock: two reloads at once cannot both pass a
        // check made against a ring the other one replaced.
        let mut guard = match self.ring.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let ids: Vec<KeyId> = guard.keys.iter().map(|k| k.id).collect();
        if new_ids == ids {
            return Ok(false);
        }
        if !unrelated_ok && !new_ids.contains(&ids[0]) {
            return Err(RingError::Unrelated);
        }
        *guard = Arc::new(fresh);
        Ok(true)
    }

    /// Whether a value under an unknown key may make the ring read its source now.
    fn may_reload_now(&self) -> bool {
        use std::sync::atomic::Ordering;
        let now = monotonic_ms().saturating_add(RELOAD_GAP_MS);
        let last = self.last_reload_ms.load(Ordering::Relaxed);
        now.saturating_sub(last) >= RELOAD_GAP_MS
            && self
                .last_reload_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Reads the keys again from the source, if there is one. Returns whether the ring changed.
    pub fn reload(&self) -> Result<bool, String> {
        let Some(source) = &self.source else {
            return Ok(false);
        };
        let keys = source.load()?;
        self.replace(&keys, false).map_err(|e| e.to_string())
    }

    /// The ids of the ring's keys, the sealing one first.
    pub fn ids(&self) -> Vec<KeyId> {
        self.ring().keys.iter().map(|k| k.id).collect()
    }

    /// Encrypts `plaintext` under the sealing key, binding it to `context` (the row it belongs
    /// to).
    pub fn seal(&self, rng: &dyn Rng, plaintext: &[u8], context: &str) -> Sealed {
        let ring = self.ring();
        let key = ring.first();
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let xnonce = XNonce::from(nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        // Encryption fails only for plaintexts beyond 256 GiB.
        let ct = key.cipher().encrypt(&xnonce, payload).unwrap_or_default();
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + ct.len());
        out.push(SEAL_V2);
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Sealed(out)
    }

    /// Decrypts a sealed value made for `context`, under the key it names (every key, for a
    /// value that names none). A key the ring lacks makes the ring read its source again first:
    /// another node may have rotated.
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let b = &sealed.0;
        match b.first() {
            Some(&SEAL_V2) if b.len() >= 1 + KEY_ID_LEN + NONCE_LEN + TAG_LEN => {
                let id = sealed.key_id().ok_or(OpenError)?;
                let body = &b[1 + KEY_ID_LEN..];
                let (nonce, ct) = body.split_at(NONCE_LEN);
                let ring = self.ring();
                if let Some(key) = ring.keys.iter().find(|k| k.id == id) {
                    return key.open(nonce, ct, context);
                }
                if self.may_reload_now()
                    && matches!(self.reload(), Ok(true))
                    && let Some(key) = self.ring().keys.iter().find(|k| k.id == id)
                {
                    return key.open(nonce, ct, context);
                }
                Err(OpenError)
            }
            Some(&SEAL_V1) if b.len() >= 1 + NONCE_LEN + TAG_LEN => {
                let (nonce, ct) = b[1..].split_at(NONCE_LEN);
                self.ring()
                    .keys
                    .iter()
                    .find_map(|k| k.open(nonce, ct, context).ok())
                    .ok_or(OpenError)
            }
            _ => Err(OpenError),
        }
    }

    /// Whether `sealed` is sealed under the sealing key (a rotation has nothing to do for it).
    pub fn is_current(&self, sealed: &Sealed) -> bool {
        sealed.key_id() == Some(self.ring().first().id)
    }

    /// A CSRF token for forms bound to `binding` (a session, or an anonymous visitor's cookie).
    pub fn csrf_token(&self, binding: &str) -> String {
        self.lookup_hash("csrf", binding.as_bytes())
    }

    /// Checks a CSRF token in constant time, against the token of every key of the ring (a
    /// form shown before a rotation still posts).
    pub fn csrf_ok(&self, binding: &str, token: &str) -> bool {
        use subtle::ConstantTimeEq;
        if token.is_empty() {
            return false;
        }
        let mut ok = subtle::Choice::from(0);
        for expected in self.lookup_hashes_all("csrf", binding.as_bytes()) {
            ok |= expected.as_bytes().ct_eq(token.as_bytes());
        }
        bool::from(ok)
    }

    /// A keyed hash for finding a secret value (a backup code) without storing it: HMAC-SHA-256
    /// under a key derived from the sealing key, as lower-case hex.
    pub fn lookup_hash(&self, context: &str, value: &[u8]) -> String {
        self.ring().first().lookup_hash(context, value)
    }

    /// The lookup hash under every key of the ring, the sealing key's first: a value hashed
    /// before a rotation is found under the key that was sealing then.
    pub fn lookup_hashes_all(&self, context: &str, value: &[u8]) -> Vec<String> {
        self.ring()
            .keys
            .iter()
            .map(|k| k.lookup_hash(context, value))
            .collect()
    }

    /// The lookup hash under the sealing key, and under the key before it when the ring has
    /// one: where a stored hash can be while a rotation is under way (a rotation finishes the
    /// one before it before it adds a key, so no stored hash is older).
    pub fn lookup_hashes(&self, context: &str, value: &[u8]) -> Vec<String> {
        self.ring()
            .keys
            .iter()
            .take(2)
            .map(|k| k.lookup_hash(context, value))
            .collect()
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
        let mut k = KeyMaterial::derive(&[7; 32]);
        let sealed = key().seal(&OsRng, b"secret bytes", "ctx");
        let (nonce, ct) = sealed.0[1 + KEY_ID_LEN..].split_at(NONCE_LEN);
        assert!(k.open(nonce, ct, "ctx").is_ok());
        let hash = k.lookup_hash("user:1", b"abcdefghjk");
        k.zeroize();
        assert_eq!(k.aead, [0; 32]);
        assert_eq!(k.lookup, [0; 32]);
        assert_eq!(k.id, [0; KEY_ID_LEN]);
        assert_eq!(k.open(nonce, ct, "ctx"), Err(OpenError));
        assert_ne!(k.lookup_hash("user:1", b"abcdefghjk"), hash);
    }

    /// The derivation gives the working keys (checked against HMAC-SHA-256 computed here).
    #[test]
    fn derived_keys_are_hmac_of_the_purpose() {
        let mut expected = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&[7; 32]).unwrap();
        expected.update(b"twofold/v1/lookup\x01");
        let expected: [u8; 32] = expected.finalize().into_bytes().into();
        let k = KeyMaterial::derive(&[7; 32]);
        assert_eq!(k.lookup, expected);
        assert_ne!(k.aead, k.lookup);
        let mut id = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&[7; 32]).unwrap();
        id.update(b"twofold/v1/key-id\x01");
        assert_eq!(k.id[..], id.finalize().into_bytes()[..KEY_ID_LEN]);
    }

    fn ring(keys: &[u8]) -> MasterKey {
        let keys: Vec<Zeroizing<[u8; 32]>> =
            keys.iter().map(|b| Zeroizing::new([*b; 32])).collect();
        MasterKey::from_keys(&keys).unwrap()
    }

    /// A value names the key that sealed it; the first key seals, every key opens.
    #[test]
    fn a_ring_seals_with_its_first_key_and_opens_with_all() {
        let old = ring(&[7]);
        let by_old = old.seal(&OsRng, b"v", "ctx");
        assert_eq!(by_old.0[0], SEAL_V2);
        assert_eq!(by_old.key_id(), Some(old.ids()[0]));
        let rotated = ring(&[9, 7]);
        assert_eq!(rotated.ids()[1], old.ids()[0]);
        assert!(!rotated.is_current(&by_old));
        assert_eq!(&*rotated.open(&by_old, "ctx").unwrap(), b"v");
        let by_new = rotated.seal(&OsRng, b"w", "ctx");
        assert!(rotated.is_current(&by_new));
        assert_eq!(by_new.key_id(), Some(rotated.ids()[0]));
        // The old key alone opens nothing the new one sealed.
        assert_eq!(old.open(&by_new, "ctx"), Err(OpenError));
        assert_eq!(&*ring(&[9]).open(&by_new, "ctx").unwrap(), b"w");
        // A value whose named key is changed opens under no key.
        let mut renamed = by_new.clone();
        renamed.0[1..=KEY_ID_LEN].copy_from_slice(&rotated.ids()[1]);
        assert_eq!(rotated.open(&renamed, "ctx"), Err(OpenError));
        // Empty, oversized and doubled rings are refused.
        assert_eq!(MasterKey::from_keys(&[]).err(), Some(RingError::Empty));
        let many: Vec<Zeroizing<[u8; 32]>> = (0..=MAX_KEYS as u8)
            .map(|b| Zeroizing::new([b; 32]))
            .collect();
        assert_eq!(MasterKey::from_keys(&many).err(), Some(RingError::TooMany));
        let twice = [Zeroizing::new([1; 32]), Zeroizing::new([1; 32])];
        assert_eq!(
            MasterKey::from_keys(&twice).err(),
            Some(RingError::Duplicate)
        );
    }

    /// Values sealed before values named their key (version 1) open under whichever key of the
    /// ring sealed them.
    #[test]
    fn unnamed_values_open_under_any_key_of_the_ring() {
        let k = KeyMaterial::derive(&[7; 32]);
        let nonce = [3u8; NONCE_LEN];
        let ct = k
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: b"legacy",
                    aad: b"ctx",
                },
            )
            .unwrap();
        let mut v1 = vec![SEAL_V1];
        v1.extend_from_slice(&nonce);
        v1.extend_from_slice(&ct);
        let v1 = Sealed(v1);
        assert_eq!(v1.key_id(), None);
        assert_eq!(&*ring(&[9, 7]).open(&v1, "ctx").unwrap(), b"legacy");
        assert_eq!(ring(&[9]).open(&v1, "ctx"), Err(OpenError));
        assert!(!ring(&[7]).is_current(&v1));
    }

    /// Lookups and CSRF tokens made under an older key of the ring are still recognised.
    #[test]
    fn lookups_and_csrf_span_the_ring() {
        let old = ring(&[7]);
        let rotated = ring(&[9, 7]);
        let h = old.lookup_hash("c", b"v");
        assert_eq!(rotated.lookup_hashes("c", b"v")[1], h);
        assert_ne!(rotated.lookup_hash("c", b"v"), h);
        assert_eq!(ring(&[5, 9, 7]).lookup_hashes("c", b"v").len(), 2);
        assert_eq!(ring(&[5, 9, 7]).lookup_hashes_all("c", b"v")[2], h);
        let token = old.csrf_token("s");
        assert!(rotated.csrf_ok("s", &token));
        assert!(!ring(&[9]).csrf_ok("s", &token));
        assert!(!rotated.csrf_ok("s", ""));
        assert!(!rotated.csrf_ok("t", &token));
    }

    struct FileLike(std::sync::Mutex<Vec<u8>>);
    impl KeySource for FileLike {
        fn load(&self) -> Result<Vec<Zeroizing<[u8; 32]>>, String> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .iter()
                .map(|b| Zeroizing::new([*b; 32]))
                .collect())
        }
    }

    /// A value under a key the ring lacks makes it read its source again; a source that shares
    /// no key with the running ring is refused.
    #[test]
    fn an_unknown_key_reloads_the_ring_from_its_source() {
        let source = std::sync::Arc::new(FileLike(std::sync::Mutex::new(vec![7])));
        struct Shared(std::sync::Arc<FileLike>);
        impl KeySource for Shared {
            fn load(&self) -> Result<Vec<Zeroizing<[u8; 32]>>, String> {
                self.0.load()
            }
        }
        let node = ring(&[7]).with_source(Box::new(Shared(source.clone())));
        let by_new = ring(&[9, 7]).seal(&OsRng, b"v", "ctx");
        assert_eq!(node.open(&by_new, "ctx"), Err(OpenError));
        *source.0.lock().unwrap() = vec![9, 7];
        std::thread::sleep(std::time::Duration::from_millis(RELOAD_GAP_MS + 20));
        assert_eq!(&*node.open(&by_new, "ctx").unwrap(), b"v");
        assert_eq!(node.ids(), ring(&[9, 7]).ids());
        // Another file, or an older one without the sealing key: refused, the ring kept.
        for stale in [vec![4], vec![7], vec![7, 4]] {
            *source.0.lock().unwrap() = stale;
            assert_eq!(node.reload(), Err(RingError::Unrelated.to_string()));
            assert_eq!(node.ids(), ring(&[9, 7]).ids());
        }
        // The old key dropped: taken.
        *source.0.lock().unwrap() = vec![9];
        assert_eq!(node.reload(), Ok(true));
        assert_eq!(node.reload(), Ok(false));
        // A value no key opens reads the source at most once per gap.
        let unknown = ring(&[5]).seal(&OsRng, b"x", "ctx");
        *source.0.lock().unwrap() = vec![5, 9];
        std::thread::sleep(std::time::Duration::from_millis(RELOAD_GAP_MS + 20));
        assert!(node.may_reload_now());
        assert_eq!(
            node.open(&unknown, "ctx"),
            Err(OpenError),
            "no read within the gap"
        );
        std::thread::sleep(std::time::Duration::from_millis(RELOAD_GAP_MS + 20));
        assert_eq!(&*node.open(&unknown, "ctx").unwrap(), b"x");
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
        assert!(wipes_on_drop::<KeyMaterial>());
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
