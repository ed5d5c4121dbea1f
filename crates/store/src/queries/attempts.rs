//! The SQL of [`Attempts`](twofold_core::store::Attempts); `settle_attempt`'s flow is
//! `crate::attempt`, run here through `TxSteps` (made by `impl_shared!`), on SQLite's hot
//! path, or on PostgreSQL as the database function `twofold_settle_attempt` (its migration
//! `…_settle.sql`), called in one statement.

/// Implements [`Attempts`](twofold_core::store::Attempts) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_attempts {
    (store = $store:ident $(,)?) => {
        mod attempts {
            use super::shared::{TxSteps, begin_detached, lock_user};
            use twofold_core::store::{AttemptPlan, Settled, StoreResult};
            use $crate::rows::backend;
            use $crate::sql;

            #[async_trait::async_trait]
            impl twofold_core::store::Attempts for super::$store {
                async fn begin_attempt(
                    &self,
                    user_id: i64,
                    now: i64,
                    max_failures: i64,
                ) -> StoreResult<Option<i64>> {
                    let _serial = self.serialize_writes().await;
                    if let Some(hot) = self.hot() {
                        return hot.begin_attempt(user_id, now, max_failures);
                    }
                    sqlx::query_scalar(sql::BEGIN_ATTEMPT)
                        .bind(user_id)
                        .bind(now)
                        .bind(max_failures)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn lock(
                    &self,
                    user_id: i64,
                    now: i64,
                    streak_window: i64,
                    seconds_for: &(dyn Fn(i64) -> i64 + Sync),
                ) -> StoreResult<Option<i64>> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    if !lock_user(&mut tx, user_id).await? {
                        return Ok(None);
                    }
                    let (locked_until, streak, last): (Option<i64>, i64, Option<i64>) =
                        sqlx::query_as(sql::LOCK_STATE)
                            .bind(user_id)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(backend)?;
                    if locked_until.is_some_and(|t| t > now) {
                        return Ok(None);
                    }
                    let streak = match last {
                        Some(at) if now - at < streak_window => streak.saturating_add(1),
                        _ => 1,
                    };
                    let until = now.saturating_add(seconds_for(streak));
                    sqlx::query(sql::SET_LOCK)
                        .bind(user_id)
                        .bind(until)
                        .bind(streak)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    tx.commit().await.map_err(backend)?;
                    Ok(Some(until))
                }

                async fn settle_attempt(&self, plan: &AttemptPlan<'_>) -> StoreResult<Settled> {
                    let _serial = self.serialize_writes().await;
                    if let Some(hot) = self.hot() {
                        return hot.settle_attempt(plan);
                    }
                    if let Some(settled) = self.settle_in_one_statement(plan).await? {
                        return Ok(settled);
                    }
                    let mut tx = begin_detached(&self.pool).await?;
                    let settled = $crate::attempt::settle(&mut TxSteps(&mut tx), plan).await?;
                    if settled != Settled::NotCounted {
                        tx.commit().await.map_err(backend)?;
                    }
                    Ok(settled)
                }

                async fn reset_failures(&self, user_id: i64) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    if let Some(hot) = self.hot() {
                        return hot.reset_failures(user_id);
                    }
                    sqlx::query(sql::RESET_FAILURES)
                        .bind(user_id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn unlock(&self, user_id: i64) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(
                        "UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1",
                    )
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn attempt_state(
                    &self,
                    user_id: i64,
                ) -> StoreResult<Option<(i64, Option<i64>, i64)>> {
                    sqlx::query_as(
                        "SELECT failed_attempts, locked_until, attempt_at FROM users WHERE id = $1",
                    )
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)
                }

                async fn clamp_failures(&self, max_failures: i64) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(
                        "UPDATE users SET failed_attempts = $1 - 1 WHERE failed_attempts >= $1",
                    )
                    .bind(max_failures)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn refund_attempt(&self, user_id: i64) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    // A replay or a lost race gives its attempt back: on the hot path, like
                    // the count itself.
                    if let Some(hot) = self.hot() {
                        return hot.refund_attempt(user_id);
                    }
                    sqlx::query(sql::REFUND_ATTEMPT)
                        .bind(user_id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }
            }
        }
    };
}
pub(crate) use impl_attempts;
