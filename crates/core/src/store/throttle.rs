//! The password-attempt throttle, per key (a username or a client address).

use async_trait::async_trait;

use super::StoreResult;

/// The password-attempt throttle.
#[async_trait]
pub trait LoginThrottle: Send + Sync {
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
}

/// What counting a password attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleHit {
    /// The attempt was counted: it is the `n`-th since the key was last cleared or forgotten.
    Counted(i64),
    /// The key is blocked until this Unix time; nothing was written.
    Blocked(i64),
}
