//! Second-factor attempts: the failure count and the lockout kept on each user's row, and
//! settling an attempt in one transaction.

use async_trait::async_trait;

use crate::audit::NewAudit;
use crate::factor::FactorId;

use super::StoreResult;

/// Second-factor attempts and lockouts.
#[async_trait]
pub trait Attempts: Send + Sync {
    /// Reserves one second-factor attempt in one conditional UPDATE: adds one to the failure
    /// count if the user is not locked at `now` and has fewer than `max_failures` counted, and
    /// returns the new count; `None` when no attempt is allowed (locked, at the threshold, or no
    /// such user). Counting before the check is what keeps concurrent guesses within the limit.
    async fn begin_attempt(
        &self,
        user_id: i64,
        now: i64,
        max_failures: i64,
    ) -> StoreResult<Option<i64>>;
    /// Locks the second factor unless it is already locked at `now`, and sets the count to 0.
    /// The lockout is the user's `streak`-th in a row (1 when the last one began more than
    /// `streak_window` seconds ago) and lasts `seconds_for(streak)`; the read of the last lockout
    /// and the write are one transaction serialised per user. Returns the time the lock ends, or
    /// `None` when it was already locked (or there is no such user).
    async fn lock(
        &self,
        user_id: i64,
        now: i64,
        streak_window: i64,
        seconds_for: &(dyn Fn(i64) -> i64 + Sync),
    ) -> StoreResult<Option<i64>>;
    /// Counts, checks and settles a second-factor attempt in one transaction (see
    /// [`AttemptPlan`]): a validation whose check is pure computation is one call and one
    /// commit. A backup-code candidate is genuine-but-used when the user has a used code with
    /// its lookup hash; a counter candidate is always genuine (the caller checked the code).
    async fn settle_attempt(&self, plan: &AttemptPlan<'_>) -> StoreResult<Settled>;

    /// Sets the failure count to 0 after a success (writes only if it was not 0 already).
    async fn reset_failures(&self, user_id: i64) -> StoreResult<()>;
    /// Clears a lockout and the failure count.
    async fn unlock(&self, user_id: i64) -> StoreResult<()>;
    /// The user's second-factor attempt state: (failure count, locked until, when the last
    /// attempt began); `None` for no such user.
    async fn attempt_state(&self, user_id: i64) -> StoreResult<Option<(i64, Option<i64>, i64)>>;
    /// Lowers every failure count at or above `max_failures` to one below it (after the
    /// threshold was lowered).
    async fn clamp_failures(&self, max_failures: i64) -> StoreResult<()>;
    /// Gives back one attempt counted by `begin_attempt` (the check could not be made: Duo was
    /// unreachable); never below 0.
    async fn refund_attempt(&self, user_id: i64) -> StoreResult<()>;
}

/// What may accept a second-factor attempt the store settles by itself
/// ([`Attempts::settle_attempt`]): a code already checked by pure computation, to be consumed by
/// its one conditional UPDATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consume {
    /// A TOTP step (or YubiKey counter) of a confirmed factor: taken only above the last one
    /// accepted, storing `drift` (`consume_counter`'s statement).
    Counter {
        /// The factor.
        factor: FactorId,
        /// The step or counter.
        counter: i64,
        /// The drift to learn.
        drift: i64,
    },
    /// The factor's live email or SMS code, if this is its hash (`consume_challenge`'s
    /// statement); a miss counts a wrong try against the code (`challenge_failed`).
    Challenge {
        /// The factor.
        factor: FactorId,
        /// The keyed hash of the code entered.
        code_hash: String,
        /// Wrong tries after which the code no longer works.
        max_attempts: i64,
    },
    /// The unused backup code with this lookup hash (`consume_backup_code`'s statement).
    BackupCode {
        /// Its lookup hash.
        lookup: String,
    },
    /// A security key's verified answer: its ceremony's challenge is taken (one conditional
    /// `DELETE`, bound to the user and the purpose; none taken is a counted miss), then the
    /// key's signature counter (`consume_sign_count`'s statement; a counter that did not grow
    /// is a genuine answer refused without counting, with `on_already_used` written).
    Assertion {
        /// The key's factor.
        factor: FactorId,
        /// SHA-256 of the challenge the answer signed, hex.
        challenge_hash: String,
        /// What the challenge was made for.
        purpose: super::WebauthnPurpose,
        /// The counter the key signed.
        sign_count: i64,
    },
}

/// One candidate of an [`AttemptPlan`]: what to consume, and the audit record written if it
/// accepts the attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The consumption.
    pub consume: Consume,
    /// Written when this candidate accepts.
    pub on_accept: NewAudit,
}

/// A second-factor attempt the store counts, checks and settles in one transaction: count the
/// attempt (as [`Attempts::begin_attempt`]), consume the first candidate that is still free, then
/// reset the failure count and write the success record; or, when none is consumed, either give
/// the attempt back (a genuine code already used), leave it counted and open for a check the
/// caller makes itself (`open_on_miss`), or settle it as a failure, locking at the threshold
/// (as [`Attempts::lock`]).
pub struct AttemptPlan<'a> {
    /// The user.
    pub user_id: i64,
    /// Unix time of the attempt.
    pub now: i64,
    /// The lockout threshold.
    pub max_failures: i64,
    /// What may accept the attempt, tried in order.
    pub candidates: &'a [Candidate],
    /// When no candidate is consumed, leave the attempt counted and open (no record written).
    pub open_on_miss: bool,
    /// Written for a counted failure.
    pub on_failure: NewAudit,
    /// Written when a genuine code was already used (refused, not counted).
    pub on_already_used: NewAudit,
    /// Lockouts within this many seconds of the last one continue its streak.
    pub streak_window: i64,
    /// The length of the `streak`-th lockout in a row, in seconds.
    pub lock_seconds: &'a (dyn Fn(i64) -> i64 + Sync),
}

impl std::fmt::Debug for AttemptPlan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttemptPlan")
            .field("user_id", &self.user_id)
            .field("now", &self.now)
            .field("candidates", &self.candidates.len())
            .field("open_on_miss", &self.open_on_miss)
            .finish_non_exhaustive()
    }
}

/// How [`Attempts::settle_attempt`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// No attempt could be counted (locked, at the threshold, or no such user): nothing written.
    NotCounted,
    /// The candidate at this index was consumed: failures reset, its record written.
    Accepted(usize),
    /// A candidate was genuine but already used (a lost race or a replay): the attempt was
    /// given back and `on_already_used` written.
    AlreadyUsed,
    /// Nothing was consumed and `open_on_miss` was set: the attempt is counted (this is the
    /// new count) and the caller ends it.
    Open(i64),
    /// A counted failure, `on_failure` written; `Some(until)` when it locked the user.
    Rejected(Option<i64>),
}
