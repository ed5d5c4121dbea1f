//! Portal logins: the password step (throttled, never locking, the same for unknown users), the
//! session that carries a login through its stages, the second-factor step, logout, and the
//! first-run owner account.

use std::sync::OnceLock;

use super::Service;
use crate::audit::{AuditEvent, Context};
use crate::crypto;
use crate::error::{Error, Result};
use crate::identity::{Role, Username};
use crate::service::{NewUserRequest, Reason, Validation};
use crate::session::{Session, Stage};
use crate::store::User;

/// A half-logged-in session (password right, second factor pending) lasts this long.
pub const PENDING_TTL: i64 = 5 * 60;
/// A forced-enrolment session lasts this long (scanning a QR code takes a while).
pub const ENROLL_TTL: i64 = 15 * 60;
/// A full session lasts this long after its last use.
pub const SESSION_TTL: i64 = 12 * 3600;
/// Failed password logins per key before delays start.
pub(crate) const FREE_FAILURES: i64 = 5;
/// The longest delay between password attempts, in seconds.
pub(crate) const MAX_DELAY: i64 = 15 * 60;
/// Failures older than this are forgotten.
const FORGET_AFTER: i64 = 3600;

/// Where a login stands after the password step.
#[derive(Debug, Clone)]
pub struct LoginStep {
    /// The new session's cookie value.
    pub cookie: String,
    /// What comes next.
    pub stage: Stage,
}

/// The result of the second-factor step.
#[derive(Debug, Clone)]
pub enum SecondFactor {
    /// Logged in: the new session cookie and where to go.
    Done {
        /// The new (rotated) cookie value.
        cookie: String,
        /// The `next` path saved at the password step.
        next: Option<String>,
    },
    /// Refused.
    Refused(Reason),
}

fn wrong_credentials() -> Error {
    Error::unauthorized("invalid_credentials", "Incorrect username or password.")
}

fn delay_for(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exp = u32::try_from(failures - FREE_FAILURES + 1)
        .unwrap_or(u32::MAX)
        .min(20);
    2i64.pow(exp).min(MAX_DELAY)
}

impl Service {
    /// An Argon2 hash of nothing, verified for unknown users so they take as long as known ones.
    fn dummy_hash(&self) -> &str {
        static DUMMY: OnceLock<String> = OnceLock::new();
        DUMMY.get_or_init(|| crypto::hash_password(self.rng.as_ref(), "twofold: no such user"))
    }

    async fn throttle_wait(&self, keys: &[String], now: i64) -> Result<Option<i64>> {
        let mut wait = 0;
        for key in keys {
            if let Some((failures, last)) = self.store.login_failures(key).await?
                && now - last < FORGET_AFTER
            {
                wait = wait.max(last + delay_for(failures) - now);
            }
        }
        Ok((wait > 0).then_some(wait))
    }

    /// The password step. Wrong passwords never lock an account: they are throttled per
    /// username and per client IP with growing delays (429), and an unknown username looks and
    /// takes the same as a wrong password.
    pub async fn login_password(
        &self,
        ctx: &Context,
        username: &str,
        password: &str,
        next: Option<String>,
    ) -> Result<LoginStep> {
        let now = self.now();
        let name_key = username.trim().to_ascii_lowercase();
        let mut keys = vec![format!("user:{name_key}")];
        if let Some(ip) = &ctx.ip {
            keys.push(format!("ip:{ip}"));
        }
        if let Some(wait) = self.throttle_wait(&keys, now).await? {
            return Err(Error::throttled(
                u64::try_from(wait).unwrap_or(1),
                format!("Too many failed attempts. Try again in {wait} seconds."),
            ));
        }
        let user = if Username::parse(username.trim()).is_ok() {
            self.store.user_by_name(&name_key).await?
        } else {
            None
        };
        let hash = user
            .as_ref()
            .and_then(|u| u.password_hash.as_deref())
            .unwrap_or(self.dummy_hash());
        let password_ok = crypto::verify_password(password, hash)
            && user.as_ref().is_some_and(|u| u.password_hash.is_some());
        let Some(user) = user.filter(|_| password_ok) else {
            for key in &keys {
                self.store
                    .record_login_failure(key, now, FORGET_AFTER)
                    .await?;
            }
            let subject = Username::parse(username.trim()).ok().map(|u| u.key());
            self.audit(
                ctx,
                subject.as_deref(),
                AuditEvent::LoginFailed,
                String::new(),
            )
            .await;
            return Err(wrong_credentials());
        };
        self.store.clear_login_failures(&keys[0]).await?;
        if user.disabled {
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::LoginFailed,
                "disabled".into(),
            )
            .await;
            return Err(Error::forbidden(
                "account_disabled",
                "This account is disabled.",
            ));
        }
        let stage = self.stage_after_password(&user).await?;
        let ttl = match stage {
            Stage::SecondFactor => PENDING_TTL,
            Stage::Enroll => ENROLL_TTL,
            Stage::Full => SESSION_TTL,
        };
        let cookie = crypto::random_token(self.rng.as_ref(), "", 32);
        let session = Session {
            id_hash: crypto::token_hash(&cookie),
            user_id: user.id,
            stage,
            created_at: now,
            expires_at: now + ttl,
            next,
        };
        self.store.insert_session(&session).await?;
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::LoginPassword,
            format!("next={}", stage.as_str()),
        )
        .await;
        Ok(LoginStep { cookie, stage })
    }

    async fn stage_after_password(&self, user: &User) -> Result<Stage> {
        let settings = self.settings().await?;
        let view = self.view_of(user.clone()).await?;
        if view.has_2fa {
            return Ok(Stage::SecondFactor);
        }
        let can_enrol = crate::factor::FactorKind::ALL
            .iter()
            .any(|k| settings.method_available(*k, user.role));
        if settings.twofactor_enabled() && settings.forced(user.role) && can_enrol {
            return Ok(Stage::Enroll);
        }
        Ok(Stage::Full)
    }

    /// The live session of a cookie, with its user: `None` when unknown, expired, or the user is
    /// gone or disabled. Full sessions slide: their expiry moves on when half of it has passed.
    pub async fn session(&self, cookie: &str) -> Result<Option<(Session, User)>> {
        if cookie.is_empty() || cookie.len() > 128 {
            return Ok(None);
        }
        let hash = crypto::token_hash(cookie);
        let Some(mut session) = self.store.session(&hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        if session.expires_at <= now {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        let Some(user) = self
            .store
            .user_by_id(session.user_id)
            .await?
            .filter(|u| !u.disabled)
        else {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        };
        if session.stage == Stage::Full && session.expires_at - now < SESSION_TTL / 2 {
            session.expires_at = now + SESSION_TTL;
            self.store.extend_session(&hash, session.expires_at).await?;
        }
        Ok(Some((session, user)))
    }

    /// Replaces a session by a fully logged-in one with a new id.
    pub(super) async fn promote(&self, old: &Session) -> Result<Option<String>> {
        let cookie = crypto::random_token(self.rng.as_ref(), "", 32);
        let now = self.now();
        let new = Session {
            id_hash: crypto::token_hash(&cookie),
            user_id: old.user_id,
            stage: Stage::Full,
            created_at: now,
            expires_at: now + SESSION_TTL,
            next: None,
        };
        Ok(self
            .store
            .replace_session(&old.id_hash, &new)
            .await?
            .then_some(cookie))
    }

    /// The second-factor step of a half-logged-in session.
    pub async fn login_second_factor(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
        code: &str,
        method: Option<&str>,
    ) -> Result<SecondFactor> {
        if session.stage != Stage::SecondFactor {
            return Err(Error::forbidden(
                "wrong_stage",
                "This login is not waiting for a code.",
            ));
        }
        match self
            .validate(ctx, &user.username, Some(code), method)
            .await?
        {
            Validation::Accepted(_) => match self.promote(session).await? {
                Some(cookie) => Ok(SecondFactor::Done {
                    cookie,
                    next: session.next.clone(),
                }),
                None => Err(Error::forbidden(
                    "wrong_stage",
                    "This login was already completed.",
                )),
            },
            Validation::Rejected(reason) => Ok(SecondFactor::Refused(reason)),
        }
    }

    /// Ends a forced enrolment: once the user has a usable factor, the session becomes a full
    /// one with a new id.
    pub async fn finish_enrollment(&self, session: &Session, user: &User) -> Result<String> {
        if session.stage != Stage::Enroll {
            return Err(Error::forbidden(
                "wrong_stage",
                "This login is not enrolling.",
            ));
        }
        if !self.view_of(user.clone()).await?.has_2fa {
            return Err(Error::conflict(
                "not_enrolled",
                "Set up two-factor authentication first.",
            ));
        }
        self.promote(session)
            .await?
            .ok_or_else(|| Error::forbidden("wrong_stage", "This login was already completed."))
    }

    /// Ends a session on the server.
    pub async fn logout(&self, ctx: &Context, session: &Session, user: &User) -> Result<()> {
        self.store.delete_session(&session.id_hash).await?;
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::LoginPassword,
            "logout".into(),
        )
        .await;
        Ok(())
    }

    /// Checks a user's password (for viewing backup codes and turning 2FA off).
    pub fn check_password(&self, user: &User, password: &str) -> bool {
        let hash = user.password_hash.as_deref().unwrap_or(self.dummy_hash());
        crypto::verify_password(password, hash) && user.password_hash.is_some()
    }

    /// A user turns their own 2FA off: needs the password and a current code (or a backup
    /// code), and is refused when 2FA is forced for their role.
    pub async fn disable_own_2fa(
        &self,
        ctx: &Context,
        user: &User,
        password: &str,
        code: &str,
    ) -> Result<()> {
        let settings = self.settings().await?;
        if settings.twofactor_enabled() && settings.forced(user.role) {
            return Err(Error::forbidden(
                "2fa_required",
                "Two-factor authentication is required for your account.",
            ));
        }
        if !self.check_password(user, password) {
            return Err(Error::invalid(
                "invalid_password",
                "The password is not right.",
            ));
        }
        match self.validate(ctx, &user.username, Some(code), None).await? {
            Validation::Accepted(_) => self.reset_2fa(ctx, &user.username).await,
            Validation::Rejected(Reason::Locked) => Err(Error::invalid(
                "locked",
                "Too many failed attempts: your second factor is locked for a while.",
            )),
            Validation::Rejected(_) => Err(super::factors::wrong_code()),
        }
    }

    /// Whether a first-run setup token is still usable.
    pub async fn setup_token_usable(&self, token: &str) -> Result<bool> {
        Ok(self
            .store
            .setup_token_usable(&crypto::token_hash(token), self.now())
            .await?)
    }

    /// Creates the owner account with a first-run setup token, which works once.
    pub async fn create_owner(
        &self,
        token: &str,
        username: &str,
        password: &str,
        email: Option<&str>,
    ) -> Result<User> {
        let ctx = Context {
            actor: crate::audit::Actor::System,
            ip: None,
        };
        // Check everything before the token is spent.
        Username::parse(username).map_err(|e| Error::invalid("invalid_username", e.to_string()))?;
        super::users::check_password(password)?;
        if let Some(e) = email.filter(|e| !e.trim().is_empty()) {
            crate::identity::Email::parse(e)
                .map_err(|e| Error::invalid("invalid_email", e.to_string()))?;
        }
        if self
            .store
            .user_by_name(&username.to_ascii_lowercase())
            .await?
            .is_some()
        {
            return Err(Error::conflict(
                "user_exists",
                "A user with that name already exists.",
            ));
        }
        if !self.consume_setup_token(token).await? {
            return Err(Error::not_found(
                "setup_token",
                "This setup link is no longer valid.",
            ));
        }
        let req = NewUserRequest {
            username,
            role: Some(Role::Owner.as_str()),
            email,
            phone: None,
            password: Some(password),
        };
        self.create_user(&ctx, &req).await
    }
}
