//! The SQL of [`StoredSettings`](twofold_core::store::StoredSettings).

/// Implements [`StoredSettings`](twofold_core::store::StoredSettings) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_settings {
    (store = $store:ident $(,)?) => {
        mod settings {
            use super::shared::begin_detached;
            use twofold_core::store::{StoreResult, StoredValue};
            use $crate::rows::{SettingRow, backend, convert_all, setting_columns};

            #[async_trait::async_trait]
            impl twofold_core::store::StoredSettings for super::$store {
                async fn settings(&self) -> StoreResult<Vec<(String, StoredValue)>> {
                    let rows: Vec<SettingRow> =
                        sqlx::query_as("SELECT key, value, sealed FROM settings ORDER BY key")
                            .fetch_all(&self.pool)
                            .await
                            .map_err(backend)?;
                    convert_all(rows)
                }

                async fn put_settings(&self, values: &[(String, StoredValue)]) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    if values.is_empty() {
                        return Ok(());
                    }
                    let mut tx = begin_detached(&self.pool).await?;
                    for (key, value) in values {
                        let (plain, sealed) = setting_columns(value);
                        sqlx::query(
                            "INSERT INTO settings (key, value, sealed) VALUES ($1, $2, $3) \
                             ON CONFLICT (key) DO UPDATE \
                             SET value = excluded.value, sealed = excluded.sealed",
                        )
                        .bind(key)
                        .bind(plain)
                        .bind(sealed)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    }
                    tx.commit().await.map_err(backend)
                }
            }
        }
    };
}
pub(crate) use impl_settings;
