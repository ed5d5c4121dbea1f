//! The RADIUS server's clients (network devices) and its open challenges.

use async_trait::async_trait;

use crate::crypto::Sealed;

use super::StoreResult;

/// RADIUS clients and the `State` of open Access-Challenges.
#[async_trait]
pub trait Radius: Send + Sync {
    /// Registers a client. `Conflict("radius_client")` if the name exists.
    async fn insert_radius_client(&self, client: &NewRadiusClient) -> StoreResult<()>;
    /// Every client, by name.
    async fn list_radius_clients(&self) -> StoreResult<Vec<RadiusClient>>;
    /// Deletes a client; false if there is none by that name.
    async fn delete_radius_client(&self, name: &str) -> StoreResult<bool>;
    /// Records the `State` (its hash) of a challenge sent to `client` for a user.
    async fn insert_radius_state(&self, state: &RadiusState) -> StoreResult<()>;
    /// Takes the challenge with this `State` hash asked by `client`, unexpired at `now`: one
    /// conditional `DELETE`, so it is taken once under any concurrency and on any node. The
    /// user's id, or `None`.
    async fn take_radius_state(
        &self,
        state_hash: &str,
        client: &str,
        now: i64,
    ) -> StoreResult<Option<i64>>;
    /// Forgets challenges that expired before `now`.
    async fn purge_radius_states(&self, now: i64) -> StoreResult<u64>;
}

/// A RADIUS client to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRadiusClient {
    /// Its name (unique).
    pub name: String,
    /// The address or network (CIDR) its packets come from.
    pub network: String,
    /// The shared secret, sealed under the master key and bound to the name.
    pub secret: Sealed,
    /// Whether its requests may lack a Message-Authenticator.
    pub allow_missing_message_authenticator: bool,
    /// Unix time.
    pub created_at: i64,
}

/// A registered RADIUS client.
pub type RadiusClient = NewRadiusClient;

/// An open Access-Challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadiusState {
    /// SHA-256 of the `State` sent, hex.
    pub state_hash: String,
    /// Whose challenge it is.
    pub user_id: i64,
    /// The client it was sent to (its name).
    pub client: String,
    /// Unix time after which the answer is refused.
    pub expires_at: i64,
}
