//! Master-key rotation: every sealed value resealed under the ring's sealing key, and which keys
//! the stored values still use.
//!
//! A rotation is safe to stop at any point and to run again. Each value names the key that
//! sealed it, every key of the ring opens, and each value is replaced by one conditional
//! `UPDATE` (only while the row still holds what was read), batch by batch, so a rotation killed
//! halfway leaves every value readable under the ring it was written with, and the next run
//! reseals what is left.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::crypto::{KeyId, MasterKey};
use crate::error::Result;
use crate::factor::FactorId;
use crate::store::{Reseal, SealedKind, SealedRow, StoredValue};

use super::{Service, backup_lookup_context, backup_seal_context, factor_secret_context};

/// What a reseal pass did, by kind of value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// Values resealed under the sealing key, by kind.
    pub resealed: BTreeMap<&'static str, u64>,
    /// Values already under the sealing key.
    pub current: u64,
    /// Values no key of the ring opens (left as they are).
    pub unreadable: u64,
}

/// How many stored values each key sealed: `None` for values sealed before values named their
/// key.
pub type KeyUsage = BTreeMap<Option<KeyId>, u64>;

/// The most passes a reseal makes: a value written under an old key by a node that had not read
/// the new key file yet is picked up by the next pass.
const MAX_PASSES: usize = 5;

impl Service {
    /// The master key ring this service seals and opens with.
    pub fn master_key(&self) -> &Arc<MasterKey> {
        &self.key
    }

    /// The sealing context of a stored value.
    fn sealed_context(kind: SealedKind, row: &SealedRow) -> Option<String> {
        Some(match kind {
            SealedKind::FactorSecret => {
                factor_secret_context(row.user_id?, &FactorId::parse(&row.key)?)
            }
            SealedKind::BackupCode => backup_seal_context(row.user_id?, row.lookup.as_deref()?),
            SealedKind::Setting => crate::settings::seal_context(&row.key),
            SealedKind::WsapiClient => super::yubikey::client_key_context(&row.key),
            SealedKind::RadiusClient => super::radius::secret_context(&row.key),
        })
    }

    /// The value of `row` sealed again under the sealing key (a backup code also hashed again
    /// under it), or `None` when no key of the ring opens it.
    fn resealed(&self, kind: SealedKind, row: &SealedRow) -> Option<Reseal> {
        let context = Self::sealed_context(kind, row)?;
        let plain = self.key.open(&row.sealed, &context).ok()?;
        let (lookup, context) = if kind == SealedKind::BackupCode {
            let user = row.user_id?;
            let lookup = self.key.lookup_hash(&backup_lookup_context(user), &plain);
            let context = backup_seal_context(user, &lookup);
            (Some(lookup), context)
        } else {
            (None, context)
        };
        Some(Reseal {
            old: row.clone(),
            sealed: self.key.seal(self.rng.as_ref(), &plain, &context),
            lookup,
        })
    }

    /// Reseals every stored value not sealed under the ring's sealing key, `batch` values per
    /// transaction, calling `progress` after each batch with the kind and the count so far.
    /// Passes repeat until one finds nothing left (at most a few).
    pub async fn reseal_all(
        &self,
        batch: u32,
        progress: &mut (dyn FnMut(SealedKind, u64) + Send),
    ) -> Result<ResealReport> {
        let batch = batch.clamp(1, 10_000);
        let mut report = ResealReport::default();
        for _ in 0..MAX_PASSES {
            let mut pass_resealed = 0;
            let (mut current, mut unreadable) = (0, 0);
            for kind in SealedKind::ALL {
                let mut after: Option<String> = None;
                let mut done = 0u64;
                loop {
                    let rows = self
                        .store
                        .sealed_page(kind, after.as_deref(), batch)
                        .await?;
                    let Some(last) = rows.last() else { break };
                    after = Some(last.position.clone());
                    let mut changes = Vec::new();
                    for row in &rows {
                        if self.key.is_current(&row.sealed) {
                            current += 1;
                        } else if let Some(r) = self.resealed(kind, row) {
                            changes.push(r);
                        } else {
                            unreadable += 1;
                        }
                    }
                    if !changes.is_empty() {
                        done += self.store.reseal(kind, &changes).await?;
                        progress(kind, done);
                    }
                    if rows.len() < batch as usize {
                        break;
                    }
                }
                pass_resealed += done;
                *report.resealed.entry(kind.as_str()).or_default() += done;
            }
            report.current = current;
            report.unreadable = unreadable;
            if pass_resealed == 0 {
                break;
            }
        }
        Ok(report)
    }

    /// How many stored values each key sealed.
    pub async fn sealed_key_usage(&self) -> Result<KeyUsage> {
        let mut usage = KeyUsage::new();
        for kind in SealedKind::ALL {
            let mut after: Option<String> = None;
            loop {
                let rows = self.store.sealed_page(kind, after.as_deref(), 1000).await?;
                let Some(last) = rows.last() else { break };
                after = Some(last.position.clone());
                for row in &rows {
                    *usage.entry(row.sealed.key_id()).or_default() += 1;
                }
                if rows.len() < 1000 {
                    break;
                }
            }
        }
        Ok(usage)
    }

    /// Records that the database belongs to the ring's sealing key: once every value is sealed
    /// under it, a key file without it no longer starts a node.
    pub async fn record_master_key(&self) -> Result<()> {
        let check = self
            .key
            .lookup_hash(super::admin::KEY_CHECK, super::admin::KEY_CHECK_VALUE);
        self.store
            .put_settings(&[(
                super::admin::KEY_CHECK.to_owned(),
                StoredValue::Plain(check),
            )])
            .await?;
        Ok(())
    }
}
