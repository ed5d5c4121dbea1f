//! The port to Yubico validation servers (`methods.yubikey.mode = server`): Twofold as a client
//! of Yubico validation protocol 2.0. The adapter lives in `twofold-delivery`
//! (`YubicoClient`); the core hands it the configuration read from the settings at each check,
//! so a change in the admin area applies to the next OTP.
//!
//! A verifier accepts an OTP only when a server answered `status=OK` with a valid signature
//! (when a key is set) and echoed the request's `otp` and `nonce` exactly. Everything else is a
//! [`YubicoRefusal`], whose message is a plain sentence for the audit log and the API reason.
//! The core still checks the OTP's counter against the last one it accepted.

use std::fmt;

use async_trait::async_trait;

/// Where and as whom to validate OTPs.
#[derive(Clone, PartialEq, Eq)]
pub struct YubicoServerConfig {
    /// The client id the validation service issued (a positive integer, as text).
    pub client_id: String,
    /// The API key, base64-decoded; empty: requests are not signed and answers not checked
    /// (then only HTTPS vouches for them).
    pub api_key: Vec<u8>,
    /// The verify URLs, tried in turn, e.g. `https://api.yubico.com/wsapi/2.0/verify`.
    pub servers: Vec<String>,
}

impl fmt::Debug for YubicoServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YubicoServerConfig")
            .field("client_id", &self.client_id)
            .field("signed", &!self.api_key.is_empty())
            .field("servers", &self.servers)
            .finish_non_exhaustive()
    }
}

/// Why a validation server's verdict refused an OTP. `Display` is a plain sentence, fit for the
/// audit log and an API reason; it never holds the key or the OTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum YubicoRefusal {
    /// The server answered a status other than `OK` (the protocol string, e.g.
    /// `REPLAYED_OTP`; an unknown status is kept as sent, cut short).
    #[error("{}", status_sentence(.0))]
    Status(String),
    /// The answer's signature did not match the API key.
    #[error(
        "The YubiKey validation server's answer had a bad signature (check the API key; the \
         answer may have been tampered with)."
    )]
    BadSignature,
    /// The answer did not echo the request's nonce.
    #[error("The YubiKey validation server's answer did not echo the request's nonce.")]
    NonceMismatch,
    /// The answer did not echo the request's OTP.
    #[error("The YubiKey validation server's answer was about another OTP.")]
    OtpMismatch,
    /// No server gave a usable answer (unreachable, timed out, not an answer of the protocol).
    #[error("No YubiKey validation server could be reached.")]
    Unreachable,
    /// The configuration cannot work; the text says what is wrong (no secret in it).
    #[error("The YubiKey validation settings are not usable: {0}")]
    Misconfigured(String),
}

/// The sentence for a refusing status.
fn status_sentence(status: &str) -> String {
    let sentence = match status {
        "BAD_OTP" => "The YubiKey validation server found the OTP invalid (BAD_OTP).",
        "REPLAYED_OTP" => "The YubiKey validation server has already seen this OTP (REPLAYED_OTP).",
        "BAD_SIGNATURE" => {
            "The YubiKey validation server refused the request's signature (BAD_SIGNATURE): \
             check the API key."
        }
        "MISSING_PARAMETER" => {
            "The YubiKey validation server found the request incomplete (MISSING_PARAMETER)."
        }
        "NO_SUCH_CLIENT" => {
            "The YubiKey validation server does not know this client id (NO_SUCH_CLIENT)."
        }
        "OPERATION_NOT_ALLOWED" => {
            "The YubiKey validation server does not allow this client to verify OTPs \
             (OPERATION_NOT_ALLOWED)."
        }
        "BACKEND_ERROR" => "The YubiKey validation server had an internal error (BACKEND_ERROR).",
        "NOT_ENOUGH_ANSWERS" => {
            "The YubiKey validation server could not confirm the OTP with its peers \
             (NOT_ENOUGH_ANSWERS)."
        }
        "REPLAYED_REQUEST" => {
            "The YubiKey validation server has already seen this request (REPLAYED_REQUEST)."
        }
        other => {
            let shown: String = other
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(40)
                .collect();
            return format!("The YubiKey validation server refused the OTP (status {shown:?}).");
        }
    };
    sentence.to_owned()
}

/// Verifies Yubico OTPs with validation servers.
#[async_trait]
pub trait YubicoVerifier: Send + Sync {
    /// Asks the servers of `config` about `otp` (with `timestamp=1`); `Ok` only for a checked
    /// `status=OK`, with the key's (use, session) counter when the answer carried
    /// `sessioncounter` and `sessionuse`.
    async fn verify(
        &self,
        config: &YubicoServerConfig,
        otp: &str,
    ) -> Result<Option<twofold_otp::yubico::Counter>, YubicoRefusal>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_key() {
        let config = YubicoServerConfig {
            client_id: "87".into(),
            api_key: b"very secret key bytes".to_vec(),
            servers: vec!["https://api.yubico.com/wsapi/2.0/verify".into()],
        };
        let shown = format!("{config:?}");
        assert!(shown.contains("87") && shown.contains("api.yubico.com"));
        assert!(
            !shown.contains("secret") && !shown.contains("118"),
            "{shown}"
        );
    }

    #[test]
    fn refusals_are_sentences() {
        for status in [
            "BAD_OTP",
            "REPLAYED_OTP",
            "BAD_SIGNATURE",
            "MISSING_PARAMETER",
            "NO_SUCH_CLIENT",
            "OPERATION_NOT_ALLOWED",
            "BACKEND_ERROR",
            "NOT_ENOUGH_ANSWERS",
            "REPLAYED_REQUEST",
        ] {
            let text = YubicoRefusal::Status(status.into()).to_string();
            assert!(text.contains(status) && text.ends_with('.'), "{text}");
        }
        let odd = YubicoRefusal::Status("DELAYED_OTP\r\n<b>".into()).to_string();
        assert_eq!(
            odd,
            "The YubiKey validation server refused the OTP (status \"DELAYED_OTPb\")."
        );
        for refusal in [
            YubicoRefusal::BadSignature,
            YubicoRefusal::NonceMismatch,
            YubicoRefusal::OtpMismatch,
            YubicoRefusal::Unreachable,
            YubicoRefusal::Misconfigured("the client id is not a number.".into()),
        ] {
            assert!(refusal.to_string().ends_with('.'), "{refusal}");
        }
    }
}
