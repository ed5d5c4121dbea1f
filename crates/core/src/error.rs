//! The core's error: a kind the web layer maps to a status, a stable snake_case code for clients,
//! and a plain sentence for people. Internal causes are logged, never shown.
//!
//! The sentence is a [`Text`]: a message id of `errors.ftl` (`Text::new("err-code-wrong")`) with
//! its values as arguments (`.arg("seconds", wait)`), never a string pasted together. The edge
//! that shows it picks the language: pages, emails, SMS and the API's `message` follow the
//! reader's language (the request's `Accept-Language`, a user's own choice, else the
//! `ui.language` setting), a RADIUS Reply-Message the user's choice. The `code` is the same in
//! every language. The CLI speaks English ([`Text::english`]); so `Text::raw` (shown as is in
//! every language) is used sparingly: for what only the CLI shows (`twofold import` and PSKC
//! file errors) and for an outside service's own words (why Duo or a delivery failed).

use std::fmt;

use crate::i18n::Text;
use crate::store::StoreError;

/// How an error is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An unknown user or factor (HTTP 404).
    NotFound,
    /// The request conflicts with the current state (HTTP 409).
    Conflict,
    /// The request was read but refused (HTTP 422).
    Invalid,
    /// Not authenticated: wrong credentials (HTTP 401).
    Unauthorized,
    /// Not allowed for this caller (HTTP 403).
    Forbidden,
    /// Too many attempts; try again after the given seconds (HTTP 429).
    Throttled {
        /// Seconds until another attempt may succeed.
        retry_after: u64,
    },
    /// A service Twofold depends on failed (HTTP 502): a mail server, an SMS provider.
    Unavailable,
    /// Something failed inside (HTTP 500); the cause was logged.
    Internal,
}

/// A failed operation.
#[derive(Debug)]
pub struct Error {
    /// How to answer it.
    pub kind: ErrorKind,
    /// Stable snake_case code (`invalid_code`, `user_exists`, …).
    pub code: &'static str,
    /// A sentence for people: a catalogue id and its arguments, put into the reader's language
    /// where it is shown.
    pub message: Text,
}

/// Results of the core.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A 404.
    pub fn not_found(code: &'static str, message: Text) -> Self {
        Error {
            kind: ErrorKind::NotFound,
            code,
            message,
        }
    }

    /// A 409.
    pub fn conflict(code: &'static str, message: Text) -> Self {
        Error {
            kind: ErrorKind::Conflict,
            code,
            message,
        }
    }

    /// A 422.
    pub fn invalid(code: &'static str, message: Text) -> Self {
        Error {
            kind: ErrorKind::Invalid,
            code,
            message,
        }
    }

    /// A 401.
    pub fn unauthorized(code: &'static str, message: Text) -> Self {
        Error {
            kind: ErrorKind::Unauthorized,
            code,
            message,
        }
    }

    /// A 429: try again after `retry_after` seconds.
    pub fn throttled(retry_after: u64, message: Text) -> Self {
        Error {
            kind: ErrorKind::Throttled { retry_after },
            code: "throttled",
            message,
        }
    }

    /// A 502: a delivery or an outside service failed; `message` is fit for the user.
    pub fn unavailable(code: &'static str, message: Text) -> Self {
        Error {
            kind: ErrorKind::Unavailable,
            code,
            message,
        }
    }

    /// A 403.
    pub fn forbidden(code: &'static str, message: Text) -> Self {
        Error {
            kind: ErrorKind::Forbidden,
            code,
            message,
        }
    }

    /// A 500 whose cause is logged here and not shown.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(cause = %chain, "internal error");
        Error {
            kind: ErrorKind::Internal,
            code: "internal",
            message: Text::new("internal"),
        }
    }

    /// The unknown-user error every route answers alike.
    pub fn no_user() -> Self {
        Error::not_found("user_not_found", Text::new("err-user-not-found"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message.english())
    }
}

impl std::error::Error for Error {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::internal(&e)
    }
}
