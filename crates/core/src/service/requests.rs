//! What a request names, parsed at the edge with core's parsers: a user, a method, one of the
//! user's factors, an enrolment. As with [`super::ValidateRequest`], a refusal other than the
//! username's waits in the request until the user was found, so an unknown user is 404 whatever
//! else is wrong with the request.

use super::YubikeySecret;
use crate::error::{Error, Result};
use crate::factor::{FactorId, FactorKind};
use crate::i18n::Text;
use crate::identity::Username;

/// Parses the username a request names: one that cannot exist is `user_not_found` (404), like
/// one that does not.
pub fn parse_username(text: &str) -> Result<Username> {
    Username::parse(text).map_err(|_| Error::no_user())
}

/// Parses a method's name (`unknown_kind` for any other).
pub fn parse_kind(text: &str) -> Result<FactorKind> {
    text.parse()
        .map_err(|_| Error::invalid("unknown_kind", Text::new("err-unknown-kind")))
}

/// Parses the method a code is sent by: `email` or `sms` (`unknown_kind` for any other).
pub fn parse_sending_kind(text: &str) -> Result<FactorKind> {
    match parse_kind(text)? {
        kind @ (FactorKind::Email | FactorKind::Sms) => Ok(kind),
        _ => Err(not_sending()),
    }
}

/// The refusal of a method that sends no code.
pub(crate) fn not_sending() -> Error {
    Error::invalid("unknown_kind", Text::new("err-code-sent-by-email-sms"))
}

/// One factor of one user, as a request names them.
#[derive(Debug, Clone)]
pub struct FactorRequest {
    /// Whose factor it is.
    pub username: Username,
    /// The factor; `None` when the text given could not be a factor id, answered
    /// `factor_not_found` once the user was found (like an id the user does not hold).
    pub factor: Option<FactorId>,
}

impl FactorRequest {
    /// Parses a username and a factor id as given; refused only for a username that cannot
    /// exist (`user_not_found`).
    pub fn parse(username: &str, factor_id: &str) -> Result<Self> {
        Ok(Self::named(&parse_username(username)?, factor_id))
    }

    /// The factor id as given, of a user whose name is already parsed (a signed-in user).
    pub fn named(username: &Username, factor_id: &str) -> Self {
        FactorRequest {
            username: username.clone(),
            factor: FactorId::parse(factor_id),
        }
    }

    /// A factor whose id is known, of the user named.
    pub fn of(username: Username, factor: FactorId) -> Self {
        FactorRequest {
            username,
            factor: Some(factor),
        }
    }
}

/// An enrolment as a request asks it.
#[derive(Debug)]
pub struct EnrollRequest<'a> {
    /// Who enrols.
    pub username: Username,
    /// The method; an unknown one (`unknown_kind`) is answered once the user was found.
    pub kind: Result<FactorKind>,
    /// The factor's label as given (checked by the flow), or the method's default.
    pub label: Option<&'a str>,
    /// A YubiKey's secret, for local mode.
    pub yubikey: Option<&'a YubikeySecret>,
    /// An authenticator's parameters (TOTP, HOTP), as given.
    pub otp: OtpParams<'a>,
}

/// The parameters of a TOTP or HOTP factor as an enrolment asks them, each optional (the
/// default is what every app supports: SHA-1, 6 digits, 30 seconds). They are checked by the
/// flow once the user was found: `algorithm` one of `sha1`, `sha256`, `sha512`
/// (`invalid_algorithm`), `digits` 6 or 8 (`invalid_digits`), `period` 15 to 300 seconds
/// (`invalid_period`, TOTP only); for any other kind they are `unexpected_field`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OtpParams<'a> {
    /// The HMAC algorithm's name.
    pub algorithm: Option<&'a str>,
    /// The code length.
    pub digits: Option<i64>,
    /// TOTP: the step in seconds.
    pub period: Option<i64>,
}

impl OtpParams<'_> {
    /// Whether none was given.
    pub fn is_empty(&self) -> bool {
        *self == OtpParams::default()
    }
}

impl<'a> EnrollRequest<'a> {
    /// Parses an enrolment's fields as given; refused only for a username that cannot exist
    /// (`user_not_found`).
    pub fn parse(
        username: &str,
        kind: &str,
        label: Option<&'a str>,
        yubikey: Option<&'a YubikeySecret>,
    ) -> Result<Self> {
        Ok(Self::named(
            &parse_username(username)?,
            kind,
            label,
            yubikey,
        ))
    }

    /// The enrolment's fields as given, for a user whose name is already parsed (a signed-in
    /// user).
    pub fn named(
        username: &Username,
        kind: &str,
        label: Option<&'a str>,
        yubikey: Option<&'a YubikeySecret>,
    ) -> Self {
        EnrollRequest {
            username: username.clone(),
            kind: parse_kind(kind),
            label,
            yubikey,
            otp: OtpParams::default(),
        }
    }

    /// The same enrolment with an authenticator's parameters.
    pub fn with_otp(self, otp: OtpParams<'a>) -> Self {
        EnrollRequest { otp, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_that_cannot_exist_is_an_unknown_user() {
        assert_eq!(
            parse_username("no spaces").unwrap_err().code,
            "user_not_found"
        );
        assert_eq!(parse_username("").unwrap_err().code, "user_not_found");
        assert_eq!(parse_username("Alice").unwrap().key(), "alice");
    }

    #[test]
    fn a_factor_id_that_cannot_exist_waits_for_the_user() {
        let req = FactorRequest::parse("alice", "not-an-id").unwrap();
        assert_eq!(req.username.as_str(), "alice");
        assert!(req.factor.is_none());
        let id = "0123456789abcdef0123456789abcdef";
        let req = FactorRequest::parse("alice", id).unwrap();
        assert_eq!(req.factor.unwrap().as_str(), id);
        // The username is judged first, whatever the id.
        let err = FactorRequest::parse("a b", "not-an-id").unwrap_err();
        assert_eq!(err.code, "user_not_found");
    }

    #[test]
    fn an_unknown_kind_waits_for_the_user() {
        let req = EnrollRequest::parse("alice", "fax", None, None).unwrap();
        assert_eq!(req.kind.unwrap_err().code, "unknown_kind");
        let req = EnrollRequest::parse("alice", "sms", Some("Phone"), None).unwrap();
        assert_eq!(req.kind.unwrap(), FactorKind::Sms);
        assert_eq!(req.label, Some("Phone"));
        let err = EnrollRequest::parse("a b", "fax", None, None).unwrap_err();
        assert_eq!(err.code, "user_not_found");
    }

    #[test]
    fn a_code_is_sent_by_email_or_sms_only() {
        assert_eq!(parse_sending_kind("email").unwrap(), FactorKind::Email);
        assert_eq!(parse_sending_kind("sms").unwrap(), FactorKind::Sms);
        let err = parse_sending_kind("totp").unwrap_err();
        assert_eq!(
            (err.code, err.to_string().as_str()),
            ("unknown_kind", "A code is sent by email or sms.")
        );
        let err = parse_sending_kind("fax").unwrap_err();
        assert_eq!(err.code, "unknown_kind");
        assert!(err.to_string().starts_with("Unknown method"));
    }
}
