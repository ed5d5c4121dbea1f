//! The SQL of [`RememberedBrowsers`](twofold_core::store::RememberedBrowsers).

use twofold_core::store::RememberedBrowser;

/// The columns of a remembered browser's row, in `RememberedRow`'s order.
macro_rules! remembered_columns {
    () => {
        "token_hash, user_id, created_at, last_used_at, expires_at, ip, browser"
    };
}
pub(crate) use remembered_columns;

/// Reads a remembered browser's row.
pub(crate) struct RememberedRow {
    token_hash: String,
    user_id: i64,
    created_at: i64,
    last_used_at: i64,
    expires_at: i64,
    ip: Option<String>,
    browser: Option<String>,
}
crate::rows::from_row!(RememberedRow {
    token_hash,
    user_id,
    created_at,
    last_used_at,
    expires_at,
    ip,
    browser
});

impl From<RememberedRow> for RememberedBrowser {
    fn from(r: RememberedRow) -> Self {
        RememberedBrowser {
            token_hash: r.token_hash,
            user_id: r.user_id,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
            ip: r.ip,
            browser: r.browser,
        }
    }
}

/// Implements [`RememberedBrowsers`](twofold_core::store::RememberedBrowsers) for `$store`, a
/// store type of the invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_remembered {
    (store = $store:ident $(,)?) => {
        mod remembered {
            use super::shared::begin_detached;
            use twofold_core::store::{RememberedBrowser, StoreResult};
            use $crate::queries::remembered::{RememberedRow, remembered_columns};
            use $crate::rows::{backend, conflict};

            #[async_trait::async_trait]
            impl twofold_core::store::RememberedBrowsers for super::$store {
                async fn insert_remembered_browser(
                    &self,
                    b: &RememberedBrowser,
                    session_hash: &str,
                    keep: i64,
                ) -> StoreResult<Option<Vec<String>>> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    // The session's row is written without change first: on PostgreSQL its
                    // lock holds off a concurrent deletion of the user's sessions until this
                    // commits (and one already under way makes this find no row), as SQLite's
                    // single writer does.
                    let locked = sqlx::query(
                        "UPDATE sessions SET last_seen_at = last_seen_at \
                         WHERE id_hash = $1 AND user_id = $2",
                    )
                    .bind(session_hash)
                    .bind(b.user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    if locked.rows_affected() == 0 {
                        return Ok(None);
                    }
                    let inserted = sqlx::query(concat!(
                        "INSERT INTO remembered_browsers (",
                        remembered_columns!(),
                        ") SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS \
                         (SELECT 1 FROM sessions WHERE id_hash = $8 AND user_id = $2)"
                    ))
                    .bind(&b.token_hash)
                    .bind(b.user_id)
                    .bind(b.created_at)
                    .bind(b.last_used_at)
                    .bind(b.expires_at)
                    .bind(&b.ip)
                    .bind(&b.browser)
                    .bind(session_hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict("remembered browser"))?;
                    if inserted.rows_affected() == 0 {
                        return Ok(None);
                    }
                    let evicted: Vec<(String,)> = sqlx::query_as(
                        "DELETE FROM remembered_browsers WHERE user_id = $1 AND token_hash NOT IN \
                         (SELECT token_hash FROM remembered_browsers WHERE user_id = $1 \
                          ORDER BY created_at DESC, token_hash LIMIT $2) \
                         RETURNING token_hash",
                    )
                    .bind(b.user_id)
                    .bind(keep)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(backend)?;
                    tx.commit().await.map_err(backend)?;
                    Ok(Some(evicted.into_iter().map(|(h,)| h).collect()))
                }

                async fn remembered_browser(
                    &self,
                    token_hash: &str,
                    now: i64,
                ) -> StoreResult<Option<RememberedBrowser>> {
                    let row: Option<RememberedRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        remembered_columns!(),
                        " FROM remembered_browsers WHERE token_hash = $1 AND expires_at > $2"
                    ))
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(row.map(RememberedBrowser::from))
                }

                async fn touch_remembered_browser(
                    &self,
                    token_hash: &str,
                    user_id: i64,
                    now: i64,
                    ip: Option<&str>,
                ) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query(
                        "UPDATE remembered_browsers SET last_used_at = $3, ip = $4 \
                         WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3",
                    )
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(now)
                    .bind(ip)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn user_remembered_browsers(
                    &self,
                    user_id: i64,
                    now: i64,
                ) -> StoreResult<Vec<RememberedBrowser>> {
                    let rows: Vec<RememberedRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        remembered_columns!(),
                        " FROM remembered_browsers WHERE user_id = $1 AND expires_at > $2 \
                         ORDER BY last_used_at DESC, created_at DESC, token_hash"
                    ))
                    .bind(user_id)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(rows.into_iter().map(RememberedBrowser::from).collect())
                }

                async fn delete_user_remembered_browser(
                    &self,
                    user_id: i64,
                    token_hash: &str,
                ) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query(
                        "DELETE FROM remembered_browsers WHERE user_id = $1 AND token_hash = $2",
                    )
                    .bind(user_id)
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn delete_user_remembered_browsers(&self, user_id: i64) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("DELETE FROM remembered_browsers WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }

                async fn forget_remembered_browsers(
                    &self,
                    created_until: i64,
                    staff_only: bool,
                ) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let sql = if staff_only {
                        "DELETE FROM remembered_browsers WHERE created_at <= $1 AND user_id IN \
                         (SELECT id FROM users WHERE role <> $2)"
                    } else {
                        "DELETE FROM remembered_browsers WHERE created_at <= $1"
                    };
                    let mut query = sqlx::query(sql).bind(created_until);
                    if staff_only {
                        query = query.bind(twofold_core::identity::Role::Client.as_str());
                    }
                    let done = query.execute(&self.pool).await.map_err(backend)?;
                    Ok(done.rows_affected())
                }

                async fn purge_remembered_browsers(&self, now: i64) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let done =
                        sqlx::query("DELETE FROM remembered_browsers WHERE expires_at <= $1")
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
pub(crate) use impl_remembered;
