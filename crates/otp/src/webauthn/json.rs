//! The JSON the browser sends (`PublicKeyCredential.toJSON()`, WebAuthn §5.1.8/§5.1.9) and the
//! client data JSON inside it (§5.8.1).

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::auth_data::MAX_CREDENTIAL_ID;
use super::{AssertionResponse, RegistrationResponse, RelyingParty, WebauthnError};

/// base64url as browsers write it (no padding), also accepting padding.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// At most this many transports are kept from a registration.
const MAX_TRANSPORTS: usize = 8;
/// The longest transport name kept ("smart-card", "hybrid", ...).
const MAX_TRANSPORT_LEN: usize = 32;
/// The longest user handle (WebAuthn §5.4.3: `user.id` is at most 64 bytes).
const MAX_USER_HANDLE: usize = 64;

fn object<'v>(
    value: &'v Value,
    what: &'static str,
) -> Result<&'v Map<String, Value>, WebauthnError> {
    value.as_object().ok_or(WebauthnError::Malformed(what))
}

fn text<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    what: &'static str,
) -> Result<&'v str, WebauthnError> {
    object
        .get(key)
        .and_then(Value::as_str)
        .ok_or(WebauthnError::Malformed(what))
}

fn binary(
    object: &Map<String, Value>,
    key: &str,
    what: &'static str,
) -> Result<Vec<u8>, WebauthnError> {
    BASE64URL
        .decode(text(object, key, what)?)
        .map_err(|_| WebauthnError::Malformed(what))
}

/// The top level both responses share: `{id, rawId, type: "public-key", response: {...}}`.
/// Returns the credential ID and the `response` object.
fn credential(value: &Value) -> Result<(Vec<u8>, &Map<String, Value>), WebauthnError> {
    let top = object(value, "credential is not a JSON object")?;
    if text(top, "type", "credential type missing")? != "public-key" {
        return Err(WebauthnError::Malformed(
            "credential type is not public-key",
        ));
    }
    let id = binary(top, "id", "credential id is not base64url")?;
    let raw_id = binary(top, "rawId", "credential rawId is not base64url")?;
    if id != raw_id {
        return Err(WebauthnError::Malformed("credential id and rawId differ"));
    }
    if id.is_empty() || id.len() > MAX_CREDENTIAL_ID {
        return Err(WebauthnError::Malformed(
            "credential id length out of range",
        ));
    }
    let response = top
        .get("response")
        .ok_or(WebauthnError::Malformed("credential has no response"))?;
    Ok((
        id,
        object(response, "credential response is not an object")?,
    ))
}

fn parse(json: &[u8]) -> Result<Value, WebauthnError> {
    serde_json::from_slice(json).map_err(|_| WebauthnError::Malformed("not JSON"))
}

impl RegistrationResponse {
    /// Reads the JSON of `PublicKeyCredential.toJSON()` after `navigator.credentials.create()`.
    ///
    /// Unknown fields are ignored; the caller bounds the size of `json`.
    pub fn from_json(json: &[u8]) -> Result<Self, WebauthnError> {
        let value = parse(json)?;
        let (id, response) = credential(&value)?;
        let transports = match response.get("transports") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() <= MAX_TRANSPORTS => items
                .iter()
                .map(|item| match item.as_str() {
                    Some(name) if !name.is_empty() && name.len() <= MAX_TRANSPORT_LEN => {
                        Ok(name.to_owned())
                    }
                    _ => Err(WebauthnError::Malformed("transport is not a short string")),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(WebauthnError::Malformed("transports is not a short list")),
        };
        Ok(RegistrationResponse {
            id,
            client_data_json: binary(
                response,
                "clientDataJSON",
                "clientDataJSON is not base64url",
            )?,
            attestation_object: binary(
                response,
                "attestationObject",
                "attestationObject is not base64url",
            )?,
            transports,
        })
    }
}

impl AssertionResponse {
    /// Reads the JSON of `PublicKeyCredential.toJSON()` after `navigator.credentials.get()`.
    ///
    /// Unknown fields are ignored; the caller bounds the size of `json`.
    pub fn from_json(json: &[u8]) -> Result<Self, WebauthnError> {
        let value = parse(json)?;
        let (id, response) = credential(&value)?;
        let user_handle = match response.get("userHandle") {
            None | Some(Value::Null) => None,
            Some(_) => {
                let handle = binary(response, "userHandle", "userHandle is not base64url")?;
                if handle.is_empty() || handle.len() > MAX_USER_HANDLE {
                    return Err(WebauthnError::Malformed("userHandle length out of range"));
                }
                Some(handle)
            }
        };
        Ok(AssertionResponse {
            id,
            client_data_json: binary(
                response,
                "clientDataJSON",
                "clientDataJSON is not base64url",
            )?,
            authenticator_data: binary(
                response,
                "authenticatorData",
                "authenticatorData is not base64url",
            )?,
            signature: binary(response, "signature", "signature is not base64url")?,
            user_handle,
        })
    }
}

/// The parsed client data: only what the checks read.
struct ClientData<'v> {
    ty: &'v str,
    challenge: Vec<u8>,
    origin: &'v str,
    cross_origin: bool,
    top_origin: Option<&'v str>,
}

fn client_data(value: &Value) -> Result<ClientData<'_>, WebauthnError> {
    let data = object(value, "clientDataJSON is not a JSON object")?;
    let cross_origin = match data.get("crossOrigin") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(WebauthnError::Malformed(
                "clientDataJSON crossOrigin is not a boolean",
            ));
        }
    };
    let top_origin = match data.get("topOrigin") {
        None | Some(Value::Null) => None,
        Some(Value::String(origin)) => Some(origin.as_str()),
        Some(_) => {
            return Err(WebauthnError::Malformed(
                "clientDataJSON topOrigin is not a string",
            ));
        }
    };
    Ok(ClientData {
        ty: text(data, "type", "clientDataJSON has no type")?,
        challenge: binary(
            data,
            "challenge",
            "clientDataJSON challenge is not base64url",
        )?,
        origin: text(data, "origin", "clientDataJSON has no origin")?,
        cross_origin,
        top_origin,
    })
}

fn parse_client_data(json: &[u8]) -> Result<Value, WebauthnError> {
    // JSON text is UTF-8 (RFC 8259 §8.1); serde_json checks that while parsing.
    serde_json::from_slice(json).map_err(|_| WebauthnError::Malformed("clientDataJSON is not JSON"))
}

/// The challenge bytes a clientDataJSON claims.
pub fn client_challenge(client_data_json: &[u8]) -> Result<Vec<u8>, WebauthnError> {
    Ok(client_data(&parse_client_data(client_data_json)?)?.challenge)
}

/// Checks the client data of a ceremony (§7.1 steps 7–10, §7.2 steps 10–13): its type, the
/// challenge (constant-time), the origin and that it did not run in a cross-origin frame.
pub(crate) fn check_client_data(
    rp: &RelyingParty<'_>,
    json: &[u8],
    expected_type: &str,
    challenge: &[u8],
) -> Result<(), WebauthnError> {
    let value = parse_client_data(json)?;
    let data = client_data(&value)?;
    if data.ty != expected_type {
        return Err(WebauthnError::WrongType);
    }
    if !bool::from(data.challenge.as_slice().ct_eq(challenge)) {
        return Err(WebauthnError::ChallengeMismatch);
    }
    let accepted = |origin: &str| rp.origins.iter().any(|o| o == origin);
    if !accepted(data.origin) {
        return Err(WebauthnError::OriginNotAccepted);
    }
    if data.cross_origin {
        return Err(WebauthnError::CrossOrigin);
    }
    if let Some(top) = data.top_origin
        && !accepted(top)
    {
        return Err(WebauthnError::OriginNotAccepted);
    }
    Ok(())
}
