//! The answers the edges get from the Duo flows.

use crate::store::DuoPurpose;

/// The start of a login with the Universal Prompt.
#[derive(Debug, Clone)]
pub enum DuoStart {
    /// Send the browser to Duo.
    Redirect(String),
    /// Duo could not be reached and `methods.duo.failmode` is `open`: the login is complete on
    /// the password alone (audited). The new session cookie and where to go.
    FailedOpen {
        /// The new (rotated) cookie value.
        cookie: String,
        /// The `next` path saved at the password step.
        next: Option<String>,
    },
}

/// What a callback from Duo did.
#[derive(Clone)]
pub enum DuoCallback {
    /// The login is complete: the new session cookie and where to go.
    LoggedIn {
        /// The new (rotated) cookie value.
        cookie: String,
        /// The `next` path saved at the password step.
        next: Option<String>,
        /// The browser is remembered ("Remember this browser" was ticked before going to Duo,
        /// and the settings still allow it): its `tf_remember` cookie.
        remember: Option<crate::service::Remembered>,
    },
    /// A Duo factor was confirmed.
    Enrolled {
        /// Whose.
        username: String,
        /// The backup codes, when this was the user's first factor (shown only now).
        backup_codes: Option<Vec<String>>,
        /// The enrolment was started in the portal (the callback came from its session); false
        /// for one started through the API.
        in_portal: bool,
    },
    /// Refused: a sentence for the user (the reason for operators is in the audit log).
    Refused {
        /// What the state was for, when it was known.
        purpose: Option<DuoPurpose>,
        /// The pending factor of a refused enrolment.
        factor_id: Option<String>,
        /// Why, in words for the user.
        reason: DuoRefusal,
    },
}

/// Why a callback was refused, as the user is told it (the reason for operators is in the
/// audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuoRefusal {
    /// Duo did not confirm the login (denied, an answer that failed the checks, another
    /// session's state…).
    NotConfirmed,
    /// The state was already used or has expired.
    Used,
    /// The second factor is locked.
    Locked,
    /// Duo did not confirm a device being set up.
    DeviceNotConfirmed,
    /// The factor being set up is gone or already confirmed.
    NotPending,
}

impl DuoRefusal {
    /// A stable word (for URLs).
    pub fn as_str(self) -> &'static str {
        match self {
            DuoRefusal::NotConfirmed => "not_confirmed",
            DuoRefusal::Used => "used",
            DuoRefusal::Locked => "locked",
            DuoRefusal::DeviceNotConfirmed => "device_not_confirmed",
            DuoRefusal::NotPending => "not_pending",
        }
    }

    /// Reads a word of [`DuoRefusal::as_str`].
    pub fn parse(word: &str) -> Option<Self> {
        [
            DuoRefusal::NotConfirmed,
            DuoRefusal::Used,
            DuoRefusal::Locked,
            DuoRefusal::DeviceNotConfirmed,
            DuoRefusal::NotPending,
        ]
        .into_iter()
        .find(|r| r.as_str() == word)
    }

    /// The sentence for the user.
    pub fn message(self) -> &'static str {
        match self {
            DuoRefusal::NotConfirmed => "Duo did not confirm this login. Please try again.",
            DuoRefusal::Used => {
                "This Duo answer was already used or has expired. Please try again."
            }
            DuoRefusal::Locked => {
                "Too many failed attempts: your second factor is locked for a while. Try again \
                 later or ask an administrator to unlock it."
            }
            DuoRefusal::DeviceNotConfirmed => "Duo did not confirm this device. Please try again.",
            DuoRefusal::NotPending => "This Duo device is no longer waiting to be set up.",
        }
    }
}

impl std::fmt::Debug for DuoCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DuoCallback::LoggedIn { .. } => f.write_str("LoggedIn"),
            DuoCallback::Enrolled { username, .. } => f
                .debug_struct("Enrolled")
                .field("username", username)
                .finish(),
            DuoCallback::Refused {
                purpose, reason, ..
            } => f
                .debug_struct("Refused")
                .field("purpose", purpose)
                .field("reason", reason)
                .finish(),
        }
    }
}

/// The outcome of one half of the admin's connection test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DuoCheck {
    /// The keys for it are not all set.
    NotSet,
    /// Duo answered and took the keys.
    Ok,
    /// A sentence saying what failed.
    Failed(String),
}

/// The admin's connection test: the Web SDK application's health check and the Auth API
/// application's `/auth/v2/check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuoTest {
    /// The Universal Prompt (client ID and secret).
    pub web: DuoCheck,
    /// The Auth API (integration and secret keys).
    pub auth: DuoCheck,
}
