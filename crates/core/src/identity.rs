//! Who a user is: validated names, addresses and roles, parsed once at the edge.

use std::fmt;
use std::str::FromStr;

/// A username: 1–64 characters of ASCII letters, digits and `. _ @ + -`. Compared without regard
/// to case: [`Username::key`] is the lower-case form the store looks up and keeps unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

/// The longest username, in characters.
pub const MAX_USERNAME_LEN: usize = 64;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The username is empty, too long, or has a character outside the allowed set.
    #[error(
        "a username is 1 to 64 characters: letters, digits and . _ @ + - (no spaces or other symbols)"
    )]
    Username,
    /// The email address does not have the shape `local@domain.tld`.
    #[error("that does not look like an email address")]
    Email,
    /// The phone number is not E.164 once separators are removed.
    #[error("a phone number needs +, the country code and the number: 8 to 15 digits in all")]
    Phone,
    /// Not `client`, `admin` or `owner`.
    #[error("a role is client, admin or owner")]
    Role,
}

impl IdentityError {
    /// The sentence for people, to be put into the reader's language.
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::Text;
        match self {
            IdentityError::Username => Text::new("err-username-invalid"),
            IdentityError::Email => Text::new("err-email-invalid"),
            IdentityError::Phone => Text::new("err-phone-invalid"),
            IdentityError::Role => Text::new("err-role-value-invalid"),
        }
    }
}

impl Username {
    /// Validates a username as typed.
    pub fn parse(text: &str) -> Result<Self, IdentityError> {
        let ok = !text.is_empty()
            && text.len() <= MAX_USERNAME_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._@+-".contains(&b));
        if ok {
            Ok(Username(text.to_owned()))
        } else {
            Err(IdentityError::Username)
        }
    }

    /// The name as it was given (its case preserved for display).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-case form used for lookups and uniqueness.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A username reads as the text it was given (its case preserved), wherever text is asked for.
impl std::ops::Deref for Username {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Compares the name as given (case included) with a text; [`Username::key`] compares names
/// as lookups do.
impl PartialEq<str> for Username {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// As `PartialEq<str>`.
impl PartialEq<&str> for Username {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address checked for shape: one `@`, a non-empty local part, a domain with a dot and
/// no empty labels, no spaces or control characters, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Validates an address (surrounding spaces are trimmed).
    pub fn parse(text: &str) -> Result<Self, IdentityError> {
        let t = text.trim();
        let Some((local, domain)) = t.rsplit_once('@') else {
            return Err(IdentityError::Email);
        };
        let ok = t.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && !t
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
            && local.split('.').all(|atom| {
                // RFC 5322 dot-atom: what every mail system accepts, nothing that needs quoting.
                !atom.is_empty()
                    && atom
                        .chars()
                        .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c))
            })
            && domain.contains('.')
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if ok {
            Ok(Email(t.to_owned()))
        } else {
            Err(IdentityError::Email)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164: `+`, then 8 to 15 digits, the first not 0. Spaces, dashes, dots and
/// parentheses are removed first, so `+1 (555) 010-9999` is `+15550109999`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Validates and normalises a number.
    pub fn parse(text: &str) -> Result<Self, IdentityError> {
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let Some(digits) = compact.strip_prefix('+') else {
            return Err(IdentityError::Phone);
        };
        let ok = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(PhoneNumber(compact))
        } else {
            Err(IdentityError::Phone)
        }
    }

    /// The number in E.164.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a user may do. Owners count as admins for method availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// An end user.
    Client,
    /// Staff: manages users.
    Admin,
    /// The full administrator: also settings, admins and tokens.
    Owner,
}

impl Role {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Admins and owners.
    pub fn is_staff(self) -> bool {
        self != Role::Client
    }
}

impl FromStr for Role {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "client" => Ok(Role::Client),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            _ => Err(IdentityError::Role),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in [
            "a",
            "Alice.Smith",
            "bob_1@example.com",
            "x+y-z",
            &"a".repeat(64),
        ] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            " a",
            "a b",
            "a/b",
            "ä",
            "a\0",
            "<script>",
            "a;drop",
            &"a".repeat(65),
        ] {
            assert_eq!(
                Username::parse(bad),
                Err(IdentityError::Username),
                "{bad:?}"
            );
        }
        assert_eq!(Username::parse("Alice").unwrap().key(), "alice");
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", " x@y.io "] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.co",
            "a@.co",
            "a@b..co",
            "a b@c.co",
            "a@b\n.co",
            "a\r\nBcc: x@y.co@b.co",
            "a@-b.co",
            "<a@b.co>",
        ] {
            assert_eq!(Email::parse(bad), Err(IdentityError::Email), "{bad:?}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            PhoneNumber::parse("+1 (555) 010-9999").unwrap().as_str(),
            "+15550109999"
        );
        assert_eq!(
            PhoneNumber::parse("+44.20.7946.0958").unwrap().as_str(),
            "+442079460958"
        );
        for bad in [
            "",
            "5550109999",
            "+1234567",
            "+1234567890123456",
            "+0123456789",
            "+1555abc9999",
            "++15550109999",
        ] {
            assert_eq!(
                PhoneNumber::parse(bad),
                Err(IdentityError::Phone),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn roles() {
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        assert!("root".parse::<Role>().is_err());
        assert!(Role::Owner.is_staff() && !Role::Client.is_staff());
    }
}
