//! The SQL of [`LoginThrottle`](twofold_core::store::LoginThrottle).

/// Implements [`LoginThrottle`](twofold_core::store::LoginThrottle) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_throttle {
    (store = $store:ident $(,)?) => {
        mod throttle {
            use super::shared::begin_detached;
            use twofold_core::store::{StoreResult, ThrottleHit};
            use $crate::rows::backend;

            #[async_trait::async_trait]
            impl twofold_core::store::LoginThrottle for super::$store {
                async fn throttle_hit(
                    &self,
                    key: &str,
                    now: i64,
                    forget_after: i64,
                    delay_after: &(dyn Fn(i64) -> i64 + Sync),
                ) -> StoreResult<ThrottleHit> {
                    let _serial = self.serialize_writes().await;
                    // The upsert counts the attempt only while the key is not blocked, and holds
                    // the key's row (PostgreSQL) or the write lock (SQLite) until the block that
                    // the new count calls for is written: a concurrent attempt sees that block.
                    let mut tx = begin_detached(&self.pool).await?;
                    let counted: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO login_throttle (key, failures, last_at, blocked_until) \
                         VALUES ($1, 1, $2, $2) \
                         ON CONFLICT (key) DO UPDATE SET \
                           failures = CASE WHEN login_throttle.last_at < $2 - $3 THEN 1 \
                                           ELSE login_throttle.failures + 1 END, \
                           last_at = $2 \
                         WHERE login_throttle.blocked_until <= $2 \
                         RETURNING failures",
                    )
                    .bind(key)
                    .bind(now)
                    .bind(forget_after)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let hit = match counted {
                        Some(n) => {
                            sqlx::query(
                                "UPDATE login_throttle SET blocked_until = $2 WHERE key = $1",
                            )
                            .bind(key)
                            .bind(now.saturating_add(delay_after(n).max(0)))
                            .execute(&mut *tx)
                            .await
                            .map_err(backend)?;
                            ThrottleHit::Counted(n)
                        }
                        None => {
                            let until: i64 = sqlx::query_scalar(
                                "SELECT blocked_until FROM login_throttle WHERE key = $1",
                            )
                            .bind(key)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(backend)?;
                            ThrottleHit::Blocked(until)
                        }
                    };
                    tx.commit().await.map_err(backend)?;
                    Ok(hit)
                }

                async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                        .bind(key)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn throttle_refund(
                    &self,
                    key: &str,
                    delay_after: &(dyn Fn(i64) -> i64 + Sync),
                ) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    let left: Option<(i64, i64)> = sqlx::query_as(
                        "UPDATE login_throttle SET failures = failures - 1 \
                         WHERE key = $1 AND failures > 0 RETURNING failures, last_at",
                    )
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if let Some((failures, last_at)) = left {
                        let until = if failures > 0 {
                            last_at.saturating_add(delay_after(failures).max(0))
                        } else {
                            0
                        };
                        sqlx::query("UPDATE login_throttle SET blocked_until = $2 WHERE key = $1")
                            .bind(key)
                            .bind(until)
                            .execute(&mut *tx)
                            .await
                            .map_err(backend)?;
                    }
                    tx.commit().await.map_err(backend)?;
                    Ok(())
                }

                async fn purge_login_throttle(&self, before: i64, now: i64) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query(
                        "DELETE FROM login_throttle WHERE last_at < $1 AND blocked_until <= $2",
                    )
                    .bind(before)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected())
                }
            }
        }
    };
}
pub(crate) use impl_throttle;
