//! Enrolment (create → confirm), removal, backup codes and drift reset.

use twofold_otp::{Algorithm, Digits, KeyUri, OtpKind, Secret, Totp};

use super::login::SensitiveAction;
use super::{
    EnrollRequest, FactorRequest, MAX_DRIFT_STEPS, MAX_FACTORS, OtpParams, Service,
    backup_lookup_context, backup_seal_context, factor_secret_context,
};
use crate::audit::{AuditEvent, Context};
use crate::backup;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::factor::{Factor, FactorData, FactorId, FactorKind, HotpData, TotpData, parse_label};
use crate::i18n::Text;
use crate::identity::Username;
use crate::session::Session;
use crate::store::{BackupCodeRow, ConfirmOutcome, Confirmation, FactorRemoval, User};

/// What an authenticator app (or a token's programming tool) needs to add a TOTP or HOTP
/// factor. Holds the secret: show it once.
#[derive(Clone)]
pub struct TotpEnrollment {
    /// The secret in base32.
    pub secret_base32: String,
    /// The `otpauth://` URI.
    pub otpauth_uri: String,
    /// The URI's QR code as SVG.
    pub qr_svg: String,
}

/// A new, unconfirmed factor.
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// The factor (unconfirmed).
    pub factor: Factor,
    /// For TOTP and HOTP: what the app scans.
    pub totp: Option<TotpEnrollment>,
    /// For email and SMS: where the verification code went.
    pub sent: Option<super::CodeSent>,
    /// For a security key enrolled through the API: the options for
    /// `navigator.credentials.create()` (WebAuthn Level 3 JSON form). The portal's page asks
    /// for its own.
    pub public_key: Option<serde_json::Value>,
}

/// A confirmed factor, with the backup codes if this was the user's first.
#[derive(Clone)]
pub struct Confirmed {
    /// The factor, now confirmed.
    pub factor: Factor,
    /// The new backup codes (grouped for display), shown only now.
    pub backup_codes: Option<Vec<String>>,
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrollment([redacted])")
    }
}

impl std::fmt::Debug for Confirmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmed")
            .field("factor", &self.factor)
            .field("backup_codes", &self.backup_codes.as_ref().map(|c| c.len()))
            .finish()
    }
}

impl Service {
    /// Creates an unconfirmed factor of `kind` for the user.
    pub async fn enroll(
        &self,
        ctx: &Context,
        username: &Username,
        kind: FactorKind,
        label: Option<&str>,
    ) -> Result<Enrollment> {
        let req = EnrollRequest {
            username: username.clone(),
            kind: Ok(kind),
            label,
            yubikey: None,
            otp: OtpParams::default(),
        };
        self.enroll_with(ctx, req).await
    }

    /// Creates an unconfirmed factor; a YubiKey in local mode needs its secret (AES key and
    /// private id), which other kinds and server mode refuse.
    pub async fn enroll_with(&self, ctx: &Context, req: EnrollRequest<'_>) -> Result<Enrollment> {
        // An unknown user is 404 before anything about the request is judged.
        let user = self.user_by_name(&req.username).await?;
        let kind = req.kind?;
        let (label, yubikey) = (req.label, req.yubikey);
        if yubikey.is_some() && kind != FactorKind::Yubikey {
            return Err(Error::invalid(
                "unexpected_field",
                Text::new("err-yubikey-fields-unexpected"),
            ));
        }
        let (algorithm, digits, period) = otp_params(kind, &req.otp)?;
        // A counter-based token is added by an administrator (the API), who has its secret's
        // parameters; the portal's enrolment does not offer it.
        if kind == FactorKind::Hotp && matches!(ctx.actor, crate::audit::Actor::User { .. }) {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-hotp-added-by-admin"),
            ));
        }
        let label = match label {
            Some(l) => parse_label(l)
                .ok_or_else(|| Error::invalid("invalid_label", Text::new("err-label-invalid")))?,
            None => default_label(kind).to_owned(),
        };
        let settings = self.settings().await?;
        if !settings.method_available(kind, user.role) {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-method-not-enabled-for-role").arg("method", kind.title_text()),
            ));
        }
        let existing = self.store.factors_of(user.id).await?;
        if kind == FactorKind::Duo && !settings.duo_web_set() && !settings.duo_auth_set() {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-duo-not-set-up"),
            ));
        }
        if kind == FactorKind::Duo && existing.iter().any(|f| f.confirmed && f.kind() == kind) {
            return Err(Error::conflict(
                "duo_enrolled",
                Text::new("err-duo-enrolled"),
            ));
        }
        if existing.len() >= MAX_FACTORS {
            return Err(Error::invalid(
                "too_many_factors",
                Text::new("err-too-many-factors").arg("max", MAX_FACTORS),
            ));
        }
        let id = FactorId::generate(self.rng.as_ref());
        let (data, totp) = match kind {
            FactorKind::Totp => {
                let secret = Secret::generate(|b| self.rng.fill(b));
                let data = TotpData {
                    secret: self.key.seal(
                        self.rng.as_ref(),
                        secret.expose(),
                        &factor_secret_context(user.id, &id),
                    ),
                    algorithm,
                    digits,
                    period: period.get(),
                    last_step: None,
                    drift: 0,
                };
                let enrollment = key_enrollment(
                    &settings,
                    &user.username,
                    &secret,
                    OtpKind::Totp { period },
                    algorithm,
                    digits,
                )?;
                (FactorData::Totp(data), Some(enrollment))
            }
            FactorKind::Hotp => {
                let secret = Secret::generate(|b| self.rng.fill(b));
                let data = HotpData {
                    secret: self.key.seal(
                        self.rng.as_ref(),
                        secret.expose(),
                        &factor_secret_context(user.id, &id),
                    ),
                    algorithm,
                    digits,
                    last_counter: None,
                };
                let enrollment = key_enrollment(
                    &settings,
                    &user.username,
                    &secret,
                    OtpKind::Hotp {
                        counter: data.next(),
                    },
                    algorithm,
                    digits,
                )?;
                (FactorData::Hotp(data), Some(enrollment))
            }
            FactorKind::Email => {
                let address = user.email.clone().ok_or_else(|| {
                    Error::invalid("missing_email", Text::new("err-email-missing"))
                })?;
                (FactorData::Email { address }, None)
            }
            FactorKind::Sms => {
                let phone = user.phone.clone().ok_or_else(|| {
                    Error::invalid("missing_phone", Text::new("err-phone-missing"))
                })?;
                (FactorData::Sms { phone }, None)
            }
            FactorKind::Yubikey => {
                let local = settings.yubikey_local();
                let secret = match (local, yubikey) {
                    (true, Some(s)) => {
                        let (aes, pid) = super::yubikey::parse_secret(s)?;
                        Some(self.seal_yubikey(user.id, &id, &aes, &pid))
                    }
                    (true, None) => {
                        return Err(Error::invalid(
                            "missing_yubikey_secret",
                            Text::new("err-yubikey-secret-missing"),
                        ));
                    }
                    (false, Some(_)) => {
                        return Err(Error::invalid(
                            "unexpected_field",
                            Text::new("err-yubikey-server-mode"),
                        ));
                    }
                    (false, None) => None,
                };
                // A user supplying the key's secret in the portal also picks the public id its
                // OTP claims: such keys are not served by the validation server.
                let self_enrolled =
                    secret.is_some() && matches!(ctx.actor, crate::audit::Actor::User { .. });
                let data = FactorData::Yubikey(crate::factor::YubikeyData {
                    public_id: None,
                    secret,
                    last_counter: None,
                    self_enrolled,
                });
                (data, None)
            }
            // Duo holds the user's devices: the factor is confirmed by a first Duo login.
            FactorKind::Duo => (FactorData::Duo, None),
            FactorKind::Webauthn => (FactorData::Webauthn(None), None),
        };
        let factor = Factor {
            id,
            user_id: user.id,
            label,
            confirmed: false,
            created_at: self.now(),
            last_used_at: None,
            data,
        };
        self.store.insert_factor(&factor).await?;
        // Email and SMS prove the address: the first code goes out now. A security key
        // registers in the browser: the options for it (the portal asks for its own on the page
        // that runs the ceremony). If either cannot be made, the factor goes too, so a failed
        // request leaves nothing behind.
        let portal = matches!(ctx.actor, crate::audit::Actor::User { .. });
        let next_step = async {
            let sent = if matches!(kind, FactorKind::Email | FactorKind::Sms) {
                Some(
                    self.deliver_code(ctx, &user, &factor, &settings, "verification")
                        .await?,
                )
            } else {
                None
            };
            let public_key = if kind == FactorKind::Webauthn && !portal {
                Some(
                    self.webauthn_creation_options(&user, &factor, super::Channel::Api)
                        .await?,
                )
            } else {
                None
            };
            Ok::<_, Error>((sent, public_key))
        };
        let (sent, public_key) = match next_step.await {
            Ok(done) => done,
            Err(e) => {
                self.store.delete_factor(user.id, &factor.id).await?;
                return Err(e);
            }
        };
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::FactorEnrolled,
            format!("kind={} factor={}", kind, factor.id),
        )
        .await;
        Ok(Enrollment {
            factor,
            totp,
            sent,
            public_key,
        })
    }

    /// A pending (unconfirmed) factor of the user, to finish its enrolment.
    pub async fn pending_factor(&self, req: &FactorRequest) -> Result<Factor> {
        let (_, factor) = self.pending_of(req).await?;
        Ok(factor)
    }

    /// Sends a new verification code for a pending email or SMS factor.
    pub async fn resend_enrollment_code(
        &self,
        ctx: &Context,
        req: &FactorRequest,
    ) -> Result<super::CodeSent> {
        let (user, factor) = self.pending_of(req).await?;
        let settings = self.settings().await?;
        self.deliver_code(ctx, &user, &factor, &settings, "verification")
            .await
    }

    /// What the authenticator app needs for a pending TOTP factor of the user (to show the QR
    /// code again until it is confirmed). Confirmed factors never show their secret again.
    pub async fn pending_totp(&self, req: &FactorRequest) -> Result<(Factor, TotpEnrollment)> {
        let (user, factor) = self.pending_of(req).await?;
        let FactorData::Totp(t) = &factor.data else {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-factor-no-qr"),
            ));
        };
        let bytes = self
            .key
            .open(&t.secret, &factor_secret_context(user.id, &factor.id))
            .map_err(|e| Error::internal(&e))?;
        let secret = Secret::from_bytes(bytes.to_vec()).map_err(|e| Error::internal(&e))?;
        let settings = self.settings().await?;
        let period = std::num::NonZeroU64::new(t.period).unwrap_or(Totp::DEFAULT_PERIOD);
        let enrollment = key_enrollment(
            &settings,
            &user.username,
            &secret,
            OtpKind::Totp { period },
            t.algorithm,
            t.digits,
        )?;
        Ok((factor, enrollment))
    }

    /// Confirms a pending factor with a code from it. The user's first confirmed factor creates
    /// their backup codes, returned here once.
    pub async fn confirm(
        &self,
        ctx: &Context,
        req: &FactorRequest,
        code: Code,
    ) -> Result<Confirmed> {
        self.confirm_with(ctx, req, Some(Ok(code))).await
    }

    /// Confirms a pending factor; `code` (parsed at the edge with [`Code::parse_given`], its
    /// refusal answered here in its turn) may be absent only for a Duo factor, which is then
    /// confirmed by a push (a code is a Duo passcode). A code of a shape the factor cannot
    /// have is a wrong code, counted like one (for Duo, `malformed_code`). The user's first
    /// confirmed factor creates their backup codes, returned here once.
    pub async fn confirm_with(
        &self,
        ctx: &Context,
        req: &FactorRequest,
        code: Option<Result<Code>>,
    ) -> Result<Confirmed> {
        let (user, factor) = self.pending_of(req).await?;
        let now = self.now();
        let mut public_id = None;
        if factor.kind() == FactorKind::Webauthn {
            return Err(Error::invalid(
                "missing_credential",
                Text::new("err-credential-missing"),
            ));
        }
        if code.is_none() && factor.kind() != FactorKind::Duo {
            return Err(Error::invalid(
                "missing_code",
                Text::new("err-confirm-code-missing"),
            ));
        }
        // A Duo factor takes a push (no code) or a passcode (digits); other factors take a code
        // of their shape, and any other is tried as nothing (a wrong code, counted like one).
        let given = code.is_some();
        let code = code.and_then(|c| c.ok());
        let digits = code.as_ref().and_then(Code::digits).unwrap_or_default();
        let counter = match &factor.data {
            FactorData::Duo => {
                let passcode = match &code {
                    None if !given => None,
                    Some(Code::Digits(d)) => Some(d.as_str()),
                    _ => {
                        return Err(Error::invalid(
                            "malformed_code",
                            Text::new("err-duo-passcode-malformed"),
                        ));
                    }
                };
                self.confirm_duo(ctx, &user, &factor, passcode).await?;
                None
            }
            FactorData::Totp(t) => {
                let settings = self.settings().await?;
                let totp = self.totp_of(user.id, &factor.id, t)?;
                let matched = totp.verify(
                    digits,
                    u64::try_from(now).unwrap_or(0),
                    settings.totp_window(),
                );
                match matched {
                    Some(m) => Some((
                        i64::try_from(m.step).unwrap_or(i64::MAX),
                        m.offset.clamp(-MAX_DRIFT_STEPS, MAX_DRIFT_STEPS),
                    )),
                    None => {
                        self.audit(
                            ctx,
                            Some(&user.username),
                            AuditEvent::SecondFactorFailure,
                            format!("confirm factor={} kind=totp", factor.id),
                        )
                        .await;
                        return Err(wrong_code());
                    }
                }
            }
            FactorData::Hotp(h) => {
                let settings = self.settings().await?;
                let hotp = self.hotp_of(user.id, &factor.id, h)?;
                let window = super::hotp::window_of(h, settings.hotp_window());
                match hotp.verify_range(digits, window) {
                    Some(counter) => Some((i64::try_from(counter).unwrap_or(i64::MAX), 0)),
                    None => {
                        self.audit(
                            ctx,
                            Some(&user.username),
                            AuditEvent::SecondFactorFailure,
                            format!("confirm factor={} kind=hotp", factor.id),
                        )
                        .await;
                        return Err(wrong_code());
                    }
                }
            }
            FactorData::Email { .. } | FactorData::Sms { .. } => {
                if !self.try_challenge(&factor, digits, now).await? {
                    self.audit(
                        ctx,
                        Some(&user.username),
                        AuditEvent::SecondFactorFailure,
                        format!("confirm factor={} kind={}", factor.id, factor.kind()),
                    )
                    .await;
                    return Err(wrong_code());
                }
                None
            }
            FactorData::Yubikey(y) => {
                let checked = match code {
                    // A key must type a public id for the factor to bind it.
                    Some(Code::Yubikey(otp)) if otp.public_id().is_empty() => {
                        Err("no_public_id".to_owned())
                    }
                    Some(Code::Yubikey(otp)) => self
                        .check_yubikey_otp(user.id, &factor, y, &otp)
                        .await?
                        .map(|c| (otp, c))
                        .map_err(|r| r.describe()),
                    _ => Err("malformed_otp".to_owned()),
                };
                match checked {
                    Ok((otp, counter)) => {
                        public_id = Some(otp.public_id_modhex());
                        Some((i64::from(counter.packed()), 0))
                    }
                    Err(why) => {
                        self.audit(
                            ctx,
                            Some(&user.username),
                            AuditEvent::SecondFactorFailure,
                            format!("confirm factor={} kind=yubikey reason={why}", factor.id),
                        )
                        .await;
                        return Err(wrong_code());
                    }
                }
            }
            _ => {
                return Err(Error::invalid(
                    "method_not_available",
                    Text::new("err-factor-cannot-confirm"),
                ));
            }
        };
        self.confirm_checked(ctx, &user, &factor, counter, public_id, None)
            .await
    }

    /// Stores the confirmation of a factor whose code was checked (with the counter it
    /// accepted, a YubiKey's public id or a credential's, and a credential's details), and the
    /// backup codes if it is the user's first.
    pub(super) async fn confirm_checked(
        &self,
        ctx: &Context,
        user: &User,
        factor: &Factor,
        counter: Option<(i64, i64)>,
        public_id: Option<String>,
        params: Option<String>,
    ) -> Result<Confirmed> {
        let now = self.now();
        let codes = backup::generate_set(self.rng.as_ref());
        let rows = self.backup_rows(user.id, &codes);
        let confirmation = Confirmation {
            user_id: user.id,
            factor_id: factor.id.clone(),
            now,
            counter,
            public_id,
            params,
            backup_codes: rows,
        };
        let outcome = match self.store.confirm_factor(&confirmation).await {
            // The one unique column a confirmation sets: another factor holds the public id.
            // The first claim keeps it; only an administrator's release (or an import told to
            // take it over) frees it, never another user's claim.
            Err(crate::store::StoreError::Conflict(_)) if factor.kind() == FactorKind::Webauthn => {
                return Err(super::webauthn::credential_registered());
            }
            Err(crate::store::StoreError::Conflict(_)) => {
                let public_id = confirmation.public_id.as_deref().unwrap_or_default();
                return Err(self.yubikey_conflict(ctx, user, factor, public_id).await);
            }
            other => other?,
        };
        let created = match outcome {
            ConfirmOutcome::Confirmed { codes_created } => codes_created,
            ConfirmOutcome::NotPending => {
                return Err(already_confirmed());
            }
        };
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::FactorConfirmed,
            format!("kind={} factor={}", factor.kind(), factor.id),
        )
        .await;
        let factor = self.factor_of(user, Some(&factor.id)).await?;
        Ok(Confirmed {
            factor,
            backup_codes: created.then(|| codes.iter().map(|c| backup::display(c)).collect()),
        })
    }

    /// Removes one factor (pending or confirmed). Removing the last confirmed one also removes the
    /// backup codes.
    pub async fn remove_factor(&self, ctx: &Context, req: &FactorRequest) -> Result<()> {
        let user = self.user_by_name(&req.username).await?;
        ctx.require_manage(&user)?;
        let id = req.factor.as_ref().ok_or_else(no_factor)?;
        if !self.store.delete_factor(user.id, id).await? {
            return Err(no_factor());
        }
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::FactorRemoved,
            format!("factor={id}"),
        )
        .await;
        self.end_sessions_if_no_factor_left(ctx, &user).await?;
        Ok(())
    }

    /// After a removal: with no usable factor left (none confirmed, or none of a method active
    /// and enabled for the user's role while 2FA is on), every session of the user ends — a
    /// stolen session must not outlive the factor that let it in. True if they ended.
    async fn end_sessions_if_no_factor_left(&self, ctx: &Context, user: &User) -> Result<bool> {
        let settings = self.settings().await?;
        let factors = self.store.factors_of(user.id).await?;
        let confirmed = factors.iter().any(|f| f.confirmed);
        let usable = !super::usable(&settings, user.role, factors).is_empty();
        if confirmed && (usable || !settings.twofactor_enabled()) {
            return Ok(false);
        }
        self.end_all_sessions(ctx, user, "last_factor_removed")
            .await?;
        Ok(true)
    }

    /// Removes one of the user's factors, as they do themselves in Security Settings, once
    /// they have confirmed it is them (step-up): when 2FA is forced for their role, never their
    /// last usable factor (`last_factor`, a 403). The check and the delete are one store
    /// transaction, so two removals at once keep one. Removing the last confirmed factor ends
    /// every session of the user, this one included: the answer is then `true`.
    pub async fn remove_own_factor(
        &self,
        ctx: &Context,
        session: &Session,
        req: &FactorRequest,
    ) -> Result<bool> {
        let user = self.user_by_name(&req.username).await?;
        let id = req.factor.as_ref().ok_or_else(no_factor)?;
        if user.id != session.user_id {
            return Err(no_factor());
        }
        self.require_step_up(session, SensitiveAction::RemoveFactor)?;
        let settings = self.settings().await?;
        let keep: Vec<FactorKind> = if settings.twofactor_enabled() && settings.forced(user.role) {
            FactorKind::ALL
                .into_iter()
                .filter(|k| settings.method_available(*k, user.role))
                .collect()
        } else {
            Vec::new()
        };
        match self
            .store
            .delete_factor_unless_last(user.id, id, &keep)
            .await?
        {
            FactorRemoval::Removed => {}
            FactorRemoval::NotFound => return Err(no_factor()),
            FactorRemoval::LastUsable => {
                return Err(Error::forbidden(
                    "last_factor",
                    Text::new("err-last-factor"),
                ));
            }
        }
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::FactorRemoved,
            format!("factor={id}"),
        )
        .await;
        self.end_sessions_if_no_factor_left(ctx, &user).await
    }

    /// The user's usable factors: the confirmed ones of methods active and enabled for their
    /// role, none while 2FA is off server-wide (the rule `validate` applies).
    pub async fn usable_factors(&self, user: &User) -> Result<Vec<Factor>> {
        let settings = self.settings().await?;
        let factors = self.store.factors_of(user.id).await?;
        Ok(super::usable(&settings, user.role, factors))
    }

    /// Replaces the user's backup codes with a new set and returns it (grouped for display).
    pub async fn regenerate_backup_codes(
        &self,
        ctx: &Context,
        username: &Username,
    ) -> Result<Vec<String>> {
        let user = self.user_by_name(username).await?;
        self.regenerate_backup_codes_of(ctx, &user).await
    }

    async fn regenerate_backup_codes_of(&self, ctx: &Context, user: &User) -> Result<Vec<String>> {
        let has_confirmed = self
            .store
            .factors_of(user.id)
            .await?
            .iter()
            .any(|f| f.confirmed);
        if !has_confirmed {
            return Err(Error::conflict(
                "not_enrolled",
                Text::new("err-backup-codes-need-factor"),
            ));
        }
        let codes = backup::generate_set(self.rng.as_ref());
        self.store
            .replace_backup_codes(user.id, &self.backup_rows(user.id, &codes))
            .await?;
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::BackupCodesRegenerated,
            String::new(),
        )
        .await;
        Ok(codes.iter().map(|c| backup::display(c)).collect())
    }

    /// New backup codes for the user themselves, once they have confirmed it is them.
    pub async fn regenerate_own_backup_codes(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
    ) -> Result<Vec<String>> {
        if user.id != session.user_id {
            return Err(Error::no_user());
        }
        self.require_step_up(session, SensitiveAction::NewBackupCodes)?;
        self.regenerate_backup_codes_of(ctx, user).await
    }

    /// The backup codes shown again to the user themselves, once they have confirmed it is
    /// them.
    pub async fn view_own_backup_codes(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
    ) -> Result<Vec<(String, bool)>> {
        if user.id != session.user_id {
            return Err(Error::no_user());
        }
        self.require_step_up(session, SensitiveAction::ViewBackupCodes)?;
        self.view_backup_codes_of(ctx, user).await
    }

    /// The current backup codes, grouped, each with whether it was used (for the owner of the
    /// codes: see `view_own_backup_codes`).
    pub async fn view_backup_codes(
        &self,
        ctx: &Context,
        username: &Username,
    ) -> Result<Vec<(String, bool)>> {
        let user = self.user_by_name(username).await?;
        self.view_backup_codes_of(ctx, &user).await
    }

    async fn view_backup_codes_of(
        &self,
        ctx: &Context,
        user: &User,
    ) -> Result<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for row in self.store.backup_codes(user.id).await? {
            let plain = self
                .key
                .open(&row.sealed, &backup_seal_context(user.id, &row.lookup))
                .map_err(|e| Error::internal(&e))?;
            out.push((
                backup::display(&String::from_utf8_lossy(&plain)),
                row.used_at.is_some(),
            ));
        }
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::BackupCodesViewed,
            String::new(),
        )
        .await;
        Ok(out)
    }

    /// Forgets a factor's learned clock drift.
    pub async fn reset_drift(&self, ctx: &Context, req: &FactorRequest) -> Result<()> {
        let user = self.user_by_name(&req.username).await?;
        ctx.require_manage(&user)?;
        let id = req.factor.as_ref().ok_or_else(no_factor)?;
        if !self.store.reset_drift(user.id, id).await? {
            return Err(no_factor());
        }
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::UserUpdated,
            format!("drift_reset factor={id}"),
        )
        .await;
        Ok(())
    }

    /// The user's factor `id` (`None`: a text that could not be an id), or `factor_not_found`.
    /// The request's user and their factor, which must still be pending.
    pub(crate) async fn pending_of(&self, req: &FactorRequest) -> Result<(User, Factor)> {
        let user = self.user_by_name(&req.username).await?;
        let factor = self.factor_of(&user, req.factor.as_ref()).await?;
        if factor.confirmed {
            return Err(already_confirmed());
        }
        Ok((user, factor))
    }

    pub(crate) async fn factor_of(&self, user: &User, id: Option<&FactorId>) -> Result<Factor> {
        let id = id.ok_or_else(no_factor)?;
        self.store.factor(user.id, id).await?.ok_or_else(no_factor)
    }

    pub(crate) fn totp_of(&self, user_id: i64, id: &FactorId, t: &TotpData) -> Result<Totp> {
        let bytes = self
            .key
            .open(&t.secret, &factor_secret_context(user_id, id))
            .map_err(|e| Error::internal(&e))?;
        let secret = Secret::from_bytes(bytes.to_vec()).map_err(|e| Error::internal(&e))?;
        let period = std::num::NonZeroU64::new(t.period).unwrap_or(Totp::DEFAULT_PERIOD);
        Ok(Totp::new(&secret, t.algorithm, t.digits, period))
    }

    pub(crate) fn backup_rows(&self, user_id: i64, codes: &[String]) -> Vec<BackupCodeRow> {
        codes
            .iter()
            .map(|c| {
                let lookup = self
                    .key
                    .lookup_hash(&backup_lookup_context(user_id), c.as_bytes());
                let sealed = self.key.seal(
                    self.rng.as_ref(),
                    c.as_bytes(),
                    &backup_seal_context(user_id, &lookup),
                );
                BackupCodeRow {
                    lookup,
                    sealed,
                    used_at: None,
                }
            })
            .collect()
    }
}

/// Checks an enrolment's authenticator parameters for `kind`: the algorithm, the digits and the
/// period (TOTP) to use, the defaults for those not given. Parameters given for a kind that
/// has none (or a period for HOTP) are `unexpected_field`.
fn otp_params(
    kind: FactorKind,
    p: &OtpParams<'_>,
) -> Result<(Algorithm, Digits, std::num::NonZeroU64)> {
    let unexpected = |message: Text| Err(Error::invalid("unexpected_field", message));
    match kind {
        FactorKind::Totp => {}
        FactorKind::Hotp if p.period.is_some() => {
            return unexpected(Text::new("err-hotp-no-period"));
        }
        FactorKind::Hotp => {}
        _ if !p.is_empty() => {
            return unexpected(Text::new("err-otp-fields-unexpected"));
        }
        _ => {}
    }
    let algorithm = match p.algorithm {
        None => Algorithm::Sha1,
        Some(a) => match a.to_ascii_lowercase().as_str() {
            "sha1" => Algorithm::Sha1,
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => {
                return Err(Error::invalid(
                    "invalid_algorithm",
                    Text::new("err-algorithm-invalid"),
                ));
            }
        },
    };
    let digits = match p.digits {
        None | Some(6) => Digits::SIX,
        Some(8) => Digits::EIGHT,
        Some(_) => {
            return Err(Error::invalid(
                "invalid_digits",
                Text::new("err-digits-invalid"),
            ));
        }
    };
    let period = match p.period {
        None => Totp::DEFAULT_PERIOD,
        Some(n) => u64::try_from(n)
            .ok()
            .filter(|n| (MIN_PERIOD..=MAX_PERIOD).contains(n))
            .and_then(std::num::NonZeroU64::new)
            .ok_or_else(|| {
                Error::invalid(
                    "invalid_period",
                    Text::new("err-period-invalid")
                        .arg("min", MIN_PERIOD)
                        .arg("max", MAX_PERIOD),
                )
            })?,
    };
    Ok((algorithm, digits, period))
}

/// The shortest and longest TOTP steps an enrolment may ask for, in seconds.
const MIN_PERIOD: u64 = 15;
const MAX_PERIOD: u64 = 300;

/// What an authenticator app scans for `secret`: the key URI (issuer from the settings, the
/// factor's parameters) and its QR code.
fn key_enrollment(
    settings: &crate::settings::Settings,
    username: &str,
    secret: &Secret,
    kind: OtpKind,
    algorithm: Algorithm,
    digits: Digits,
) -> Result<TotpEnrollment> {
    // The label format has no room for a colon; an issuer setting with one is shown with a space
    // instead.
    let issuer = settings.issuer().replace(':', " ");
    let uri = KeyUri {
        kind,
        issuer: Some(issuer),
        account: username.to_owned(),
        secret: secret.clone(),
        algorithm,
        digits,
    }
    .to_uri()
    .map_err(|e| Error::internal(&e))?;
    let qr_svg = twofold_otp::qr::svg(&uri).map_err(|e| Error::internal(&e))?;
    Ok(TotpEnrollment {
        secret_base32: secret.to_base32(),
        otpauth_uri: uri,
        qr_svg,
    })
}

fn default_label(kind: FactorKind) -> &'static str {
    match kind {
        FactorKind::Totp => "Authenticator app",
        FactorKind::Email => "Email",
        FactorKind::Sms => "Phone",
        FactorKind::Yubikey => "YubiKey",
        FactorKind::Duo => "Duo",
        FactorKind::Webauthn => "Security key",
        FactorKind::Hotp => "Token",
    }
}

fn no_factor() -> Error {
    Error::not_found("factor_not_found", Text::new("err-factor-not-found"))
}

pub(crate) fn wrong_code() -> Error {
    Error::invalid("invalid_code", Text::new("err-code-wrong"))
}

/// The factor is confirmed already: what only a pending one may do is refused.
fn already_confirmed() -> Error {
    Error::conflict(
        "already_confirmed",
        Text::new("err-factor-already-confirmed"),
    )
}
