//! Why a WebAuthn response was refused.

/// A registration or assertion response that is refused, with the first check it failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebauthnError {
    /// Something did not parse: JSON, base64url, CBOR, authenticator data or a COSE key (what).
    #[error("malformed response: {0}")]
    Malformed(&'static str),
    /// `clientDataJSON.type` is not the one of this ceremony (a signed "get" replayed as a
    /// "create", or the reverse).
    #[error("the client data is for another kind of ceremony")]
    WrongType,
    /// The client data carries another challenge than the one issued.
    #[error("the challenge does not match the one issued")]
    ChallengeMismatch,
    /// The client data's origin (or top origin) is not one of the accepted origins.
    #[error("the origin is not accepted")]
    OriginNotAccepted,
    /// The ceremony ran in a cross-origin frame, which is not accepted.
    #[error("cross-origin ceremonies are not accepted")]
    CrossOrigin,
    /// The authenticator data is scoped to another relying party ID.
    #[error("the authenticator data is for another relying party ID")]
    RpIdMismatch,
    /// The authenticator did not test for user presence (flag UP).
    #[error("the user was not present")]
    UserNotPresent,
    /// User verification was required and the authenticator did not do it (flag UV).
    #[error("the user was not verified")]
    UserNotVerified,
    /// A registration's authenticator data has no attested credential data (flag AT).
    #[error("the registration carries no credential")]
    NoCredentialData,
    /// The attested credential ID is not the ID the response claims.
    #[error("the credential ID does not match the response's ID")]
    CredentialIdMismatch,
    /// The public key's COSE algorithm is not one of [`ALGORITHMS`](super::ALGORITHMS).
    #[error("COSE algorithm {0} is not supported")]
    UnsupportedAlgorithm(i64),
    /// The public key is not usable: wrong key type or curve for its algorithm, a point not on
    /// the curve, an RSA modulus outside 2048 to 8192 bits (what).
    #[error("the public key is not acceptable: {0}")]
    BadPublicKey(&'static str),
    /// The assertion signature does not verify under the credential's public key.
    #[error("the signature does not verify")]
    BadSignature,
}

impl WebauthnError {
    /// A short snake_case name for audit logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            WebauthnError::Malformed(_) => "malformed",
            WebauthnError::WrongType => "wrong_type",
            WebauthnError::ChallengeMismatch => "challenge_mismatch",
            WebauthnError::OriginNotAccepted => "origin_not_accepted",
            WebauthnError::CrossOrigin => "cross_origin",
            WebauthnError::RpIdMismatch => "rp_id_mismatch",
            WebauthnError::UserNotPresent => "user_not_present",
            WebauthnError::UserNotVerified => "user_not_verified",
            WebauthnError::NoCredentialData => "no_credential_data",
            WebauthnError::CredentialIdMismatch => "credential_id_mismatch",
            WebauthnError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            WebauthnError::BadPublicKey(_) => "bad_public_key",
            WebauthnError::BadSignature => "bad_signature",
        }
    }
}
