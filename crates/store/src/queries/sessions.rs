//! The SQL of [`Sessions`](twofold_core::store::Sessions): sessions and device cookies.

use twofold_core::session::{Session, Stage};
use twofold_core::store::{StoreError, User};

use crate::rows::UserRow;

/// The columns of a session row, in `SessionRow`'s order.
macro_rules! session_columns {
    () => {
        "id_hash, user_id, stage, created_at, expires_at, next, login_at, \
         last_seen_at, step_up_at, ip, user_agent, two_factor_at"
    };
}
pub(crate) use session_columns;

/// Reads a session row.
pub(crate) struct SessionRow {
    id_hash: String,
    user_id: i64,
    stage: String,
    created_at: i64,
    expires_at: i64,
    next: Option<String>,
    login_at: i64,
    last_seen_at: i64,
    step_up_at: Option<i64>,
    ip: Option<String>,
    user_agent: Option<String>,
    two_factor_at: Option<i64>,
}
crate::rows::from_row!(SessionRow {
    id_hash,
    user_id,
    stage,
    created_at,
    expires_at,
    next,
    login_at,
    last_seen_at,
    step_up_at,
    ip,
    user_agent,
    two_factor_at
});

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        let stage: Stage = r
            .stage
            .parse()
            .map_err(|()| StoreError::Corrupt(format!("session stage {:?}", r.stage)))?;
        Ok(Session {
            id_hash: r.id_hash,
            user_id: r.user_id,
            stage,
            created_at: r.created_at,
            expires_at: r.expires_at,
            next: r.next,
            login_at: r.login_at,
            last_seen_at: r.last_seen_at,
            step_up_at: r.step_up_at,
            ip: r.ip,
            user_agent: r.user_agent,
            two_factor_at: r.two_factor_at,
        })
    }
}

/// A session joined with its user ([`crate::sql::SESSION_WITH_USER`]).
pub(crate) struct SessionUserRow {
    id_hash: String,
    user_id: i64,
    stage: String,
    s_created_at: i64,
    expires_at: i64,
    next: Option<String>,
    login_at: i64,
    last_seen_at: i64,
    step_up_at: Option<i64>,
    ip: Option<String>,
    user_agent: Option<String>,
    two_factor_at: Option<i64>,
    user: UserRow,
}
crate::rows::from_row!(SessionUserRow [user: UserRow] { id_hash, user_id, stage, s_created_at, expires_at, next, login_at, last_seen_at, step_up_at, ip, user_agent, two_factor_at });

impl SessionUserRow {
    /// Reads a row off SQLite's hot-path connection, columns by position in the SELECT's
    /// order (`rows::tests::hot_rows_read_columns_in_the_selects_order` checks it).
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(SessionUserRow {
            id_hash: r.get(0)?,
            user_id: r.get(1)?,
            stage: r.get(2)?,
            s_created_at: r.get(3)?,
            expires_at: r.get(4)?,
            next: r.get(5)?,
            login_at: r.get(6)?,
            last_seen_at: r.get(7)?,
            step_up_at: r.get(8)?,
            ip: r.get(9)?,
            user_agent: r.get(10)?,
            two_factor_at: r.get(11)?,
            user: UserRow::from_sqlite_at(r, 12)?,
        })
    }
}

impl TryFrom<SessionUserRow> for (Session, User) {
    type Error = StoreError;
    fn try_from(r: SessionUserRow) -> Result<Self, StoreError> {
        let session = Session::try_from(SessionRow {
            id_hash: r.id_hash,
            user_id: r.user_id,
            stage: r.stage,
            created_at: r.s_created_at,
            expires_at: r.expires_at,
            next: r.next,
            login_at: r.login_at,
            last_seen_at: r.last_seen_at,
            step_up_at: r.step_up_at,
            ip: r.ip,
            user_agent: r.user_agent,
            two_factor_at: r.two_factor_at,
        })?;
        Ok((session, User::try_from(r.user)?))
    }
}

/// Implements [`Sessions`](twofold_core::store::Sessions) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_sessions {
    (store = $store:ident $(,)?) => {
        mod sessions {
            use super::shared::{begin_detached, insert_session_in};
            use twofold_core::session::Session;
            use twofold_core::store::StoreResult;
            use twofold_core::store::User;
            use $crate::queries::sessions::{SessionRow, SessionUserRow, session_columns};
            use $crate::rows::{backend, conflict};

            #[async_trait::async_trait]
            impl twofold_core::store::Sessions for super::$store {
                async fn insert_session(&self, session: &Session) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    let mut conn = self.pool.acquire().await.map_err(backend)?;
                    insert_session_in(&mut conn, session).await
                }

                async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
                    let row: Option<SessionRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        session_columns!(),
                        " FROM sessions WHERE id_hash = $1"
                    ))
                    .bind(id_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    row.map(Session::try_from).transpose()
                }

                async fn session_with_user(
                    &self,
                    id_hash: &str,
                ) -> StoreResult<Option<(Session, User)>> {
                    if let Some(hot) = self.hot() {
                        return hot.session_with_user(id_hash);
                    }
                    let row: Option<SessionUserRow> =
                        sqlx::query_as($crate::sql::SESSION_WITH_USER)
                            .bind(id_hash)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(backend)?;
                    row.map(<(Session, User)>::try_from).transpose()
                }

                async fn replace_session(
                    &self,
                    old_hash: &str,
                    new: &Session,
                ) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    let gone = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                        .bind(old_hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    if gone.rows_affected() != 1 {
                        return Ok(false);
                    }
                    insert_session_in(&mut tx, new).await?;
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }

                async fn touch_session(
                    &self,
                    id_hash: &str,
                    now: i64,
                    expires_at: i64,
                ) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    // Only a later use: the requests that all found the session due at once
                    // (a browser's parallel requests, a proxy's auth checks) write it once.
                    sqlx::query(
                        "UPDATE sessions SET last_seen_at = $2, expires_at = $3 \
                         WHERE id_hash = $1 AND last_seen_at < $2",
                    )
                    .bind(id_hash)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn set_session_step_up(&self, id_hash: &str, at: i64) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query("UPDATE sessions SET step_up_at = $2 WHERE id_hash = $1")
                        .bind(id_hash)
                        .bind(at)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn user_sessions(&self, user_id: i64) -> StoreResult<Vec<Session>> {
                    let rows: Vec<SessionRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        session_columns!(),
                        " FROM sessions WHERE user_id = $1 ORDER BY login_at DESC, id_hash"
                    ))
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    rows.into_iter().map(Session::try_from).collect()
                }

                async fn delete_user_session(
                    &self,
                    user_id: i64,
                    id_hash: &str,
                ) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done =
                        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash = $2")
                            .bind(user_id)
                            .bind(id_hash)
                            .execute(&self.pool)
                            .await
                            .map_err(backend)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                        .bind(id_hash)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }

                async fn purge_expired_sessions(&self, now: i64) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                        .bind(now)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }

                async fn insert_device(
                    &self,
                    token_hash: &str,
                    user_id: i64,
                    now: i64,
                    expires_at: i64,
                    replaces: Option<&str>,
                    keep: i64,
                ) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    if let Some(old) = replaces {
                        sqlx::query("DELETE FROM devices WHERE token_hash = $1 AND user_id = $2")
                            .bind(old)
                            .bind(user_id)
                            .execute(&mut *tx)
                            .await
                            .map_err(backend)?;
                    }
                    sqlx::query(
                        "INSERT INTO devices (token_hash, user_id, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict("device"))?;
                    sqlx::query(
                        "DELETE FROM devices WHERE user_id = $1 AND token_hash NOT IN \
                         (SELECT token_hash FROM devices WHERE user_id = $1 \
                          ORDER BY created_at DESC, token_hash LIMIT $2)",
                    )
                    .bind(user_id)
                    .bind(keep)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    tx.commit().await.map_err(backend)?;
                    Ok(())
                }

                async fn device_user(
                    &self,
                    token_hash: &str,
                    now: i64,
                ) -> StoreResult<Option<i64>> {
                    sqlx::query_scalar(
                        "SELECT user_id FROM devices WHERE token_hash = $1 AND expires_at > $2",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)
                }

                async fn delete_user_devices(&self, user_id: i64) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query("DELETE FROM devices WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn purge_devices(&self, now: i64) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("DELETE FROM devices WHERE expires_at <= $1")
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
pub(crate) use impl_sessions;
