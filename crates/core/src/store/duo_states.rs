//! Duo states: the Universal Prompt redirects in flight.

use async_trait::async_trait;

use crate::factor::FactorId;

use super::StoreResult;

/// Duo states.
#[async_trait]
pub trait DuoStates: Send + Sync {
    /// Stores a Duo state (a Universal Prompt redirect in flight).
    async fn insert_duo_state(&self, state: &DuoState) -> StoreResult<()>;
    /// Uses the Duo state with this hash if it is unused and unexpired at `now`: one
    /// conditional UPDATE … RETURNING, so a state works once, also across nodes. `None` when
    /// unknown, used or expired.
    async fn consume_duo_state(&self, state_hash: &str, now: i64) -> StoreResult<Option<DuoState>>;
    /// Forgets Duo states that expired before `before`; returns how many.
    async fn purge_duo_states(&self, before: i64) -> StoreResult<u64>;
}

/// Why a Duo state was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuoPurpose {
    /// The second factor of a login.
    Login,
    /// Confirming a pending Duo factor.
    Enroll,
}

impl DuoPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DuoPurpose::Login => "login",
            DuoPurpose::Enroll => "enroll",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "login" => Some(DuoPurpose::Login),
            "enroll" => Some(DuoPurpose::Enroll),
            _ => None,
        }
    }
}

/// A Universal Prompt redirect in flight: the `state` sent to Duo (only its hash is stored),
/// what it is bound to, and the `nonce` the `id_token` must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuoState {
    /// `crypto::token_hash` of the state.
    pub state_hash: String,
    /// Whose login or enrolment.
    pub user_id: i64,
    /// The pending factor an enrolment confirms.
    pub factor_id: Option<FactorId>,
    /// The hash of the session the callback must come from (`None`: an enrolment started
    /// through the API, whose callback logs nobody in).
    pub session_hash: Option<String>,
    /// The nonce (not secret: it travels through the browser).
    pub nonce: String,
    /// Login or enrolment.
    pub purpose: DuoPurpose,
    /// Unix time.
    pub created_at: i64,
    /// Unix time it stops working.
    pub expires_at: i64,
    /// When it was used, if it was.
    pub used_at: Option<i64>,
    /// A login's "Remember this browser" was ticked: a success remembers the browser (if
    /// `remember.days` still allows it then).
    pub remember: bool,
}
