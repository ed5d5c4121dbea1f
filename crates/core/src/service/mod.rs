//! The flows: everything the API, the portal and the CLI can ask of Twofold, each a method of
//! [`Service`]. Each flow parses its input into domain types first, changes nothing when that
//! fails, and writes its audit record.

use std::sync::Arc;

use crate::audit::{AuditEvent, Context, NewAudit};
use crate::clock::Clock;
use crate::crypto::{MasterKey, Rng};
use crate::delivery::{DeliveryError, EmailConfig, EmailMessage, Mailer, SmsConfig, SmsSender};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::store::{Store, StoredValue, User};

mod admin;
mod attempt;
mod codes;
mod duo;
mod factors;
mod forward;
mod hotp;
mod import;
mod login;
mod offers;
mod radius;
mod rekey;
mod remember;
mod requests;
mod users;
mod validate;
mod webauthn;
mod yubikey;

pub use crate::settings::MASK;
pub use admin::SETUP_TTL_SECONDS;
pub use codes::{CODE_ATTEMPTS, CodeSent, SEND_GAP, SENDS_PER_HOUR, mask};
pub use duo::{
    DUO_PUSH_TIMEOUT, DUO_STATE_TTL, DuoCallback, DuoCheck, DuoRefusal, DuoStart, DuoTest,
    duo_unreachable,
};
pub use factors::{Confirmed, Enrollment, TotpEnrollment};
pub use forward::{ForwardAnswer, Identity, Resume};
pub use hotp::RESYNC_RANGE as HOTP_RESYNC_RANGE;
pub use import::{
    IMPORT_BATCH_KEYS, IMPORT_PERIODS, ImportFormat, ImportedKey, KeyFileParser, KeyImportOptions,
    KeyImportReport, MAX_IMPORT_KEYS, MAX_IMPORT_LINE, MAX_IMPORT_PROBLEMS, MAX_PBKDF2_ITERATIONS,
    MAX_PSKC_BYTES, MAX_SCRATCH_CODES, MIN_SECRET_BYTES, ParsedKeys, PskcKey, parse_pskc,
};
pub use login::{
    DEVICE_DAYS, ENROLL_TTL, LoginStep, PENDING_TTL, PasswordLogin, STEP_UP_TTL, SecondFactor,
    SensitiveAction, SessionView, session_handle,
};
pub use offers::{CodeSender, EnrollChoices, EnrollOption, NotOffered, SecondFactorOffer};
pub use radius::{
    NewRadiusSecret, RadiusAnswer, RadiusClientView, RadiusRequest, ServedRadiusClient,
};
pub use rekey::{KeyUsage, ResealReport};
pub use remember::{Remembered, RememberedView, SignedOut, UserSessions};
pub use requests::{
    EnrollRequest, FactorRequest, OtpParams, parse_kind, parse_sending_kind, parse_username,
};
pub use users::{
    MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, NewUserRequest, UserChanges, UserView, check_password,
};
pub use validate::{Method, Reason, ValidateRequest, Validation};
pub use webauthn::{CHALLENGE_TTL, Channel, MAX_CREDENTIAL_JSON};
pub use yubikey::{
    ImportOptions, ImportReport, NewClientCredentials, WsapiClientView, YubikeyHolder,
    YubikeySecret,
};

/// The most drift a factor may learn, in steps each way (5 minutes at 30 s).
pub const MAX_DRIFT_STEPS: i64 = 10;
/// The most factors (pending included) a user may hold.
pub const MAX_FACTORS: usize = 20;

/// The service: the flows over the ports.
pub struct Service {
    store: Arc<dyn Store>,
    key: Arc<MasterKey>,
    rng: Arc<dyn Rng>,
    clock: Arc<dyn Clock>,
    hostname: String,
    mailer: Arc<dyn Mailer>,
    sms: Arc<dyn SmsSender>,
    yubico: Arc<dyn crate::yubico::YubicoVerifier>,
    duo: Arc<dyn crate::duo::Duo>,
    /// The one settings cache every reader goes through: every request needs them, and they
    /// change rarely. Changes made here clear it at once; changes by another process (a node,
    /// the CLI) apply at the next [`Service::settings`], or within [`SETTINGS_TTL`] seconds on
    /// the hot path.
    settings_cache: std::sync::RwLock<Option<CachedSettings>>,
    /// `ui.language` as last read (an index into [`crate::i18n::Lang::ALL`]; `u8::MAX` before the
    /// first read): every request's language falls back to it, without waiting for the database.
    default_lang: std::sync::atomic::AtomicU8,
    /// The sealing key this process last met, and when (Unix time): for a code's lifetime after
    /// a rotation, codes are also looked up under the previous key.
    sealing_key_seen: std::sync::Mutex<(crate::crypto::KeyId, i64)>,
    /// When this process last purged the validation server's old requests (Unix seconds).
    wsapi_purged_at: std::sync::atomic::AtomicI64,
    /// When this process last purged expired sessions, throttle keys and device cookies.
    login_purged_at: std::sync::atomic::AtomicI64,
    /// When this process last purged expired RADIUS challenges.
    radius_purged_at: std::sync::atomic::AtomicI64,
    /// When this process last purged expired WebAuthn challenges.
    webauthn_purged_at: std::sync::atomic::AtomicI64,
    /// Where the portal is served: WebAuthn's origin and default relying party ID.
    public_origin: std::sync::OnceLock<webauthn::PublicOrigin>,
    /// Argon2 runs here, off the request threads.
    passwords: crate::hashing::PasswordPool,
    /// Forward authentication's rules and where sign-ins may send browsers back to.
    access: crate::access::Access,
}

/// How long another node's settings change may take to apply here, in seconds.
pub const SETTINGS_TTL: i64 = 2;

/// The settings as last read: the stored rows they were built from, when they were last read or
/// checked (Unix seconds), and the view every reader shares (whose secrets, once opened by a
/// flow, stay opened for as long as the rows are unchanged).
struct CachedSettings {
    rows: Vec<(String, StoredValue)>,
    at: i64,
    settings: Arc<Settings>,
}

/// The delivery adapters of a service built without any: every send fails with a clear error.
#[derive(Debug)]
struct NoDelivery;

#[async_trait::async_trait]
impl Mailer for NoDelivery {
    async fn send(
        &self,
        _: &EmailConfig,
        _: &EmailMessage,
    ) -> std::result::Result<(), DeliveryError> {
        Err(DeliveryError::new(crate::i18n::Text::new(
            "err-email-not-set-up",
        )))
    }
}

#[async_trait::async_trait]
impl SmsSender for NoDelivery {
    async fn send(
        &self,
        _: &SmsConfig,
        _: &str,
        _: &str,
    ) -> std::result::Result<(), DeliveryError> {
        Err(DeliveryError::new(crate::i18n::Text::new(
            "err-sms-not-set-up",
        )))
    }
}

#[async_trait::async_trait]
impl crate::yubico::YubicoVerifier for NoDelivery {
    async fn verify(
        &self,
        _: &crate::yubico::YubicoServerConfig,
        _: &str,
    ) -> std::result::Result<Option<twofold_otp::yubico::Counter>, crate::yubico::YubicoRefusal>
    {
        Err(crate::yubico::YubicoRefusal::Misconfigured(
            "no validation-server client is set up on this server.".into(),
        ))
    }
}

/// A service built without a Duo client refuses every Duo call.
#[async_trait::async_trait]
impl crate::duo::Duo for NoDelivery {
    async fn health_check(
        &self,
        _: &crate::duo::DuoWebConfig,
    ) -> std::result::Result<(), crate::duo::DuoError> {
        Err(no_duo())
    }

    fn authorize_url(
        &self,
        _: &crate::duo::DuoWebConfig,
        _: &str,
        _: &str,
        _: &str,
        _: &str,
    ) -> std::result::Result<String, crate::duo::DuoError> {
        Err(no_duo())
    }

    async fn exchange_code(
        &self,
        _: &crate::duo::DuoWebConfig,
        _: &str,
        _: &str,
        _: &str,
        _: &str,
    ) -> std::result::Result<(), crate::duo::DuoError> {
        Err(no_duo())
    }

    async fn auth_check(
        &self,
        _: &crate::duo::DuoAuthConfig,
    ) -> std::result::Result<(), crate::duo::DuoError> {
        Err(no_duo())
    }

    async fn preauth(
        &self,
        _: &crate::duo::DuoAuthConfig,
        _: &str,
    ) -> std::result::Result<crate::duo::Preauth, crate::duo::DuoError> {
        Err(no_duo())
    }

    async fn push(
        &self,
        _: &crate::duo::DuoAuthConfig,
        _: &str,
        _: std::time::Duration,
    ) -> std::result::Result<crate::duo::AuthOutcome, crate::duo::DuoError> {
        Err(no_duo())
    }

    async fn passcode(
        &self,
        _: &crate::duo::DuoAuthConfig,
        _: &str,
        _: &str,
    ) -> std::result::Result<crate::duo::AuthOutcome, crate::duo::DuoError> {
        Err(no_duo())
    }
}

fn no_duo() -> crate::duo::DuoError {
    crate::duo::DuoError::Refused("Duo is not set up on this server.".into())
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("hostname", &self.hostname)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Wires the ports. `hostname` is what the issuer defaults to.
    pub fn new(
        store: Arc<dyn Store>,
        key: Arc<MasterKey>,
        rng: Arc<dyn Rng>,
        clock: Arc<dyn Clock>,
        hostname: String,
    ) -> Self {
        // When this process started the rotation may be moments old: counted from now.
        let sealing_key_seen = std::sync::Mutex::new((key.ids()[0], clock.now()));
        Service {
            sealing_key_seen,
            store,
            key,
            rng,
            clock,
            hostname,
            mailer: Arc::new(NoDelivery),
            sms: Arc::new(NoDelivery),
            yubico: Arc::new(NoDelivery),
            duo: Arc::new(NoDelivery),
            settings_cache: std::sync::RwLock::new(None),
            default_lang: std::sync::atomic::AtomicU8::new(u8::MAX),
            wsapi_purged_at: std::sync::atomic::AtomicI64::new(0),
            login_purged_at: std::sync::atomic::AtomicI64::new(0),
            radius_purged_at: std::sync::atomic::AtomicI64::new(0),
            webauthn_purged_at: std::sync::atomic::AtomicI64::new(0),
            public_origin: std::sync::OnceLock::new(),
            passwords: crate::hashing::PasswordPool::for_this_machine(),
            access: crate::access::Access::default(),
        }
    }

    /// Plugs in forward authentication's rules and the redirects sign-ins may follow.
    #[must_use]
    pub fn with_access(mut self, access: crate::access::Access) -> Self {
        self.access = access;
        self
    }

    /// Plugs in the email and SMS adapters.
    #[must_use]
    pub fn with_delivery(mut self, mailer: Arc<dyn Mailer>, sms: Arc<dyn SmsSender>) -> Self {
        self.mailer = mailer;
        self.sms = sms;
        self
    }

    /// Plugs in the client of YubiKey validation servers (`methods.yubikey.mode = server`).
    #[must_use]
    pub fn with_yubico(mut self, yubico: Arc<dyn crate::yubico::YubicoVerifier>) -> Self {
        self.yubico = yubico;
        self
    }

    /// Plugs in the client of Duo Security (the Universal Prompt and the Auth API).
    #[must_use]
    pub fn with_duo(mut self, duo: Arc<dyn crate::duo::Duo>) -> Self {
        self.duo = duo;
        self
    }

    /// The CSRF token of forms bound to `binding`.
    pub fn csrf_token(&self, binding: &str) -> String {
        self.key.csrf_token(binding)
    }

    /// Whether a form's CSRF token matches its binding.
    pub fn csrf_ok(&self, binding: &str, token: &str) -> bool {
        self.key.csrf_ok(binding, token)
    }

    /// A new random id (64 hex characters), for cookies.
    pub fn random_id(&self) -> String {
        crate::crypto::random_token(self.rng.as_ref(), "", 32)
    }

    /// The store, for health checks.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The current Unix time from the service's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// `ui.language`: the language of readers who chose none and whose browser asks for none
    /// Twofold speaks. The value last read by any flow of this process, so asking never waits
    /// for the database (every request asks); only before the first read are the settings read
    /// here.
    pub async fn default_language(&self) -> crate::i18n::Lang {
        use std::sync::atomic::Ordering;
        let known = self.default_lang.load(Ordering::Relaxed);
        if let Some(lang) = crate::i18n::Lang::ALL.get(usize::from(known)) {
            return *lang;
        }
        self.settings_cached()
            .await
            .map(|s| s.language())
            .unwrap_or_default()
    }

    /// Remembers `ui.language` from settings just read.
    fn note_language(&self, settings: &Settings) {
        let lang = settings.language();
        let index = crate::i18n::Lang::ALL
            .iter()
            .position(|l| *l == lang)
            .unwrap_or(0);
        self.default_lang.store(
            u8::try_from(index).unwrap_or(0),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The settings for the hot path (`validate`, sessions): the cached view as read or
    /// checked at most [`SETTINGS_TTL`] seconds ago, without a database read.
    pub(crate) async fn settings_cached(&self) -> Result<Arc<Settings>> {
        let now = self.now();
        if let Ok(cache) = self.settings_cache.read()
            && let Some(c) = cache.as_ref()
            && (0..SETTINGS_TTL).contains(&(now - c.at))
        {
            return Ok(c.settings.clone());
        }
        self.settings().await
    }

    /// The owner's settings with defaults filled in, as stored now: one read of the stored rows,
    /// checked against the cache, whose view is kept while they are unchanged. Secrets stay
    /// sealed until a flow asks for one.
    pub async fn settings(&self) -> Result<Arc<Settings>> {
        let now = self.now();
        let rows = self.store.settings().await?;
        let Ok(mut cache) = self.settings_cache.write() else {
            return Ok(Arc::new(Settings::from_stored(
                rows,
                &self.hostname,
                self.key.clone(),
            )));
        };
        if let Some(c) = cache.as_mut()
            && c.rows == rows
        {
            c.at = now;
            return Ok(c.settings.clone());
        }
        let settings = Arc::new(Settings::from_stored(
            rows.clone(),
            &self.hostname,
            self.key.clone(),
        ));
        self.note_language(&settings);
        *cache = Some(CachedSettings {
            rows,
            at: now,
            settings: settings.clone(),
        });
        Ok(settings)
    }

    /// Forgets the cached settings (after a change on this node).
    pub(crate) fn forget_settings(&self) {
        if let Ok(mut cache) = self.settings_cache.write() {
            *cache = None;
        }
    }

    async fn user_by_name(&self, username: &crate::identity::Username) -> Result<User> {
        self.store
            .user_by_name(&username.key())
            .await?
            .ok_or_else(Error::no_user)
    }

    /// The audit record of `event` by `ctx`'s actor, now.
    fn audit_record(
        &self,
        ctx: &Context,
        subject: Option<&str>,
        event: AuditEvent,
        detail: String,
    ) -> NewAudit {
        NewAudit {
            at: self.now(),
            actor: ctx.actor.to_stored(),
            subject: subject.map(str::to_owned),
            event,
            ip: ctx.ip.clone(),
            detail: match &ctx.actor {
                crate::audit::Actor::Radius { nas, .. } if !nas.is_empty() => {
                    if detail.is_empty() {
                        nas.clone()
                    } else {
                        format!("{detail} {nas}")
                    }
                }
                _ => detail,
            },
        }
    }

    async fn audit(&self, ctx: &Context, subject: Option<&str>, event: AuditEvent, detail: String) {
        let record = self.audit_record(ctx, subject, event, detail);
        if let Err(e) = self.store.insert_audit(&record).await {
            // The operation itself has happened; losing its record is logged loudly.
            tracing::error!(error = %e, event = event.as_str(), "could not write the audit record");
        }
    }
}

/// The factors that can log a user in: confirmed, of a method active and enabled for their
/// role, and none while 2FA is off server-wide. `validate` and the second-factor page both use
/// this one rule.
pub(crate) fn usable(
    settings: &Settings,
    role: crate::identity::Role,
    factors: Vec<crate::factor::Factor>,
) -> Vec<crate::factor::Factor> {
    if !settings.twofactor_enabled() {
        return Vec::new();
    }
    factors
        .into_iter()
        .filter(|f| f.confirmed && settings.method_available(f.kind(), role))
        .collect()
}

/// A factor's secret is bound to its owner and its id: copied to another row, it does not open.
pub(crate) fn factor_secret_context(user_id: i64, id: &crate::factor::FactorId) -> String {
    format!("factor:{user_id}:{id}:secret")
}

pub(crate) fn backup_lookup_context(user_id: i64) -> String {
    format!("backup:{user_id}")
}

pub(crate) fn backup_seal_context(user_id: i64, lookup: &str) -> String {
    format!("backup:{user_id}:{lookup}")
}
