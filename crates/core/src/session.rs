//! Portal sessions: who is logged in, and how far (password only, enrolling, or fully).

use std::str::FromStr;

/// How far a login has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The password was right; a second factor is pending (reaches only the 2FA pages).
    SecondFactor,
    /// The password was right and 2FA is forced (or an application's `two_factor` rule asks
    /// for it) but not set up: enrolment pages only.
    Enroll,
    /// The password was right, the user has 2FA, and the sign-in was for an application whose
    /// access rule asks only the password (`one_factor`): such applications pass, and it lives
    /// as long as a full session, but the portal asks for the second factor first.
    OneFactor,
    /// Logged in.
    Full,
}

impl Stage {
    /// Lives by the idle and absolute lifetimes of a signed-in session (`session.idle_minutes`,
    /// `session.max_hours`), not the few minutes of a login step.
    pub fn is_lasting(self) -> bool {
        matches!(self, Stage::Full | Stage::OneFactor)
    }
}

impl Stage {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::SecondFactor => "second_factor",
            Stage::Enroll => "enroll",
            Stage::OneFactor => "one_factor",
            Stage::Full => "full",
        }
    }
}

impl FromStr for Stage {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "second_factor" => Ok(Stage::SecondFactor),
            "enroll" => Ok(Stage::Enroll),
            "one_factor" => Ok(Stage::OneFactor),
            "full" => Ok(Stage::Full),
            _ => Err(()),
        }
    }
}

/// A stored session. The cookie holds a random id; the store keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the cookie value, hex.
    pub id_hash: String,
    /// Whose session.
    pub user_id: i64,
    /// How far the login has come.
    pub stage: Stage,
    /// Unix time of creation (of this id: ids change at each stage).
    pub created_at: i64,
    /// Unix time after which it is void.
    pub expires_at: i64,
    /// Where to go when the login completes.
    pub next: Option<String>,
    /// Unix time of the sign-in's password step: kept when the id changes, so the absolute
    /// lifetime (`session.max_hours`) counts from there.
    pub login_at: i64,
    /// Unix time of the last use as recorded (written at most once a minute).
    pub last_seen_at: i64,
    /// When the owner last gave their password, and their second factor when they have 2FA,
    /// in this session: sensitive actions need this to be recent.
    pub step_up_at: Option<i64>,
    /// When a second factor was given in this sign-in (or a remembered browser stood in for
    /// it): applications behind a `two_factor` access rule need it. A user without 2FA signs
    /// in fully without one.
    pub two_factor_at: Option<i64>,
    /// The client address it was used from (for the owner's list of sessions).
    pub ip: Option<String>,
    /// A short description of the browser (for the owner's list of sessions).
    pub user_agent: Option<String>,
}
