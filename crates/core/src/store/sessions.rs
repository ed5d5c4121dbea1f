//! Portal sessions and the device cookies that remember a browser.

use async_trait::async_trait;

use crate::session::Session;

use super::User;

use super::StoreResult;

/// Sessions and device cookies.
#[async_trait]
pub trait Sessions: Send + Sync {
    /// Stores a new session.
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    /// Finds a session by the hash of its cookie value (expired ones included: callers check).
    async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    /// A session with its user, in one read (every page and every forward-authentication
    /// request looks a session up).
    async fn session_with_user(&self, id_hash: &str) -> StoreResult<Option<(Session, User)>>;
    /// Replaces a session by a new one (a new id, usually a later stage) in one transaction:
    /// deleting the old one is the condition, so a session id advances at most once. False if
    /// the old one was already gone (nothing is written then).
    async fn replace_session(&self, old_hash: &str, new: &Session) -> StoreResult<bool>;
    /// Records a use of a session: its last use and its new expiry. Nothing is written when a
    /// use at `now` or later is recorded already (concurrent requests that all found the
    /// session due write it once).
    async fn touch_session(&self, id_hash: &str, now: i64, expires_at: i64) -> StoreResult<()>;
    /// Records that the owner gave their password (and second factor) in this session at `at`.
    async fn set_session_step_up(&self, id_hash: &str, at: i64) -> StoreResult<()>;
    /// A user's sessions, newest sign-in first (expired ones included: callers filter).
    async fn user_sessions(&self, user_id: i64) -> StoreResult<Vec<Session>>;
    /// Ends one session of a user; false if that user has no session with this hash.
    async fn delete_user_session(&self, user_id: i64, id_hash: &str) -> StoreResult<bool>;
    /// Ends a session.
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Ends every session of a user (password change, disable, reset); returns how many.
    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<u64>;
    /// Deletes sessions that expired before `now`; returns how many.
    async fn purge_expired_sessions(&self, now: i64) -> StoreResult<u64>;

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
}
