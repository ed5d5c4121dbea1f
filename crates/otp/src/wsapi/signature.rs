//! The HMAC-SHA1 signatures over sorted pairs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;

use super::VerifyRequest;

/// The protocol signature of `pairs` under `key`: `base64(HMAC-SHA1(key, "k1=v1&k2=v2…"))` with
/// the pairs sorted by key (then value) and any `h` left out. `key` is the decoded API key; an
/// empty key is allowed (yubikey-val signs with it when it does not know the client).
#[must_use]
pub fn sign<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)], key: &[u8]) -> String {
    BASE64.encode(mac(pairs, key))
}

pub(super) fn mac<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)], key: &[u8]) -> Vec<u8> {
    let mut sorted: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, _)| *k != "h")
        .collect();
    sorted.sort_unstable();
    let mut m = hmac_sha1(key);
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            m.update(b"&");
        }
        m.update(k.as_bytes());
        m.update(b"=");
        m.update(v.as_bytes());
    }
    m.finalize().into_bytes().to_vec()
}

fn hmac_sha1(key: &[u8]) -> Hmac<sha1::Sha1> {
    match <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        // Unreachable: HMAC takes keys of any length. An all-zero key rather than a panic.
        Err(_) => <Hmac<sha1::Sha1> as KeyInit>::new(&Default::default()),
    }
}

/// Whether the base64 signature `given` is the MAC `expected`, in constant time.
pub(super) fn signature_matches(given: &str, expected: &[u8]) -> bool {
    let Ok(given) = BASE64.decode(given.trim()) else {
        return false;
    };
    bool::from(given.as_slice().ct_eq(expected))
}

/// Whether `request` carries a valid signature under `key` (the client's decoded API key): its
/// `h` matches the signature over the other pairs, either as the client sent them
/// (percent-encoded, what libykclient and yubico-client sign) or decoded (what yubikey-val
/// checks). Compared in constant time. `false` when the request has no `h`.
#[must_use]
pub fn verify_request_signature(request: &VerifyRequest, key: &[u8]) -> bool {
    let Some(h) = request.signature() else {
        return false;
    };
    let raw: Vec<(&str, &str)> = request
        .raw
        .iter()
        .zip(&request.pairs)
        .filter(|(_, (decoded_key, _))| decoded_key != "h")
        .map(|((k, v), _)| (k.as_str(), v.as_str()))
        .collect();
    let as_sent = signature_matches(h, &mac(&raw, key));
    let decoded = signature_matches(h, &mac(&request.pairs, key));
    as_sent | decoded
}
