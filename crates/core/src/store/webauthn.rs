//! WebAuthn: the users' handles, the open ceremonies' challenges and the signature counters of
//! security keys and passkeys.

use async_trait::async_trait;

use crate::factor::FactorId;

use super::StoreResult;

/// WebAuthn's state beside the factors.
#[async_trait]
pub trait Webauthn: Send + Sync {
    /// The user's WebAuthn handle: the one stored, or else `new`, stored now (one conditional
    /// UPDATE, so two first enrolments at once agree on one handle). `None` if no such user.
    async fn webauthn_handle(&self, user_id: i64, new: &str) -> StoreResult<Option<String>>;
    /// The id of the user with this handle.
    async fn user_by_webauthn_handle(&self, handle: &str) -> StoreResult<Option<i64>>;
    /// Records an open ceremony's challenge (its hash).
    async fn insert_webauthn_challenge(&self, challenge: &WebauthnChallenge) -> StoreResult<()>;
    /// Takes the challenge with this hash and purpose, unexpired at `now`, belonging to
    /// `user_id` (`None`: to no user, a passwordless sign-in): one conditional `DELETE`, so it
    /// is taken once under any concurrency and on any node. The pending factor it was made
    /// for, if any, or `None` when there is no such challenge.
    async fn take_webauthn_challenge(
        &self,
        challenge_hash: &str,
        purpose: WebauthnPurpose,
        user_id: Option<i64>,
        now: i64,
    ) -> StoreResult<Option<TakenChallenge>>;
    /// Forgets challenges that expired before `now`.
    async fn purge_webauthn_challenges(&self, now: i64) -> StoreResult<u64>;
    /// Accepts a signature counter for a confirmed WebAuthn factor: one conditional UPDATE
    /// that takes it when it is above the stored one, or when both are 0 (an authenticator
    /// without a counter), and sets `last_used_at = now`. False when the counter did not grow
    /// (a cloned authenticator, or a replay that lost the race).
    async fn consume_sign_count(&self, id: &FactorId, count: i64, now: i64) -> StoreResult<bool>;
}

/// What a challenge is for. The portal's ceremonies and the API's are kept apart: an answer
/// made for one is never taken by the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebauthnPurpose {
    /// Registering a new credential for a pending factor, in the portal.
    Register,
    /// A second factor (or a step-up) for a known user, in the portal.
    Authenticate,
    /// Registering through the API, for an application that runs the browser side.
    ApiRegister,
    /// A second factor through the API.
    ApiAuthenticate,
    /// A passwordless sign-in's challenge once spent: such challenges are made without a row
    /// (they carry their own expiry and MAC), and the row that records their use refuses a
    /// second use.
    PasswordlessSpent,
}

impl WebauthnPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebauthnPurpose::Register => "register",
            WebauthnPurpose::Authenticate => "authenticate",
            WebauthnPurpose::ApiRegister => "api_register",
            WebauthnPurpose::ApiAuthenticate => "api_authenticate",
            WebauthnPurpose::PasswordlessSpent => "passwordless_spent",
        }
    }
}

/// An open ceremony.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnChallenge {
    /// SHA-256 of the challenge bytes, hex.
    pub challenge_hash: String,
    /// What it is for.
    pub purpose: WebauthnPurpose,
    /// Whose it is (`None` for a passwordless sign-in).
    pub user_id: Option<i64>,
    /// The pending factor a registration completes.
    pub factor_id: Option<FactorId>,
    /// Unix time after which the answer is refused.
    pub expires_at: i64,
}

/// A challenge taken by its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenChallenge {
    /// The pending factor a registration completes.
    pub factor_id: Option<FactorId>,
}
