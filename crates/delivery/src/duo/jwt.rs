//! JWTs, HS512: the ones Twofold signs and the `id_token` it checks.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha512;
use subtle::ConstantTimeEq;
use twofold_core::duo::DuoError;

/// The clock skew allowed when checking an `id_token`'s `exp` and `iat` (as `duo_universal`).
const LEEWAY: f64 = 60.0;

pub(super) fn hmac_sha512(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = new_mac(key);
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn new_mac(key: &[u8]) -> Hmac<Sha512> {
    match <Hmac<Sha512> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this is never reached.
        Err(_) => <Hmac<Sha512> as KeyInit>::new(&Default::default()),
    }
}

/// A compact JWS of `claims`, HS512 under `secret`.
pub(super) fn jwt_hs512(claims: &Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(hmac_sha512(secret, signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

/// What an `id_token` must say.
pub(super) struct Expected<'a> {
    pub(super) secret: &'a [u8],
    /// `https://{api_host}/oauth/v1/token`.
    pub(super) issuer: &'a str,
    /// The client ID.
    pub(super) audience: &'a str,
    pub(super) nonce: &'a str,
    pub(super) username: &'a str,
    pub(super) now: i64,
}

/// Checks an `id_token` as `duo_universal` does, and Duo's result in it.
pub(super) fn verify_id_token(token: &str, expected: &Expected<'_>) -> Result<(), DuoError> {
    let invalid = |what: &str| {
        DuoError::Invalid(format!(
            "Duo's answer could not be verified: the id_token's {what}."
        ))
    };
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("format is wrong"));
    };
    let signing_input = &token[..header.len() + 1 + payload.len()];
    let header: Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or_else(|| invalid("header is malformed"))?;
    if header.get("alg") != Some(&json!("HS512")) {
        return Err(invalid("algorithm is not HS512"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| invalid("signature is malformed"))?;
    let mut mac = new_mac(expected.secret);
    mac.update(signing_input.as_bytes());
    // Constant-time comparison.
    mac.verify_slice(&signature)
        .map_err(|_| invalid("signature is not valid"))?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .filter(Value::is_object)
        .ok_or_else(|| invalid("claims are malformed"))?;

    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(invalid("issuer is not this Duo API host"));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(invalid("audience is not this application"));
    }
    #[allow(clippy::cast_precision_loss)] // Unix seconds fit an f64 exactly.
    let now = expected.now as f64;
    let time = |name: &str| claims.get(name).and_then(Value::as_f64);
    match time("exp") {
        Some(exp) if exp > now - LEEWAY => {}
        Some(_) => return Err(invalid("time has expired")),
        None => return Err(invalid("expiry time is missing")),
    }
    match time("iat") {
        Some(iat) if iat <= now + LEEWAY => {}
        Some(_) => return Err(invalid("issue time is in the future")),
        None => return Err(invalid("issue time is missing")),
    }
    if claims.get("nbf").is_some() && !time("nbf").is_some_and(|nbf| nbf <= now + LEEWAY) {
        return Err(invalid("not-before time is in the future"));
    }
    let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !bool::from(nonce.as_bytes().ct_eq(expected.nonce.as_bytes())) {
        return Err(invalid("nonce does not match this login"));
    }
    if claims.get("preferred_username").and_then(Value::as_str) != Some(expected.username) {
        return Err(invalid("user is not the one logging in"));
    }
    if let Some(result) = claims.get("auth_result")
        && result.get("result") != Some(&json!("allow"))
    {
        let message = result
            .get("status_msg")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty() && m.len() <= 200)
            .unwrap_or("the login was not approved");
        return Err(DuoError::Refused(format!(
            "Duo denied the login: {message}"
        )));
    }
    Ok(())
}
