//! The errors of requests and answers.

use super::Status;

/// Longest text kept from a peer in an error (a parameter name, a status).
const ERROR_TEXT_MAX: usize = 40;

/// A request or an answer that does not follow the protocol, or an answer that fails its checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsapiError {
    /// A required request parameter is absent or empty.
    #[error("the parameter {0:?} is missing")]
    MissingParameter(&'static str),
    /// A request parameter appears twice (its name, cut to 40 characters).
    #[error("the parameter {0:?} appears more than once")]
    DuplicateParameter(String),
    /// A request parameter's value is not valid.
    #[error("the parameter {0:?} is not valid")]
    InvalidParameter(&'static str),
    /// The query string is not valid percent-encoded UTF-8.
    #[error("the query string is not valid percent-encoded UTF-8")]
    BadEncoding,
    /// The query string is longer than [`MAX_QUERY_LEN`](super::MAX_QUERY_LEN) or has more than
    /// [`MAX_PAIRS`](super::MAX_PAIRS) parameters.
    #[error("the query string is too long")]
    TooLong,
    /// The answer is not `key=value` lines, or names a key twice.
    #[error("the answer is not a list of distinct key=value lines")]
    MalformedResponse,
    /// The answer lacks a field it must have.
    #[error("the answer has no {0:?}")]
    MissingField(&'static str),
    /// The answer's signature is absent or does not match.
    #[error("the answer's signature does not match")]
    BadSignature,
    /// The answer does not echo the request's nonce.
    #[error("the answer does not echo the request's nonce")]
    NonceMismatch,
    /// The answer does not echo the request's OTP.
    #[error("the answer does not echo the request's OTP")]
    OtpMismatch,
}

impl WsapiError {
    /// The status a server answers for this request error: `MISSING_PARAMETER` for every
    /// request error, as yubikey-val does; `BACKEND_ERROR` for the answer-side errors, which a
    /// server never meets.
    #[must_use]
    pub fn status(&self) -> Status {
        match self {
            WsapiError::MissingParameter(_)
            | WsapiError::DuplicateParameter(_)
            | WsapiError::InvalidParameter(_)
            | WsapiError::BadEncoding
            | WsapiError::TooLong => Status::MissingParameter,
            WsapiError::MalformedResponse
            | WsapiError::MissingField(_)
            | WsapiError::BadSignature
            | WsapiError::NonceMismatch
            | WsapiError::OtpMismatch => Status::BackendError,
        }
    }
}

pub(super) fn cut(text: &str) -> String {
    text.chars().take(ERROR_TEXT_MAX).collect()
}
