//! The SQL of [`Wsapi`](twofold_core::store::Wsapi): the validation server's clients and
//! the requests it answered.

use twofold_core::store::WsapiClient;

/// Reads a validation-server client row.
pub(crate) struct WsapiClientRow {
    id: i64,
    name: String,
    key: Vec<u8>,
    allow_unsigned: bool,
    created_at: i64,
}
crate::rows::from_row!(WsapiClientRow {
    id,
    name,
    key,
    allow_unsigned,
    created_at
});

impl From<WsapiClientRow> for WsapiClient {
    fn from(r: WsapiClientRow) -> Self {
        WsapiClient {
            id: r.id,
            name: r.name,
            key: twofold_core::crypto::Sealed(r.key),
            allow_unsigned: r.allow_unsigned,
            created_at: r.created_at,
        }
    }
}

/// Implements [`Wsapi`](twofold_core::store::Wsapi) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_wsapi {
    (store = $store:ident $(,)?) => {
        mod wsapi {
            use twofold_core::store::{NewWsapiClient, StoreResult, WsapiClient};
            use $crate::queries::wsapi::WsapiClientRow;
            use $crate::rows::{backend, conflict};

            #[async_trait::async_trait]
            impl twofold_core::store::Wsapi for super::$store {
                async fn insert_wsapi_client(&self, client: &NewWsapiClient) -> StoreResult<i64> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query_scalar(
                        "INSERT INTO wsapi_clients (name, key, allow_unsigned, created_at) \
                         VALUES ($1, $2, $3, $4) RETURNING id",
                    )
                    .bind(&client.name)
                    .bind(&client.key.0)
                    .bind(client.allow_unsigned)
                    .bind(client.created_at)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(conflict("client"))
                }

                async fn wsapi_client(&self, id: i64) -> StoreResult<Option<WsapiClient>> {
                    let row: Option<WsapiClientRow> = sqlx::query_as(
                        "SELECT id, name, key, allow_unsigned, created_at FROM wsapi_clients \
                         WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(row.map(WsapiClient::from))
                }

                async fn list_wsapi_clients(&self) -> StoreResult<Vec<WsapiClient>> {
                    let rows: Vec<WsapiClientRow> = sqlx::query_as(
                        "SELECT id, name, key, allow_unsigned, created_at FROM wsapi_clients \
                         ORDER BY id",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(rows.into_iter().map(WsapiClient::from).collect())
                }

                async fn delete_wsapi_client(&self, name: &str) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("DELETE FROM wsapi_clients WHERE name = $1")
                        .bind(name)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn record_wsapi_request(&self, hash: &str, now: i64) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query(
                        "INSERT INTO wsapi_requests (hash, at) VALUES ($1, $2) \
                         ON CONFLICT (hash) DO NOTHING",
                    )
                    .bind(hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn wsapi_request_seen(&self, hash: &str) -> StoreResult<bool> {
                    let n: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM wsapi_requests WHERE hash = $1")
                            .bind(hash)
                            .fetch_one(&self.pool)
                            .await
                            .map_err(backend)?;
                    Ok(n > 0)
                }

                async fn purge_wsapi_requests(&self, before: i64) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("DELETE FROM wsapi_requests WHERE at < $1")
                        .bind(before)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected())
                }
            }
        }
    };
}
pub(crate) use impl_wsapi;
