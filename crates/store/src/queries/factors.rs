//! The SQL of [`Factors`](twofold_core::store::Factors): factors, backup codes and YubiKey
//! public ids.

/// Implements [`Factors`](twofold_core::store::Factors) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_factors {
    (store = $store:ident $(,)?) => {
        mod factors {
            use super::shared::{
                begin_detached, import_batch_at_once, insert_backup_code, insert_factor_row,
                lock_user,
            };
            use twofold_core::factor::{Factor, FactorId, FactorKind};
            use twofold_core::store::{
                BackupCodeRow, ConfirmOutcome, Confirmation, FactorRemoval, ImportEntry,
                ImportRows, StoreError, StoreResult,
            };
            use $crate::rows::{
                BackupRow, FactorRow, backend, conflict, convert_all, factor_columns,
            };
            use $crate::sql;

            #[async_trait::async_trait]
            impl twofold_core::store::Factors for super::$store {
                async fn insert_factor(&self, factor: &Factor) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    let mut conn = self.pool.acquire().await.map_err(backend)?;
                    insert_factor_row(&mut *conn, factor).await
                }

                async fn factors_of(&self, user_id: i64) -> StoreResult<Vec<Factor>> {
                    let rows: Vec<FactorRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        factor_columns!(),
                        " FROM factors WHERE user_id = $1 ORDER BY created_at, seq"
                    ))
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    convert_all(rows)
                }

                async fn factor(&self, user_id: i64, id: &FactorId) -> StoreResult<Option<Factor>> {
                    let row: Option<FactorRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        factor_columns!(),
                        " FROM factors WHERE user_id = $1 AND id = $2"
                    ))
                    .bind(user_id)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    row.map(Factor::try_from).transpose()
                }

                async fn delete_factor(&self, user_id: i64, id: &FactorId) -> StoreResult<bool> {
                    let removal = self.delete_factor_unless_last(user_id, id, &[]).await?;
                    Ok(removal == FactorRemoval::Removed)
                }

                async fn delete_factor_unless_last(
                    &self,
                    user_id: i64,
                    id: &FactorId,
                    usable: &[FactorKind],
                ) -> StoreResult<FactorRemoval> {
                    // The factor goes unless it is confirmed, of a usable kind, and no other
                    // confirmed factor of a usable kind remains; the user's row is written first,
                    // so a concurrent removal waits and then sees this one's result.
                    let mut sql =
                        String::from("DELETE FROM factors WHERE user_id = $1 AND id = $2");
                    if !usable.is_empty() {
                        let kinds = (0..usable.len())
                            .map(|i| format!("${}", i + 3))
                            .collect::<Vec<_>>()
                            .join(", ");
                        sql.push_str(&format!(
                            " AND NOT (confirmed AND kind IN ({kinds}) AND NOT EXISTS \
                             (SELECT 1 FROM factors AS f WHERE f.user_id = $1 \
                             AND f.id <> $2 AND f.confirmed AND f.kind IN ({kinds})))"
                        ));
                    }
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    if !lock_user(&mut *tx, user_id).await? {
                        return Ok(FactorRemoval::NotFound);
                    }
                    let mut delete = sqlx::query(&sql).bind(user_id).bind(id.as_str());
                    for kind in usable {
                        delete = delete.bind(kind.as_str());
                    }
                    let deleted = delete.execute(&mut *tx).await.map_err(backend)?;
                    if deleted.rows_affected() == 0 {
                        let kept: bool = sqlx::query_scalar(
                            "SELECT EXISTS (SELECT 1 FROM factors WHERE user_id = $1 AND id = $2)",
                        )
                        .bind(user_id)
                        .bind(id.as_str())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(backend)?;
                        return Ok(if kept {
                            FactorRemoval::LastUsable
                        } else {
                            FactorRemoval::NotFound
                        });
                    }
                    sqlx::query(
                        "DELETE FROM backup_codes WHERE user_id = $1 AND NOT EXISTS \
                         (SELECT 1 FROM factors WHERE user_id = $1 AND confirmed)",
                    )
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    tx.commit().await.map_err(backend)?;
                    Ok(FactorRemoval::Removed)
                }

                async fn reset_user(&self, user_id: i64) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    // Clearing the lockout is the write that locks the user's row.
                    sqlx::query(
                        "UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1",
                    )
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    for sql in [
                        "DELETE FROM factors WHERE user_id = $1",
                        "DELETE FROM backup_codes WHERE user_id = $1",
                    ] {
                        sqlx::query(sql)
                            .bind(user_id)
                            .execute(&mut *tx)
                            .await
                            .map_err(backend)?;
                    }
                    tx.commit().await.map_err(backend)
                }

                async fn confirm_factor(
                    &self,
                    confirmation: &Confirmation,
                ) -> StoreResult<ConfirmOutcome> {
                    let _serial = self.serialize_writes().await;
                    let c = confirmation;
                    let mut tx = begin_detached(&self.pool).await?;
                    if !lock_user(&mut *tx, c.user_id).await? {
                        return Ok(ConfirmOutcome::NotPending);
                    }
                    let (counter, drift) = c.counter.unzip();
                    let confirmed = sqlx::query(
                        "UPDATE factors SET confirmed = TRUE, confirmed_at = $3, \
                         last_used_at = $3, last_counter = COALESCE($4, last_counter), \
                         drift = COALESCE($5, drift), public_id = COALESCE($6, public_id), \
                         params = COALESCE($7, params) \
                         WHERE user_id = $1 AND id = $2 AND NOT confirmed",
                    )
                    .bind(c.user_id)
                    .bind(c.factor_id.as_str())
                    .bind(c.now)
                    .bind(counter)
                    .bind(drift)
                    .bind(c.public_id.as_deref())
                    .bind(c.params.as_deref())
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict("yubikey"))?;
                    if confirmed.rows_affected() == 0 {
                        return Ok(ConfirmOutcome::NotPending);
                    }
                    let existing: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM backup_codes WHERE user_id = $1")
                            .bind(c.user_id)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(backend)?;
                    let codes_created = existing == 0 && !c.backup_codes.is_empty();
                    if codes_created {
                        for code in &c.backup_codes {
                            insert_backup_code(&mut *tx, c.user_id, code).await?;
                        }
                    }
                    tx.commit().await.map_err(backend)?;
                    Ok(ConfirmOutcome::Confirmed { codes_created })
                }

                async fn consume_counter(
                    &self,
                    id: &FactorId,
                    counter: i64,
                    drift: i64,
                    now: i64,
                ) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    if let Some(hot) = self.hot() {
                        return hot.consume_counter(id, counter, drift, now);
                    }
                    let done = sqlx::query(sql::CONSUME_COUNTER)
                        .bind(id.as_str())
                        .bind(counter)
                        .bind(drift)
                        .bind(now)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn reset_drift(&self, user_id: i64, id: &FactorId) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done =
                        sqlx::query("UPDATE factors SET drift = 0 WHERE user_id = $1 AND id = $2")
                            .bind(user_id)
                            .bind(id.as_str())
                            .execute(&self.pool)
                            .await
                            .map_err(backend)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn replace_backup_codes(
                    &self,
                    user_id: i64,
                    codes: &[BackupCodeRow],
                ) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    lock_user(&mut *tx, user_id).await?;
                    sqlx::query("DELETE FROM backup_codes WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    for code in codes {
                        insert_backup_code(&mut *tx, user_id, code).await?;
                    }
                    tx.commit().await.map_err(backend)
                }

                async fn consume_backup_code(
                    &self,
                    user_id: i64,
                    lookup: &str,
                    now: i64,
                ) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    if let Some(hot) = self.hot() {
                        return hot.consume_backup_code(user_id, lookup, now);
                    }
                    let done = sqlx::query(sql::CONSUME_BACKUP_CODE)
                        .bind(user_id)
                        .bind(lookup)
                        .bind(now)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn backup_codes(&self, user_id: i64) -> StoreResult<Vec<BackupCodeRow>> {
                    let rows: Vec<BackupRow> = sqlx::query_as(
                        "SELECT lookup, sealed, used_at FROM backup_codes WHERE user_id = $1 \
                         ORDER BY id",
                    )
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(rows.into_iter().map(BackupCodeRow::from).collect())
                }

                async fn unused_backup_codes(&self, user_id: i64) -> StoreResult<i64> {
                    sqlx::query_scalar(
                        "SELECT COUNT(*) FROM backup_codes WHERE user_id = $1 AND used_at IS NULL",
                    )
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(backend)
                }

                async fn insert_factors(&self, factors: &[Factor]) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    for factor in factors {
                        insert_factor_row(&mut *tx, factor).await?;
                    }
                    tx.commit().await.map_err(backend)?;
                    Ok(())
                }

                async fn import_user_keys(
                    &self,
                    user_id: i64,
                    factors: &[Factor],
                    codes: &[BackupCodeRow],
                ) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    lock_user(&mut *tx, user_id).await?;
                    for factor in factors {
                        insert_factor_row(&mut *tx, factor).await?;
                    }
                    for code in codes {
                        insert_backup_code(&mut *tx, user_id, code).await?;
                    }
                    tx.commit().await.map_err(backend)?;
                    Ok(())
                }

                async fn import_batch(
                    &self,
                    batch: &[ImportEntry],
                    rows: &ImportRows<'_>,
                ) -> StoreResult<Vec<Result<i64, StoreError>>> {
                    use sqlx::Connection as _;
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    // First the whole batch at once; when something in it conflicts, again
                    // entry by entry, to write all the others.
                    let mut at_once = (*tx).begin().await.map_err(backend)?;
                    if let Some(ids) = import_batch_at_once(&mut *at_once, batch, rows).await? {
                        at_once.commit().await.map_err(backend)?;
                        tx.commit().await.map_err(backend)?;
                        return Ok(ids.into_iter().map(Ok).collect());
                    }
                    at_once.rollback().await.map_err(backend)?;
                    let mut out = Vec::with_capacity(batch.len());
                    for (i, entry) in batch.iter().enumerate() {
                        // SAVEPOINT: a conflict undoes this entry alone.
                        let mut sp = (*tx).begin().await.map_err(backend)?;
                        let written = async {
                            let user_id = match entry {
                                ImportEntry::Existing(id) => {
                                    if !lock_user(&mut *sp, *id).await? {
                                        return Err(StoreError::Conflict("user"));
                                    }
                                    *id
                                }
                                ImportEntry::Create(user) => sqlx::query_scalar(
                                    "INSERT INTO users (username, username_key, role, email, \
                                     phone, password_hash, created_at) \
                                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                                )
                                .bind(user.username.as_str())
                                .bind(user.username.key())
                                .bind(user.role.as_str())
                                .bind(&user.email)
                                .bind(&user.phone)
                                .bind(&user.password_hash)
                                .bind(user.created_at)
                                .fetch_one(&mut *sp)
                                .await
                                .map_err(conflict("user"))?,
                            };
                            let made = rows(i, user_id);
                            for factor in &made.factors {
                                if factor.user_id != user_id {
                                    return Err(StoreError::Corrupt(
                                        "an imported factor of another user".into(),
                                    ));
                                }
                                insert_factor_row(&mut *sp, factor).await?;
                            }
                            for code in &made.backup_codes {
                                insert_backup_code(&mut *sp, user_id, code).await?;
                            }
                            for record in &made.audit {
                                sqlx::query(sql::INSERT_AUDIT)
                                    .bind(record.at)
                                    .bind(&record.actor)
                                    .bind(&record.subject)
                                    .bind(record.event.as_str())
                                    .bind(&record.ip)
                                    .bind(&record.detail)
                                    .execute(&mut *sp)
                                    .await
                                    .map_err(backend)?;
                            }
                            Ok(user_id)
                        }
                        .await;
                        match written {
                            Ok(id) => {
                                sp.commit().await.map_err(backend)?;
                                out.push(Ok(id));
                            }
                            Err(StoreError::Conflict(what)) => {
                                sp.rollback().await.map_err(backend)?;
                                out.push(Err(StoreError::Conflict(what)));
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    tx.commit().await.map_err(backend)?;
                    Ok(out)
                }

                async fn factor_by_public_id(
                    &self,
                    public_id: &str,
                ) -> StoreResult<Option<Factor>> {
                    let row: Option<FactorRow> = sqlx::query_as(concat!(
                        "SELECT ",
                        factor_columns!(),
                        " FROM factors WHERE public_id = $1 AND kind = 'yubikey' AND confirmed"
                    ))
                    .bind(public_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    row.map(Factor::try_from).transpose()
                }

                async fn public_id_taken(&self, public_id: &str) -> StoreResult<bool> {
                    let n: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM factors WHERE public_id = $1")
                            .bind(public_id)
                            .fetch_one(&self.pool)
                            .await
                            .map_err(backend)?;
                    Ok(n > 0)
                }

                async fn import_factors_releasing(
                    &self,
                    released: &[Factor],
                    factors: &[Factor],
                ) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let mut tx = begin_detached(&self.pool).await?;
                    // The released users' rows are written first, in id order: their other
                    // multi-row changes wait for this one, and two imports cannot deadlock.
                    let mut users: Vec<i64> = released.iter().map(|f| f.user_id).collect();
                    users.sort_unstable();
                    users.dedup();
                    for user_id in &users {
                        if !lock_user(&mut *tx, *user_id).await? {
                            return Ok(false);
                        }
                    }
                    for factor in released {
                        let twofold_core::factor::FactorData::Yubikey(y) = &factor.data else {
                            return Ok(false);
                        };
                        let Some(public_id) = y.public_id.as_deref() else {
                            return Ok(false);
                        };
                        let deleted = sqlx::query(
                            "DELETE FROM factors WHERE user_id = $1 AND id = $2 AND public_id = $3",
                        )
                        .bind(factor.user_id)
                        .bind(factor.id.as_str())
                        .bind(public_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                        if deleted.rows_affected() == 0 {
                            return Ok(false);
                        }
                    }
                    for factor in factors {
                        insert_factor_row(&mut *tx, factor).await?;
                    }
                    // After the inserts: a user whose self-enrolled key is replaced by the
                    // imported one keeps their backup codes.
                    for user_id in &users {
                        sqlx::query(
                            "DELETE FROM backup_codes WHERE user_id = $1 AND NOT EXISTS \
                             (SELECT 1 FROM factors WHERE user_id = $1 AND confirmed)",
                        )
                        .bind(*user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    }
                    tx.commit().await.map_err(backend)?;
                    Ok(true)
                }
            }
        }
    };
}
pub(crate) use impl_factors;
