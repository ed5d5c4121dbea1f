//! Settings as stored (the typed view is `crate::settings`).

use async_trait::async_trait;

use crate::crypto::Sealed;

use super::StoreResult;

/// The stored settings.
#[async_trait]
pub trait StoredSettings: Send + Sync {
    /// Every stored setting.
    async fn settings(&self) -> StoreResult<Vec<(String, StoredValue)>>;
    /// Writes settings (insert or replace) in one transaction.
    async fn put_settings(&self, values: &[(String, StoredValue)]) -> StoreResult<()>;
}

/// A setting as stored: plain text, or sealed for secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredValue {
    /// A plain value.
    Plain(String),
    /// A sealed secret (bound to the key).
    Sealed(Sealed),
}
