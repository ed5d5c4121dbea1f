//! Second factors: their rows, confirmation, one-time counters, backup codes and YubiKey
//! public ids.

use async_trait::async_trait;

use crate::audit::NewAudit;
use crate::crypto::Sealed;
use crate::factor::{Factor, FactorId, FactorKind};

use super::{NewUser, StoreError, StoreResult};

/// Factors and backup codes.
#[async_trait]
pub trait Factors: Send + Sync {
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

    /// Inserts several factors in one transaction (YubiKey import): all or none;
    /// `Conflict("yubikey")` when a public id is taken.
    async fn insert_factors(&self, factors: &[Factor]) -> StoreResult<()>;
    /// Inserts a user's imported factors and backup codes in one transaction: all or none;
    /// `Conflict` when a code's lookup hash is already the user's (or a public id is taken).
    async fn import_user_keys(
        &self,
        user_id: i64,
        factors: &[Factor],
        codes: &[BackupCodeRow],
    ) -> StoreResult<()>;
    /// Writes a batch of users' imports with one commit, each user all-or-nothing in a savepoint
    /// of its own. For each entry, in order: creates the user ([`ImportEntry::Create`]) or locks
    /// the existing one, then writes the rows `rows(index, user_id)` makes for it (factors,
    /// backup codes, audit records). An entry whose write fails on a unique constraint (the user
    /// was created meanwhile, a backup code's lookup hash or a public id is taken) or whose user
    /// is gone is rolled back to its savepoint and answered `Err(Conflict)`: nothing of it is
    /// written, the other entries are. Any other error rolls back the whole batch. `Ok` holds
    /// each entry's user id, in `batch` order. (A batch is first written with a few multi-row
    /// statements and, only when that conflicts, again entry by entry: `rows` may be called
    /// twice for an entry, and must make rows that are fit to write either time.)
    async fn import_batch(
        &self,
        batch: &[ImportEntry],
        rows: &ImportRows<'_>,
    ) -> StoreResult<Vec<Result<i64, StoreError>>>;
    /// The confirmed YubiKey factor that holds this public id, if any.
    async fn factor_by_public_id(&self, public_id: &str) -> StoreResult<Option<Factor>>;
    /// Whether this public id is held by any YubiKey factor (pending imports included).
    async fn public_id_taken(&self, public_id: &str) -> StoreResult<bool>;
    /// A YubiKey import that takes over public ids: deletes each factor of `released` (matched
    /// by user, id and the public id it holds) and inserts `factors`, in one transaction, so
    /// no other claim can take a released public id in between. `Ok(false)` when a factor to
    /// release is no longer there as read (nothing is written then); `Conflict("yubikey")` when
    /// a public id is taken by another factor. A user left without a confirmed factor loses
    /// their backup codes, as with [`Factors::delete_factor`].
    async fn import_factors_releasing(
        &self,
        released: &[Factor],
        factors: &[Factor],
    ) -> StoreResult<bool>;
}

/// Whose import an entry of [`Factors::import_batch`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportEntry {
    /// An existing user, by id.
    Existing(i64),
    /// A user to create, in the entry's savepoint.
    Create(NewUser),
}

/// What one user's import writes once the user's id is known (a factor's secret is sealed to
/// its user's id, so a new user's rows can only be made after the user's row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedRows {
    /// Factors, all of this user.
    pub factors: Vec<Factor>,
    /// Backup codes to add to the user's.
    pub backup_codes: Vec<BackupCodeRow>,
    /// Audit records, written in the same savepoint.
    pub audit: Vec<NewAudit>,
}

/// Makes an entry's rows: `(index in the batch, user id)` → the rows.
pub type ImportRows<'a> = dyn Fn(usize, i64) -> ImportedRows + Send + Sync + 'a;

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
    /// For a security key or passkey: the credential's details (JSON) to keep.
    pub params: Option<String>,
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
