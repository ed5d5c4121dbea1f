//! The owner's business: settings, API tokens, the audit log and first-run setup.

use super::Service;
use crate::audit::{AuditEvent, AuditFilter, AuditRecord, Context};
use crate::crypto;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::identity::Role;
use crate::settings::{self, DEFINITIONS, MASK, SettingDef, SettingError};
use crate::store::{StoreError, StoredValue};
use crate::token::{ApiToken, Scope, valid_name};

/// The stored key (not a setting: `settings` ignores it) that holds a keyed hash proving which
/// master key the database was set up with.
pub(crate) const KEY_CHECK: &str = "internal.master_key_check";
/// What the key check hashes.
pub(crate) const KEY_CHECK_VALUE: &[u8] = b"twofold master key check";

/// How long the first-run setup link stays valid.
pub const SETUP_TTL_SECONDS: i64 = 24 * 3600;

/// A refused setting as the flows' error: its stable code and sentence.
fn setting_refused(e: SettingError) -> Error {
    Error::invalid(e.code(), e.text())
}

impl Service {
    /// Every setting's definition with its value as shown, in page order: secrets are
    /// [`MASK`] when set and `""` when not, which needs only whether one is stored: nothing is
    /// opened.
    pub async fn settings_for_display(&self) -> Result<Vec<(&'static SettingDef, String)>> {
        let s = self.settings().await?;
        Ok(DEFINITIONS.iter().map(|d| (d, s.shown(d))).collect())
    }

    /// Sets several settings at once: all are checked first (by [`settings::normalize`], the
    /// one validation), then written in one transaction.
    pub async fn set_settings(&self, ctx: &Context, changes: &[(String, String)]) -> Result<()> {
        ctx.require_settings()?;
        let mut rows = Vec::with_capacity(changes.len());
        for (key, value) in changes {
            let def = settings::definition(key)
                .ok_or_else(|| SettingError::Unknown(key.clone()))
                .map_err(setting_refused)?;
            // A form or client that sends back the mask it was shown means "unchanged".
            if def.is_secret() && value == MASK {
                continue;
            }
            let normalized = def.validate(value).map_err(setting_refused)?;
            let stored = if def.is_secret() && !normalized.is_empty() {
                StoredValue::Sealed(self.key.seal(
                    self.rng.as_ref(),
                    normalized.as_bytes(),
                    &settings::seal_context(key),
                ))
            } else {
                StoredValue::Plain(normalized)
            };
            rows.push((key.clone(), stored));
        }
        // Remembering's settings forget browsers by how they change (from what to what).
        let remembering = rows
            .iter()
            .any(|(k, _)| k == "remember.days" || k == "remember.admins");
        let before = if remembering {
            Some(self.settings().await?)
        } else {
            None
        };
        self.store.put_settings(&rows).await?;
        self.forget_settings();
        // The next request's language must follow a new `ui.language` at once on this node.
        if rows.iter().any(|(k, _)| k == "ui.language") {
            self.settings().await?;
        }
        // A lower threshold lowers the counts at rest below it, so a count never rests at the
        // threshold without a lock (which `validate` would take for attempts in flight).
        if rows.iter().any(|(k, _)| k == "lockout.max_failures") {
            let max = self.settings().await?.max_failures();
            self.store.clamp_failures(max).await?;
        }
        let keys: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
        self.audit(
            ctx,
            None,
            AuditEvent::SettingsChanged,
            format!("keys={}", keys.join(",")),
        )
        .await;
        if let Some(before) = before {
            let after = self.settings().await?;
            self.forget_browsers_for_settings(ctx, &keys, &before, &after)
                .await?;
        }
        Ok(())
    }

    /// Checks that the master key is the one this database was set up with, and records it on a
    /// database that has none yet. A node started with another key would seal data no other node
    /// can open, and could open nothing already stored: it must not start.
    pub async fn verify_master_key(&self) -> Result<()> {
        let checks = self.key.lookup_hashes_all(KEY_CHECK, KEY_CHECK_VALUE);
        let expected = checks[0].clone();
        let stored = self.store.settings().await?;
        match stored.iter().find(|(k, _)| k == KEY_CHECK) {
            // Any key of the ring: the check names the sealing key once a rotation finished.
            Some((_, StoredValue::Plain(v))) if checks.contains(v) => Ok(()),
            Some(_) => Err(Error::conflict(
                "master_key_mismatch",
                Text::new("err-master-key-mismatch"),
            )),
            None => {
                self.store
                    .put_settings(&[(KEY_CHECK.to_owned(), StoredValue::Plain(expected))])
                    .await?;
                Ok(())
            }
        }
    }

    /// Whether `key` is the master key this database was set up with, reading only: `None`
    /// when the database has no key yet (the first start records it).
    pub async fn master_key_matches(
        store: &dyn crate::store::Store,
        key: &crypto::MasterKey,
    ) -> Result<Option<bool>> {
        let checks = key.lookup_hashes_all(KEY_CHECK, KEY_CHECK_VALUE);
        Ok(store
            .settings()
            .await?
            .into_iter()
            .find(|(k, _)| k == KEY_CHECK)
            .map(|(_, v)| matches!(v, StoredValue::Plain(v) if checks.contains(&v))))
    }

    /// Whether this database was set up with a master key (so a missing key file is an error,
    /// not a reason to make a new key).
    pub async fn database_has_master_key(store: &dyn crate::store::Store) -> Result<bool> {
        Ok(store.settings().await?.iter().any(|(k, _)| k == KEY_CHECK))
    }

    /// Creates an API token and returns it: the only time it is ever shown.
    pub async fn create_token(&self, ctx: &Context, name: &str, scope: &str) -> Result<String> {
        if !valid_name(name) {
            return Err(Error::invalid(
                "invalid_token_name",
                Text::new("err-token-name-invalid"),
            ));
        }
        let scope: Scope = scope
            .parse()
            .map_err(|e: crate::token::UnknownScope| Error::invalid("invalid_scope", e.text()))?;
        let token = crypto::random_token(self.rng.as_ref(), "tf_", 32);
        let record = ApiToken {
            name: name.to_owned(),
            scope,
            created_at: self.now(),
            last_used_at: None,
        };
        match self
            .store
            .insert_token(&record, &crypto::token_hash(&token))
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(Error::conflict(
                    "token_exists",
                    Text::new("err-token-exists"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.audit(
            ctx,
            None,
            AuditEvent::TokenCreated,
            format!("name={name} scope={scope}"),
        )
        .await;
        Ok(token)
    }

    /// All tokens (never the tokens themselves).
    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        Ok(self.store.list_tokens().await?)
    }

    /// Revokes a token by name.
    pub async fn revoke_token(&self, ctx: &Context, name: &str) -> Result<()> {
        if !self.store.revoke_token(name).await? {
            return Err(Error::not_found(
                "token_not_found",
                Text::new("err-token-not-found"),
            ));
        }
        self.audit(ctx, None, AuditEvent::TokenRevoked, format!("name={name}"))
            .await;
        Ok(())
    }

    /// Finds the token presented by a caller and records its use; `None` if it is unknown.
    pub async fn authenticate_token(&self, presented: &str) -> Result<Option<ApiToken>> {
        if presented.len() > 256 {
            return Ok(None);
        }
        let found = self
            .store
            .token_by_hash(&crypto::token_hash(presented))
            .await?;
        if let Some(t) = &found {
            // Last use is kept to the minute: no write on the hot path within it.
            let now = self.now();
            if t.last_used_at.is_none_or(|at| now - at >= 60) {
                self.store.touch_token(&t.name, now).await?;
            }
        }
        Ok(found)
    }

    /// Records a refused token (unknown, or the wrong scope) in the audit log.
    pub async fn audit_token_refused(&self, ctx: &Context, why: &str) {
        self.audit(ctx, None, AuditEvent::TokenRefused, format!("reason={why}"))
            .await;
    }

    /// The audit log, newest first.
    pub async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let mut f = filter.clone();
        f.subject = f.subject.map(|s| s.to_ascii_lowercase());
        f.limit = f.limit.clamp(1, 1000);
        Ok(self.store.list_audit(&f).await?)
    }

    /// On a server with no owner, makes a one-time setup token (valid a day) and returns it;
    /// `None` when an owner exists.
    pub async fn setup_token_if_no_owner(&self) -> Result<Option<String>> {
        if self.store.count_users(Some(Role::Owner)).await? > 0 {
            return Ok(None);
        }
        let token = crypto::random_token(self.rng.as_ref(), "", 24);
        self.store
            .put_setup_token(&crypto::token_hash(&token), self.now() + SETUP_TTL_SECONDS)
            .await?;
        Ok(Some(token))
    }

    /// Uses a setup token (once). True if it was valid.
    pub async fn consume_setup_token(&self, token: &str) -> Result<bool> {
        Ok(self
            .store
            .consume_setup_token(&crypto::token_hash(token), self.now())
            .await?)
    }
}
