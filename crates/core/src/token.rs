//! API tokens: what each scope allows.

use std::fmt;
use std::str::FromStr;

/// What a token may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Everything in the API.
    Admin,
    /// Only `/validate` and `/challenge`.
    Validate,
    /// Only `/metrics`.
    Metrics,
}

impl Scope {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Validate => "validate",
            Scope::Metrics => "metrics",
        }
    }

    /// Whether a token of this scope may make a call that needs `needed`.
    pub fn allows(self, needed: Scope) -> bool {
        self == Scope::Admin || self == needed
    }
}

/// The text is not a scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a token scope is admin, validate or metrics")]
pub struct UnknownScope;

impl UnknownScope {
    /// The sentence for people, to be put into the reader's language.
    pub fn text(&self) -> crate::i18n::Text {
        crate::i18n::Text::new("err-scope-invalid")
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Scope::Admin),
            "validate" => Ok(Scope::Validate),
            "metrics" => Ok(Scope::Metrics),
            _ => Err(UnknownScope),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored token (its hash, never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Unique name.
    pub name: String,
    /// Scope.
    pub scope: Scope,
    /// Unix time of creation.
    pub created_at: i64,
    /// Unix time of the last use (updated at most once a minute).
    pub last_used_at: Option<i64>,
}

/// Checks a token name: 1–64 characters of letters, digits, `. _ -`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}
