//! A software authenticator built on AWS-LC drives both ceremonies for the three algorithms; each
//! refusal has its own test; vectors made by an independent implementation (Python
//! `cryptography` and `cbor2`, checked by py_webauthn: testdata/make_vectors.py) must verify.

use std::sync::LazyLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
};
use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::auth_data::{AT, BE, BS, ED, UP, UV};
use super::*;
use WebauthnError::*;

const RP_ID: &str = "example.com";
const ORIGIN: &str = "https://login.example.com";
const CHALLENGE: [u8; 32] = [0x5a; 32];

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

// A minimal CBOR encoder, for building what authenticators send.
fn head(major: u8, n: u64) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => [&[m | 25][..], &(n as u16).to_be_bytes()].concat(),
        _ => [&[m | 27][..], &n.to_be_bytes()].concat(),
    }
}
fn int(n: i64) -> Vec<u8> {
    if n >= 0 {
        head(0, n as u64)
    } else {
        head(1, (-1 - n) as u64)
    }
}
fn bytes(b: &[u8]) -> Vec<u8> {
    [head(2, b.len() as u64), b.to_vec()].concat()
}
fn text(t: &str) -> Vec<u8> {
    [head(3, t.len() as u64), t.as_bytes().to_vec()].concat()
}
fn map(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let items = entries.iter().flat_map(|(k, v)| [k, v]).flatten().copied();
    head(5, entries.len() as u64)
        .into_iter()
        .chain(items)
        .collect()
}
/// A COSE key: a map with integer labels.
fn cose(entries: &[(i64, Vec<u8>)]) -> Vec<u8> {
    map(&entries
        .iter()
        .map(|(k, v)| (int(*k), v.clone()))
        .collect::<Vec<_>>())
}
fn ec2_key(alg: i64, x: &[u8], y: &[u8]) -> Vec<u8> {
    cose(&[
        (1, int(2)),
        (3, int(alg)),
        (-1, int(1)),
        (-2, bytes(x)),
        (-3, bytes(y)),
    ])
}
fn okp_key(alg: i64, x: &[u8]) -> Vec<u8> {
    cose(&[(1, int(1)), (3, int(alg)), (-1, int(6)), (-2, bytes(x))])
}
fn rsa_key(alg: i64, n: &[u8], e: &[u8]) -> Vec<u8> {
    cose(&[(1, int(3)), (3, int(alg)), (-1, bytes(n)), (-2, bytes(e))])
}

/// Generating RSA keys is slow: one for the whole suite.
static RSA_KEY: LazyLock<RsaKeyPair> =
    LazyLock::new(|| RsaKeyPair::generate(KeySize::Rsa2048).unwrap());

/// The modulus and exponent of a DER RSAPublicKey (RFC 8017 A.1.1).
fn rsa_components(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    fn tlv(input: &[u8]) -> (&[u8], &[u8]) {
        let (len, start) = match input[1] {
            n if n < 0x80 => (n as usize, 2),
            0x81 => (input[2] as usize, 3),
            _ => (u16::from_be_bytes([input[2], input[3]]) as usize, 4),
        };
        (&input[start..start + len], &input[start + len..])
    }
    let (n, rest) = tlv(tlv(der).0);
    (n.to_vec(), tlv(rest).0.to_vec())
}

enum Signer {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
    Rs256(&'static RsaKeyPair),
}

/// A software authenticator holding one credential.
struct Authenticator {
    signer: Signer,
    id: Vec<u8>,
}

impl Authenticator {
    fn new(alg: i64) -> Self {
        let signer = match alg {
            ES256 => {
                Signer::Es256(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap())
            }
            EDDSA => Signer::EdDsa(Ed25519KeyPair::generate().unwrap()),
            _ => Signer::Rs256(&RSA_KEY),
        };
        Authenticator {
            signer,
            id: format!("credential {alg}").into_bytes(),
        }
    }

    fn es256() -> Self {
        Authenticator::new(ES256)
    }

    /// The uncompressed P-256 point of an ES256 authenticator.
    fn point(&self) -> Vec<u8> {
        let Signer::Es256(key) = &self.signer else {
            panic!("not ES256")
        };
        key.public_key().as_ref().to_vec()
    }

    fn cose_key(&self) -> Vec<u8> {
        match &self.signer {
            Signer::Es256(_) => ec2_key(ES256, &self.point()[1..33], &self.point()[33..]),
            Signer::EdDsa(key) => okp_key(EDDSA, key.public_key().as_ref()),
            Signer::Rs256(key) => {
                let (n, e) = rsa_components(key.public_key().as_ref());
                rsa_key(RS256, &n, &e)
            }
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Es256(key) => key.sign(&rng, message).unwrap().as_ref().to_vec(),
            Signer::EdDsa(key) => key.sign(message).as_ref().to_vec(),
            Signer::Rs256(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .unwrap();
                signature
            }
        }
    }

    /// Authenticator data for `rp_id`, with this credential's attested data if flag AT is set.
    fn auth_data(&self, rp_id: &str, flags: u8, counter: u32) -> Vec<u8> {
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&counter.to_be_bytes());
        if flags & AT != 0 {
            data.extend_from_slice(&[0xa7; 16]);
            data.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
            data.extend_from_slice(&self.id);
            data.extend_from_slice(&self.cose_key());
        }
        data
    }

    /// A registration with these client data and flags (counter 0).
    fn reg(&self, client_data_json: Vec<u8>, flags: u8) -> RegistrationResponse {
        self.reg_data(client_data_json, self.auth_data(RP_ID, flags, 0))
    }

    fn reg_data(&self, client_data_json: Vec<u8>, auth_data: Vec<u8>) -> RegistrationResponse {
        RegistrationResponse {
            id: self.id.clone(),
            client_data_json,
            attestation_object: attestation_object(&text("none"), &map(&[]), &auth_data),
            transports: vec!["usb".to_owned()],
        }
    }

    /// An assertion with these client data and flags (counter 1), signed.
    fn sig(&self, client_data_json: Vec<u8>, flags: u8) -> AssertionResponse {
        self.sig_data(client_data_json, self.auth_data(RP_ID, flags, 1))
    }

    fn sig_data(
        &self,
        client_data_json: Vec<u8>,
        authenticator_data: Vec<u8>,
    ) -> AssertionResponse {
        let signed = [
            authenticator_data.as_slice(),
            &Sha256::digest(&client_data_json),
        ]
        .concat();
        AssertionResponse {
            id: self.id.clone(),
            signature: self.sign(&signed),
            client_data_json,
            authenticator_data,
            user_handle: Some(b"user".to_vec()),
        }
    }

    /// Verifies an assertion under this authenticator's own key.
    fn check(&self, resp: &AssertionResponse) -> Result<Asserted, WebauthnError> {
        assert_key(&self.cose_key(), resp)
    }
}

fn client_data(ty: &str, challenge: &[u8], origin: &str, extra: &str) -> Vec<u8> {
    let challenge = b64(challenge);
    format!(r#"{{"type":"{ty}","challenge":"{challenge}","origin":"{origin}"{extra}}}"#).into()
}
fn create(extra: &str) -> Vec<u8> {
    client_data("webauthn.create", &CHALLENGE, ORIGIN, extra)
}
fn get(extra: &str) -> Vec<u8> {
    client_data("webauthn.get", &CHALLENGE, ORIGIN, extra)
}

/// `fmt` and `att_stmt` already CBOR-encoded, to test wrong types.
fn attestation_object(fmt: &[u8], att_stmt: &[u8], auth_data: &[u8]) -> Vec<u8> {
    map(&[
        (text("fmt"), fmt.to_vec()),
        (text("attStmt"), att_stmt.to_vec()),
        (text("authData"), bytes(auth_data)),
    ])
}

fn registration_json(resp: &RegistrationResponse) -> String {
    let (id, cd, ao) = (
        b64(&resp.id),
        b64(&resp.client_data_json),
        b64(&resp.attestation_object),
    );
    format!(
        r#"{{"id":"{id}","rawId":"{id}","type":"public-key","authenticatorAttachment":"platform",
        "response":{{"clientDataJSON":"{cd}","attestationObject":"{ao}","transports":["usb","nfc"],
        "publicKeyAlgorithm":-7}},"clientExtensionResults":{{"credProps":{{"rk":true}}}}}}"#
    )
}

fn assertion_json(resp: &AssertionResponse) -> String {
    let (id, cd) = (b64(&resp.id), b64(&resp.client_data_json));
    let (ad, sig) = (b64(&resp.authenticator_data), b64(&resp.signature));
    let user = b64(resp.user_handle.as_deref().unwrap_or_default());
    format!(
        r#"{{"id":"{id}","rawId":"{id}","type":"public-key","response":{{"clientDataJSON":"{cd}",
        "authenticatorData":"{ad}","signature":"{sig}","userHandle":"{user}"}}}}"#
    )
}

fn rp_origins() -> Vec<String> {
    vec![ORIGIN.to_owned(), "http://localhost:8080".to_owned()]
}

fn register(resp: &RegistrationResponse) -> Result<NewCredential, WebauthnError> {
    register_uv(resp, UserVerification::Preferred)
}

fn register_uv(
    resp: &RegistrationResponse,
    uv: UserVerification,
) -> Result<NewCredential, WebauthnError> {
    let origins = rp_origins();
    verify_registration(
        &RelyingParty {
            id: RP_ID,
            origins: &origins,
        },
        &CHALLENGE,
        uv,
        resp,
    )
}

fn assert_key(key: &[u8], resp: &AssertionResponse) -> Result<Asserted, WebauthnError> {
    assert_uv(key, resp, UserVerification::Preferred)
}

fn assert_uv(
    key: &[u8],
    resp: &AssertionResponse,
    uv: UserVerification,
) -> Result<Asserted, WebauthnError> {
    let origins = rp_origins();
    verify_assertion(
        &RelyingParty {
            id: RP_ID,
            origins: &origins,
        },
        &CHALLENGE,
        uv,
        key,
        resp,
    )
}

fn malformed<T>(result: Result<T, WebauthnError>) -> bool {
    matches!(result, Err(Malformed(_)))
}

fn bad_key<T>(result: Result<T, WebauthnError>) -> bool {
    matches!(result, Err(BadPublicKey(_)))
}

// ---- both ceremonies, each algorithm ----

fn round_trip(alg: i64) {
    let authenticator = Authenticator::new(alg);
    let sent = authenticator.reg(create(""), UP | UV | AT);
    let received = RegistrationResponse::from_json(registration_json(&sent).as_bytes()).unwrap();
    assert_eq!(received.id, sent.id);
    assert_eq!(received.attestation_object, sent.attestation_object);
    assert_eq!(
        client_challenge(&received.client_data_json).unwrap(),
        CHALLENGE
    );

    let credential = register_uv(&received, UserVerification::Required).unwrap();
    let expected = NewCredential {
        id: authenticator.id.clone(),
        public_key: authenticator.cose_key(),
        algorithm: alg,
        sign_count: 0,
        aaguid: [0xa7; 16],
        user_verified: true,
        backup_eligible: false,
        backed_up: false,
        attestation_format: "none".to_owned(),
        transports: vec!["usb".to_owned(), "nfc".to_owned()],
    };
    assert_eq!(credential, expected);

    let sent = authenticator.sig(get(""), UP | UV);
    let received = AssertionResponse::from_json(assertion_json(&sent).as_bytes()).unwrap();
    assert_eq!(received, sent);
    let asserted = assert_uv(
        &credential.public_key,
        &received,
        UserVerification::Required,
    );
    let expected = Asserted {
        sign_count: 1,
        user_verified: true,
        backup_eligible: false,
        backed_up: false,
    };
    assert_eq!(asserted, Ok(expected));

    let mut tampered = sent;
    *tampered.signature.last_mut().unwrap() ^= 1;
    assert_eq!(
        assert_key(&credential.public_key, &tampered),
        Err(BadSignature)
    );
}

#[test]
fn es256_round_trip() {
    round_trip(ES256);
}

#[test]
fn eddsa_round_trip() {
    round_trip(EDDSA);
}

#[test]
fn rs256_round_trip() {
    round_trip(RS256);
}

#[test]
fn vectors_from_an_independent_implementation_verify() {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("testdata/vectors.json")).unwrap();
    let hex = |v: &serde_json::Value| -> Vec<u8> {
        let s = v.as_str().unwrap();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let uv = UserVerification::Required;
    let vectors = vectors.as_array().unwrap();
    assert_eq!(vectors.len(), 3);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let origins = vec![v["origin"].as_str().unwrap().to_owned()];
        let rp = RelyingParty {
            id: v["rp_id"].as_str().unwrap(),
            origins: &origins,
        };
        let json = serde_json::to_vec(&v["registration"]).unwrap();
        let resp = RegistrationResponse::from_json(&json).unwrap();
        let challenge = hex(&v["registration_challenge"]);
        let credential = verify_registration(&rp, &challenge, uv, &resp).unwrap();
        assert_eq!(credential.algorithm, v["alg"].as_i64().unwrap(), "{name}");
        assert_eq!(credential.public_key, hex(&v["public_key"]));
        assert_eq!(credential.aaguid.to_vec(), hex(&v["aaguid"]));
        assert!(credential.user_verified && credential.backup_eligible && !credential.backed_up);
        assert_eq!(credential.transports, ["internal", "hybrid"]);

        let json = serde_json::to_vec(&v["assertion"]).unwrap();
        let resp = AssertionResponse::from_json(&json).unwrap();
        assert_eq!(resp.user_handle.unwrap(), format!("user-{name}").as_bytes());
        let resp = AssertionResponse::from_json(&json).unwrap();
        let challenge = hex(&v["assertion_challenge"]);
        let asserted = verify_assertion(&rp, &challenge, uv, &credential.public_key, &resp);
        let expected = Asserted {
            sign_count: 7,
            user_verified: true,
            backup_eligible: true,
            backed_up: true,
        };
        assert_eq!(asserted, Ok(expected), "{name}");
        let other = hex(&v["registration_challenge"]);
        let asserted = verify_assertion(&rp, &other, uv, &credential.public_key, &resp);
        assert_eq!(asserted, Err(ChallengeMismatch));
    }
}

// ---- client data ----

#[test]
fn wrong_type_is_refused() {
    let a = Authenticator::es256();
    let get_as_create = client_data("webauthn.get", &CHALLENGE, ORIGIN, "");
    assert_eq!(register(&a.reg(get_as_create, UP | AT)), Err(WrongType));
    let create_as_get = client_data("webauthn.create", &CHALLENGE, ORIGIN, "");
    assert_eq!(a.check(&a.sig(create_as_get, UP)), Err(WrongType));
    let other = client_data("payment.get", &CHALLENGE, ORIGIN, "");
    assert_eq!(a.check(&a.sig(other, UP)), Err(WrongType));
}

#[test]
fn another_challenge_is_refused() {
    let a = Authenticator::es256();
    let mut other = CHALLENGE;
    other[31] ^= 1;
    let cd = client_data("webauthn.create", &other, ORIGIN, "");
    assert_eq!(register(&a.reg(cd, UP | AT)), Err(ChallengeMismatch));
    let prefix = client_data("webauthn.create", &CHALLENGE[..31], ORIGIN, "");
    assert_eq!(register(&a.reg(prefix, UP | AT)), Err(ChallengeMismatch));
    let cd = client_data("webauthn.get", &other, ORIGIN, "");
    assert_eq!(a.check(&a.sig(cd, UP)), Err(ChallengeMismatch));
}

#[test]
fn a_short_expected_challenge_is_refused() {
    let a = Authenticator::es256();
    let short = [1u8; MIN_CHALLENGE - 1];
    let resp = a.reg(client_data("webauthn.create", &short, ORIGIN, ""), UP | AT);
    let origins = rp_origins();
    let rp = RelyingParty {
        id: RP_ID,
        origins: &origins,
    };
    let uv = UserVerification::Preferred;
    assert_eq!(
        verify_registration(&rp, &short, uv, &resp),
        Err(ChallengeMismatch)
    );
    assert_eq!(
        verify_registration(&rp, &[], uv, &resp),
        Err(ChallengeMismatch)
    );
}

#[test]
fn only_the_exact_origins_are_accepted() {
    let a = Authenticator::es256();
    for origin in [
        "https://evil.example.com",
        "https://login.example.com/",
        "https://login.example.com:443",
        "http://login.example.com",
        "HTTPS://LOGIN.EXAMPLE.COM",
        "http://localhost:8081",
        "",
    ] {
        let cd = client_data("webauthn.create", &CHALLENGE, origin, "");
        assert_eq!(
            register(&a.reg(cd, UP | AT)),
            Err(OriginNotAccepted),
            "{origin}"
        );
    }
    let local = client_data("webauthn.create", &CHALLENGE, "http://localhost:8080", "");
    assert!(register(&a.reg(local, UP | AT)).is_ok());
    let evil = client_data("webauthn.get", &CHALLENGE, "https://evil.example.com", "");
    assert_eq!(a.check(&a.sig(evil, UP)), Err(OriginNotAccepted));
}

#[test]
fn cross_origin_is_refused() {
    let a = Authenticator::es256();
    let with = |extra: &str| register(&a.reg(create(extra), UP | AT));
    assert_eq!(with(r#","crossOrigin":true"#), Err(CrossOrigin));
    assert!(with(r#","crossOrigin":false"#).is_ok());
    assert!(malformed(with(r#","crossOrigin":"false""#)));
    assert_eq!(
        with(r#","topOrigin":"https://evil.example.com""#),
        Err(OriginNotAccepted)
    );
    assert!(with(r#","topOrigin":"http://localhost:8080""#).is_ok());
    assert!(malformed(with(r#","topOrigin":1"#)));
    assert_eq!(
        a.check(&a.sig(get(r#","crossOrigin":true"#), UP)),
        Err(CrossOrigin)
    );
}

#[test]
fn client_data_that_is_not_json_is_malformed() {
    let a = Authenticator::es256();
    for bad in [
        &b"not json"[..],
        b"",
        b"[]",
        b"\xff\xfe{}",
        br#"{"type":"webauthn.create","origin":"https://login.example.com"}"#,
        br#"{"type":"webauthn.create","challenge":"***","origin":"https://login.example.com"}"#,
        br#"{"type":1,"challenge":"WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo","origin":"x"}"#,
    ] {
        assert!(
            malformed(register(&a.reg(bad.to_vec(), UP | AT))),
            "{bad:?}"
        );
        assert!(malformed(a.check(&a.sig(bad.to_vec(), UP))), "{bad:?}");
        assert!(client_challenge(bad).is_err());
    }
}

// ---- authenticator data ----

#[test]
fn another_rp_id_is_refused() {
    let a = Authenticator::es256();
    let resp = a.reg_data(create(""), a.auth_data("evil.com", UP | AT, 0));
    assert_eq!(register(&resp), Err(RpIdMismatch));
    let resp = a.sig_data(get(""), a.auth_data("login.example.com", UP, 1));
    assert_eq!(a.check(&resp), Err(RpIdMismatch));
}

#[test]
fn user_presence_is_required() {
    let a = Authenticator::es256();
    assert_eq!(register(&a.reg(create(""), UV | AT)), Err(UserNotPresent));
    assert_eq!(a.check(&a.sig(get(""), UV)), Err(UserNotPresent));
}

#[test]
fn user_verification_is_enforced_only_when_required() {
    use UserVerification::*;
    let a = Authenticator::es256();
    let resp = a.reg(create(""), UP | AT);
    assert_eq!(register_uv(&resp, Required), Err(UserNotVerified));
    assert!(!register_uv(&resp, Preferred).unwrap().user_verified);
    assert!(register_uv(&resp, Discouraged).is_ok());

    let (key, resp) = (a.cose_key(), a.sig(get(""), UP));
    assert_eq!(assert_uv(&key, &resp, Required), Err(UserNotVerified));
    assert!(!assert_uv(&key, &resp, Preferred).unwrap().user_verified);
    assert!(assert_uv(&key, &resp, Discouraged).is_ok());
}

#[test]
fn backup_flags_are_reported_and_bs_needs_be() {
    let a = Authenticator::es256();
    let credential = register(&a.reg(create(""), UP | BE | BS | AT)).unwrap();
    assert!(credential.backup_eligible && credential.backed_up);
    let refused = register(&a.reg(create(""), UP | BS | AT));
    assert_eq!(refused, Err(Malformed("backed up but not backup eligible")));
    let asserted = a.check(&a.sig(get(""), UP | BE)).unwrap();
    assert!(asserted.backup_eligible && !asserted.backed_up && !asserted.user_verified);
    assert!(malformed(a.check(&a.sig(get(""), UP | BS))));
}

#[test]
fn a_registration_without_credential_data_is_refused() {
    let a = Authenticator::es256();
    assert_eq!(register(&a.reg(create(""), UP)), Err(NoCredentialData));
}

#[test]
fn a_credential_id_other_than_the_responses_is_refused() {
    let a = Authenticator::es256();
    let mut resp = a.reg(create(""), UP | AT);
    resp.id = b"another credential".to_vec();
    assert_eq!(register(&resp), Err(CredentialIdMismatch));
}

#[test]
fn extensions_are_skipped_when_they_are_a_map() {
    let a = Authenticator::es256();
    let ext = map(&[(text("credProtect"), int(2))]);
    let with = |ext: &[u8]| {
        let data = [a.auth_data(RP_ID, UP | AT | ED, 0), ext.to_vec()].concat();
        register(&a.reg_data(create(""), data))
    };
    assert!(with(&ext).is_ok());
    assert_eq!(with(&int(2)), Err(Malformed("extensions are not a map")));
    assert!(malformed(with(&[])));
    let data = [a.auth_data(RP_ID, UP | ED, 3), ext].concat();
    assert_eq!(a.check(&a.sig_data(get(""), data)).unwrap().sign_count, 3);
}

#[test]
fn trailing_bytes_are_refused() {
    let a = Authenticator::es256();
    let trailing = Malformed("trailing bytes after authenticator data");
    let data = [a.auth_data(RP_ID, UP | AT, 0), vec![0]].concat();
    assert_eq!(
        register(&a.reg_data(create(""), data)),
        Err(trailing.clone())
    );
    // Even when the authenticator signed them.
    let data = [a.auth_data(RP_ID, UP, 1), vec![0]].concat();
    assert_eq!(a.check(&a.sig_data(get(""), data)), Err(trailing));
    let mut resp = a.reg(create(""), UP | AT);
    resp.attestation_object.push(0);
    assert_eq!(register(&resp), Err(Malformed("trailing bytes after CBOR")));
}

#[test]
fn truncated_authenticator_data_is_refused() {
    let a = Authenticator::es256();
    let full = a.auth_data(RP_ID, UP | AT, 0);
    for len in 0..full.len() {
        assert!(
            malformed(register(&a.reg_data(create(""), full[..len].to_vec()))),
            "{len}"
        );
    }
    let full = a.auth_data(RP_ID, UP, 1);
    for len in 0..full.len() {
        assert!(
            malformed(a.check(&a.sig_data(get(""), full[..len].to_vec()))),
            "{len}"
        );
    }
}

#[test]
fn credential_id_length_is_bounded() {
    let mut a = Authenticator::es256();
    a.id = vec![1; MAX_CREDENTIAL_ID + 1];
    let refused = register(&a.reg(create(""), UP | AT));
    assert_eq!(refused, Err(Malformed("credential ID length out of range")));
    a.id = vec![1; MAX_CREDENTIAL_ID];
    assert!(register(&a.reg(create(""), UP | AT)).is_ok());
}

// ---- attestation object ----

#[test]
fn the_attestation_format_is_recorded_and_checked() {
    let a = Authenticator::es256();
    let data = a.auth_data(RP_ID, UP | AT, 0);
    let with = |fmt: &[u8], stmt: &[u8]| {
        let mut resp = a.reg(create(""), UP | AT);
        resp.attestation_object = attestation_object(fmt, stmt, &data);
        register(&resp)
    };
    let stmt = map(&[(text("alg"), int(-7)), (text("sig"), bytes(&[1, 2, 3]))]);
    assert_eq!(
        with(&text("packed"), &stmt).unwrap().attestation_format,
        "packed"
    );
    let long = "x".repeat(33);
    for fmt in [
        text(""),
        text(&long),
        text("two words"),
        bytes(b"none"),
        int(1),
    ] {
        let refused = with(&fmt, &map(&[]));
        assert_eq!(
            refused,
            Err(Malformed("attestation fmt is not a short text"))
        );
    }
    let refused = with(&text("none"), &text("{}"));
    assert_eq!(refused, Err(Malformed("attestation attStmt is not a map")));
    let mut resp = a.reg(create(""), UP | AT);
    resp.attestation_object = map(&[(text("fmt"), text("none")), (text("attStmt"), map(&[]))]);
    assert_eq!(
        register(&resp),
        Err(Malformed("attestation authData is not bytes"))
    );
    resp.attestation_object = bytes(&data);
    assert!(malformed(register(&resp)));
}

// ---- public keys ----

/// Registers a credential whose authenticator data carries `cose_key`.
fn register_key(cose_key: &[u8]) -> Result<NewCredential, WebauthnError> {
    let a = Authenticator::es256();
    let mut data = a.auth_data(RP_ID, UP, 0);
    data[32] |= AT;
    data.extend_from_slice(&[0; 16]);
    data.extend_from_slice(&(a.id.len() as u16).to_be_bytes());
    data.extend_from_slice(&a.id);
    data.extend_from_slice(cose_key);
    register(&a.reg_data(create(""), data))
}

#[test]
fn unsupported_algorithms_are_refused() {
    let p = Authenticator::es256().point();
    let (x, y) = (&p[1..33], &p[33..]);
    assert_eq!(
        register_key(&ec2_key(ES256, x, y)).unwrap().algorithm,
        ES256
    );
    // ES384 (-35), PS256 (-37), RS1 (-65535) and unassigned values, with an otherwise good key.
    for alg in [-35, -37, -65535, 0, 1] {
        assert_eq!(
            register_key(&ec2_key(alg, x, y)),
            Err(UnsupportedAlgorithm(alg))
        );
    }
    let no_alg = cose(&[(1, int(2)), (-1, int(1)), (-2, bytes(x)), (-3, bytes(y))]);
    assert_eq!(register_key(&no_alg), Err(Malformed("COSE key has no alg")));
    let text_alg = cose(&[(1, int(2)), (3, text("ES256"))]);
    assert_eq!(
        register_key(&text_alg),
        Err(Malformed("COSE key has no alg"))
    );
    let huge = cose(&[(1, int(2)), (3, head(1, u64::MAX))]);
    assert_eq!(register_key(&huge), Err(Malformed("COSE alg out of range")));
}

#[test]
fn a_key_must_match_its_algorithm() {
    let p = Authenticator::es256().point();
    let (x, y) = (&p[1..33], &p[33..]);
    let p384 = cose(&[
        (1, int(2)),
        (3, int(ES256)),
        (-1, int(2)),
        (-2, bytes(x)),
        (-3, bytes(y)),
    ]);
    assert!(bad_key(register_key(&p384)));
    assert!(bad_key(register_key(&okp_key(ES256, x))));
    assert!(bad_key(register_key(&ec2_key(ES256, &x[1..], y))));
    assert!(bad_key(register_key(&okp_key(EDDSA, &x[1..]))));
    assert!(bad_key(register_key(&ec2_key(EDDSA, x, y))));
    let n = [vec![0xc5], vec![0x11; 255]].concat();
    assert!(bad_key(register_key(&rsa_key(ES256, &n, &[1, 0, 1]))));
    assert!(bad_key(register_key(&ec2_key(RS256, x, y))));
    assert!(malformed(register_key(&bytes(x))));
    let no_y = cose(&[(1, int(2)), (3, int(ES256)), (-1, int(1)), (-2, bytes(x))]);
    assert!(malformed(register_key(&no_y)));
}

#[test]
fn a_p256_point_off_the_curve_is_refused() {
    let a = Authenticator::es256();
    let p = a.point();
    let mut y = p[33..].to_vec();
    y[31] ^= 1;
    let off_curve = ec2_key(ES256, &p[1..33], &y);
    let refused = BadPublicKey("P-256 point is not on the curve");
    assert_eq!(register_key(&off_curve).unwrap_err(), refused);
    assert_eq!(
        register_key(&ec2_key(ES256, &[0; 32], &[0; 32])).unwrap_err(),
        refused
    );
    // A stored key off the curve is refused before any signature check.
    assert_eq!(
        assert_key(&off_curve, &a.sig(get(""), UP)).unwrap_err(),
        refused
    );
}

#[test]
fn rsa_keys_must_have_2048_to_8192_bits() {
    let (n, e) = rsa_components(RSA_KEY.public_key().as_ref());
    // The DER modulus carries a leading zero byte; COSE keys may too.
    assert_eq!(n[0], 0);
    assert_eq!(
        register_key(&rsa_key(RS256, &n, &e)).unwrap().algorithm,
        RS256
    );
    assert_eq!(
        register_key(&rsa_key(RS256, &n[1..], &e))
            .unwrap()
            .algorithm,
        RS256
    );
    let size = Err(BadPublicKey("RSA modulus is not 2048 to 8192 bits"));
    let mut bits_2047 = n[1..].to_vec();
    bits_2047[0] &= 0x7f;
    assert_eq!(register_key(&rsa_key(RS256, &bits_2047, &e)), size);
    assert_eq!(register_key(&rsa_key(RS256, &n[1..129], &e)), size);
    let bits_8200 = [vec![0xff], n[1..].repeat(4)].concat();
    assert_eq!(register_key(&rsa_key(RS256, &bits_8200, &e)), size);
    assert!(bad_key(register_key(&rsa_key(RS256, &n, &[]))));
    assert!(bad_key(register_key(&rsa_key(RS256, &n, &[1; 9]))));
}

// ---- signatures ----

#[test]
fn a_flipped_signature_bit_is_refused() {
    let a = Authenticator::es256();
    let resp = a.sig(get(""), UP);
    assert!(a.check(&resp).is_ok());
    for i in [0, 10, resp.signature.len() - 1] {
        let mut bad = resp.clone();
        bad.signature[i] ^= 0x01;
        assert_eq!(a.check(&bad), Err(BadSignature), "byte {i}");
    }
    let mut empty = resp;
    empty.signature.clear();
    assert_eq!(a.check(&empty), Err(BadSignature));
}

#[test]
fn a_signature_by_another_key_is_refused() {
    for alg in ALGORITHMS {
        let a = Authenticator::new(alg);
        let other = Authenticator::new(if alg == EDDSA { ES256 } else { EDDSA });
        assert_eq!(a.check(&other.sig(get(""), UP)), Err(BadSignature), "{alg}");
    }
    let (first, second) = (Authenticator::es256(), Authenticator::es256());
    assert_eq!(first.check(&second.sig(get(""), UP)), Err(BadSignature));
}

#[test]
fn the_signature_covers_authenticator_and_client_data() {
    let a = Authenticator::es256();
    let resp = a.sig(get(""), UP);
    let mut counter = resp.clone();
    counter.authenticator_data[36] += 1;
    assert_eq!(a.check(&counter), Err(BadSignature));
    let mut uv = resp.clone();
    uv.authenticator_data[32] |= UV;
    assert_eq!(
        assert_uv(&a.cose_key(), &uv, UserVerification::Required),
        Err(BadSignature)
    );
    let mut client = resp;
    client.client_data_json = get(r#","extra":1"#);
    assert_eq!(a.check(&client), Err(BadSignature));
}

// ---- JSON forms ----

#[test]
fn registration_json_is_read_strictly() {
    let a = Authenticator::es256();
    let good = registration_json(&a.reg(create(""), UP | AT));
    assert!(RegistrationResponse::from_json(good.as_bytes()).is_ok());
    let id = b64(&a.id);
    let padded = good.replace(&id, &URL_SAFE.encode(&a.id));
    assert_ne!(padded, good);
    assert!(RegistrationResponse::from_json(padded.as_bytes()).is_ok());
    let bare = good.replace(r#""transports":["usb","nfc"],"#, "");
    assert!(
        RegistrationResponse::from_json(bare.as_bytes())
            .unwrap()
            .transports
            .is_empty()
    );

    let transports = r#""transports":["usb","nfc"]"#;
    let nine = format!(r#""transports":[{}]"#, [r#""usb""#; 9].join(","));
    for (bad, why) in [
        (
            good.replacen(&id, "AAAA", 1),
            "credential id and rawId differ",
        ),
        (
            good.replace(r#""public-key""#, r#""password""#),
            "credential type is not public-key",
        ),
        (
            good.replace(r#""type":"public-key","#, ""),
            "credential type missing",
        ),
        (
            good.replacen(&id, "not+base64/", 1),
            "credential id is not base64url",
        ),
        (
            good.replace(transports, r#""transports":"usb""#),
            "transports is not a short list",
        ),
        (
            good.replace(transports, &nine),
            "transports is not a short list",
        ),
        (
            good.replace(transports, r#""transports":[1]"#),
            "transport is not a short string",
        ),
        (
            good.replace("attestationObject", "attObj"),
            "attestationObject is not base64url",
        ),
        (
            good.replace(r#"JSON":""#, r#"JSON":"="#),
            "clientDataJSON is not base64url",
        ),
        (
            good.replace(r#""response":{"#, r#""response":1,"x":{"#),
            "credential response is not an object",
        ),
        ("[]".to_owned(), "credential is not a JSON object"),
        ("{".to_owned(), "not JSON"),
    ] {
        assert_eq!(
            RegistrationResponse::from_json(bad.as_bytes()),
            Err(Malformed(why)),
            "{bad}"
        );
    }
    let long = b64(&[1; MAX_CREDENTIAL_ID + 1]);
    let long = format!(r#"{{"id":"{long}","rawId":"{long}","type":"public-key","response":{{}}}}"#);
    let refused = RegistrationResponse::from_json(long.as_bytes());
    assert_eq!(refused, Err(Malformed("credential id length out of range")));
}

#[test]
fn assertion_json_is_read_strictly() {
    let a = Authenticator::es256();
    let resp = a.sig(get(""), UP);
    let good = assertion_json(&resp);
    assert_eq!(AssertionResponse::from_json(good.as_bytes()), Ok(resp));
    let handle = format!(r#""userHandle":"{}""#, b64(b"user"));
    let null = good.replace(&handle, r#""userHandle":null"#);
    assert_eq!(
        AssertionResponse::from_json(null.as_bytes())
            .unwrap()
            .user_handle,
        None
    );
    let absent = good.replace(&format!(",{handle}"), "");
    assert_eq!(
        AssertionResponse::from_json(absent.as_bytes())
            .unwrap()
            .user_handle,
        None
    );
    let too_long = format!(r#""userHandle":"{}""#, b64(&[0; 65]));
    for (bad, why) in [
        (
            good.replace(&handle, r#""userHandle":"""#),
            "userHandle length out of range",
        ),
        (
            good.replace(&handle, &too_long),
            "userHandle length out of range",
        ),
        (
            good.replace(&handle, r#""userHandle":7"#),
            "userHandle is not base64url",
        ),
        (
            good.replace(r#""signature":""#, r#""signature":"!"#),
            "signature is not base64url",
        ),
        (
            good.replace("authenticatorData", "authData"),
            "authenticatorData is not base64url",
        ),
        (
            good.replace(r#""response":{"#, r#""response":[],"x":{"#),
            "credential response is not an object",
        ),
    ] {
        assert_eq!(
            AssertionResponse::from_json(bad.as_bytes()),
            Err(Malformed(why)),
            "{bad}"
        );
    }
}

#[test]
fn client_challenge_reads_the_claimed_challenge() {
    let json = client_data("webauthn.get", b"some challenge", "https://anywhere", "");
    assert_eq!(client_challenge(&json).unwrap(), b"some challenge");
}

#[test]
fn error_codes_are_distinct_snake_case() {
    let errors = [
        Malformed("x"),
        WrongType,
        ChallengeMismatch,
        OriginNotAccepted,
        CrossOrigin,
        RpIdMismatch,
        UserNotPresent,
        UserNotVerified,
        NoCredentialData,
        CredentialIdMismatch,
        UnsupportedAlgorithm(-35),
        BadPublicKey("x"),
        BadSignature,
    ];
    let codes: std::collections::HashSet<_> = errors.iter().map(WebauthnError::code).collect();
    assert_eq!(codes.len(), errors.len());
    assert!(
        codes
            .iter()
            .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    );
    assert_eq!(
        UnsupportedAlgorithm(-35).to_string(),
        "COSE algorithm -35 is not supported"
    );
}

#[test]
fn user_verification_names_round_trip() {
    use UserVerification::*;
    for uv in [Required, Preferred, Discouraged] {
        assert_eq!(uv.as_str().parse::<UserVerification>(), Ok(uv));
        assert_eq!(uv.to_string(), uv.as_str());
    }
    assert!("Required".parse::<UserVerification>().is_err());
}

// ---- hostile input never panics ----

proptest! {
    #[test]
    fn random_json_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = RegistrationResponse::from_json(&data);
        let _ = AssertionResponse::from_json(&data);
        let _ = client_challenge(&data);
    }

    #[test]
    fn random_cbor_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok((_, used)) = cbor::decode_prefix(&data) {
            prop_assert!(used <= data.len());
        }
        let _ = cose::PublicKey::from_cose(&data);
        let _ = auth_data::parse(&data);
    }

    #[test]
    fn damaged_ceremonies_are_refused_without_panics(
        at in any::<prop::sample::Index>(),
        cut in 0usize..8,
        xor in 1u8..,
    ) {
        // Damage real responses rather than random bytes, so the deeper checks are reached.
        let a = Authenticator::es256();
        let mut resp = a.reg(create(""), UP | AT);
        let object = &mut resp.attestation_object;
        let i = at.index(object.len());
        object[i] ^= xor;
        object.truncate(object.len() - cut);
        let _ = register(&resp);
        let mut resp = a.sig(get(""), UP);
        let data = &mut resp.authenticator_data;
        let i = at.index(data.len());
        data[i] ^= xor;
        data.truncate(data.len() - cut);
        prop_assert!(a.check(&resp).is_err());
    }
}
