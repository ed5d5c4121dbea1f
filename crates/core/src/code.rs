//! A second-factor code as typed, parsed once at the edge into its shape, so the flows that
//! check it never parse it again.

use std::fmt;

use twofold_otp::yubico::YubicoOtp;

use crate::backup;
use crate::error::{Error, Result};
use crate::i18n::Text;

/// A code, by shape: what it can be decides which factors are tried.
#[derive(Clone, PartialEq, Eq)]
pub enum Code {
    /// 6 to 8 digits: an authenticator app's code, an emailed or texted code, a Duo passcode.
    Digits(String),
    /// 32 to 64 modhex characters: what a YubiKey types.
    Yubikey(YubicoOtp),
    /// 10 letters and digits once spaces and dashes are dropped (normalised): a backup code.
    Backup(String),
}

impl Code {
    /// Parses a code as typed (surrounding spaces ignored); one that fits no shape is refused
    /// (`malformed_code`).
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        if (6..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Code::Digits(t.to_owned()));
        }
        let shaped = if t.len() >= twofold_otp::yubico::TOKEN_CHARS {
            YubicoOtp::parse(t).ok().map(Code::Yubikey)
        } else {
            backup::normalize(t).map(Code::Backup)
        };
        shaped.ok_or_else(malformed)
    }

    /// A code that may be left out: `None` when absent or blank, else its parse (a refusal is
    /// answered by the flow in its turn, after the user was found).
    pub fn parse_given(text: Option<&str>) -> Option<Result<Self>> {
        text.map(str::trim)
            .filter(|t| !t.is_empty())
            .map(Self::parse)
    }

    /// The digits, for a code of that shape.
    pub fn digits(&self) -> Option<&str> {
        match self {
            Code::Digits(d) => Some(d),
            _ => None,
        }
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Code::Digits(_) => "Code::Digits([redacted])",
            Code::Yubikey(_) => "Code::Yubikey([redacted])",
            Code::Backup(_) => "Code::Backup([redacted])",
        })
    }
}

/// The refusal of a code that fits no shape.
pub(crate) fn malformed() -> Error {
    Error::invalid("malformed_code", Text::new("err-code-malformed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            Code::parse(" 123456 ").unwrap(),
            Code::Digits("123456".into())
        );
        assert_eq!(Code::parse("12345678").unwrap().digits(), Some("12345678"));
        assert_eq!(
            Code::parse("abcd-efgh 23").unwrap(),
            Code::Backup("abcdefgh23".into())
        );
        assert!(matches!(
            Code::parse("ccccccbcgujhingjrdejhgfnuetrgigvejhhgbkugded").unwrap(),
            Code::Yubikey(_)
        ));
        for bad in ["12345", "123456789", "abc", "12 34 56 78 90 12", "<script>"] {
            assert_eq!(
                Code::parse(bad).unwrap_err().code,
                "malformed_code",
                "{bad:?}"
            );
        }
        assert!(Code::parse_given(Some("  ")).is_none());
        assert!(Code::parse_given(None).is_none());
        assert!(!format!("{:?}", Code::parse("123456").unwrap()).contains("123456"));
    }
}
