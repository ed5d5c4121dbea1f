//! Remembered browsers: with `remember.days` set, the second-factor page offers "Remember this
//! browser for N days". A checked second factor given with it ticked gives the browser a
//! `tf_remember` cookie (256 random bits; the store keeps their SHA-256), and that user's next
//! sign-ins in that browser ask only for the password. A remembered browser is bound to its
//! one user, counts only while `remember.days` (and, for admins and owners, `remember.admins`)
//! allows it, and is forgotten when its user forgets it, signs out everywhere, or whenever
//! every session of theirs ends (a password change, a 2FA reset, disabling, the removal of the
//! last factor), when their role changes, and when the settings that allowed it are turned
//! off (and what was remembered until then, when they are turned on again).

use super::Service;
use super::login::SessionView;
use crate::audit::{AuditEvent, Context};
use crate::crypto;
use crate::error::Result;
use crate::identity::Username;
use crate::session::Session;
use crate::settings::Settings;
use crate::store::{RememberedBrowser, User};

/// The most remembered browsers a user keeps (the newest).
const MAX_REMEMBERED: i64 = 20;
/// The longest `tf_remember` value looked at (the real ones have 43 characters).
const MAX_COOKIE: usize = 128;

/// A browser just remembered: the `tf_remember` cookie to give it and for how long.
#[derive(Clone)]
pub struct Remembered {
    /// The cookie value (256 random bits, base64url).
    pub cookie: String,
    /// How long the browser keeps it, in seconds (`remember.days`).
    pub max_age: i64,
}

impl std::fmt::Debug for Remembered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remembered")
            .field("cookie", &"[redacted]")
            .field("max_age", &self.max_age)
            .finish()
    }
}

/// One of a user's remembered browsers, as their Security Settings and the API list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedView {
    /// What the "Forget" button names: derived from the stored hash, so neither the cookie nor
    /// the database's key for it is shown.
    pub handle: String,
    /// A short description of the browser.
    pub browser: String,
    /// The address of its last use.
    pub ip: Option<String>,
    /// Unix time it was remembered.
    pub first_use: i64,
    /// Unix time it last stood in for a second factor (or was remembered).
    pub last_use: i64,
    /// Unix time it stops counting.
    pub expires_at: i64,
    /// The browser asking holds its cookie.
    pub current: bool,
}

/// A user's live sessions and remembered browsers (the API's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSessions {
    /// Live sessions, newest sign-in first.
    pub sessions: Vec<SessionView>,
    /// Remembered browsers that still count, most recently used first.
    pub browsers: Vec<RememberedView>,
}

/// What signing a user out everywhere did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedOut {
    /// Sessions ended (at any stage of their sign-in).
    pub sessions: u64,
    /// Remembered browsers forgotten.
    pub browsers: u64,
}

/// The name a remembered browser goes by in its user's list: a hash of its stored hash.
fn remembered_handle(token_hash: &str) -> String {
    let mut h = crypto::token_hash(&format!("remembered-handle:{token_hash}"));
    h.truncate(32);
    h
}

/// When a remembered browser stops counting under the current settings: at its stored
/// expiry, or earlier when `remember.days` was lowered since it was remembered. `None` when
/// remembering is not allowed for `user` at all now.
fn counts_until(settings: &Settings, user: &User, row: &RememberedBrowser) -> Option<i64> {
    let days = settings.remember_days_for(user.role)?;
    Some(
        row.expires_at
            .min(row.created_at.saturating_add(days.saturating_mul(86_400))),
    )
}

/// A cookie value worth looking up: a hash is computed only for what could be one of ours.
fn plausible(cookie: &str) -> bool {
    !cookie.is_empty()
        && cookie.len() <= MAX_COOKIE
        && cookie
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Service {
    /// For how many days the second-factor page offers to remember the browser of `user`
    /// (`None`: not offered).
    pub async fn remember_offer(&self, user: &User) -> Result<Option<i64>> {
        Ok(self.settings_cached().await?.remember_days_for(user.role))
    }

    /// The password step's question: does the browser's `tf_remember` cookie stand in for
    /// `user`'s second factor? Only a live row of this very user counts (a cookie of another
    /// user, an expired or forgotten one, garbage: no), and only while the settings allow it
    /// for their role. The use is recorded by one conditional UPDATE (a browser forgotten in
    /// the meantime does not count). The answer is the cookie's hash when it counts; the use
    /// is audited once the sign-in it let in stands ([`Service::confirm_remembered`]).
    pub(super) async fn remembered_for(
        &self,
        ctx: &Context,
        user: &User,
        cookie: Option<&str>,
    ) -> Result<Option<String>> {
        let Some(cookie) = cookie.filter(|c| plausible(c)) else {
            return Ok(None);
        };
        let settings = self.settings_cached().await?;
        if settings.remember_days_for(user.role).is_none() {
            return Ok(None);
        }
        let now = self.now();
        let hash = crypto::token_hash(cookie);
        let Some(row) = self.store.remembered_browser(&hash, now).await? else {
            return Ok(None);
        };
        if row.user_id != user.id || counts_until(&settings, user, &row).is_none_or(|t| t <= now) {
            return Ok(None);
        }
        Ok(self
            .store
            .touch_remembered_browser(&hash, user.id, now, ctx.ip.as_deref())
            .await?
            .then_some(hash))
    }

    /// Whether the remembered browser with this hash is still there: a sign-in it completed
    /// checks again once its session exists, so one that raced a sign-out everywhere (which
    /// forgets the browsers, ends the sessions, and forgets again) does not outlive it. Only a
    /// use that stands is audited (`browser.remembered_used`).
    pub(super) async fn confirm_remembered(
        &self,
        ctx: &Context,
        user: &User,
        hash: &str,
    ) -> Result<bool> {
        if self
            .store
            .remembered_browser(hash, self.now())
            .await?
            .is_none()
        {
            return Ok(false);
        }
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::RememberedBrowserUsed,
            format!("browser={}", remembered_handle(hash)),
        )
        .await;
        Ok(true)
    }

    /// Remembers the browser of `session`, whose second factor was just checked and which
    /// became the full session with the hash `session_hash`, when the settings allow it for
    /// the user's role, and only while that session still exists: a sign-out everywhere that
    /// ended it meanwhile leaves nothing remembered. Beyond the user's newest
    /// `MAX_REMEMBERED`, the oldest are forgotten (audited). A failure to store it is logged,
    /// not answered: the sign-in stands, the browser is only not remembered.
    pub(super) async fn remember_browser(
        &self,
        ctx: &Context,
        user: &User,
        session: &Session,
        session_hash: &str,
    ) -> Option<Remembered> {
        let days = match self.settings_cached().await {
            Ok(s) => s.remember_days_for(user.role)?,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the settings to remember a browser");
                return None;
            }
        };
        let cookie = {
            use base64::Engine as _;
            let mut bytes = [0u8; 32];
            self.rng.fill(&mut bytes);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        let now = self.now();
        let max_age = days.saturating_mul(86_400);
        let row = RememberedBrowser {
            token_hash: crypto::token_hash(&cookie),
            user_id: user.id,
            created_at: now,
            last_used_at: now,
            expires_at: now.saturating_add(max_age),
            ip: ctx.ip.clone(),
            browser: session.user_agent.clone(),
        };
        let evicted = match self
            .store
            .insert_remembered_browser(&row, session_hash, MAX_REMEMBERED)
            .await
        {
            Ok(Some(evicted)) => evicted,
            // The session ended meanwhile (signed out everywhere): nothing to remember for.
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "could not remember a browser");
                return None;
            }
        };
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::BrowserRemembered,
            format!("browser={} days={days}", remembered_handle(&row.token_hash)),
        )
        .await;
        for hash in evicted {
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::BrowserForgotten,
                format!(
                    "browser={} reason=limit max={MAX_REMEMBERED}",
                    remembered_handle(&hash)
                ),
            )
            .await;
        }
        Some(Remembered { cookie, max_age })
    }

    /// The user's remembered browsers that still count, most recently used first; `cookie`
    /// (the asking browser's `tf_remember`) marks its own.
    pub async fn remembered_browsers_of(
        &self,
        user: &User,
        cookie: Option<&str>,
    ) -> Result<Vec<RememberedView>> {
        let settings = self.settings_cached().await?;
        let now = self.now();
        let own = cookie.filter(|c| plausible(c)).map(crypto::token_hash);
        Ok(self
            .store
            .user_remembered_browsers(user.id, now)
            .await?
            .into_iter()
            .filter_map(|r| {
                let until = counts_until(&settings, user, &r).filter(|t| *t > now)?;
                Some(RememberedView {
                    handle: remembered_handle(&r.token_hash),
                    current: own.as_deref() == Some(r.token_hash.as_str()),
                    browser: r.browser.unwrap_or_else(|| "Unknown browser".into()),
                    ip: r.ip,
                    first_use: r.created_at,
                    last_use: r.last_used_at,
                    expires_at: until,
                })
            })
            .collect())
    }

    /// Forgets one of the user's own remembered browsers ("Forget" in the list): `None` if
    /// they have no such browser, else whether it was the asking one (`cookie`).
    pub async fn forget_own_browser(
        &self,
        ctx: &Context,
        user: &User,
        handle: &str,
        cookie: Option<&str>,
    ) -> Result<Option<bool>> {
        use subtle::ConstantTimeEq;
        let Some(target) = self
            .store
            .user_remembered_browsers(user.id, self.now())
            .await?
            .into_iter()
            .find(|r| {
                bool::from(
                    remembered_handle(&r.token_hash)
                        .as_bytes()
                        .ct_eq(handle.as_bytes()),
                )
            })
        else {
            return Ok(None);
        };
        if !self
            .store
            .delete_user_remembered_browser(user.id, &target.token_hash)
            .await?
        {
            return Ok(None);
        }
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::BrowserForgotten,
            format!(
                "browser={} reason=user",
                remembered_handle(&target.token_hash)
            ),
        )
        .await;
        let own = cookie.filter(|c| plausible(c)).map(crypto::token_hash);
        Ok(Some(own.as_deref() == Some(target.token_hash.as_str())))
    }

    /// Forgets every remembered browser of a user (part of signing them out everywhere);
    /// audited when there was any. Returns how many.
    pub(super) async fn forget_all_browsers(
        &self,
        ctx: &Context,
        user: &User,
        why: &str,
    ) -> Result<u64> {
        let forgotten = self.store.delete_user_remembered_browsers(user.id).await?;
        if forgotten > 0 {
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::BrowserForgotten,
                format!("all count={forgotten} reason={why}"),
            )
            .await;
        }
        Ok(forgotten)
    }

    /// What a change of the settings forgets, so that turning remembering on again revives no
    /// browser: `remember.days` set to 0 forgets every remembered browser, and turned on again
    /// (from 0) every one remembered until now (a sign-in that still read the old settings may
    /// have remembered one after the purge); `remember.admins` turned off forgets those of
    /// admins and owners, and turned on again theirs remembered until now, likewise. Each is
    /// audited when it forgot any.
    pub(super) async fn forget_browsers_for_settings(
        &self,
        ctx: &Context,
        keys: &[&str],
        before: &Settings,
        after: &Settings,
    ) -> Result<()> {
        let now = self.now();
        let mut forget = Vec::new();
        if keys.contains(&"remember.days") {
            if after.remember_days() == 0 {
                forget.push((i64::MAX, false, "remember_off"));
            } else if before.remember_days() == 0 {
                forget.push((now, false, "remember_on"));
            }
        }
        if keys.contains(&"remember.admins") {
            if !after.remember_admins() {
                forget.push((i64::MAX, true, "remember_admins_off"));
            } else if !before.remember_admins() {
                forget.push((now, true, "remember_admins_on"));
            }
        }
        for (until, staff_only, why) in forget {
            let forgotten = self
                .store
                .forget_remembered_browsers(until, staff_only)
                .await?;
            if forgotten > 0 {
                let whose = if staff_only {
                    "admins and owners"
                } else {
                    "all users"
                };
                self.audit(
                    ctx,
                    None,
                    AuditEvent::BrowserForgotten,
                    format!("{whose} count={forgotten} reason={why}"),
                )
                .await;
            }
        }
        Ok(())
    }

    /// A user's live sessions and remembered browsers, for an administrator or an application
    /// (`GET /api/v1/users/{username}/sessions`).
    pub async fn user_sessions(&self, ctx: &Context, username: &Username) -> Result<UserSessions> {
        let user = self.user_by_name(username).await?;
        ctx.require_manage(&user)?;
        Ok(UserSessions {
            sessions: self.live_sessions(&user, None).await?,
            browsers: self.remembered_browsers_of(&user, None).await?,
        })
    }

    /// Signs a user out everywhere and forgets their browsers, for an administrator or an
    /// application (`DELETE /api/v1/users/{username}/sessions`).
    pub async fn sign_out_everywhere(
        &self,
        ctx: &Context,
        username: &Username,
    ) -> Result<SignedOut> {
        let user = self.user_by_name(username).await?;
        ctx.require_manage(&user)?;
        self.sign_out_all(ctx, &user, "admin").await
    }
}
