//! API tokens and the first-run setup token.

use async_trait::async_trait;

use crate::token::ApiToken;

use super::StoreResult;

/// API tokens and the setup token.
#[async_trait]
pub trait Tokens: Send + Sync {
    /// Stores a token's hash; `Conflict("token")` if the name exists.
    async fn insert_token(&self, token: &ApiToken, hash: &str) -> StoreResult<()>;
    /// Finds a token by the hash of the presented token.
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>>;
    /// All tokens, by name.
    async fn list_tokens(&self) -> StoreResult<Vec<ApiToken>>;
    /// Deletes a token; false if there is none by that name.
    async fn revoke_token(&self, name: &str) -> StoreResult<bool>;
    /// Records a use, writing only when the last recorded use is over a minute old.
    async fn touch_token(&self, name: &str, now: i64) -> StoreResult<()>;

    /// Stores a first-run setup token's hash, valid until `expires_at`, replacing any other.
    async fn put_setup_token(&self, hash: &str, expires_at: i64) -> StoreResult<()>;
    /// Whether an unused, unexpired setup token has this hash.
    async fn setup_token_usable(&self, hash: &str, now: i64) -> StoreResult<bool>;
    /// Uses the setup token with this hash if it is unused and unexpired: one conditional UPDATE;
    /// true if this call won.
    async fn consume_setup_token(&self, hash: &str, now: i64) -> StoreResult<bool>;
}
