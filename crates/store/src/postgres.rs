//! The Store over PostgreSQL, for several server nodes sharing one database.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use twofold_core::audit::NewAudit;
use twofold_core::store::{AttemptPlan, Consume, Settled, StoreError, StoreResult};

use crate::ConnectOptions;
use crate::rows::backend;

/// Lockout lengths passed to `twofold_settle_attempt`, by streak: enough for any cap (each
/// lockout doubles, and a day is reached well before the 32nd).
const LOCK_STREAKS: i64 = 32;

/// An answer of the database that cannot be.
fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// How long the first connection may take before start-up gives up.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Why PostgreSQL could not be reached: where, and the reason in a few words (the operating
/// system's error, the server's refusal such as a failed password, or no answer in time).
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to PostgreSQL at {at}: {reason}")]
pub(crate) struct ConnectError {
    /// `host:port`, or the Unix socket's directory.
    pub(crate) at: String,
    /// What went wrong.
    pub(crate) reason: String,
}

/// Opens and closes one connection, or says why it cannot.
async fn probe(options: &PgConnectOptions) -> StoreResult<()> {
    use sqlx::Connection;
    let host = options.get_host();
    let at = if host.starts_with('/') {
        format!("the socket in {host}")
    } else if host.contains(':') {
        format!("[{host}]:{}", options.get_port())
    } else {
        format!("{host}:{}", options.get_port())
    };
    let failed = |reason: String| {
        StoreError::Backend(Box::new(ConnectError {
            at: at.clone(),
            reason,
        }))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect_with(options)).await {
        Err(_) => Err(failed(format!(
            "no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
        Ok(Err(e)) => Err(failed(connect_reason(&e))),
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
    }
}

/// The reason of a failed connection, without sqlx's wrapping.
fn connect_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                format!("connection refused (is PostgreSQL running and listening there?): {io}")
            }
            _ => io.to_string(),
        },
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01" | "28000") => format!("authentication failed: {}", db.message()),
            Some("3D000") => format!("no such database: {}", db.message()),
            _ => db.message().to_owned(),
        },
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        other => other.to_string(),
    }
}

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
        // One connection first, on its own: the pool would retry a refused connection until its
        // acquire timeout and then say only "pool timed out". This says where and why, within
        // CONNECT_TIMEOUT.
        probe(&connect).await?;
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

    /// `settle_attempt` in one statement: the database function `twofold_settle_attempt`
    /// (migration `…_settle.sql`) runs `crate::attempt::settle`'s flow with the same
    /// statements, in the statement's own transaction: one round trip instead of six.
    pub(crate) async fn settle_in_one_statement(
        &self,
        plan: &AttemptPlan<'_>,
    ) -> StoreResult<Option<Settled>> {
        // A security key's answer is settled by the shared flow in a transaction (the database
        // function knows the one-time codes only).
        if plan
            .candidates
            .iter()
            .any(|c| matches!(c.consume, Consume::Assertion { .. }))
        {
            return Ok(None);
        }
        let n = plan.candidates.len();
        let (mut kind, mut factor, mut value, mut drift, mut text) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for c in plan.candidates {
            let (k, f, v, d, t): (&str, Option<&str>, i64, i64, Option<&str>) = match &c.consume {
                Consume::Counter {
                    factor,
                    counter,
                    drift,
                } => ("counter", Some(factor.as_str()), *counter, *drift, None),
                Consume::Challenge {
                    factor,
                    code_hash,
                    max_attempts,
                } => (
                    "challenge",
                    Some(factor.as_str()),
                    *max_attempts,
                    0,
                    Some(code_hash.as_str()),
                ),
                Consume::BackupCode { lookup } => ("backup", None, 0, 0, Some(lookup.as_str())),
                Consume::Assertion { .. } => return Ok(None),
            };
            kind.push(k);
            factor.push(f);
            value.push(v);
            drift.push(d);
            text.push(t);
        }
        let records: Vec<&NewAudit> = plan
            .candidates
            .iter()
            .map(|c| &c.on_accept)
            .chain([&plan.on_failure, &plan.on_already_used])
            .collect();
        let at: Vec<i64> = records.iter().map(|r| r.at).collect();
        let actor: Vec<&str> = records.iter().map(|r| r.actor.as_str()).collect();
        let subject: Vec<Option<&str>> = records.iter().map(|r| r.subject.as_deref()).collect();
        let event: Vec<&str> = records.iter().map(|r| r.event.as_str()).collect();
        let ip: Vec<Option<&str>> = records.iter().map(|r| r.ip.as_deref()).collect();
        let detail: Vec<&str> = records.iter().map(|r| r.detail.as_str()).collect();
        // The lockout's length by streak; from LOCK_STREAKS on, the last one.
        let lock_seconds: Vec<i64> = (1..=LOCK_STREAKS).map(|k| (plan.lock_seconds)(k)).collect();
        let answer: Vec<Option<i64>> = sqlx::query_scalar(
            "SELECT twofold_settle_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17)",
        )
        .bind(plan.user_id)
        .bind(plan.now)
        .bind(plan.max_failures)
        .bind(plan.open_on_miss)
        .bind(kind)
        .bind(factor)
        .bind(value)
        .bind(drift)
        .bind(text)
        .bind(at)
        .bind(actor)
        .bind(subject)
        .bind(event)
        .bind(ip)
        .bind(detail)
        .bind(plan.streak_window)
        .bind(lock_seconds)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let settled = match (
            answer.first().copied().flatten(),
            answer.get(1).copied().flatten(),
        ) {
            (Some(0), _) => Settled::NotCounted,
            (Some(1), Some(i)) => Settled::Accepted(usize::try_from(i).map_err(corrupt)?),
            (Some(2), _) => Settled::AlreadyUsed,
            (Some(3), Some(count)) => Settled::Open(count),
            (Some(4), until) => Settled::Rejected(until),
            _ => {
                return Err(corrupt(format!(
                    "twofold_settle_attempt answered {answer:?}"
                )));
            }
        };
        Ok(Some(settled))
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
crate::queries::impl_database!(store = PgStore, migrations = POSTGRES);
crate::queries::impl_users!(store = PgStore);
crate::queries::impl_attempts!(store = PgStore);
crate::queries::impl_factors!(store = PgStore);
crate::queries::impl_codes!(store = PgStore);
crate::queries::impl_sessions!(store = PgStore);
crate::queries::impl_remembered!(store = PgStore);
crate::queries::impl_throttle!(store = PgStore);
crate::queries::impl_tokens!(store = PgStore);
crate::queries::impl_audit!(store = PgStore);
crate::queries::impl_settings!(store = PgStore);
crate::queries::impl_duo_states!(store = PgStore);
crate::queries::impl_wsapi!(store = PgStore);
crate::queries::impl_radius!(store = PgStore);
crate::queries::impl_webauthn!(store = PgStore);
crate::queries::impl_sealed!(store = PgStore);
