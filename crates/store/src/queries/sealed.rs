//! The SQL of [`SealedValues`](twofold_core::store::SealedValues): every sealed column, read
//! page by page and resealed by conditional `UPDATE`s, for a master-key rotation.

/// Implements [`SealedValues`](twofold_core::store::SealedValues) for `$store`, a store type
/// of the invoking module.
macro_rules! impl_sealed {
    (store = $store:ident $(,)?) => {
        mod sealed {
            use super::shared::begin_detached;
            use twofold_core::crypto::Sealed;
            use twofold_core::store::{Reseal, SealedKind, SealedRow, StoreResult};
            use $crate::rows::backend;

            /// A page's rows: position, key, user, lookup, value.
            type Page = Vec<(String, String, Option<i64>, Option<String>, Vec<u8>)>;

            /// The integer position to continue after (0: from the start).
            fn int_after(after: Option<&str>) -> i64 {
                after.and_then(|a| a.parse().ok()).unwrap_or(0)
            }

            #[async_trait::async_trait]
            impl twofold_core::store::SealedValues for super::$store {
                async fn sealed_page(
                    &self,
                    kind: SealedKind,
                    after: Option<&str>,
                    limit: u32,
                ) -> StoreResult<Vec<SealedRow>> {
                    let limit = i64::from(limit);
                    let text_after = after.unwrap_or("");
                    let rows: Page = match kind {
                        SealedKind::FactorSecret => {
                            let rows: Vec<(i64, String, i64, Vec<u8>)> = sqlx::query_as(
                                "SELECT seq, id, user_id, secret FROM factors \
                                 WHERE seq > $1 AND secret IS NOT NULL ORDER BY seq LIMIT $2",
                            )
                            .bind(int_after(after))
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await
                            .map_err(backend)?;
                            rows.into_iter()
                                .map(|(seq, id, user, v)| (seq.to_string(), id, Some(user), None, v))
                                .collect()
                        }
                        SealedKind::BackupCode => {
                            let rows: Vec<(i64, i64, String, Vec<u8>)> = sqlx::query_as(
                                "SELECT id, user_id, lookup, sealed FROM backup_codes \
                                 WHERE id > $1 ORDER BY id LIMIT $2",
                            )
                            .bind(int_after(after))
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await
                            .map_err(backend)?;
                            rows.into_iter()
                                .map(|(id, user, lookup, v)| {
                                    (id.to_string(), id.to_string(), Some(user), Some(lookup), v)
                                })
                                .collect()
                        }
                        SealedKind::Setting
                        | SealedKind::WsapiClient
                        | SealedKind::RadiusClient => {
                            let sql = match kind {
                                SealedKind::Setting => {
                                    "SELECT key, sealed FROM settings \
                                     WHERE key > $1 AND sealed IS NOT NULL ORDER BY key LIMIT $2"
                                }
                                SealedKind::WsapiClient => {
                                    "SELECT name, key FROM wsapi_clients \
                                     WHERE name > $1 ORDER BY name LIMIT $2"
                                }
                                _ => {
                                    "SELECT name, secret FROM radius_clients \
                                     WHERE name > $1 ORDER BY name LIMIT $2"
                                }
                            };
                            let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(sql)
                                .bind(text_after)
                                .bind(limit)
                                .fetch_all(&self.pool)
                                .await
                                .map_err(backend)?;
                            rows.into_iter()
                                .map(|(key, v)| (key.clone(), key, None, None, v))
                                .collect()
                        }
                    };
                    Ok(rows
                        .into_iter()
                        .map(|(position, key, user_id, lookup, v)| SealedRow {
                            position,
                            key,
                            user_id,
                            lookup,
                            sealed: Sealed(v),
                        })
                        .collect())
                }

                async fn reseal(&self, kind: SealedKind, values: &[Reseal]) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    if values.is_empty() {
                        return Ok(0);
                    }
                    let mut tx = begin_detached(&self.pool).await?;
                    let mut changed = 0;
                    for r in values {
                        let done = match kind {
                            SealedKind::BackupCode => {
                                let id: i64 = r.old.key.parse().unwrap_or(-1);
                                sqlx::query(
                                    "UPDATE backup_codes SET lookup = $1, sealed = $2 \
                                     WHERE id = $3 AND lookup = $4 AND sealed = $5",
                                )
                                .bind(r.lookup.as_deref().unwrap_or_default())
                                .bind(&r.sealed.0)
                                .bind(id)
                                .bind(r.old.lookup.as_deref().unwrap_or_default())
                                .bind(&r.old.sealed.0)
                                .execute(&mut *tx)
                                .await
                            }
                            _ => {
                                let sql = match kind {
                                    SealedKind::FactorSecret => {
                                        "UPDATE factors SET secret = $1 \
                                         WHERE id = $2 AND secret = $3"
                                    }
                                    SealedKind::Setting => {
                                        "UPDATE settings SET sealed = $1 \
                                         WHERE key = $2 AND sealed = $3"
                                    }
                                    SealedKind::WsapiClient => {
                                        "UPDATE wsapi_clients SET key = $1 \
                                         WHERE name = $2 AND key = $3"
                                    }
                                    _ => {
                                        "UPDATE radius_clients SET secret = $1 \
                                         WHERE name = $2 AND secret = $3"
                                    }
                                };
                                sqlx::query(sql)
                                    .bind(&r.sealed.0)
                                    .bind(&r.old.key)
                                    .bind(&r.old.sealed.0)
                                    .execute(&mut *tx)
                                    .await
                            }
                        }
                        .map_err(backend)?;
                        changed += done.rows_affected();
                    }
                    tx.commit().await.map_err(backend)?;
                    Ok(changed)
                }
            }
        }
    };
}

pub(crate) use impl_sealed;
