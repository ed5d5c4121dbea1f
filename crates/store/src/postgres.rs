//! The Store over PostgreSQL, for several server nodes sharing one database.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use twofold_core::store::StoreResult;

use crate::ConnectOptions;
use crate::rows::backend;

/// Connections per node by default.
const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// The Store over PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `postgres://…` (or `postgresql://…`) with the default [`ConnectOptions`].
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    /// Connects to PostgreSQL; the first connection is made before this returns, so a wrong URL
    /// or an unreachable server is reported at start-up.
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> StoreResult<Self> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(backend)?
            .application_name("twofold");
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS))
            // A broken connection surfaces as an error on use; pinging before every statement
            // doubles the round trips.
            .test_before_acquire(false)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(backend)?;
        Ok(Self::from_pool(pool))
    }

    /// Wraps a pool the caller configured.
    pub fn from_pool(pool: PgPool) -> Self {
        PgStore { pool }
    }

    /// PostgreSQL handles concurrent writers itself: nothing to serialise.
    pub(crate) async fn serialize_writes(&self) -> Option<()> {
        None
    }

    /// SQLite's in-place hot path (`crate::hot`) has no PostgreSQL counterpart: sqlx's
    /// PostgreSQL driver talks to the server from the calling task already.
    pub(crate) fn hot(&self) -> Option<&crate::hot::Hot> {
        None
    }

    /// The pool, for callers that need the database directly (tests, maintenance).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection and waits until they are closed.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

crate::queries::impl_shared! {
    db = sqlx::Postgres,
    // READ COMMITTED is enough: every transaction first writes the user's row, which
    // serialises the user's multi-row changes on the row lock.
    begin = "BEGIN",
}
crate::queries::impl_database!(store = PgStore, migrations = "./migrations/postgres");
crate::queries::impl_users!(store = PgStore);
crate::queries::impl_attempts!(store = PgStore);
crate::queries::impl_factors!(store = PgStore);
crate::queries::impl_codes!(store = PgStore);
crate::queries::impl_sessions!(store = PgStore);
crate::queries::impl_throttle!(store = PgStore);
crate::queries::impl_tokens!(store = PgStore);
crate::queries::impl_audit!(store = PgStore);
crate::queries::impl_settings!(store = PgStore);
crate::queries::impl_duo_states!(store = PgStore);
crate::queries::impl_wsapi!(store = PgStore);
