//! Email and SMS codes: the live code of each factor and the record of sends.

use async_trait::async_trait;

use crate::factor::FactorId;

use super::StoreResult;

/// Live email/SMS codes and their sends.
#[async_trait]
pub trait Codes: Send + Sync {
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
