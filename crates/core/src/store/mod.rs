//! The storage port. `twofold-store` implements it over SQLite and PostgreSQL; the flows in
//! [`crate::service`] use nothing else to reach the database.
//!
//! The port is the sum of one trait per aggregate, each in its own module with the types it
//! uses: [`Users`], [`Attempts`] (failure counts and lockouts), [`Factors`] (with backup codes
//! and YubiKey public ids), [`Codes`] (email/SMS codes and sends), [`Sessions`] (with device
//! cookies), [`RememberedBrowsers`] (browsers that skip the second factor for a while),
//! [`LoginThrottle`], [`Tokens`] (API tokens and the setup token), [`AuditLog`],
//! [`StoredSettings`], [`DuoStates`], [`Wsapi`] (the validation server's clients and requests), [`Radius`]
//! (the RADIUS server's clients and open challenges), [`Webauthn`] (handles, ceremony
//! challenges, signature counters)
//! and [`Database`] (migrations, liveness). [`Store`] is all of them, and every type that
//! implements them all is a `Store`; the flows hold an `Arc<dyn Store>`, on which every method
//! of every aggregate can be called without importing its trait. Code that calls them on
//! another type imports [`prelude`].
//!
//! Contract every implementation keeps (the conformance suite in `twofold-store` checks it on
//! both backends):
//! - every one-time consumption (`consume_counter`, `consume_backup_code`, `confirm_factor`,
//!   `consume_setup_token`) is a single conditional `UPDATE` whose affected-row count decides,
//!   never a read followed by a write, so it succeeds once under any concurrency and across nodes;
//! - every multi-row change is one transaction: on error nothing is written;
//! - usernames are looked up and kept unique by their lower-case key.

use async_trait::async_trait;

mod attempts;
mod audit;
mod codes;
mod duo_states;
mod factors;
mod radius;
mod remembered;
mod sealed;
mod sessions;
mod settings;
mod throttle;
mod tokens;
mod users;
mod webauthn;
mod wsapi;

pub use attempts::{AttemptPlan, Attempts, Candidate, Consume, Settled};
pub use audit::AuditLog;
pub use codes::{Challenge, Codes};
pub use duo_states::{DuoPurpose, DuoState, DuoStates};
pub use factors::{
    BackupCodeRow, ConfirmOutcome, Confirmation, FactorRemoval, Factors, ImportEntry, ImportRows,
    ImportedRows,
};
pub use radius::{NewRadiusClient, Radius, RadiusClient, RadiusState};
pub use remembered::{RememberedBrowser, RememberedBrowsers};
pub use sealed::{Reseal, SealedKind, SealedRow, SealedValues};
pub use sessions::Sessions;
pub use settings::{StoredSettings, StoredValue};
pub use throttle::{LoginThrottle, ThrottleHit};
pub use tokens::Tokens;
pub use users::{NewUser, User, UserPatch, UserQuery, Users};
pub use webauthn::{TakenChallenge, Webauthn, WebauthnChallenge, WebauthnPurpose};
pub use wsapi::{NewWsapiClient, Wsapi, WsapiClient};

/// The aggregate traits, for calling store methods on a concrete store type or a generic one
/// (`use twofold_core::store::prelude::*;`). Calls on `dyn Store` need none of them.
pub mod prelude {
    pub use super::{
        Attempts as _, AuditLog as _, Codes as _, Database as _, DuoStates as _, Factors as _,
        LoginThrottle as _, Radius as _, RememberedBrowsers as _, SealedValues as _, Sessions as _,
        Store, StoredSettings as _, Tokens as _, Users as _, Webauthn as _, Wsapi as _,
    };
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

/// The database itself: its schema and whether it answers.
#[async_trait]
pub trait Database: Send + Sync {
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// Answers when the database does (`SELECT 1`).
    async fn ping(&self) -> StoreResult<()>;
}

/// The database, as the flows need it: every aggregate of the port.
pub trait Store:
    Database
    + Users
    + Attempts
    + Factors
    + Codes
    + Sessions
    + RememberedBrowsers
    + LoginThrottle
    + Tokens
    + AuditLog
    + StoredSettings
    + DuoStates
    + Wsapi
    + Radius
    + Webauthn
    + SealedValues
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: Database
        + Users
        + Attempts
        + Factors
        + Codes
        + Sessions
        + RememberedBrowsers
        + LoginThrottle
        + Tokens
        + AuditLog
        + StoredSettings
        + DuoStates
        + Wsapi
        + Radius
        + Webauthn
        + SealedValues
        + Send
        + Sync
        + 'static
{
}
