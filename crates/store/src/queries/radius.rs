//! The SQL of [`Radius`](twofold_core::store::Radius): the RADIUS server's clients and the
//! `State` of its open challenges.

use twofold_core::store::RadiusClient;

/// Reads a RADIUS client row.
pub(crate) struct RadiusClientRow {
    name: String,
    network: String,
    secret: Vec<u8>,
    allow_missing_ma: bool,
    created_at: i64,
}
crate::rows::from_row!(RadiusClientRow {
    name,
    network,
    secret,
    allow_missing_ma,
    created_at
});

impl From<RadiusClientRow> for RadiusClient {
    fn from(r: RadiusClientRow) -> Self {
        RadiusClient {
            name: r.name,
            network: r.network,
            secret: twofold_core::crypto::Sealed(r.secret),
            allow_missing_message_authenticator: r.allow_missing_ma,
            created_at: r.created_at,
        }
    }
}

/// Implements [`Radius`](twofold_core::store::Radius) for `$store`, a store type of the
/// invoking module.
macro_rules! impl_radius {
    (store = $store:ident $(,)?) => {
        mod radius {
            use twofold_core::store::{NewRadiusClient, RadiusClient, RadiusState, StoreResult};
            use $crate::queries::radius::RadiusClientRow;
            use $crate::rows::{backend, conflict};

            #[async_trait::async_trait]
            impl twofold_core::store::Radius for super::$store {
                async fn insert_radius_client(&self, client: &NewRadiusClient) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(
                        "INSERT INTO radius_clients \
                         (name, network, secret, allow_missing_ma, created_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&client.name)
                    .bind(&client.network)
                    .bind(&client.secret.0)
                    .bind(client.allow_missing_message_authenticator)
                    .bind(client.created_at)
                    .execute(&self.pool)
                    .await
                    .map_err(conflict("radius_client"))?;
                    Ok(())
                }

                async fn list_radius_clients(&self) -> StoreResult<Vec<RadiusClient>> {
                    let rows: Vec<RadiusClientRow> = sqlx::query_as(
                        "SELECT name, network, secret, allow_missing_ma, created_at \
                         FROM radius_clients ORDER BY name",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(rows.into_iter().map(RadiusClient::from).collect())
                }

                async fn delete_radius_client(&self, name: &str) -> StoreResult<bool> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("DELETE FROM radius_clients WHERE name = $1")
                        .bind(name)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn insert_radius_state(&self, state: &RadiusState) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(
                        "INSERT INTO radius_states (state_hash, user_id, client, expires_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&state.state_hash)
                    .bind(state.user_id)
                    .bind(&state.client)
                    .bind(state.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(conflict("radius_state"))?;
                    Ok(())
                }

                async fn take_radius_state(
                    &self,
                    state_hash: &str,
                    client: &str,
                    now: i64,
                ) -> StoreResult<Option<i64>> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query_scalar(
                        "DELETE FROM radius_states \
                         WHERE state_hash = $1 AND client = $2 AND expires_at > $3 \
                         RETURNING user_id",
                    )
                    .bind(state_hash)
                    .bind(client)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)
                }

                async fn purge_radius_states(&self, now: i64) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("DELETE FROM radius_states WHERE expires_at <= $1")
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
pub(crate) use impl_radius;
