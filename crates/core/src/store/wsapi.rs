//! Twofold's own Yubico validation server: its clients and the requests it answered.

use async_trait::async_trait;

use crate::crypto::Sealed;

use super::StoreResult;

/// Validation-server clients and answered requests.
#[async_trait]
pub trait Wsapi: Send + Sync {
    /// Registers a client of the validation server; returns its numeric id.
    /// `Conflict("client")` if the name exists.
    async fn insert_wsapi_client(&self, client: &NewWsapiClient) -> StoreResult<i64>;
    /// A client by its numeric id.
    async fn wsapi_client(&self, id: i64) -> StoreResult<Option<WsapiClient>>;
    /// Every client, by id.
    async fn list_wsapi_clients(&self) -> StoreResult<Vec<WsapiClient>>;
    /// Deletes a client (its id is never reused); false if there is none by that name.
    async fn delete_wsapi_client(&self, name: &str) -> StoreResult<bool>;
    /// Records a request answered OK (by its hash); false if it was recorded before.
    async fn record_wsapi_request(&self, hash: &str, now: i64) -> StoreResult<bool>;
    /// Whether a request with this hash was answered OK before.
    async fn wsapi_request_seen(&self, hash: &str) -> StoreResult<bool>;
    /// Forgets recorded requests older than `before`.
    async fn purge_wsapi_requests(&self, before: i64) -> StoreResult<u64>;
}

/// A client of the Yubico validation server to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWsapiClient {
    /// Its name (unique).
    pub name: String,
    /// The shared key, sealed under the master key and bound to the name.
    pub key: Sealed,
    /// Whether requests without a signature are answered.
    pub allow_unsigned: bool,
    /// Unix time.
    pub created_at: i64,
}

/// A registered client of the Yubico validation server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsapiClient {
    /// The numeric id it sends as `id`.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The shared key, sealed.
    pub key: Sealed,
    /// Whether requests without a signature are answered.
    pub allow_unsigned: bool,
    /// Unix time.
    pub created_at: i64,
}
