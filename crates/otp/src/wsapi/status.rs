//! The `status` of an answer.

use std::fmt;

/// The `status` of an answer, with exactly the protocol's strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `OK`: the OTP is valid.
    Ok,
    /// `BAD_OTP`: the OTP is invalid or malformed.
    BadOtp,
    /// `REPLAYED_OTP`: the OTP has been seen before.
    ReplayedOtp,
    /// `BAD_SIGNATURE`: the request's signature does not match.
    BadSignature,
    /// `MISSING_PARAMETER`: a parameter is missing (or malformed).
    MissingParameter,
    /// `NO_SUCH_CLIENT`: the client id is unknown.
    NoSuchClient,
    /// `OPERATION_NOT_ALLOWED`: the client may not verify OTPs.
    OperationNotAllowed,
    /// `BACKEND_ERROR`: the server failed.
    BackendError,
    /// `NOT_ENOUGH_ANSWERS`: the server could not reach the requested share of its peers.
    NotEnoughAnswers,
    /// `REPLAYED_REQUEST`: the same OTP and nonce have been seen before.
    ReplayedRequest,
}

impl Status {
    /// Every status, in the protocol document's order.
    pub const ALL: [Status; 10] = [
        Status::Ok,
        Status::BadOtp,
        Status::ReplayedOtp,
        Status::BadSignature,
        Status::MissingParameter,
        Status::NoSuchClient,
        Status::OperationNotAllowed,
        Status::BackendError,
        Status::NotEnoughAnswers,
        Status::ReplayedRequest,
    ];

    /// The protocol string, e.g. `REPLAYED_OTP`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadOtp => "BAD_OTP",
            Status::ReplayedOtp => "REPLAYED_OTP",
            Status::BadSignature => "BAD_SIGNATURE",
            Status::MissingParameter => "MISSING_PARAMETER",
            Status::NoSuchClient => "NO_SUCH_CLIENT",
            Status::OperationNotAllowed => "OPERATION_NOT_ALLOWED",
            Status::BackendError => "BACKEND_ERROR",
            Status::NotEnoughAnswers => "NOT_ENOUGH_ANSWERS",
            Status::ReplayedRequest => "REPLAYED_REQUEST",
        }
    }

    /// The status for a protocol string (exact, upper case), or `None`.
    #[must_use]
    pub fn from_protocol(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether yubikey-val echoes the request's `otp` and `nonce` with this status (`OK`,
    /// `REPLAYED_OTP`, `REPLAYED_REQUEST`, `NOT_ENOUGH_ANSWERS`): the statuses it reaches only
    /// after it has checked the request.
    #[must_use]
    pub fn echoes_request(self) -> bool {
        matches!(
            self,
            Status::Ok | Status::ReplayedOtp | Status::ReplayedRequest | Status::NotEnoughAnswers
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
