//! The SQL of [`DuoStates`](twofold_core::store::DuoStates).

use twofold_core::factor::FactorId;
use twofold_core::store::{DuoPurpose, DuoState, StoreError};

/// Reads a Duo state row.
pub(crate) struct DuoStateRow {
    state_hash: String,
    user_id: i64,
    factor_id: Option<String>,
    session_hash: Option<String>,
    nonce: String,
    purpose: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    remember: bool,
}
crate::rows::from_row!(DuoStateRow {
    state_hash,
    user_id,
    factor_id,
    session_hash,
    nonce,
    purpose,
    created_at,
    expires_at,
    used_at,
    remember
});

impl TryFrom<DuoStateRow> for DuoState {
    type Error = StoreError;
    fn try_from(r: DuoStateRow) -> Result<Self, StoreError> {
        let purpose = DuoPurpose::parse(&r.purpose)
            .ok_or_else(|| StoreError::Corrupt(format!("duo state purpose {:?}", r.purpose)))?;
        let factor_id = match r.factor_id {
            Some(id) => Some(
                FactorId::parse(&id)
                    .ok_or_else(|| StoreError::Corrupt(format!("duo state factor {id:?}")))?,
            ),
            None => None,
        };
        Ok(DuoState {
            state_hash: r.state_hash,
            user_id: r.user_id,
            factor_id,
            session_hash: r.session_hash,
            nonce: r.nonce,
            purpose,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            remember: r.remember,
        })
    }
}

/// Implements [`DuoStates`](twofold_core::store::DuoStates) for `$store`, a store type of the
/// invoking module (next to the `shared` module `impl_shared!` made there).
macro_rules! impl_duo_states {
    (store = $store:ident $(,)?) => {
        mod duo_states {
            use twofold_core::store::{DuoState, StoreResult};
            use $crate::queries::duo_states::DuoStateRow;
            use $crate::rows::{backend, conflict};
            use twofold_core::factor::FactorId;

            #[async_trait::async_trait]
            impl twofold_core::store::DuoStates for super::$store {
                async fn insert_duo_state(&self, state: &DuoState) -> StoreResult<()> {
                    let _serial = self.serialize_writes().await;
                    sqlx::query(
                        "INSERT INTO duo_states (state_hash, user_id, factor_id, session_hash, \
                         nonce, purpose, created_at, expires_at, used_at, remember) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(&state.state_hash)
                    .bind(state.user_id)
                    .bind(state.factor_id.as_ref().map(FactorId::as_str))
                    .bind(&state.session_hash)
                    .bind(&state.nonce)
                    .bind(state.purpose.as_str())
                    .bind(state.created_at)
                    .bind(state.expires_at)
                    .bind(state.used_at)
                    .bind(state.remember)
                    .execute(&self.pool)
                    .await
                    .map_err(conflict("duo state"))?;
                    Ok(())
                }

                async fn consume_duo_state(
                    &self,
                    state_hash: &str,
                    now: i64,
                ) -> StoreResult<Option<DuoState>> {
                    let _serial = self.serialize_writes().await;
                    let row: Option<DuoStateRow> = sqlx::query_as(
                        "UPDATE duo_states SET used_at = $2 \
                         WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                         RETURNING state_hash, user_id, factor_id, session_hash, nonce, purpose, \
                         created_at, expires_at, used_at, remember",
                    )
                    .bind(state_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    row.map(DuoState::try_from).transpose()
                }

                async fn purge_duo_states(&self, before: i64) -> StoreResult<u64> {
                    let _serial = self.serialize_writes().await;
                    let done = sqlx::query("DELETE FROM duo_states WHERE expires_at < $1")
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
pub(crate) use impl_duo_states;
