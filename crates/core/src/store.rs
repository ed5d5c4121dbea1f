//! The storage port. `twofold-store` implements it over SQLite and PostgreSQL; the flows in
//! [`crate::service`] use nothing else to reach the database.
//!
//! Contract every implementation keeps (the conformance suite in `twofold-store` checks it on
//! both backends):
//! - every one-time consumption (`consume_counter`, `consume_backup_code`, `confirm_factor`,
//!   `consume_setup_token`) is a single conditional `UPDATE` whose affected-row count decides,
//!   never a read followed by a write, so it succeeds once under any concurrency and across nodes;
//! - every multi-row change is one transaction: on error nothing is written;
//! - usernames are looked up and kept unique by their lower-case key.

use async_trait::async_trait;

use crate::audit::{AuditFilter, AuditRecord, NewAudit};
use crate::crypto::Sealed;
use crate::factor::{Factor, FactorId, FactorKind};
use crate::identity::Role;
use crate::session::Session;
use crate::token::ApiToken;

/// What may accept a second-factor attempt the store settles by itself
/// ([`Store::settle_attempt`]): a code already checked by pure computation, to be consumed by
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
/// attempt (as [`Store::begin_attempt`]), consume the first candidate that is still free, then
/// reset the failure count and write the success record; or, when none is consumed, either give
/// the attempt back (a genuine code already used), leave it counted and open for a check the
/// caller makes itself (`open_on_miss`), or settle it as a failure, locking at the threshold
/// (as [`Store::lock`]).
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

/// How [`Store::settle_attempt`] ended.
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

/// A user as stored. `Debug` hides the password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// The username as given (lookups use its lower-case key).
    pub username: String,
    /// Role.
    pub role: Role,
    /// Email address, validated.
    pub email: Option<String>,
    /// Phone number in E.164.
    pub phone: Option<String>,
    /// Argon2id PHC string; `None` for users who only exist for the API.
    pub password_hash: Option<String>,
    /// A disabled user cannot log in or validate.
    pub disabled: bool,
    /// Consecutive failed second-factor attempts since the last success, unlock or lockout.
    pub failed_attempts: i64,
    /// Until when (Unix time) the second factor is locked, if it was locked.
    pub locked_until: Option<i64>,
    /// Unix time of creation.
    pub created_at: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("failed_attempts", &self.failed_attempts)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

impl User {
    /// Whether the second factor is locked at `now`.
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The username as given.
    pub username: String,
    /// Its lower-case key (unique).
    pub username_key: String,
    /// Role.
    pub role: Role,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Password hash.
    pub password_hash: Option<String>,
    /// Unix time.
    pub created_at: i64,
}

/// Changes to a user; `None` leaves a field as it is, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    /// New email.
    pub email: Option<Option<String>>,
    /// New phone.
    pub phone: Option<Option<String>>,
    /// New role.
    pub role: Option<Role>,
    /// Disable or enable.
    pub disabled: Option<bool>,
}

/// Which users to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Only usernames (keys) or emails containing this text (case-insensitive).
    pub search: Option<String>,
    /// Skip this many (ordered by username key).
    pub offset: u32,
    /// At most this many.
    pub limit: u32,
}

/// One backup code as stored: a keyed lookup hash (to find it) and the sealed code (to show it
/// again), never the code in plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupCodeRow {
    /// `MasterKey::lookup_hash` of the normalised code.
    pub lookup: String,
    /// The code sealed under the master key, bound to the user and the lookup hash.
    pub sealed: Sealed,
    /// When it was used, if it was.
    pub used_at: Option<i64>,
}

/// Confirming a pending factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// The owner.
    pub user_id: i64,
    /// The factor.
    pub factor_id: FactorId,
    /// Unix time.
    pub now: i64,
    /// For counter-based factors (TOTP step, YubiKey counter): the counter accepted and the drift.
    pub counter: Option<(i64, i64)>,
    /// For a YubiKey: the public id the confirming OTP binds (`Conflict("yubikey")` when another
    /// factor holds it).
    pub public_id: Option<String>,
    /// The backup-code set to store if the user has none yet.
    pub backup_codes: Vec<BackupCodeRow>,
}

/// What `confirm_factor` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmOutcome {
    /// The factor was pending and is now confirmed; `codes_created` says whether the given
    /// backup codes were stored (the user had none).
    Confirmed {
        /// The backup codes were stored.
        codes_created: bool,
    },
    /// The factor does not exist for this user or was already confirmed: nothing changed.
    NotPending,
}

/// What `delete_factor_unless_last` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorRemoval {
    /// The factor is gone.
    Removed,
    /// The user has no factor with that id: nothing changed.
    NotFound,
    /// The factor is the user's last usable one: it stays.
    LastUsable,
}

/// A setting as stored: plain text, or sealed for secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredValue {
    /// A plain value.
    Plain(String),
    /// A sealed secret (bound to the key).
    Sealed(Sealed),
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique constraint refused the write (which one is named).
    #[error("conflict: {0} already exists")]
    Conflict(&'static str),
    /// A stored value could not be read back into the domain (a bug or manual tampering).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database failed or could not be reached.
    #[error("database error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Results of store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// The database, as the flows need it.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// Answers when the database does (`SELECT 1`).
    async fn ping(&self) -> StoreResult<()>;

    /// Creates a user; `Conflict("user")` if the username key exists.
    async fn insert_user(&self, user: &NewUser) -> StoreResult<User>;
    /// Finds a user by lower-case username key.
    async fn user_by_name(&self, key: &str) -> StoreResult<Option<User>>;
    /// Finds a user by id.
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>>;
    /// A user by username key with all their factors (oldest first), in one query.
    async fn user_with_factors(&self, key: &str) -> StoreResult<Option<(User, Vec<Factor>)>>;
    /// Lists users ordered by username key.
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>>;
    /// Counts users, of one role or all.
    async fn count_users(&self, role: Option<Role>) -> StoreResult<i64>;
    /// Applies a patch; `None` if there is no such user.
    async fn update_user(&self, id: i64, patch: &UserPatch) -> StoreResult<Option<User>>;
    /// Sets the password hash; false if there is no such user.
    async fn set_password(&self, id: i64, hash: &str) -> StoreResult<bool>;

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

    /// Stores a new factor.
    async fn insert_factor(&self, factor: &Factor) -> StoreResult<()>;
    /// A user's factors, oldest first.
    async fn factors_of(&self, user_id: i64) -> StoreResult<Vec<Factor>>;
    /// One factor of a user.
    async fn factor(&self, user_id: i64, id: &FactorId) -> StoreResult<Option<Factor>>;
    /// Deletes a factor; when no confirmed factor remains, the backup codes go too (one
    /// transaction). False if there was no such factor.
    async fn delete_factor(&self, user_id: i64, id: &FactorId) -> StoreResult<bool>;
    /// Deletes a factor unless it is the user's last confirmed factor of one of the `usable`
    /// kinds (the kinds active and enabled for the user's role): the check and the delete are
    /// one transaction serialised per user, so two removals at once never take both of the last
    /// two. With no `usable` kinds nothing is kept back. When no confirmed factor remains, the
    /// backup codes go too.
    async fn delete_factor_unless_last(
        &self,
        user_id: i64,
        id: &FactorId,
        usable: &[FactorKind],
    ) -> StoreResult<FactorRemoval>;
    /// Admin reset: deletes all factors and backup codes and clears the lockout (one transaction).
    async fn reset_user(&self, user_id: i64) -> StoreResult<()>;
    /// Confirms a pending factor and, if the user has no backup codes, stores the given set — one
    /// transaction, serialised per user so two confirmations never create two sets.
    async fn confirm_factor(&self, confirmation: &Confirmation) -> StoreResult<ConfirmOutcome>;
    /// Accepts `counter` for a confirmed factor only if it is above the last accepted one (or none
    /// was accepted): one conditional UPDATE that also stores `drift` and `last_used_at = now`.
    /// True if this call won.
    async fn consume_counter(
        &self,
        id: &FactorId,
        counter: i64,
        drift: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Sets a factor's learned drift back to 0; false if there is no such factor.
    async fn reset_drift(&self, user_id: i64, id: &FactorId) -> StoreResult<bool>;

    /// Replaces the user's backup codes with a new set (one transaction).
    async fn replace_backup_codes(&self, user_id: i64, codes: &[BackupCodeRow]) -> StoreResult<()>;
    /// Marks the unused code with this lookup hash used: one conditional UPDATE; true if it won.
    async fn consume_backup_code(&self, user_id: i64, lookup: &str, now: i64) -> StoreResult<bool>;
    /// The user's backup codes (used and unused), in creation order.
    async fn backup_codes(&self, user_id: i64) -> StoreResult<Vec<BackupCodeRow>>;
    /// How many unused backup codes the user has.
    async fn unused_backup_codes(&self, user_id: i64) -> StoreResult<i64>;

    /// Every stored setting.
    async fn settings(&self) -> StoreResult<Vec<(String, StoredValue)>>;
    /// Writes settings (insert or replace) in one transaction.
    async fn put_settings(&self, values: &[(String, StoredValue)]) -> StoreResult<()>;

    /// Stores a token's hash; `Conflict("token")` if the name exists.
    async fn insert_token(&self, token: &ApiToken, hash: &str) -> StoreResult<()>;
    /// Finds a token by the hash of the presented token.
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>>;
    /// All tokens, by name.
    async fn list_tokens(&self) -> StoreResult<Vec<ApiToken>>;
    /// Deletes a token; false if there is none by that name.
    async fn revoke_token(&self, name: &str) -> StoreResult<bool>;
    /// Records a use, writing only when the last recorded use is over a minute old.
    async fn touch_token(&self, name: &str, now: i64) -> StoreResult<()>;

    /// Stores a first-run setup token's hash, valid until `expires_at`, replacing any other.
    async fn put_setup_token(&self, hash: &str, expires_at: i64) -> StoreResult<()>;
    /// Whether an unused, unexpired setup token has this hash.
    async fn setup_token_usable(&self, hash: &str, now: i64) -> StoreResult<bool>;
    /// Uses the setup token with this hash if it is unused and unexpired: one conditional UPDATE;
    /// true if this call won.
    async fn consume_setup_token(&self, hash: &str, now: i64) -> StoreResult<bool>;

    /// Appends an audit record.
    async fn insert_audit(&self, record: &NewAudit) -> StoreResult<()>;
    /// Lists audit records, newest first.
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;

    /// Stores a new session.
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    /// Finds a session by the hash of its cookie value (expired ones included: callers check).
    async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    /// Replaces a session by a new one (a new id, usually a later stage) in one transaction:
    /// deleting the old one is the condition, so a session id advances at most once. False if
    /// the old one was already gone (nothing is written then).
    async fn replace_session(&self, old_hash: &str, new: &Session) -> StoreResult<bool>;
    /// Records a use of a session: its last use and its new expiry.
    async fn touch_session(&self, id_hash: &str, now: i64, expires_at: i64) -> StoreResult<()>;
    /// Records that the owner gave their password (and second factor) in this session at `at`.
    async fn set_session_step_up(&self, id_hash: &str, at: i64) -> StoreResult<()>;
    /// A user's sessions, newest sign-in first (expired ones included: callers filter).
    async fn user_sessions(&self, user_id: i64) -> StoreResult<Vec<Session>>;
    /// Ends one session of a user; false if that user has no session with this hash.
    async fn delete_user_session(&self, user_id: i64, id_hash: &str) -> StoreResult<bool>;
    /// Ends a session.
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Ends every session of a user (password change, disable, reset).
    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<()>;
    /// Deletes sessions that expired before `now`; returns how many.
    async fn purge_expired_sessions(&self, now: i64) -> StoreResult<u64>;

    /// Counts a password attempt against a throttle key, in one atomic step: if the key is not
    /// blocked at `now`, its count goes up by one (starting again from 1 when the last attempt
    /// is older than `forget_after` seconds) and the key is blocked until `now +
    /// delay_after(count)`; a blocked key is not written. Concurrent attempts on one key are
    /// serialised, so a burst cannot outrun the delays.
    async fn throttle_hit(
        &self,
        key: &str,
        now: i64,
        forget_after: i64,
        delay_after: &(dyn Fn(i64) -> i64 + Sync),
    ) -> StoreResult<ThrottleHit>;
    /// Forgets a key's attempts (after a success).
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;
    /// Gives one counted attempt back to a key (a success from an address shared by many):
    /// the count goes down by one, never below 0, and the block is what that count calls for
    /// from the last attempt (`last attempt + delay_after(count)`), in one transaction.
    async fn throttle_refund(
        &self,
        key: &str,
        delay_after: &(dyn Fn(i64) -> i64 + Sync),
    ) -> StoreResult<()>;
    /// Deletes throttle keys whose last attempt is older than `before` and that are not
    /// blocked at `now`; returns how many.
    async fn purge_login_throttle(&self, before: i64, now: i64) -> StoreResult<u64>;

    /// Binds a device cookie (by its hash) to a user until `expires_at`, forgets `replaces` (the
    /// browser's previous cookie, when it was this user's) and keeps only the user's `keep`
    /// newest.
    async fn insert_device(
        &self,
        token_hash: &str,
        user_id: i64,
        now: i64,
        expires_at: i64,
        replaces: Option<&str>,
        keep: i64,
    ) -> StoreResult<()>;
    /// The user a device cookie is bound to, if it has not expired at `now`.
    async fn device_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<i64>>;
    /// Forgets every device cookie of a user.
    async fn delete_user_devices(&self, user_id: i64) -> StoreResult<()>;
    /// Deletes device cookies that expired before `now`; returns how many.
    async fn purge_devices(&self, now: i64) -> StoreResult<u64>;

    /// Stores the live code of a factor, replacing any previous one (its attempts start at 0).
    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()>;
    /// Uses the factor's live code if its hash matches, it is unused, unexpired and has had
    /// fewer than `max_attempts` wrong tries: one conditional UPDATE; true if this call won.
    async fn consume_challenge(
        &self,
        factor_id: &FactorId,
        code_hash: &str,
        now: i64,
        max_attempts: i64,
    ) -> StoreResult<bool>;
    /// Counts a wrong try against the factor's live code.
    async fn challenge_failed(&self, factor_id: &FactorId) -> StoreResult<()>;
    /// Removes the factor's live code (a failed delivery leaves none behind).
    async fn delete_challenge(&self, factor_id: &FactorId) -> StoreResult<()>;
    /// Records a send for (user, kind) if the limits allow it — none in the last `min_gap`
    /// seconds and fewer than `per_hour` in the last hour — serialised per user; returns `None`
    /// when recorded, or the seconds to wait.
    async fn record_send(
        &self,
        user_id: i64,
        kind: &str,
        now: i64,
        min_gap: i64,
        per_hour: i64,
    ) -> StoreResult<Option<i64>>;

    /// Inserts several factors in one transaction (YubiKey import): all or none;
    /// `Conflict("yubikey")` when a public id is taken.
    async fn insert_factors(&self, factors: &[Factor]) -> StoreResult<()>;
    /// The confirmed YubiKey factor that holds this public id, if any.
    async fn factor_by_public_id(&self, public_id: &str) -> StoreResult<Option<Factor>>;
    /// Whether this public id is held by any YubiKey factor (pending imports included).
    async fn public_id_taken(&self, public_id: &str) -> StoreResult<bool>;

    /// Registers a client of the validation server; returns its numeric id.
    /// `Conflict("client")` if the name exists.
    async fn insert_wsapi_client(&self, client: &NewWsapiClient) -> StoreResult<i64>;
    /// A client by its numeric id.
    async fn wsapi_client(&self, id: i64) -> StoreResult<Option<WsapiClient>>;
    /// Every client, by id.
    async fn list_wsapi_clients(&self) -> StoreResult<Vec<WsapiClient>>;
    /// Deletes a client (its id is never reused); false if there is none by that name.
    async fn delete_wsapi_client(&self, name: &str) -> StoreResult<bool>;
    /// Records a request answered OK (by its hash); false if it was recorded before.
    async fn record_wsapi_request(&self, hash: &str, now: i64) -> StoreResult<bool>;
    /// Whether a request with this hash was answered OK before.
    async fn wsapi_request_seen(&self, hash: &str) -> StoreResult<bool>;
    /// Forgets recorded requests older than `before`.
    async fn purge_wsapi_requests(&self, before: i64) -> StoreResult<u64>;

    /// Stores a Duo state (a Universal Prompt redirect in flight).
    async fn insert_duo_state(&self, state: &DuoState) -> StoreResult<()>;
    /// Uses the Duo state with this hash if it is unused and unexpired at `now`: one
    /// conditional UPDATE … RETURNING, so a state works once, also across nodes. `None` when
    /// unknown, used or expired.
    async fn consume_duo_state(&self, state_hash: &str, now: i64) -> StoreResult<Option<DuoState>>;
    /// Forgets Duo states that expired before `before`; returns how many.
    async fn purge_duo_states(&self, before: i64) -> StoreResult<u64>;
    /// Gives back one attempt counted by `begin_attempt` (the check could not be made: Duo was
    /// unreachable); never below 0.
    async fn refund_attempt(&self, user_id: i64) -> StoreResult<()>;

    /// A YubiKey import that takes over public ids: deletes each factor of `released` (matched
    /// by user, id and the public id it holds) and inserts `factors`, in one transaction, so
    /// no other claim can take a released public id in between. `Ok(false)` when a factor to
    /// release is no longer there as read (nothing is written then); `Conflict("yubikey")` when
    /// a public id is taken by another factor. A user left without a confirmed factor loses
    /// their backup codes, as with [`Store::delete_factor`].
    async fn import_factors_releasing(
        &self,
        released: &[Factor],
        factors: &[Factor],
    ) -> StoreResult<bool>;
}

/// What counting a password attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleHit {
    /// The attempt was counted: it is the `n`-th since the key was last cleared or forgotten.
    Counted(i64),
    /// The key is blocked until this Unix time; nothing was written.
    Blocked(i64),
}

/// A client of the Yubico validation server to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWsapiClient {
    /// Its name (unique).
    pub name: String,
    /// The shared key, sealed under the master key and bound to the name.
    pub key: Sealed,
    /// Whether requests without a signature are answered.
    pub allow_unsigned: bool,
    /// Unix time.
    pub created_at: i64,
}

/// A registered client of the Yubico validation server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsapiClient {
    /// The numeric id it sends as `id`.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The shared key, sealed.
    pub key: Sealed,
    /// Whether requests without a signature are answered.
    pub allow_unsigned: bool,
    /// Unix time.
    pub created_at: i64,
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
}

/// A live email or SMS code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The factor it was sent for.
    pub factor_id: FactorId,
    /// Its owner.
    pub user_id: i64,
    /// Keyed hash of the code.
    pub code_hash: String,
    /// Unix time sent.
    pub created_at: i64,
    /// Unix time it stops working.
    pub expires_at: i64,
}
