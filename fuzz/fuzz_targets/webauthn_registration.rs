//! WebAuthn registrations: whatever the browser JSON, attestation object or authenticator data,
//! verification never panics; an accepted credential's key is a slice of what was sent, of an
//! accepted algorithm, and is accepted again as a stored key for an assertion.
//!
//! The first byte picks what the rest is: 0 the toJSON() form, 1 the attestation object (CBOR),
//! 2 the authenticator data after the right RP ID hash (so the fuzzer need not find it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_otp::webauthn::{
    ALGORITHMS, AssertionResponse, RegistrationResponse, RelyingParty, UserVerification,
    WebauthnError, client_challenge, verify_assertion, verify_registration,
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

fn client_data(ty: &str) -> Vec<u8> {
    format!(r#"{{"type":"{ty}","challenge":"{CHALLENGE_B64}","origin":"{ORIGIN}"}}"#).into_bytes()
}

/// `{"fmt": "none", "attStmt": {}, "authData": auth_data}` in CBOR.
fn attestation_object(auth_data: &[u8]) -> Vec<u8> {
    let mut out = b"\xa3\x63fmt\x64none\x67attStmt\xa0\x68authData".to_vec();
    match auth_data.len() {
        n @ 0..24 => out.push(0x40 | n as u8),
        n @ 24..256 => out.extend([0x58, n as u8]),
        n => out.extend([&[0x59][..], &(n as u16).to_be_bytes()].concat()),
    }
    out.extend_from_slice(auth_data);
    out
}

/// The credential ID that authenticator data claims, if it is long enough to say.
fn claimed_id(auth_data: &[u8]) -> Vec<u8> {
    let Some(len) = auth_data.get(53..55) else {
        return vec![1];
    };
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    auth_data.get(55..55 + len).unwrap_or(&[1]).to_vec()
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
    let (resp, challenge) = match mode % 3 {
        0 => {
            let Ok(resp) = RegistrationResponse::from_json(rest) else {
                return;
            };
            assert!(!resp.id.is_empty() && resp.id.len() <= 1023);
            // Expect whatever challenge it claims, so the later checks are reached.
            let challenge = client_challenge(&resp.client_data_json).unwrap_or_default();
            (resp, challenge)
        }
        1 => {
            let resp = RegistrationResponse {
                id: vec![1],
                client_data_json: client_data("webauthn.create"),
                attestation_object: rest.to_vec(),
                transports: Vec::new(),
            };
            (resp, CHALLENGE.to_vec())
        }
        _ => {
            let auth_data = [&RP_ID_HASH[..], rest].concat();
            let resp = RegistrationResponse {
                id: claimed_id(&auth_data),
                client_data_json: client_data("webauthn.create"),
                attestation_object: attestation_object(&auth_data),
                transports: Vec::new(),
            };
            (resp, CHALLENGE.to_vec())
        }
    };
    let Ok(credential) = verify_registration(&rp, &challenge, UserVerification::Preferred, &resp)
    else {
        return;
    };
    assert_eq!(credential.id, resp.id);
    assert!(ALGORITHMS.contains(&credential.algorithm));
    assert!(
        resp.attestation_object
            .windows(credential.public_key.len())
            .any(|w| w == credential.public_key),
        "the key is a slice of the attestation object"
    );
    assert!(!credential.backed_up || credential.backup_eligible);

    // The stored key is accepted again: an unsigned assertion fails only on its signature.
    let mut auth_data = RP_ID_HASH.to_vec();
    auth_data.extend_from_slice(&[0x01, 0, 0, 0, 1]);
    let assertion = AssertionResponse {
        id: credential.id.clone(),
        client_data_json: client_data("webauthn.get"),
        authenticator_data: auth_data,
        signature: Vec::new(),
        user_handle: None,
    };
    let result = verify_assertion(
        &rp,
        &CHALLENGE,
        UserVerification::Preferred,
        &credential.public_key,
        &assertion,
    );
    assert_eq!(result, Err(WebauthnError::BadSignature));
});
