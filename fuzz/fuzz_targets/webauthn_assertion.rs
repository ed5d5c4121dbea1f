//! WebAuthn assertions: whatever the browser JSON, stored COSE key or authenticator data,
//! verification never panics and never accepts a signature no key made.
//!
//! The first byte picks what the rest is: 0 the toJSON() form, 1 the stored COSE key (CBOR),
//! 2 the authenticator data after the right RP ID hash (so the fuzzer need not find it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_otp::webauthn::{
    AssertionResponse, RelyingParty, UserVerification, WebauthnError, client_challenge,
    verify_assertion,
};

/// SHA-256 of "example.com".
const RP_ID_HASH: [u8; 32] = [
    0xa3, 0x79, 0xa6, 0xf6, 0xee, 0xaf, 0xb9, 0xa5, 0x5e, 0x37, 0x8c, 0x11, 0x80, 0x34, 0xe2, 0x75,
    0x1e, 0x68, 0x2f, 0xab, 0x9f, 0x2d, 0x30, 0xab, 0x13, 0xd2, 0x12, 0x55, 0x86, 0xce, 0x19, 0x47,
];
const ORIGIN: &str = "https://login.example.com";
const CHALLENGE: [u8; 16] = *b"fuzzing-webauthn";
/// base64url of CHALLENGE.
const CHALLENGE_B64: &str = "ZnV6emluZy13ZWJhdXRobg";
/// A P-256 COSE key whose private key was thrown away when it was made.
const ES256_KEY: &str = "a50102032620012158209c05930243a60f5c6896c5bbcc748e8771d0c9bd392cfdd6ad\
    957ef2043dc8b122582013f3a29d6af14eeac9d88ec042027a45647472ed83dff6a9177c768280e7272a";

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    s.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let origins = [ORIGIN.to_owned()];
    let rp = RelyingParty {
        id: "example.com",
        origins: &origins,
    };
    let client_data_json =
        format!(r#"{{"type":"webauthn.get","challenge":"{CHALLENGE_B64}","origin":"{ORIGIN}"}}"#)
            .into_bytes();
    let mut auth_data = RP_ID_HASH.to_vec();
    auth_data.extend_from_slice(&[0x05, 0, 0, 0, 1]);
    let mut key = hex(ES256_KEY);
    let mut challenge = CHALLENGE.to_vec();
    // A DER ECDSA signature of the right shape that no key made.
    let mut resp = AssertionResponse {
        id: vec![1],
        client_data_json,
        authenticator_data: auth_data,
        signature: [
            &[0x30, 0x44, 0x02, 0x20][..],
            &[0x11; 32],
            &[0x02, 0x20],
            &[0x22; 32],
        ]
        .concat(),
        user_handle: None,
    };
    match mode % 3 {
        0 => {
            let Ok(parsed) = AssertionResponse::from_json(rest) else {
                return;
            };
            assert!(!parsed.id.is_empty() && parsed.id.len() <= 1023);
            assert!(
                parsed
                    .user_handle
                    .as_ref()
                    .is_none_or(|h| !h.is_empty() && h.len() <= 64)
            );
            challenge = client_challenge(&parsed.client_data_json).unwrap_or_default();
            resp = parsed;
        }
        1 => key = rest.to_vec(),
        _ => resp.authenticator_data = [&RP_ID_HASH[..], rest].concat(),
    }
    for uv in [UserVerification::Required, UserVerification::Discouraged] {
        let result = verify_assertion(&rp, &challenge, uv, &key, &resp);
        assert!(
            result.is_err(),
            "accepted a signature no key made: {result:?}"
        );
        if mode % 3 == 1 && uv == UserVerification::Discouraged {
            // The client and authenticator data are good: only the key or signature can fail.
            assert!(
                matches!(
                    result,
                    Err(WebauthnError::BadSignature
                        | WebauthnError::Malformed(_)
                        | WebauthnError::BadPublicKey(_)
                        | WebauthnError::UnsupportedAlgorithm(_))
                ),
                "{result:?}"
            );
        }
    }
});
