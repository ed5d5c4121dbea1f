//! The SQL of [`Codes`](twofold_core::store::Codes): live email/SMS codes and sends.

/// Implements [`Codes`](twofold_core::store::Codes) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_codes {
    (store = $store:ident $(,)?) => {
        mod codes {
            use twofold_core::factor::FactorId;
            use twofold_core::store::{Challenge, StoreResult};
            use $crate::rows::backend;
            use $crate::sql;
            use super::shared::{begin_detached, lock_user};

            #[async_trait::async_trait]
            impl twofold_core::store::Codes for super::$store {
                async fn put_challenge(&self, c: &Challenge) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(
                        "INSERT INTO challenges (factor_id, user_id, code_hash, created_at, \
                         expires_at, attempts, used_at) VALUES ($1, $2, $3, $4, $5, 0, NULL) \
                         ON CONFLICT (factor_id) DO UPDATE SET code_hash = $3, created_at = $4, \
                         expires_at = $5, attempts = 0, used_at = NULL",
                    )
                    .bind(c.factor_id.as_str())
                    .bind(c.user_id)
                    .bind(&c.code_hash)
                    .bind(c.created_at)
                    .bind(c.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn consume_challenge(
                    &self,
                    factor_id: &FactorId,
                    code_hash: &str,
                    now: i64,
                    max_attempts: i64,
                ) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
let done = sqlx::query(sql::CONSUME_CHALLENGE)
                    .bind(factor_id.as_str())
                    .bind(code_hash)
                    .bind(now)
                    .bind(max_attempts)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn challenge_failed(&self, factor_id: &FactorId) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(sql::CHALLENGE_FAILED)
                    .bind(factor_id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn delete_challenge(&self, factor_id: &FactorId) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query("DELETE FROM challenges WHERE factor_id = $1")
                        .bind(factor_id.as_str())
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn record_send(
                    &self,
                    user_id: i64,
                    kind: &str,
                    now: i64,
                    min_gap: i64,
                    per_hour: i64,
                ) -> StoreResult<Option<i64>> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    if !lock_user(&mut tx, user_id).await? {
                        return Ok(Some(min_gap));
                    }
                    let (last, count): (Option<i64>, i64) = sqlx::query_as(
                        "SELECT MAX(sent_at), COUNT(*) FROM code_sends \
                         WHERE user_id = $1 AND kind = $2 AND sent_at > $3",
                    )
                    .bind(user_id)
                    .bind(kind)
                    .bind(now - 3600)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if let Some(last) = last.filter(|l| now - l < min_gap) {
                        return Ok(Some(min_gap - (now - last)));
                    }
                    if count >= per_hour {
                        let oldest: Option<i64> = sqlx::query_scalar(
                            "SELECT MIN(sent_at) FROM code_sends \
                             WHERE user_id = $1 AND kind = $2 AND sent_at > $3",
                        )
                        .bind(user_id)
                        .bind(kind)
                        .bind(now - 3600)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(backend)?;
                        return Ok(Some(oldest.map_or(60, |o| (o + 3600 - now).max(1))));
                    }
                    sqlx::query("INSERT INTO code_sends (user_id, kind, sent_at) VALUES ($1, $2, $3)")
                        .bind(user_id)
                        .bind(kind)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    sqlx::query("DELETE FROM code_sends WHERE user_id = $1 AND sent_at < $2")
                        .bind(user_id)
                        .bind(now - 7200)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    tx.commit().await.map_err(backend)?;
                    Ok(None)
                }
            }
        }
    };
}
pub(crate) use impl_codes;
