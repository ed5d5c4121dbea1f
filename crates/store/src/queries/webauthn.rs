//! The SQL of [`Webauthn`](twofold_core::store::Webauthn): user handles, ceremony challenges and
//! signature counters.

/// Implements [`Webauthn`](twofold_core::store::Webauthn) for `$store`, a store type of the
/// invoking module.
macro_rules! impl_webauthn {
    (store = $store:ident $(,)?) => {
        mod webauthn {
            use twofold_core::factor::FactorId;
            use twofold_core::store::{
                StoreResult, TakenChallenge, WebauthnChallenge, WebauthnPurpose,
            };
            use $crate::rows::{backend, conflict, corrupt};

            #[async_trait::async_trait]
            impl twofold_core::store::Webauthn for super::$store {
                async fn webauthn_handle(
                    &self,
                    user_id: i64,
                    new: &str,
                ) -> StoreResult<Option<String>> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(
                        "UPDATE users SET webauthn_handle = $2 \
                         WHERE id = $1 AND webauthn_handle IS NULL",
                    )
                    .bind(user_id)
                    .bind(new)
                    .execute(&self.pool)
                    .await
                    .map_err(conflict("webauthn_handle"))?;
                    let handle: Option<Option<String>> =
                        sqlx::query_scalar("SELECT webauthn_handle FROM users WHERE id = $1")
                            .bind(user_id)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(backend)?;
                    Ok(handle.flatten())
                }

                async fn user_by_webauthn_handle(&self, handle: &str) -> StoreResult<Option<i64>> {
                    sqlx::query_scalar("SELECT id FROM users WHERE webauthn_handle = $1")
                        .bind(handle)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn insert_webauthn_challenge(
                    &self,
                    c: &WebauthnChallenge,
                ) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(
                        "INSERT INTO webauthn_challenges \
                         (challenge_hash, purpose, user_id, factor_id, expires_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&c.challenge_hash)
                    .bind(c.purpose.as_str())
                    .bind(c.user_id)
                    .bind(c.factor_id.as_ref().map(FactorId::as_str))
                    .bind(c.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(conflict("webauthn_challenge"))?;
                    Ok(())
                }

                async fn take_webauthn_challenge(
                    &self,
                    challenge_hash: &str,
                    purpose: WebauthnPurpose,
                    user_id: Option<i64>,
                    now: i64,
                ) -> StoreResult<Option<TakenChallenge>> {
                    let _serial = self.serialize_writes().await;
                    // `user_id IS $3` is SQLite's; both backends take this form of "the same,
                    // NULL included".
                    let taken: Option<(Option<String>,)> = sqlx::query_as(
                        "DELETE FROM webauthn_challenges \
                         WHERE challenge_hash = $1 AND purpose = $2 AND expires_at > $4 \
                         AND ((user_id IS NULL AND $3 IS NULL) OR user_id = $3) \
                         RETURNING factor_id",
                    )
                    .bind(challenge_hash)
                    .bind(purpose.as_str())
                    .bind(user_id)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    taken
                        .map(|(factor,)| {
                            let factor_id = factor
                                .map(|f| {
                                    FactorId::parse(&f)
                                        .ok_or_else(|| corrupt("webauthn challenge factor id"))
                                })
                                .transpose()?;
                            Ok(TakenChallenge { factor_id })
                        })
                        .transpose()
                }

                async fn purge_webauthn_challenges(&self, now: i64) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let done =
                        sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at <= $1")
                            .bind(now)
                            .execute(&self.pool)
                            .await
                            .map_err(backend)?;
                    Ok(done.rows_affected())
                }

                async fn consume_sign_count(
                    &self,
                    id: &FactorId,
                    count: i64,
                    now: i64,
                ) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query($crate::sql::CONSUME_SIGN_COUNT)
                        .bind(id.as_str())
                        .bind(count)
                        .bind(now)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() > 0)
                }
            }
        }
    };
}
pub(crate) use impl_webauthn;
