//! WebAuthn (Level 3) relying-party verification: passkeys and security keys.
//!
//! Pure functions over the bytes a browser sends; the caller keeps challenges, credentials and
//! counters. A sign-up (§7.1): issue a challenge, read the browser's answer with
//! [`RegistrationResponse::from_json`], find the challenge through [`client_challenge`], then
//! [`verify_registration`] and store the [`NewCredential`]. A sign-in (§7.2): the same with
//! [`AssertionResponse::from_json`] and [`verify_assertion`] against the stored public key, then
//! compare the returned [`Asserted::sign_count`] with the stored one.
//!
//! # The checks
//!
//! Client data (`clientDataJSON`): JSON whose `type` is `webauthn.create` or `webauthn.get`,
//! whose `challenge` (base64url) equals the issued one (compared in constant time), whose
//! `origin` is one of [`RelyingParty::origins`] exactly, whose `crossOrigin` is not `true` and
//! whose `topOrigin`, if any, is accepted as well.
//!
//! Authenticator data: at least 37 bytes; `rpIdHash` is SHA-256 of [`RelyingParty::id`]; flag
//! UP (user present) is set; flag UV (user verified) is set when [`UserVerification::Required`];
//! BS (backed up) is only set together with BE (backup eligible); attested credential data (flag
//! AT) and extensions (flag ED) are parsed strictly and nothing may follow them. A registration
//! must carry attested credential data whose credential ID is the response's ID.
//!
//! Attestation: the attestation object is a CBOR map of `fmt` (a short text, recorded),
//! `attStmt` (a map, not verified: relying parties that ask for attestation `"none"` get no
//! trustworthy statement anyway) and `authData`.
//!
//! Public keys are COSE keys of the [`ALGORITHMS`]: ES256 on P-256, EdDSA on Ed25519 and RS256
//! with 2048 to 8192 bits. The key is checked by AWS-LC at registration (a P-256 point must be
//! on the curve). An assertion's signature is over `authenticatorData || SHA-256(clientDataJSON)`.
//!
//! CBOR is read by a small strict decoder (definite lengths, no tags or floats, depth 16, no
//! duplicate map keys) that never allocates more than its input's size.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

mod auth_data;
mod cbor;
mod cose;
mod error;
mod json;
#[cfg(test)]
mod tests;

pub use auth_data::MAX_CREDENTIAL_ID;
pub use error::WebauthnError;
pub use json::client_challenge;

/// COSE algorithm ES256: ECDSA on P-256 with SHA-256.
pub const ES256: i64 = -7;
/// COSE algorithm EdDSA (Ed25519).
pub const EDDSA: i64 = -8;
/// COSE algorithm RS256: RSASSA-PKCS1-v1_5 with SHA-256.
pub const RS256: i64 = -257;
/// The COSE algorithms accepted, in preference order for `pubKeyCredParams`.
pub const ALGORITHMS: [i64; 3] = [ES256, EDDSA, RS256];

/// The shortest challenge accepted (WebAuthn §13.4.3 asks for at least 16 random bytes).
pub const MIN_CHALLENGE: usize = 16;

/// Whether the authenticator must verify the user (PIN, biometrics), as in the options sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserVerification {
    /// Refuse responses without flag UV.
    Required,
    /// Ask for it, accept responses without it.
    Preferred,
    /// Do not ask for it, accept responses without it.
    Discouraged,
}

impl UserVerification {
    /// The value for `userVerification` in the options sent to the browser.
    pub fn as_str(self) -> &'static str {
        match self {
            UserVerification::Required => "required",
            UserVerification::Preferred => "preferred",
            UserVerification::Discouraged => "discouraged",
        }
    }
}

impl std::str::FromStr for UserVerification {
    type Err = WebauthnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "required" => Ok(UserVerification::Required),
            "preferred" => Ok(UserVerification::Preferred),
            "discouraged" => Ok(UserVerification::Discouraged),
            _ => Err(WebauthnError::Malformed(
                "unknown user verification requirement",
            )),
        }
    }
}

impl std::fmt::Display for UserVerification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The relying party the responses must be for.
#[derive(Debug, Clone, Copy)]
pub struct RelyingParty<'a> {
    /// The RP ID: a registrable domain, e.g. `example.com` or `localhost`.
    pub id: &'a str,
    /// The exact origins accepted, e.g. `https://a.example.com` or `http://localhost:8080`.
    pub origins: &'a [String],
}

/// The browser's answer to `navigator.credentials.create()`, decoded from base64url.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationResponse {
    /// The credential ID.
    pub id: Vec<u8>,
    /// The client data JSON, as signed over.
    pub client_data_json: Vec<u8>,
    /// The CBOR attestation object.
    pub attestation_object: Vec<u8>,
    /// The transports the authenticator says it can use (hints for later `allowCredentials`).
    pub transports: Vec<String>,
}

/// The browser's answer to `navigator.credentials.get()`, decoded from base64url.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionResponse {
    /// The credential ID.
    pub id: Vec<u8>,
    /// The client data JSON, as signed over.
    pub client_data_json: Vec<u8>,
    /// The authenticator data, as signed over.
    pub authenticator_data: Vec<u8>,
    /// The signature over `authenticatorData || SHA-256(clientDataJSON)`.
    pub signature: Vec<u8>,
    /// The user handle (`user.id` at registration); always present for discoverable credentials.
    pub user_handle: Option<Vec<u8>>,
}

/// A verified registration: what to store for the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// The credential ID.
    pub id: Vec<u8>,
    /// The COSE_Key bytes exactly as in the authenticator data (pass back to
    /// [`verify_assertion`]).
    pub public_key: Vec<u8>,
    /// Its COSE algorithm, one of [`ALGORITHMS`].
    pub algorithm: i64,
    /// The signature counter (0 for authenticators without one).
    pub sign_count: u32,
    /// The authenticator model (all zeros when not attested).
    pub aaguid: [u8; 16],
    /// Whether the authenticator verified the user (flag UV).
    pub user_verified: bool,
    /// Whether the credential may be backed up, e.g. a synced passkey (flag BE).
    pub backup_eligible: bool,
    /// Whether the credential is backed up now (flag BS).
    pub backed_up: bool,
    /// The attestation statement format (`none`, `packed`, ...), not verified.
    pub attestation_format: String,
    /// The transports the browser reported.
    pub transports: Vec<String>,
}

/// A verified assertion: what the caller compares and updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asserted {
    /// The signature counter: if it or the stored one is non-zero, it must be greater than the
    /// stored one, else the authenticator may be cloned.
    pub sign_count: u32,
    /// Whether the authenticator verified the user (flag UV).
    pub user_verified: bool,
    /// Flag BE (it should not change over a credential's life).
    pub backup_eligible: bool,
    /// Flag BS (it may change).
    pub backed_up: bool,
}

/// The longest attestation format name accepted (registered names are short identifiers).
const MAX_FORMAT_LEN: usize = 32;

/// Verifies a registration (WebAuthn §7.1) against the challenge issued for it.
///
/// The attestation statement is recorded, not verified.
pub fn verify_registration(
    rp: &RelyingParty<'_>,
    challenge: &[u8],
    uv: UserVerification,
    resp: &RegistrationResponse,
) -> Result<NewCredential, WebauthnError> {
    check_challenge_length(challenge)?;
    json::check_client_data(rp, &resp.client_data_json, "webauthn.create", challenge)?;

    let object = cbor::decode(&resp.attestation_object)?;
    let format = match object.get_text("fmt") {
        Some(cbor::Value::Text(fmt))
            if !fmt.is_empty()
                && fmt.len() <= MAX_FORMAT_LEN
                && fmt.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            *fmt
        }
        _ => {
            return Err(WebauthnError::Malformed(
                "attestation fmt is not a short text",
            ));
        }
    };
    if !matches!(object.get_text("attStmt"), Some(cbor::Value::Map(_))) {
        return Err(WebauthnError::Malformed("attestation attStmt is not a map"));
    }
    let Some(cbor::Value::Bytes(raw_auth_data)) = object.get_text("authData") else {
        return Err(WebauthnError::Malformed(
            "attestation authData is not bytes",
        ));
    };

    let data = auth_data::parse(raw_auth_data)?;
    check_flags(rp, &data, uv)?;
    let credential = data
        .credential
        .as_ref()
        .ok_or(WebauthnError::NoCredentialData)?;
    let key = cose::PublicKey::from_cose(credential.public_key)?;
    if credential.id != resp.id.as_slice() {
        return Err(WebauthnError::CredentialIdMismatch);
    }
    Ok(NewCredential {
        id: resp.id.clone(),
        public_key: credential.public_key.to_vec(),
        algorithm: key.algorithm,
        sign_count: data.sign_count,
        aaguid: credential.aaguid,
        user_verified: data.has(auth_data::UV),
        backup_eligible: data.has(auth_data::BE),
        backed_up: data.has(auth_data::BS),
        attestation_format: format.to_owned(),
        transports: resp.transports.clone(),
    })
}

/// Verifies an assertion (WebAuthn §7.2) against the challenge issued for it and the stored
/// COSE public key of the credential the caller found by [`AssertionResponse::id`].
pub fn verify_assertion(
    rp: &RelyingParty<'_>,
    challenge: &[u8],
    uv: UserVerification,
    public_key: &[u8],
    resp: &AssertionResponse,
) -> Result<Asserted, WebauthnError> {
    check_challenge_length(challenge)?;
    let key = cose::PublicKey::from_cose(public_key)?;
    json::check_client_data(rp, &resp.client_data_json, "webauthn.get", challenge)?;
    let data = auth_data::parse(&resp.authenticator_data)?;
    check_flags(rp, &data, uv)?;
    let client_data_hash = Sha256::digest(&resp.client_data_json);
    let signed = [
        resp.authenticator_data.as_slice(),
        client_data_hash.as_slice(),
    ]
    .concat();
    key.verify(&signed, &resp.signature)?;
    Ok(Asserted {
        sign_count: data.sign_count,
        user_verified: data.has(auth_data::UV),
        backup_eligible: data.has(auth_data::BE),
        backed_up: data.has(auth_data::BS),
    })
}

/// A too-short expected challenge is the caller's bug; refusing it keeps it from being guessed.
fn check_challenge_length(challenge: &[u8]) -> Result<(), WebauthnError> {
    if challenge.len() < MIN_CHALLENGE {
        return Err(WebauthnError::ChallengeMismatch);
    }
    Ok(())
}

/// The authenticator-data checks both ceremonies share: RP ID hash, UP and UV.
fn check_flags(
    rp: &RelyingParty<'_>,
    data: &auth_data::AuthenticatorData<'_>,
    uv: UserVerification,
) -> Result<(), WebauthnError> {
    let expected = Sha256::digest(rp.id.as_bytes());
    if !bool::from(data.rp_id_hash.ct_eq(expected.as_slice())) {
        return Err(WebauthnError::RpIdMismatch);
    }
    if !data.has(auth_data::UP) {
        return Err(WebauthnError::UserNotPresent);
    }
    if uv == UserVerification::Required && !data.has(auth_data::UV) {
        return Err(WebauthnError::UserNotVerified);
    }
    Ok(())
}
