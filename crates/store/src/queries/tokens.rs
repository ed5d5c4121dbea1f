//! The SQL of [`Tokens`](twofold_core::store::Tokens): API tokens and the setup token.

/// Implements [`Tokens`](twofold_core::store::Tokens) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_tokens {
    (store = $store:ident $(,)?) => {
        mod tokens {
            use super::shared::begin_detached;
            use twofold_core::store::StoreResult;
            use twofold_core::token::ApiToken;
            use $crate::rows::{TokenRow, backend, conflict, convert_all};
            use $crate::sql;

            #[async_trait::async_trait]
            impl twofold_core::store::Tokens for super::$store {
                async fn insert_token(&self, token: &ApiToken, hash: &str) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(
                        "INSERT INTO api_tokens (name, scope, hash, created_at, last_used_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&token.name)
                    .bind(token.scope.as_str())
                    .bind(hash)
                    .bind(token.created_at)
                    .bind(token.last_used_at)
                    .execute(&self.pool)
                    .await
                    .map_err(conflict("token"))?;
                    Ok(())
                }

                async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
                    if let Some(hot) = self.hot() {
                        return hot.token_by_hash(hash);
                    }
                    let row: Option<TokenRow> = sqlx::query_as(sql::TOKEN_BY_HASH)
                        .bind(hash)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)?;
                    row.map(ApiToken::try_from).transpose()
                }

                async fn list_tokens(&self) -> StoreResult<Vec<ApiToken>> {
                    let rows: Vec<TokenRow> = sqlx::query_as(
                        "SELECT name, scope, created_at, last_used_at FROM api_tokens \
                         ORDER BY name",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    convert_all(rows)
                }

                async fn revoke_token(&self, name: &str) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("DELETE FROM api_tokens WHERE name = $1")
                        .bind(name)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn touch_token(&self, name: &str, now: i64) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(
                        "UPDATE api_tokens SET last_used_at = $2 WHERE name = $1 \
                         AND (last_used_at IS NULL OR last_used_at < $2 - 60)",
                    )
                    .bind(name)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn put_setup_token(&self, hash: &str, expires_at: i64) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    sqlx::query("DELETE FROM setup_tokens")
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    sqlx::query("INSERT INTO setup_tokens (hash, expires_at) VALUES ($1, $2)")
                        .bind(hash)
                        .bind(expires_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(conflict("setup token"))?;
                    tx.commit().await.map_err(backend)
                }

                async fn setup_token_usable(&self, hash: &str, now: i64) -> StoreResult<bool> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM setup_tokens \
                         WHERE hash = $1 AND used_at IS NULL AND expires_at > $2",
                    )
                    .bind(hash)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(n > 0)
                }

                async fn consume_setup_token(&self, hash: &str, now: i64) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query(
                        "UPDATE setup_tokens SET used_at = $2 \
                         WHERE hash = $1 AND used_at IS NULL AND expires_at > $2",
                    )
                    .bind(hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }
            }
        }
    };
}
pub(crate) use impl_tokens;
