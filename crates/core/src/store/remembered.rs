//! Remembered browsers: browsers whose second factor stands for a while (`tf_remember`), so
//! that their user's next sign-ins there ask only for the password.

use async_trait::async_trait;

use super::StoreResult;

/// A remembered browser. The cookie holds 256 random bits; only their SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedBrowser {
    /// SHA-256 of the cookie value, hex.
    pub token_hash: String,
    /// The one user it is remembered for.
    pub user_id: i64,
    /// Unix time of the sign-in that remembered it.
    pub created_at: i64,
    /// Unix time it last stood in for a second factor (the creation at first).
    pub last_used_at: i64,
    /// Unix time after which it is void.
    pub expires_at: i64,
    /// The client address of its last use.
    pub ip: Option<String>,
    /// A short description of the browser.
    pub browser: Option<String>,
}

/// Remembered browsers.
#[async_trait]
pub trait RememberedBrowsers: Send + Sync {
    /// Stores a remembered browser for the sign-in whose session has the hash `session_hash`,
    /// only while that session exists and is the browser's user's: one conditional INSERT,
    /// with the session's row locked until it commits, so that a sign-out everywhere ending
    /// the session either came first (nothing is stored) or waits for it (and the forgetting
    /// that follows it sees the row). Keeps only the user's `keep` newest. `None` when the
    /// session is gone (nothing stored); else the hashes of the user's oldest browsers that
    /// gave way.
    async fn insert_remembered_browser(
        &self,
        browser: &RememberedBrowser,
        session_hash: &str,
        keep: i64,
    ) -> StoreResult<Option<Vec<String>>>;
    /// The remembered browser with this hash, if it has not expired at `now` (whoever's it
    /// is: callers check it is their user's).
    async fn remembered_browser(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<RememberedBrowser>>;
    /// Records a use at `now` from `ip`: one conditional UPDATE of the user's row with this
    /// hash that has not expired. False when there is none (forgotten or expired meanwhile).
    async fn touch_remembered_browser(
        &self,
        token_hash: &str,
        user_id: i64,
        now: i64,
        ip: Option<&str>,
    ) -> StoreResult<bool>;
    /// A user's remembered browsers that have not expired at `now`, most recently used first.
    async fn user_remembered_browsers(
        &self,
        user_id: i64,
        now: i64,
    ) -> StoreResult<Vec<RememberedBrowser>>;
    /// Forgets one of a user's browsers; false if that user has none with this hash.
    async fn delete_user_remembered_browser(
        &self,
        user_id: i64,
        token_hash: &str,
    ) -> StoreResult<bool>;
    /// Forgets every browser of a user; returns how many.
    async fn delete_user_remembered_browsers(&self, user_id: i64) -> StoreResult<u64>;
    /// Forgets the browsers remembered at or before `created_until` (`i64::MAX`: all), of
    /// every user, or with `staff_only` of the users whose role is not client (admins and
    /// owners) only; returns how many.
    async fn forget_remembered_browsers(
        &self,
        created_until: i64,
        staff_only: bool,
    ) -> StoreResult<u64>;
    /// Deletes remembered browsers that expired at or before `now`; returns how many.
    async fn purge_remembered_browsers(&self, now: i64) -> StoreResult<u64>;
}
