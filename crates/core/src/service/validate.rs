//! Checking a second factor: the one flow every login goes through.
//!
//! Order: unknown user → 404; disabled → `disabled`; no usable factor → `not_enrolled`; locked →
//! `locked`; then the code's shape picks the candidates (6–8 digits: TOTP factors, then HOTP
//! factors, then pending email/SMS codes, and for 8 digits a backup code imported from a
//! pam_google_authenticator scratch code; 32–64 modhex characters: the YubiKey with that public id; 10 letters and
//! digits once spaces and dashes are dropped: a backup code), each consumed by one conditional
//! UPDATE in the store. A miss counts towards the lockout; a hit resets the count. A code that
//! did match but was already used — a request that lost the race for it, or a replay of the
//! step just accepted (or of a recent HOTP counter) — is refused without counting: a
//! double-submit cannot lock anyone.

use super::attempt::{LocalCheck, LocalOutcome};
use super::duo::DuoTry;
use super::{MAX_DRIFT_STEPS, Service, backup_lookup_context};
use crate::audit::{AuditEvent, Context};
use crate::code::{Code, malformed};
use crate::error::{Error, Result};
use crate::factor::{Factor, FactorData, FactorKind};
use crate::i18n::Text;
use crate::identity::Username;
use crate::store::{Consume, User};
use twofold_otp::yubico::YubicoOtp;

/// What accepted the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A factor of this kind.
    Factor(FactorKind),
    /// A backup code.
    BackupCode,
}

impl Method {
    /// Parses a method's wire name (`unknown_method` for any other).
    pub fn parse(text: &str) -> Result<Self> {
        if text == "backup_code" {
            return Ok(Method::BackupCode);
        }
        super::requests::parse_kind(text)
            .map(Method::Factor)
            .map_err(|_| Error::invalid("unknown_method", Text::new("err-unknown-method")))
    }

    /// The wire name: the factor kind, or `backup_code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Factor(k) => k.as_str(),
            Method::BackupCode => "backup_code",
        }
    }
}

/// Why a validation said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The code matched nothing (or was already used).
    InvalidCode,
    /// Too many failures: the second factor is locked for a while.
    Locked,
    /// The user has no usable factor.
    NotEnrolled,
    /// The user is disabled.
    Disabled,
}

impl Reason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidCode => "invalid_code",
            Reason::Locked => "locked",
            Reason::NotEnrolled => "not_enrolled",
            Reason::Disabled => "disabled",
        }
    }
}

/// The answer to a validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// The code was right; this method matched.
    Accepted(Method),
    /// The code was refused.
    Rejected(Reason),
}

/// What a code is to the user's TOTP (or HOTP) factors, computed before the attempt is counted.
#[derive(Default)]
struct TotpCheck {
    /// Steps (counters) above each factor's last accepted one that the code matches.
    fresh: Vec<FreshStep>,
    /// The code matches a step (counter) some factor already accepted.
    replay: bool,
}

/// A step (or HOTP counter) a code matched, not yet consumed.
struct FreshStep {
    factor: crate::factor::FactorId,
    step: i64,
    drift: i64,
}

/// What trying one kind of factor found.
enum Found {
    /// Accepted and consumed: the method and the factor id.
    Accepted(Method, Option<String>),
    /// A genuine code that was already used (a lost race or a replay): refused, not counted.
    AlreadyUsed,
    /// Nothing matched.
    Miss,
}

/// How long the `streak`-th lockout in a row lasts: `base` doubled for each one before it
/// within a day, at most a day.
pub(crate) fn lockout_seconds(base: i64, streak: i64) -> i64 {
    let doublings = u32::try_from(streak.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    base.max(1)
        .saturating_mul(2i64.pow(doublings))
        .min(LOCKOUT_CAP)
}

/// The longest lockout, and the window in which lockouts count as a streak (seconds).
pub(crate) const LOCKOUT_CAP: i64 = 24 * 3600;

/// What a validation is asked, parsed at the edge. A malformed username is an unknown user
/// (404, like one that does not exist); any other refusal waits until the user was found, so an
/// unknown user is 404 whatever else is wrong with the request.
#[derive(Debug)]
pub struct ValidateRequest {
    /// Whose code it is.
    pub username: Username,
    /// The code: `None` when none was given (a Duo push, with `"method": "duo"`).
    pub code: Option<Result<Code>>,
    /// The one method to try, if the caller restricted it.
    pub method: Option<Result<Method>>,
}

impl ValidateRequest {
    /// Parses the request's fields as given; refused only for a username that cannot exist
    /// (`user_not_found`).
    pub fn parse(username: &str, code: Option<&str>, method: Option<&str>) -> Result<Self> {
        Ok(ValidateRequest {
            username: Username::parse(username).map_err(|_| Error::no_user())?,
            code: Code::parse_given(code),
            method: method.map(Method::parse),
        })
    }
}

impl Service {
    /// Checks a second-factor code for a user.
    ///
    /// `method` restricts the check to one kind (or `backup_code`). A code that fits no method's
    /// shape is an error (`malformed_code`) and counts as nothing.
    pub async fn validate(&self, ctx: &Context, req: ValidateRequest) -> Result<Validation> {
        self.validate_noting(ctx, req, &mut false).await
    }

    /// [`Service::validate`], setting `unchecked` when the answer is a pass Duo's open fail
    /// mode gave without a check (a login completes on it; a step-up must not).
    pub(crate) async fn validate_noting(
        &self,
        ctx: &Context,
        req: ValidateRequest,
        unchecked: &mut bool,
    ) -> Result<Validation> {
        // The user and their factors in one query: this is the hot path. An unknown user is
        // 404 before anything about the request is judged.
        let (user, factors) = self
            .store
            .user_with_factors(&req.username.key())
            .await?
            .ok_or_else(Error::no_user)?;
        let only: Option<Option<FactorKind>> = req.method.transpose()?.map(|m| match m {
            Method::Factor(k) => Some(k),
            Method::BackupCode => None,
        });
        let now = self.now();
        let settings = self.settings_cached().await?;
        if user.disabled {
            return Ok(self.refuse(ctx, &user, Reason::Disabled).await);
        }
        let usable = super::usable(&settings, user.role, factors);
        if usable.is_empty() {
            return Ok(self.refuse(ctx, &user, Reason::NotEnrolled).await);
        }
        if user.is_locked(now) {
            return Ok(self.refuse(ctx, &user, Reason::Locked).await);
        }
        let Some(shape) = req.code else {
            // `{"method": "duo"}` with no code: a push.
            if only == Some(Some(FactorKind::Duo)) {
                return self
                    .validate_duo_push(ctx, &user, &usable, &settings, now, unchecked)
                    .await;
            }
            return Err(Error::invalid(
                "missing_code",
                Text::new("err-code-missing"),
            ));
        };
        let shape = shape?;
        // The digits, for the checks only a code of that shape reaches.
        let code = shape.digits().unwrap_or_default();
        let fits = matches!(
            (&shape, only),
            (
                Code::Digits(_),
                None | Some(Some(
                    FactorKind::Totp
                        | FactorKind::Hotp
                        | FactorKind::Email
                        | FactorKind::Sms
                        | FactorKind::Duo
                ))
            ) | (Code::Backup(_), None | Some(None))
                | (Code::Yubikey(_), None | Some(Some(FactorKind::Yubikey)))
        ) || matches!((&shape, only), (Code::Digits(d), Some(None)) if crate::backup::is_scratch_code(d));
        if !fits {
            // A code whose shape does not fit the requested method.
            return Err(malformed());
        }

        // The TOTP check is pure computation, made once before the count: a code that matches
        // only steps already accepted (a double-submit, a retrying client) is refused at once,
        // counting nothing and writing only its audit record. It is no guess (its answer is the
        // same `invalid_code` as any miss); a code that loses a race in flight is caught after
        // the count, when its step cannot be consumed.
        let totp = if matches!(shape, Code::Digits(_))
            && matches!(only, None | Some(Some(FactorKind::Totp)))
        {
            self.check_totp(&user, &usable, code, now, settings.totp_window())?
        } else {
            TotpCheck::default()
        };
        // HOTP likewise: a code of a counter just used is refused at once, uncounted.
        let hotp = if matches!(shape, Code::Digits(_))
            && matches!(only, None | Some(Some(FactorKind::Hotp)))
        {
            self.check_hotp(&user, &usable, code, settings.hotp_window())?
        } else {
            TotpCheck::default()
        };
        if totp.fresh.is_empty() && hotp.fresh.is_empty() && (totp.replay || hotp.replay) {
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::SecondFactorFailure,
                "reason=already_used counted=false".into(),
            )
            .await;
            return Ok(Validation::Rejected(Reason::InvalidCode));
        }

        let mut candidates = Vec::new();
        match &shape {
            // A YubiKey OTP may need a validation server: counted first, then checked.
            Code::Yubikey(otp) => {
                return self
                    .validate_yubikey(ctx, &user, &usable, &settings, otp, now)
                    .await;
            }
            Code::Digits(_) => {
                // The fresh TOTP steps, the fresh HOTP counters, then a pending email or SMS
                // code.
                let fresh = (totp.fresh.into_iter().map(|f| (f, FactorKind::Totp)))
                    .chain(hotp.fresh.into_iter().map(|f| (f, FactorKind::Hotp)));
                for (fresh, kind) in fresh {
                    let id = fresh.factor.to_string();
                    candidates.push((
                        Consume::Counter {
                            factor: fresh.factor,
                            counter: fresh.step,
                            drift: fresh.drift,
                        },
                        Method::Factor(kind),
                        Some(id),
                    ));
                }
                for f in usable.iter().filter(|f| {
                    matches!(f.kind(), FactorKind::Email | FactorKind::Sms)
                        && only.is_none_or(|o| o == Some(f.kind()))
                }) {
                    // Right after a rotation a code sent before it is stored under the
                    // previous key: tried under both (a miss then counts twice against it).
                    for code_hash in self.code_hashes(f, code, settings.code_ttl_seconds()) {
                        candidates.push((
                            Consume::Challenge {
                                factor: f.id.clone(),
                                code_hash,
                                max_attempts: super::codes::CODE_ATTEMPTS,
                            },
                            Method::Factor(f.kind()),
                            Some(f.id.to_string()),
                        ));
                    }
                }
                // Scratch codes imported from pam_google_authenticator are 8 digits, kept as
                // backup codes: tried last, once every factor missed.
                if matches!(only, None | Some(None)) && crate::backup::is_scratch_code(code) {
                    // Under the previous key too, while a rotation has not rehashed them all.
                    for lookup in self
                        .key
                        .lookup_hashes(&backup_lookup_context(user.id), code.as_bytes())
                    {
                        candidates.push((Consume::BackupCode { lookup }, Method::BackupCode, None));
                    }
                }
            }
            Code::Backup(normalized) => {
                for lookup in self
                    .key
                    .lookup_hashes(&backup_lookup_context(user.id), normalized.as_bytes())
                {
                    candidates.push((Consume::BackupCode { lookup }, Method::BackupCode, None));
                }
            }
        }
        // Then a Duo passcode, when the user has Duo and the Auth API is set (or Duo was asked
        // for by name): checked by Duo, after the local candidates missed.
        let duo = if matches!(shape, Code::Digits(_))
            && matches!(only, None | Some(Some(FactorKind::Duo)))
        {
            usable
                .iter()
                .find(|f| f.kind() == FactorKind::Duo)
                .filter(|_| only.is_some() || settings.duo_auth_set())
        } else {
            None
        };
        // A code the local factors (TOTP, HOTP, a live email or SMS code) missed is a failed
        // guess whatever Duo says.
        let tried = |k: FactorKind| {
            only.is_none_or(|o| o == Some(k)) && usable.iter().any(|f| f.kind() == k)
        };
        let local = !candidates.is_empty() || tried(FactorKind::Totp) || tried(FactorKind::Hotp);
        let check = LocalCheck {
            candidates,
            then_more: duo.is_some(),
            failure_detail: None,
            already_used: None,
            note: None,
        };
        // Counted before anything is consumed, consumed, and settled: one transaction.
        let mut attempt = match self
            .settle_second_factor(ctx, &user, &settings, now, check)
            .await?
        {
            LocalOutcome::Answer(answer) => return Ok(answer),
            LocalOutcome::Open(attempt) => attempt,
        };
        if local {
            // A right local code would have been answered at once: a client that hangs up
            // while Duo checks has learnt that this one was wrong, so dropping the request
            // must not give the attempt back.
            attempt.count_if_abandoned();
        }
        let Some(f) = duo else {
            return attempt.reject("reason=invalid_code".into()).await;
        };
        match self.duo_auth_try(ctx, &user, &settings, Some(code)).await {
            Ok(DuoTry::Allowed) => {
                attempt
                    .accept(Method::Factor(FactorKind::Duo), &format!("factor={}", f.id))
                    .await
            }
            Ok(DuoTry::Denied(why)) => attempt.reject(format!("kind=duo reason={why}")).await,
            Ok(DuoTry::FailedOpen) => {
                *unchecked = true;
                duo_failed_open(attempt, f).await
            }
            Ok(DuoTry::Unavailable(e)) | Err(e) => {
                // Duo could not check the code: the attempt does not count, unless the local
                // factors missed it (the slow answer already told the client so).
                if local {
                    attempt
                        .reject("reason=invalid_code duo=unavailable".into())
                        .await?;
                } else {
                    attempt.give_back(None).await?;
                }
                Err(e)
            }
        }
    }

    /// A YubiKey OTP: the attempt is counted, the OTP checked (locally with the key's AES key,
    /// or by the validation servers) and its counter consumed.
    async fn validate_yubikey(
        &self,
        ctx: &Context,
        user: &User,
        usable: &[Factor],
        settings: &crate::settings::Settings,
        otp: &YubicoOtp,
        now: i64,
    ) -> Result<Validation> {
        let attempt = match self.begin_second_factor(ctx, user, settings, now).await? {
            Ok(a) => a,
            Err(answer) => return Ok(answer),
        };
        match self.try_yubikey(ctx, user, usable, otp, now).await? {
            Found::Accepted(method, factor) => {
                let detail = factor.map(|id| format!("factor={id}")).unwrap_or_default();
                attempt.accept(method, &detail).await
            }
            Found::AlreadyUsed => {
                attempt
                    .give_back(Some("reason=already_used counted=false".into()))
                    .await?;
                Ok(Validation::Rejected(Reason::InvalidCode))
            }
            Found::Miss => attempt.reject("reason=invalid_code".into()).await,
        }
    }

    /// `{"username", "method": "duo"}`: a push to the user's Duo device, answered when they
    /// approve, deny or [`super::DUO_PUSH_TIMEOUT`] passes. Deny and timeout count as failed
    /// attempts; Duo being unreachable follows `methods.duo.failmode`.
    async fn validate_duo_push(
        &self,
        ctx: &Context,
        user: &User,
        usable: &[Factor],
        settings: &crate::settings::Settings,
        now: i64,
        unchecked: &mut bool,
    ) -> Result<Validation> {
        let Some(factor) = usable.iter().find(|f| f.kind() == FactorKind::Duo) else {
            return Ok(self.refuse(ctx, user, Reason::NotEnrolled).await);
        };
        if !settings.duo_auth_set() {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-duo-push-auth-api-missing"),
            ));
        }
        let mut attempt = match self.begin_second_factor(ctx, user, settings, now).await? {
            Ok(a) => a,
            Err(answer) => return Ok(answer),
        };
        // A push reaches the user's phone: abandoning the request must not make it free.
        attempt.count_if_abandoned();
        match self.duo_auth_try(ctx, user, settings, None).await {
            Ok(DuoTry::Allowed) => {
                attempt
                    .accept(
                        Method::Factor(FactorKind::Duo),
                        &format!("factor={}", factor.id),
                    )
                    .await
            }
            Ok(DuoTry::Denied(why)) => attempt.reject(format!("kind=duo reason={why}")).await,
            Ok(DuoTry::FailedOpen) => {
                *unchecked = true;
                duo_failed_open(attempt, factor).await
            }
            Ok(DuoTry::Unavailable(e)) | Err(e) => {
                attempt.give_back(None).await?;
                Err(e)
            }
        }
    }

    /// Locks the user's second factor: `lockout.seconds`, doubled for each further lockout
    /// within a day, at most a day. The user is told by email until when.
    pub(super) async fn lock(
        &self,
        ctx: &Context,
        user: &User,
        now: i64,
        seconds: i64,
    ) -> Result<()> {
        let seconds_for = move |streak: i64| lockout_seconds(seconds, streak);
        if let Some(until) = self
            .store
            .lock(user.id, now, LOCKOUT_CAP, &seconds_for)
            .await?
        {
            self.locked_now(ctx, user, until).await;
        }
        Ok(())
    }

    /// A lockout until `until` began: counted, audited, and the user told by email.
    pub(super) async fn locked_now(&self, ctx: &Context, user: &User, until: i64) {
        metrics::counter!("twofold_lockouts_total").increment(1);
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::Lockout,
            format!("until={until}"),
        )
        .await;
        self.lockout_notice(user, until).await;
    }

    /// Checks `code` against each TOTP factor, inside the window around the current step and
    /// the window around the learned drift (so a phone whose clock was fixed still works): the
    /// steps above the last accepted one it matches (the lowest per factor, with the drift to
    /// learn), and whether it matches a step already accepted. Pure computation.
    fn check_totp(
        &self,
        user: &User,
        factors: &[Factor],
        code: &str,
        now: i64,
        window: u64,
    ) -> Result<TotpCheck> {
        let time = u64::try_from(now).unwrap_or(0);
        let mut check = TotpCheck::default();
        for factor in factors {
            let FactorData::Totp(t) = &factor.data else {
                continue;
            };
            let totp = self.totp_of(user.id, &factor.id, t)?;
            let Some(current) = totp.step_at(time) else {
                continue;
            };
            let floor = t.last_step.map_or(0, |l| l.saturating_add(1));
            let mut best: Option<u64> = None;
            for center in [current, current.saturating_add_signed(t.drift)] {
                let lo = center.saturating_sub(window);
                let hi = center.saturating_add(window);
                if lo.max(floor) <= hi
                    && let Some(step) = totp.verify_steps(code, lo.max(floor)..=hi)
                {
                    best = Some(best.map_or(step, |b| b.min(step)));
                } else if lo < floor && totp.verify_steps(code, lo..=hi.min(floor - 1)).is_some() {
                    check.replay = true;
                }
            }
            if let Some(step) = best {
                let offset =
                    i64::try_from(step).unwrap_or(i64::MAX) - i64::try_from(current).unwrap_or(0);
                check.fresh.push(FreshStep {
                    factor: factor.id.clone(),
                    step: i64::try_from(step).unwrap_or(i64::MAX),
                    drift: offset.clamp(-MAX_DRIFT_STEPS, MAX_DRIFT_STEPS),
                });
            }
        }
        Ok(check)
    }

    /// Checks `code` against each HOTP factor: the lowest counter among the `window` from the
    /// next expected one that it matches (a fresh candidate, drift 0), and whether it matches
    /// one of the `window` counters up to the last accepted (a replay). Pure computation.
    fn check_hotp(
        &self,
        user: &User,
        factors: &[Factor],
        code: &str,
        window: u64,
    ) -> Result<TotpCheck> {
        let mut check = TotpCheck::default();
        for factor in factors {
            let FactorData::Hotp(h) = &factor.data else {
                continue;
            };
            let hotp = self.hotp_of(user.id, &factor.id, h)?;
            let found = super::hotp::check(&hotp, h, code, window);
            check.replay |= found.replay;
            if let Some(counter) = found.fresh {
                check.fresh.push(FreshStep {
                    factor: factor.id.clone(),
                    step: i64::try_from(counter).unwrap_or(i64::MAX),
                    drift: 0,
                });
            }
        }
        Ok(check)
    }

    /// Tries the user's YubiKey factor whose public id the OTP carries, then consumes its
    /// counter with one conditional UPDATE. Another user's key, or an unknown one, matches
    /// nothing here.
    async fn try_yubikey(
        &self,
        ctx: &Context,
        user: &User,
        factors: &[Factor],
        otp: &YubicoOtp,
        now: i64,
    ) -> Result<Found> {
        let public_id = otp.public_id_modhex();
        let mut used = false;
        for factor in factors {
            let FactorData::Yubikey(y) = &factor.data else {
                continue;
            };
            if y.public_id.as_deref() != Some(public_id.as_str()) {
                continue;
            }
            match self.check_yubikey_otp(user.id, factor, y, otp).await? {
                Ok(counter) => {
                    if self
                        .store
                        .consume_counter(&factor.id, i64::from(counter.packed()), 0, now)
                        .await?
                    {
                        return Ok(Found::Accepted(
                            Method::Factor(FactorKind::Yubikey),
                            Some(factor.id.to_string()),
                        ));
                    }
                    // The key made this OTP (it decrypted and carried the private id), and its
                    // counter was accepted already: a replay, not a guess.
                    used = true;
                    self.yubikey_refused(ctx, user, factor, "replayed_otp")
                        .await;
                }
                Err(why) => {
                    self.yubikey_refused(ctx, user, factor, &why.describe())
                        .await;
                }
            }
        }
        Ok(if used {
            Found::AlreadyUsed
        } else {
            Found::Miss
        })
    }

    async fn yubikey_refused(&self, ctx: &Context, user: &User, factor: &Factor, why: &str) {
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::SecondFactorFailure,
            format!("kind=yubikey factor={} reason={why}", factor.id),
        )
        .await;
    }

    pub(super) async fn refuse(&self, ctx: &Context, user: &User, reason: Reason) -> Validation {
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::SecondFactorFailure,
            format!("reason={}", reason.as_str()),
        )
        .await;
        Validation::Rejected(reason)
    }
}

/// Duo could not be reached and the fail mode is open: the validation passes on the password
/// alone, audited loudly; the attempt is given back and the failure count kept.
async fn duo_failed_open(
    attempt: super::attempt::Attempt<'_>,
    factor: &Factor,
) -> Result<Validation> {
    attempt
        .pass_unchecked(
            Method::Factor(FactorKind::Duo),
            &format!("factor={} reason=duo_failmode_open", factor.id),
        )
        .await
}
