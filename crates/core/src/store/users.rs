//! Users: their rows, lookups and changes.

use async_trait::async_trait;

use crate::factor::Factor;
use crate::identity::{Role, Username};

use super::StoreResult;

/// The users.
#[async_trait]
pub trait Users: Send + Sync {
    /// Creates a user; `Conflict("user")` if the username key exists.
    async fn insert_user(&self, user: &NewUser) -> StoreResult<User>;
    /// Finds a user by lower-case username key.
    async fn user_by_name(&self, key: &str) -> StoreResult<Option<User>>;
    /// Finds a user by id.
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>>;
    /// A user by username key with all their factors (oldest first), in one query.
    async fn user_with_factors(&self, key: &str) -> StoreResult<Option<(User, Vec<Factor>)>>;
    /// The users of these username keys with all their factors (oldest first), in a few queries
    /// (one per thousand keys), for bulk work; keys with no user are left out, the order is
    /// not the keys'.
    async fn users_with_factors(&self, keys: &[String]) -> StoreResult<Vec<(User, Vec<Factor>)>>;
    /// Lists users ordered by username key.
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<User>>;
    /// Counts users, of one role or all.
    async fn count_users(&self, role: Option<Role>) -> StoreResult<i64>;
    /// Applies a patch; `None` if there is no such user.
    async fn update_user(&self, id: i64, patch: &UserPatch) -> StoreResult<Option<User>>;
    /// Sets the password hash; false if there is no such user.
    async fn set_password(&self, id: i64, hash: &str) -> StoreResult<bool>;
}

/// A user as stored. `Debug` hides the password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// The username as given (lookups use its lower-case key).
    pub username: Username,
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
    /// The user's own choice of language (a [`crate::i18n::Lang`] tag); `None` follows the
    /// browser.
    pub language: Option<String>,
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
    /// The user's own choice of language, if they made one.
    pub fn language(&self) -> Option<crate::i18n::Lang> {
        self.language
            .as_deref()
            .and_then(crate::i18n::Lang::from_tag)
    }

    /// Whether the second factor is locked at `now`.
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The username as given; its lower-case key ([`Username::key`]) is unique.
    pub username: Username,
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
    /// New language choice (a [`crate::i18n::Lang`] tag; `None` inside: follow the browser).
    pub language: Option<Option<String>>,
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
