//! Portal logins: the password step (throttled, never locking, the same for unknown users), the
//! session that carries a login through its stages, the second-factor step, logout, and the
//! first-run owner account.

use std::sync::atomic::Ordering;

use tokio::sync::OnceCell;

use super::Service;
use crate::audit::{AuditEvent, Context};
use crate::code::Code;
use crate::crypto;
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::identity::{Role, Username};
use crate::service::{Method, NewUserRequest, Reason, ValidateRequest, Validation};
use crate::session::{Session, Stage};
use crate::store::{ThrottleHit, User};

/// A half-logged-in session (password right, second factor pending) lasts this long.
pub const PENDING_TTL: i64 = 5 * 60;
/// A forced-enrolment session lasts this long (scanning a QR code takes a while).
pub const ENROLL_TTL: i64 = 15 * 60;
/// A device cookie (`tf_device`) is good for this many days after the sign-in that set it.
pub const DEVICE_DAYS: i64 = 365;
/// The most device cookies a user keeps (the newest).
const MAX_DEVICES: i64 = 20;
/// Sensitive actions need the password (and second factor) given this recently in the session.
pub const STEP_UP_TTL: i64 = 5 * 60;
/// Password attempts per throttle key before delays start.
pub(crate) const FREE_FAILURES: i64 = 5;
/// The longest delay between password attempts, in seconds.
pub(crate) const MAX_DELAY: i64 = 15 * 60;
/// Attempts older than this are forgotten.
const FORGET_AFTER: i64 = 3600;
/// A session's last use is written at most this often (seconds): a session lookup is otherwise
/// a read only.
const TOUCH_EVERY: i64 = 60;
/// Expired sessions, throttle keys and device cookies are purged at most this often (seconds).
const PURGE_EVERY: i64 = 60;
/// The longest browser description kept for a session.
const MAX_BROWSER: usize = 64;

/// Where a login stands after the password step.
#[derive(Debug, Clone)]
pub struct LoginStep {
    /// The new session's cookie value.
    pub cookie: String,
    /// What comes next.
    pub stage: Stage,
}

/// What the password step is given.
#[derive(Debug, Clone, Copy)]
pub struct PasswordLogin<'a> {
    /// The username as typed.
    pub username: &'a str,
    /// The password as typed.
    pub password: &'a str,
    /// Where to go once logged in (a local path, checked by the edge).
    pub next: Option<&'a str>,
    /// The browser's device cookie, if it holds one.
    pub device: Option<&'a str>,
    /// The browser's `User-Agent` (only a summary is stored).
    pub user_agent: Option<&'a str>,
    /// The session the browser already had, with its user: it ends when this login succeeds.
    pub previous: Option<(&'a Session, &'a User)>,
    /// The browser's `tf_remember` cookie, if it holds one: when it remembers this user's
    /// browser, the password is enough.
    pub remember: Option<&'a str>,
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
        /// The browser is remembered ("Remember this browser" was ticked and allowed): its
        /// `tf_remember` cookie.
        remember: Option<super::Remembered>,
    },
    /// Refused.
    Refused(Reason),
}

/// What a step-up's second factor is.
enum Proof<'a> {
    /// A code as parsed at the edge.
    Code(Option<Result<Code>>),
    /// A security key's answer.
    Key(&'a [u8]),
}

/// The actions that need a recent password (and second factor) in the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensitiveAction {
    /// Removing a factor.
    RemoveFactor,
    /// Replacing the backup codes.
    NewBackupCodes,
    /// Showing the backup codes again.
    ViewBackupCodes,
    /// Turning two-factor authentication off.
    DisableTwoFactor,
    /// Changing the email address or phone number.
    ChangeContact,
    /// Adding a device when the user has 2FA already (a stolen session must not plant a
    /// factor of its own).
    AddFactor,
}

/// One of a user's live sessions, as their Security Settings list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// What the "Sign out" button names: derived from the stored hash of the session id, so
    /// the page shows neither the id nor the database's key for it.
    pub handle: String,
    /// A short description of the browser.
    pub browser: String,
    /// The address it signed in from.
    pub ip: Option<String>,
    /// Unix time of the sign-in.
    pub first_use: i64,
    /// Unix time of the last recorded use.
    pub last_use: i64,
    /// This is the session asking.
    pub current: bool,
    /// The sign-in is complete (not waiting for a second factor or an enrolment).
    pub complete: bool,
    /// Unix time it ends unless used again (a complete one's idle limit, at most its absolute
    /// one).
    pub expires_at: i64,
}

fn wrong_credentials() -> Error {
    Error::unauthorized("invalid_credentials", Text::new("err-credentials-wrong"))
}

fn wrong_password() -> Error {
    Error::invalid("invalid_password", Text::new("err-password-wrong"))
}

/// How long a throttle key is blocked after its `attempts`-th counted attempt: nothing for the
/// first few, then doubling up to [`MAX_DELAY`].
pub(crate) fn delay_after(attempts: i64) -> i64 {
    if attempts < FREE_FAILURES {
        return 0;
    }
    let exp = u32::try_from(attempts - FREE_FAILURES + 1)
        .unwrap_or(u32::MAX)
        .min(20);
    2i64.pow(exp).min(MAX_DELAY)
}

/// The throttle key of a client address. An IPv6 host usually holds a whole /64, so its
/// addresses count together (one key per /64); an IPv4 address, or one mapped into IPv6, is
/// its own key.
pub(crate) fn address_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            format!(
                "ip:{}",
                v6.to_ipv4_mapped()
                    .map_or_else(|| ip.to_owned(), |a| a.to_string())
            )
        }
        _ => format!("ip:{ip}"),
    }
}

/// "Firefox on Linux": enough for a person to recognise their browser, nothing more is kept.
pub(crate) fn browser_summary(user_agent: Option<&str>) -> Option<String> {
    let ua = user_agent?;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chromium/") {
        "Chromium"
    } else if ua.contains("Chrome/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else if ua.contains("curl/") {
        "curl"
    } else {
        "A browser"
    };
    let os = if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        Some("iOS")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("CrOS") {
        Some("ChromeOS")
    } else if ua.contains("Linux") || ua.contains("X11") {
        Some("Linux")
    } else {
        None
    };
    let mut text = match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_owned(),
    };
    text.truncate(MAX_BROWSER);
    Some(text)
}

impl Service {
    /// An Argon2 hash of nothing, verified for unknown users so they take as long as known ones
    /// (made once, on the hashing pool like every other hash).
    async fn dummy_hash(&self) -> Result<&'static str> {
        static DUMMY: OnceCell<String> = OnceCell::const_new();
        DUMMY
            .get_or_try_init(|| {
                self.passwords
                    .hash(self.rng.clone(), "twofold: no such user")
            })
            .await
            .map(String::as_str)
    }

    /// Deletes expired sessions, throttle keys, device cookies and remembered browsers, at most
    /// once a minute per process.
    async fn purge_login_state(&self, now: i64) {
        let last = self.login_purged_at.load(Ordering::Relaxed);
        if now - last < PURGE_EVERY
            || self
                .login_purged_at
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let purged = async {
            self.store.purge_expired_sessions(now).await?;
            self.store
                .purge_login_throttle(now - FORGET_AFTER, now)
                .await?;
            self.store.purge_devices(now).await?;
            self.store.purge_remembered_browsers(now).await
        }
        .await;
        if let Err(e) = purged {
            tracing::warn!(error = %e, "could not purge expired login state");
        }
    }

    /// Checks a password under the throttle. A browser holding a device cookie of this user
    /// is throttled by its own attempts only; everyone else by the username's and the client
    /// IP's. Each attempt is counted before the password is checked (one atomic step per key),
    /// so parallel guesses cannot outrun the delays. A right password clears the username's
    /// and the device's count, and gives its own attempt back to the IP's (never more: an
    /// attacker with an account of their own must not reset their address's count by signing
    /// in, and many people signing in from one office address must not be delayed).
    async fn password_ok(
        &self,
        ctx: &Context,
        user: Option<&User>,
        username: &Username,
        device: Option<&str>,
        password: &str,
    ) -> Result<bool> {
        Ok(self
            .password_among(ctx, user, username, device, &[password], "user")
            .await?
            .is_some())
    }

    /// [`Self::password_ok`] for a password that may be any one of `candidates` (RADIUS's
    /// `password+otp`, where the password ends is a guess): each candidate is an attempt under
    /// the throttle, counted before any is checked; the index of the one that matches. The
    /// user's throttle key is `<scope>:<username>` (`user` for the portal; RADIUS keeps its own,
    /// so failures there cannot hold a user out of the portal, nor the other way round).
    pub(super) async fn password_among(
        &self,
        ctx: &Context,
        user: Option<&User>,
        username: &Username,
        device: Option<&str>,
        candidates: &[&str],
        scope: &str,
    ) -> Result<Option<usize>> {
        let now = self.now();
        let device_key = match (user, device) {
            (Some(u), Some(d)) if !d.is_empty() && d.len() <= 128 => {
                let hash = crypto::token_hash(d);
                (self.store.device_user(&hash, now).await? == Some(u.id))
                    .then(|| format!("device:{hash}"))
            }
            _ => None,
        };
        let user_key = format!("{scope}:{}", username.key());
        let keys: Vec<String> = match &device_key {
            Some(k) => vec![k.clone()],
            None => ctx
                .ip
                .iter()
                .map(|ip| address_key(ip))
                .chain([user_key.clone()])
                .collect(),
        };
        // Each candidate is one attempt on every key.
        for _ in 0..candidates.len() {
            for key in &keys {
                if let ThrottleHit::Blocked(until) = self
                    .store
                    .throttle_hit(key, now, FORGET_AFTER, &delay_after)
                    .await?
                {
                    let wait = (until - now).max(1);
                    return Err(Error::throttled(
                        u64::try_from(wait).unwrap_or(1),
                        Text::new("err-too-many-attempts-wait").arg("seconds", wait),
                    ));
                }
            }
        }
        let hash = match user.and_then(|u| u.password_hash.as_deref()) {
            Some(h) => h.to_owned(),
            None => self.dummy_hash().await?.to_owned(),
        };
        let mut matched = None;
        for (i, password) in candidates.iter().enumerate() {
            if self.passwords.verify(password, &hash).await? {
                matched = Some(i);
                break;
            }
        }
        let matched = matched.filter(|_| user.is_some_and(|u| u.password_hash.is_some()));
        if matched.is_some() {
            self.store.clear_login_failures(&user_key).await?;
            if let Some(k) = &device_key {
                self.store.clear_login_failures(k).await?;
            }
            for key in keys.iter().filter(|k| k.starts_with("ip:")) {
                self.store.throttle_refund(key, &delay_after).await?;
            }
        }
        Ok(matched)
    }

    /// The password step. Wrong passwords never lock an account: they are throttled (see
    /// `password_ok`), and an unknown username looks and takes the same as a wrong password. A
    /// username that cannot exist is refused at once, with nothing written.
    /// A session the browser already had ends once the login succeeds: the id changes at
    /// login. A browser that remembers this user (`tf_remember`, see `remember.rs`) skips the
    /// second factor: the session is full at once, and counts as having passed it.
    pub async fn login_password(
        &self,
        ctx: &Context,
        login: PasswordLogin<'_>,
    ) -> Result<LoginStep> {
        let PasswordLogin {
            username,
            password,
            next,
            device,
            user_agent,
            previous,
            remember,
        } = login;
        let now = self.now();
        self.purge_login_state(now).await;
        let Ok(name) = Username::parse(username.trim()) else {
            return Err(wrong_credentials());
        };
        let user = self.store.user_by_name(&name.key()).await?;
        let ok = self
            .password_ok(ctx, user.as_ref(), &name, device, password)
            .await?;
        let Some(user) = user.filter(|_| ok) else {
            self.audit(
                ctx,
                Some(&name.key()),
                AuditEvent::LoginFailed,
                String::new(),
            )
            .await;
            return Err(wrong_credentials());
        };
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
                Text::new("err-account-disabled"),
            ));
        }
        let stage = self.stage_after_password(&user, next).await?;
        // Only a user with 2FA is asked for a second factor, so only theirs is remembered.
        let remembered_by = if matches!(stage, Stage::SecondFactor | Stage::OneFactor) {
            self.remembered_for(ctx, &user, remember).await?
        } else {
            None
        };
        let remembered = remembered_by.is_some();
        let stage = if remembered { Stage::Full } else { stage };
        let settings = self.settings_cached().await?;
        let expires_at = match stage {
            Stage::SecondFactor => now + PENDING_TTL,
            Stage::Enroll => now + ENROLL_TTL,
            Stage::Full | Stage::OneFactor => full_expiry(&settings, now, now),
        };
        let cookie = crypto::random_token(self.rng.as_ref(), "", 32);
        let session = Session {
            id_hash: crypto::token_hash(&cookie),
            user_id: user.id,
            stage,
            created_at: now,
            expires_at,
            next: next.map(str::to_owned),
            login_at: now,
            last_seen_at: now,
            // A user without 2FA gave everything they have: the password. A remembered browser
            // stands in for the second factor of a sign-in, never of a step-up.
            step_up_at: (stage == Stage::Full && !remembered).then_some(now),
            ip: ctx.ip.clone(),
            user_agent: browser_summary(user_agent),
            two_factor_at: remembered.then_some(now),
        };
        self.store.insert_session(&session).await?;
        // A password change (or disabling) that ran between the check above and the insert
        // ended every session before this one existed: read the user again, and drop the new
        // session if the password it was opened with is no longer theirs. (A change that comes
        // after this read ends the session itself.)
        let mut still = self
            .store
            .user_by_id(user.id)
            .await?
            .is_some_and(|u| !u.disabled && u.password_hash == user.password_hash);
        // Likewise a browser forgotten meanwhile (a sign-out everywhere forgets the browsers
        // before it ends the sessions) drops the session it let in.
        if let Some(hash) = remembered_by.as_deref().filter(|_| still) {
            still = self.confirm_remembered(ctx, &user, hash).await?;
        }
        if !still {
            self.store.delete_session(&session.id_hash).await?;
            return Err(wrong_credentials());
        }
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::LoginPassword,
            format!("next={}", stage.as_str()),
        )
        .await;
        if let Some((old, old_user)) = previous {
            self.logout(ctx, old, old_user).await?;
        }
        Ok(LoginStep { cookie, stage })
    }

    /// How far the password takes this user, going to `next`: the second factor when they
    /// have 2FA (unless `next` is an application whose rule asks only the password), an
    /// enrolment when 2FA is forced for their role or `next`'s rule asks for a second factor
    /// they could set up, else all the way.
    async fn stage_after_password(&self, user: &User, next: Option<&str>) -> Result<Stage> {
        let settings = self.settings().await?;
        let view = self.view_of(user.clone()).await?;
        let wanted = self.policy_for_next(next, user.role);
        if view.has_2fa {
            return Ok(match wanted {
                Some(crate::access::Policy::OneFactor | crate::access::Policy::Bypass) => {
                    Stage::OneFactor
                }
                _ => Stage::SecondFactor,
            });
        }
        // Only what the portal's enrolment offers counts: a method added by administrators
        // alone (HOTP) would leave the user at a page with nothing to choose.
        let can_enrol = super::offers::ENROLLABLE
            .iter()
            .any(|k| settings.method_available(*k, user.role));
        let asked = super::offers::second_factor_required(&settings, user.role)
            || (wanted == Some(crate::access::Policy::TwoFactor) && settings.twofactor_enabled());
        if asked && can_enrol {
            return Ok(Stage::Enroll);
        }
        Ok(Stage::Full)
    }

    /// The live session of a cookie, with its user: `None` when unknown, expired (a pending
    /// one after its few minutes; a full one after `session.idle_minutes` without use or
    /// `session.max_hours` after its sign-in), or the user is gone or disabled. The last use is
    /// written at most once a minute, so a lookup is usually one read.
    pub async fn session(&self, cookie: &str) -> Result<Option<(Session, User)>> {
        if cookie.is_empty() || cookie.len() > 128 {
            return Ok(None);
        }
        let hash = crypto::token_hash(cookie);
        let Some((mut session, user)) = self.store.session_with_user(&hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        let settings = self.settings_cached().await?;
        let live = match session.stage {
            Stage::Full | Stage::OneFactor => {
                session.expires_at > now
                    && now - session.last_seen_at < settings.session_idle_seconds()
                    && now - session.login_at < settings.session_max_seconds()
            }
            Stage::SecondFactor | Stage::Enroll => session.expires_at > now,
        };
        if !live || user.disabled {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        if session.stage.is_lasting() && now - session.last_seen_at >= TOUCH_EVERY {
            session.last_seen_at = now;
            session.expires_at = full_expiry(&settings, session.login_at, now);
            self.store
                .touch_session(&hash, now, session.expires_at)
                .await?;
        }
        Ok(Some((session, user)))
    }

    /// Replaces a session by a fully logged-in one with a new id. When the user has just given
    /// a checked second factor (or enrolled one), the new session counts as stepped up since
    /// the password step; a pass Duo's open fail mode gave without a check does not (it still
    /// counts as the sign-in's second factor for `two_factor` rules, as it does for the
    /// portal: the operator chose to let sign-ins through while Duo is down).
    pub(super) async fn promote(&self, old: &Session, checked: bool) -> Result<Option<String>> {
        let cookie = crypto::random_token(self.rng.as_ref(), "", 32);
        let now = self.now();
        let settings = self.settings_cached().await?;
        let new = Session {
            id_hash: crypto::token_hash(&cookie),
            user_id: old.user_id,
            stage: Stage::Full,
            created_at: now,
            expires_at: full_expiry(&settings, old.login_at, now),
            next: None,
            login_at: old.login_at,
            last_seen_at: now,
            // A step-up is the password and the second factor given recently: when this
            // sign-in went back a step (`resume_sign_in`), the password was given at its start.
            step_up_at: checked.then_some(if old.created_at == old.login_at {
                now
            } else {
                old.login_at
            }),
            ip: old.ip.clone(),
            user_agent: old.user_agent.clone(),
            two_factor_at: Some(now),
        };
        Ok(self
            .store
            .replace_session(&old.id_hash, &new)
            .await?
            .then_some(cookie))
    }

    /// A new device cookie (`tf_device`) for the browser that holds this fully signed-in
    /// session cookie: from now on that browser's password attempts for this user are
    /// throttled by its own failures only. `None` when the session is not a full one.
    pub async fn issue_device(
        &self,
        session_cookie: &str,
        previous: Option<&str>,
    ) -> Result<Option<String>> {
        let Some(session) = self
            .store
            .session(&crypto::token_hash(session_cookie))
            .await?
            .filter(|s| s.stage == Stage::Full)
        else {
            return Ok(None);
        };
        let token = crypto::random_token(self.rng.as_ref(), "", 32);
        let now = self.now();
        // The browser's previous device cookie (if it was this user's) gives way to the new
        // one, and a user keeps at most MAX_DEVICES: rows cannot pile up a sign-in at a time.
        let replaced = previous
            .filter(|p| !p.is_empty() && p.len() <= 128)
            .map(crypto::token_hash);
        self.store
            .insert_device(
                &crypto::token_hash(&token),
                session.user_id,
                now,
                now + DEVICE_DAYS * 86_400,
                replaced.as_deref(),
                MAX_DEVICES,
            )
            .await?;
        Ok(Some(token))
    }

    /// The second-factor step of a half-logged-in session: the code as parsed at the edge
    /// ([`Code::parse_given`]; its refusal is answered in validation's order), and the one
    /// method to try, if the page restricted it. With `remember` ("Remember this browser"
    /// ticked) a checked success also remembers the browser, when the settings allow it; a
    /// pass Duo's open fail mode gave without a check never does.
    pub async fn login_second_factor(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
        code: Option<Result<Code>>,
        method: Option<Method>,
        remember: bool,
    ) -> Result<SecondFactor> {
        if session.stage != Stage::SecondFactor {
            return Err(Error::forbidden(
                "wrong_stage",
                Text::new("err-login-not-waiting-code"),
            ));
        }
        let mut unchecked = false;
        let answer = self
            .validate_noting(
                ctx,
                ValidateRequest {
                    username: user.username.clone(),
                    code,
                    method: method.map(Ok),
                },
                &mut unchecked,
            )
            .await?;
        self.finish_second_factor(ctx, session, user, answer, unchecked, remember)
            .await
    }

    /// The second-factor step answered by a security key or passkey: `credential` as
    /// `navigator.credentials.get()`'s `toJSON()` gives it. As [`Service::login_second_factor`].
    pub async fn login_webauthn(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
        credential: &[u8],
        remember: bool,
    ) -> Result<SecondFactor> {
        if session.stage != Stage::SecondFactor {
            return Err(Error::forbidden(
                "wrong_stage",
                Text::new("err-login-not-waiting-code"),
            ));
        }
        let answer = self
            .validate_webauthn(ctx, &user.username, credential, super::Channel::Portal)
            .await?;
        self.finish_second_factor(ctx, session, user, answer, false, remember)
            .await
    }

    /// After a second factor was checked: a success replaces the half-logged-in session by a
    /// full one (and remembers the browser when asked and allowed).
    async fn finish_second_factor(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
        answer: Validation,
        unchecked: bool,
        remember: bool,
    ) -> Result<SecondFactor> {
        match answer {
            Validation::Accepted(_) => match self.promote(session, !unchecked).await? {
                Some(cookie) => Ok(SecondFactor::Done {
                    remember: if remember && !unchecked {
                        self.remember_browser(ctx, user, session, &crypto::token_hash(&cookie))
                            .await
                    } else {
                        None
                    },
                    cookie,
                    next: session.next.clone(),
                }),
                None => Err(Error::forbidden(
                    "wrong_stage",
                    Text::new("err-login-already-completed"),
                )),
            },
            Validation::Rejected(reason) => Ok(SecondFactor::Refused(reason)),
        }
    }

    /// A passwordless sign-in with a passkey (when `methods.webauthn.passwordless` is on): a
    /// discoverable credential that verified its user signs them in fully, as a password and a
    /// second factor would. Refused: `unknown_credential` (a key registered to nobody here, or
    /// answering no open sign-in), `invalid_credential` (a wrong answer, counted against its
    /// user), `locked`, `account_disabled`.
    pub async fn passwordless_sign_in(
        &self,
        ctx: &Context,
        credential: &[u8],
        next: Option<&str>,
        user_agent: Option<&str>,
        previous: Option<(&Session, &User)>,
    ) -> Result<LoginStep> {
        let now = self.now();
        self.purge_login_state(now).await;
        let Some((user, answer)) = self.passwordless_check(ctx, credential).await? else {
            return Err(Error::unauthorized(
                "unknown_credential",
                Text::new("err-passkey-unknown"),
            ));
        };
        match answer {
            Validation::Accepted(_) => {}
            Validation::Rejected(Reason::Locked) => {
                return Err(Error::forbidden(
                    "locked",
                    Text::new("err-locked-ask-admin"),
                ));
            }
            Validation::Rejected(Reason::Disabled) => {
                return Err(Error::forbidden(
                    "account_disabled",
                    Text::new("err-account-disabled"),
                ));
            }
            Validation::Rejected(_) => {
                return Err(Error::unauthorized(
                    "invalid_credential",
                    Text::new("err-passkey-refused"),
                ));
            }
        }
        let settings = self.settings_cached().await?;
        let cookie = crypto::random_token(self.rng.as_ref(), "", 32);
        let session = Session {
            id_hash: crypto::token_hash(&cookie),
            user_id: user.id,
            stage: Stage::Full,
            created_at: now,
            expires_at: full_expiry(&settings, now, now),
            next: next.map(str::to_owned),
            login_at: now,
            last_seen_at: now,
            // A passkey alone (a synced one on a stolen phone, say) must not also be enough to
            // turn the other factors off: sensitive actions still ask for the password.
            step_up_at: None,
            ip: ctx.ip.clone(),
            user_agent: browser_summary(user_agent),
            two_factor_at: Some(now),
        };
        self.store.insert_session(&session).await?;
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::LoginPassword,
            "next=full passwordless".into(),
        )
        .await;
        if let Some((old, old_user)) = previous {
            self.logout(ctx, old, old_user).await?;
        }
        Ok(LoginStep {
            cookie,
            stage: Stage::Full,
        })
    }

    /// Ends a forced enrolment: once the user has a usable factor, the session becomes a full
    /// one with a new id.
    pub async fn finish_enrollment(&self, session: &Session, user: &User) -> Result<String> {
        if session.stage != Stage::Enroll {
            return Err(Error::forbidden(
                "wrong_stage",
                Text::new("err-login-not-enrolling"),
            ));
        }
        if !self.view_of(user.clone()).await?.has_2fa {
            return Err(Error::conflict(
                "not_enrolled",
                Text::new("err-set-up-2fa-first"),
            ));
        }
        self.promote(session, true).await?.ok_or_else(|| {
            Error::forbidden("wrong_stage", Text::new("err-login-already-completed"))
        })
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

    /// Whether the session's owner gave their password (and second factor) recently enough
    /// for a sensitive action.
    pub fn stepped_up(&self, session: &Session) -> bool {
        let now = self.now();
        session
            .step_up_at
            .is_some_and(|t| t <= now && now - t < STEP_UP_TTL)
    }

    /// Refuses a sensitive action in a session that has not stepped up recently.
    pub(crate) fn require_step_up(&self, session: &Session, action: SensitiveAction) -> Result<()> {
        if session.stage == Stage::Full && self.stepped_up(session) {
            return Ok(());
        }
        let what = match action {
            SensitiveAction::RemoveFactor => Text::new("err-step-up-remove-device"),
            SensitiveAction::NewBackupCodes => Text::new("err-step-up-new-backup-codes"),
            SensitiveAction::ViewBackupCodes => Text::new("err-step-up-view-backup-codes"),
            SensitiveAction::DisableTwoFactor => Text::new("err-step-up-disable-2fa"),
            SensitiveAction::ChangeContact => Text::new("err-step-up-change-contact"),
            SensitiveAction::AddFactor => Text::new("err-step-up-add-device"),
        };
        Err(Error::unauthorized("step_up_required", what))
    }

    /// Refuses to start adding a device in a session that has not stepped up recently, when the
    /// user has 2FA already (their first device needs no step-up: there is nothing to protect
    /// yet, and forced enrolment must work).
    pub async fn require_step_up_to_enrol(&self, session: &Session, user: &User) -> Result<()> {
        if session.stage == Stage::Full && self.step_up_needs_code(user).await? {
            self.require_step_up(session, SensitiveAction::AddFactor)?;
        }
        Ok(())
    }

    /// Whether confirming it is you needs a second factor besides the password (the user has
    /// 2FA).
    pub async fn step_up_needs_code(&self, user: &User) -> Result<bool> {
        Ok(self.view_of(user.clone()).await?.has_2fa)
    }

    /// "Confirm it is you": the password, under the same throttle as a login, and when the
    /// user has 2FA a current second factor (through `validate`: it counts towards the lockout
    /// like any attempt). Sensitive actions in this session are then allowed for
    /// [`STEP_UP_TTL`] seconds.
    pub async fn step_up(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
        password: &str,
        code: Option<Result<Code>>,
        device: Option<&str>,
    ) -> Result<Session> {
        self.step_up_proving(ctx, session, user, password, Proof::Code(code), device)
            .await
    }

    /// [`Service::step_up`] with a security key or passkey for the second factor: `credential`
    /// as `navigator.credentials.get()`'s `toJSON()` gives it.
    pub async fn step_up_with_key(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
        password: &str,
        credential: &[u8],
        device: Option<&str>,
    ) -> Result<Session> {
        self.step_up_proving(ctx, session, user, password, Proof::Key(credential), device)
            .await
    }

    async fn step_up_proving(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
        password: &str,
        proof: Proof<'_>,
        device: Option<&str>,
    ) -> Result<Session> {
        if session.stage != Stage::Full {
            return Err(Error::forbidden(
                "wrong_stage",
                Text::new("err-finish-login-first"),
            ));
        }
        if !self
            .password_ok(ctx, Some(user), &user.username, device, password)
            .await?
        {
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::LoginFailed,
                "step_up".into(),
            )
            .await;
            return Err(wrong_password());
        }
        if self.step_up_needs_code(user).await? {
            let mut unchecked = false;
            let answer = match proof {
                Proof::Code(code) => {
                    self.validate_noting(
                        ctx,
                        ValidateRequest {
                            username: user.username.clone(),
                            code,
                            method: None,
                        },
                        &mut unchecked,
                    )
                    .await
                }
                Proof::Key(credential) => {
                    self.validate_webauthn(ctx, &user.username, credential, super::Channel::Portal)
                        .await
                }
            };
            match answer {
                // Duo's open fail mode lets a login through unchecked, never a step-up.
                Ok(Validation::Accepted(_)) if unchecked => {
                    return Err(Error::unavailable(
                        "duo_unreachable",
                        super::duo_unreachable(),
                    ));
                }
                Ok(Validation::Accepted(_)) => {}
                Ok(Validation::Rejected(Reason::Locked)) => {
                    return Err(Error::invalid("locked", Text::new("err-locked")));
                }
                Ok(Validation::Rejected(_)) => return Err(super::factors::wrong_code()),
                Err(e) if e.code == "missing_code" || e.code == "malformed_code" => {
                    return Err(Error::invalid(
                        "missing_code",
                        Text::new("err-code-missing-current"),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        let now = self.now();
        self.store
            .set_session_step_up(&session.id_hash, now)
            .await?;
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::LoginPassword,
            "step_up".into(),
        )
        .await;
        Ok(Session {
            step_up_at: Some(now),
            ..session.clone()
        })
    }

    /// A user changes their own password: the current one is checked under the login
    /// throttle, the new one must pass the password rules. Every session of the user ends,
    /// this one included, and their device cookies are forgotten.
    pub async fn change_own_password(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
        current: &str,
        new: &str,
        device: Option<&str>,
    ) -> Result<()> {
        if session.stage != Stage::Full || session.user_id != user.id {
            return Err(Error::forbidden(
                "wrong_stage",
                Text::new("err-finish-login-first"),
            ));
        }
        super::users::check_password(new)?;
        if !self
            .password_ok(ctx, Some(user), &user.username, device, current)
            .await?
        {
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::LoginFailed,
                "password_change".into(),
            )
            .await;
            return Err(Error::invalid(
                "invalid_password",
                Text::new("err-current-password-wrong"),
            ));
        }
        self.set_password(ctx, &user.username, new).await
    }

    /// A user turns their own 2FA off, after confirming it is them: refused when 2FA is forced
    /// for their role. Every session of theirs ends.
    pub async fn disable_own_2fa(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
    ) -> Result<()> {
        let settings = self.settings().await?;
        if super::offers::second_factor_required(&settings, user.role) {
            return Err(Error::forbidden(
                "2fa_required",
                Text::new("err-2fa-required"),
            ));
        }
        self.require_step_up(session, SensitiveAction::DisableTwoFactor)?;
        self.reset_2fa_of(ctx, user).await
    }

    /// The user's live sessions, for their Security Settings; `current` marks the asking one.
    pub async fn sessions_of(&self, user: &User, current: &Session) -> Result<Vec<SessionView>> {
        self.live_sessions(user, Some(current)).await
    }

    /// The user's live sessions, newest sign-in first; `current` marks the asking one.
    pub(super) async fn live_sessions(
        &self,
        user: &User,
        current: Option<&Session>,
    ) -> Result<Vec<SessionView>> {
        let now = self.now();
        let settings = self.settings_cached().await?;
        Ok(self
            .store
            .user_sessions(user.id)
            .await?
            .into_iter()
            .filter(|s| match s.stage {
                Stage::Full | Stage::OneFactor => {
                    s.expires_at > now
                        && now - s.last_seen_at < settings.session_idle_seconds()
                        && now - s.login_at < settings.session_max_seconds()
                }
                _ => s.expires_at > now,
            })
            .map(|s| SessionView {
                current: current.is_some_and(|c| c.id_hash == s.id_hash),
                complete: s.stage == Stage::Full,
                expires_at: if s.stage.is_lasting() {
                    s.expires_at
                        .min(s.last_seen_at + settings.session_idle_seconds())
                        .min(s.login_at + settings.session_max_seconds())
                } else {
                    s.expires_at
                },
                browser: s.user_agent.unwrap_or_else(|| "Unknown browser".into()),
                ip: s.ip,
                first_use: s.login_at,
                last_use: s.last_seen_at,
                handle: session_handle(&s.id_hash),
            })
            .collect())
    }

    /// Signs one of the user's own sessions out ("Sign out" in the list); false if they have
    /// no such session.
    pub async fn end_own_session(&self, ctx: &Context, user: &User, handle: &str) -> Result<bool> {
        let Some(target) = self
            .store
            .user_sessions(user.id)
            .await?
            .into_iter()
            .find(|s| {
                use subtle::ConstantTimeEq;
                bool::from(
                    session_handle(&s.id_hash)
                        .as_bytes()
                        .ct_eq(handle.as_bytes()),
                )
            })
        else {
            return Ok(false);
        };
        let ended = self
            .store
            .delete_user_session(user.id, &target.id_hash)
            .await?;
        if ended {
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::LoginPassword,
                "logout other_session".into(),
            )
            .await;
        }
        Ok(ended)
    }

    /// Ends every session of a user and forgets every browser remembered for them ("Sign out
    /// everywhere", and what a password change, a 2FA reset, disabling and the removal of the
    /// last factor do).
    pub async fn end_all_sessions(&self, ctx: &Context, user: &User, why: &str) -> Result<()> {
        self.sign_out_all(ctx, user, why).await.map(|_| ())
    }

    /// [`Service::end_all_sessions`], with what it did.
    pub(super) async fn sign_out_all(
        &self,
        ctx: &Context,
        user: &User,
        why: &str,
    ) -> Result<super::SignedOut> {
        // The browsers first: a sign-in one of them let in meanwhile either made its session
        // before the sessions end, or finds its browser gone and drops it (`login_password`).
        // And again after the sessions: a browser remembered meanwhile (which needs its
        // session to exist, see `remember_browser`) was remembered before they ended.
        let mut browsers = self.forget_all_browsers(ctx, user, why).await?;
        let sessions = self.store.delete_user_sessions(user.id).await?;
        browsers += self.forget_all_browsers(ctx, user, why).await?;
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::LoginPassword,
            format!("logout everywhere reason={why}"),
        )
        .await;
        Ok(super::SignedOut { sessions, browsers })
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
        let name =
            Username::parse(username).map_err(|e| Error::invalid("invalid_username", e.text()))?;
        super::users::check_password(password)?;
        if let Some(e) = email.filter(|e| !e.trim().is_empty()) {
            crate::identity::Email::parse(e)
                .map_err(|e| Error::invalid("invalid_email", e.text()))?;
        }
        if self.store.user_by_name(&name.key()).await?.is_some() {
            return Err(Error::conflict("user_exists", Text::new("err-user-exists")));
        }
        if !self.consume_setup_token(token).await? {
            return Err(Error::not_found(
                "setup_token",
                Text::new("err-setup-link-invalid"),
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

/// The name a session goes by in its owner's list: a hash of the stored hash of its id.
pub fn session_handle(id_hash: &str) -> String {
    let mut h = crypto::token_hash(&format!("session-handle:{id_hash}"));
    h.truncate(32);
    h
}

/// When a full session expires if it is not used again: after the idle time, and never past
/// the absolute limit counted from its sign-in.
fn full_expiry(settings: &crate::settings::Settings, login_at: i64, now: i64) -> i64 {
    (now + settings.session_idle_seconds()).min(login_at + settings.session_max_seconds())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_free_attempts_and_stop_at_the_cap() {
        assert_eq!(
            (1..=15).map(delay_after).collect::<Vec<_>>(),
            [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
        );
        assert_eq!(delay_after(i64::MAX), MAX_DELAY);
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        assert_eq!(address_key("192.0.2.7"), "ip:192.0.2.7");
        assert_eq!(address_key("::ffff:192.0.2.7"), "ip:192.0.2.7");
        assert_eq!(
            address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            address_key("2001:db8:1:2::9")
        );
        assert_eq!(address_key("2001:db8:1:2::9"), "ip:2001:db8:1:2::/64");
        assert_ne!(
            address_key("2001:db8:1:3::9"),
            address_key("2001:db8:1:2::9")
        );
        assert_eq!(address_key("not an address"), "ip:not an address");
    }

    #[test]
    fn browsers_are_summarised() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(
            browser_summary(Some(chrome)).as_deref(),
            Some("Chrome on Linux")
        );
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 \
                       Firefox/133.0";
        assert_eq!(
            browser_summary(Some(firefox)).as_deref(),
            Some("Firefox on Windows")
        );
        assert_eq!(browser_summary(None), None);
        assert_eq!(browser_summary(Some("x")).as_deref(), Some("A browser"));
    }
}
