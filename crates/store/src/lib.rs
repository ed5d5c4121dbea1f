//! The Store port of `twofold-core` over sqlx: SQLite (the embedded default) and PostgreSQL
//! (several nodes on one database).
//!
//! The rest of Twofold calls [`connect`] with the configured URL and works with the
//! `Arc<dyn Store>` it returns; which database is behind it matters nowhere else. Each backend has
//! its own migrations (`migrations/sqlite`, `migrations/postgres`) with the same schema, and both
//! run the same SQL (see `queries`). `tests/conformance/` runs one suite on both.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use twofold_core::store::{Store, StoreError, StoreResult};

mod attempt;
mod hot;
mod migrations;
mod postgres;
mod queries;
mod rows;
mod sql;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::{BackupError, SqliteStore};

/// The database behind a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://PATH` or `sqlite::memory:`.
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Backend {
    /// Which backend a database URL names, by its scheme.
    pub fn of_url(url: &str) -> Option<Backend> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

/// The database URL names no backend Twofold has. (The URL itself is not repeated: it may
/// hold a password.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the database URL must start with sqlite:// or postgres://")]
pub struct UnsupportedUrl;

/// How to size and wait for the connection pool.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Connections in the pool; `None` for the backend's default (SQLite 5, PostgreSQL 10).
    pub max_connections: Option<u32>,
    /// How long a call waits for a free connection before failing.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a writer waits for another writer's lock before failing.
    pub busy_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: None,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: sqlite::DEFAULT_BUSY_TIMEOUT,
        }
    }
}

/// Opens the database at `url` with the default [`ConnectOptions`]. Migrations are not applied:
/// call [`Database::migrate`](twofold_core::store::Database::migrate).
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    connect_with(url, &ConnectOptions::default()).await
}

/// Opens the database at `url`: `sqlite://PATH` (created if missing) or `postgres://…`.
pub async fn connect_with(url: &str, options: &ConnectOptions) -> StoreResult<Arc<dyn Store>> {
    match Backend::of_url(url) {
        Some(Backend::Sqlite) => Ok(Arc::new(SqliteStore::connect_with(url, options).await?)),
        Some(Backend::Postgres) => Ok(Arc::new(PgStore::connect_with(url, options).await?)),
        None => Err(StoreError::Backend(Box::new(UnsupportedUrl))),
    }
}

/// Opens an existing database only to read it, for `check-config`: SQLite read-only (a missing
/// file is an error; nothing is created, no pragma written), PostgreSQL as usual (connecting
/// writes nothing). Migrations are not applied.
pub async fn connect_read_only(url: &str) -> StoreResult<Arc<dyn Store>> {
    match Backend::of_url(url) {
        Some(Backend::Sqlite) => Ok(Arc::new(SqliteStore::open_read_only(url).await?)),
        Some(Backend::Postgres) => Ok(Arc::new(PgStore::connect(url).await?)),
        None => Err(StoreError::Backend(Box::new(UnsupportedUrl))),
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}
