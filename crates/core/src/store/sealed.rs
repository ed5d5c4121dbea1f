//! Every sealed value in the store, for a master-key rotation: read page by page, and each one
//! replaced by its resealed form only if it is still what was read.

use async_trait::async_trait;

use crate::crypto::Sealed;

use super::StoreResult;

/// The kinds of rows that hold a sealed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedKind {
    /// A factor's secret (TOTP/HOTP seed, YubiKey AES key): `factors.secret`.
    FactorSecret,
    /// A backup code: `backup_codes.sealed`, with its lookup hash.
    BackupCode,
    /// A secret setting (SMTP password, SMS provider tokens, Duo keys): `settings.sealed`.
    Setting,
    /// The shared key of a client of the YubiKey validation server: `wsapi_clients.key`.
    WsapiClient,
    /// The shared secret of a RADIUS client: `radius_clients.secret`.
    RadiusClient,
}

impl SealedKind {
    /// Every kind, in the order a rotation reseals them.
    pub const ALL: [SealedKind; 5] = [
        SealedKind::Setting,
        SealedKind::WsapiClient,
        SealedKind::RadiusClient,
        SealedKind::FactorSecret,
        SealedKind::BackupCode,
    ];

    /// Its name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            SealedKind::FactorSecret => "factor secrets",
            SealedKind::BackupCode => "backup codes",
            SealedKind::Setting => "settings",
            SealedKind::WsapiClient => "validation-server clients",
            SealedKind::RadiusClient => "RADIUS clients",
        }
    }
}

/// One sealed value and what its sealing context is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRow {
    /// Where the row stands in its table's order (a factor's creation order, a backup code's
    /// id, a setting's key, a client's name): pages continue after it.
    pub position: String,
    /// The row's key: a factor id, a backup code's id, a setting's key, a client's name.
    pub key: String,
    /// The owning user (factors and backup codes).
    pub user_id: Option<i64>,
    /// A backup code's lookup hash (part of its sealing context).
    pub lookup: Option<String>,
    /// The value.
    pub sealed: Sealed,
}

/// A resealed value to write in place of the one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reseal {
    /// The row as read.
    pub old: SealedRow,
    /// The value sealed under the new key.
    pub sealed: Sealed,
    /// A backup code's lookup hash under the new key.
    pub lookup: Option<String>,
}

/// Reading and resealing every sealed value.
#[async_trait]
pub trait SealedValues: Send + Sync {
    /// Up to `limit` rows of `kind` after the row at `after` (a [`SealedRow::position`]; from
    /// the start when `None`), in their table's order.
    async fn sealed_page(
        &self,
        kind: SealedKind,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SealedRow>>;

    /// Writes each resealed value in one transaction, each by a conditional `UPDATE` that
    /// changes the row only while it still holds the value read (a factor re-enrolled, a
    /// backup code used or a setting saved meanwhile is left as it is now). Returns how many
    /// rows changed.
    async fn reseal(&self, kind: SealedKind, values: &[Reseal]) -> StoreResult<u64>;
}
