//! Flow tests of `twofold_core::Service` in process: the service over a fresh SQLite file, a
//! clock the test moves by hand and a mailer that keeps what it is given, with no HTTP and no
//! waiting. Each test drives a flow through the service's public methods and checks both its
//! answers and what it left behind: the user's counts and lock, the factor's stored step and
//! drift, the backup codes, and the audit records.
//!
//! They live in the store crate because they need a real store, and `twofold-store` depends on
//! `twofold-core`, not the other way round.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup;
mod concurrency;
mod email;
mod forward;
mod lockout;
mod remember;
mod step_up;
mod totp;

use std::sync::{Arc, Mutex};

use twofold_core::audit::{AuditFilter, AuditRecord, Context};
use twofold_core::clock::{Clock, ManualClock};
use twofold_core::code::Code;
use twofold_core::crypto::{MasterKey, OsRng};
use twofold_core::delivery::{
    DeliveryError, EmailConfig, EmailMessage, Mailer, SmsConfig, SmsSender,
};
use twofold_core::factor::FactorKind;
use twofold_core::factor::{FactorData, TotpData};
use twofold_core::identity::Username;
use twofold_core::service::{
    CodeSent, Confirmed, Enrollment, FactorRequest, NewUserRequest, UserView, ValidateRequest,
    Validation,
};
use twofold_core::{Error, Service};
use twofold_otp::{KeyUri, Totp};

/// Where every test's clock starts: the first second of a 30-second TOTP step.
pub(crate) const START: i64 = 1_700_000_010;

/// The one password the tests' users have.
pub(crate) const PASSWORD: &str = "correct horse battery";

/// A service over a fresh SQLite file, with the clock and the mailer the test controls.
pub(crate) struct Flow {
    pub(crate) service: Arc<Service>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) outbox: Arc<Outbox>,
    /// Kept for the life of the test: the database file lives in it.
    _dir: tempfile::TempDir,
}

/// A TOTP factor the test enrolled, with the authenticator app's side of it.
pub(crate) struct Device {
    /// The factor id.
    pub(crate) id: String,
    /// What the app computes codes with (from the key URI the enrolment showed).
    pub(crate) totp: Totp,
    /// The backup codes the confirmation returned, as displayed.
    pub(crate) backup_codes: Vec<String>,
}

/// The delivery adapters of the tests: every email and SMS is kept, none leaves.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    emails: Mutex<Vec<EmailMessage>>,
    sms: Mutex<Vec<(String, String)>>,
}

#[async_trait::async_trait]
impl Mailer for Outbox {
    async fn send(&self, _: &EmailConfig, message: &EmailMessage) -> Result<(), DeliveryError> {
        self.emails.lock().unwrap().push(message.clone());
        Ok(())
    }
}

#[async_trait::async_trait]
impl SmsSender for Outbox {
    async fn send(&self, _: &SmsConfig, to: &str, text: &str) -> Result<(), DeliveryError> {
        self.sms
            .lock()
            .unwrap()
            .push((to.to_owned(), text.to_owned()));
        Ok(())
    }
}

impl Outbox {
    /// Every email sent so far, oldest first.
    pub(crate) fn emails(&self) -> Vec<EmailMessage> {
        self.emails.lock().unwrap().clone()
    }
}

/// The first run of six digits in `text`: the code a code email carries.
pub(crate) fn code_in(text: &str) -> String {
    let digits: Vec<char> = text.chars().collect();
    digits
        .windows(6)
        .enumerate()
        .find(|(i, w)| {
            w.iter().all(char::is_ascii_digit)
                && (*i == 0 || !digits[i - 1].is_ascii_digit())
                && digits.get(i + 6).is_none_or(|c| !c.is_ascii_digit())
        })
        .map(|(_, w)| w.iter().collect())
        .expect("a six-digit code in the message")
}

/// The operator at the command line: every flow is allowed to it.
pub(crate) fn cli() -> Context {
    Context::cli()
}

impl Flow {
    /// A migrated SQLite database in a new temporary directory, and a service over it whose
    /// clock shows [`START`].
    pub(crate) async fn new() -> Flow {
        Self::with_access(twofold_core::access::Access::default()).await
    }

    /// The same, with forward authentication's rules and redirects.
    pub(crate) async fn with_access(access: twofold_core::access::Access) -> Flow {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("f.db").display());
        let store = twofold_store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(ManualClock::new(START));
        let outbox = Arc::new(Outbox::default());
        let service = Service::new(
            store,
            Arc::new(MasterKey::from_bytes([7; 32])),
            Arc::new(OsRng),
            clock.clone(),
            "flows.test".into(),
        )
        .with_delivery(outbox.clone(), outbox.clone())
        .with_access(access);
        Flow {
            service: Arc::new(service),
            clock,
            outbox,
            _dir: dir,
        }
    }

    /// Runs SQL statements on the database directly, as another node (or a trigger standing
    /// for one) would write between two steps of a flow.
    pub(crate) async fn sql(&self, statements: &str) {
        let url = format!("sqlite://{}", self._dir.path().join("f.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::raw_sql(statements).execute(&pool).await.unwrap();
        pool.close().await;
    }

    /// The number the SQL query (one integer column, one row) answers.
    pub(crate) async fn count(&self, query: &str) -> i64 {
        let url = format!("sqlite://{}", self._dir.path().join("f.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(query).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }

    /// Sets owner settings, as the CLI would.
    pub(crate) async fn set(&self, changes: &[(&str, &str)]) {
        let changes: Vec<(String, String)> = changes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.service.set_settings(&cli(), &changes).await.unwrap();
    }

    /// The current Unix time on the test's clock.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Moves the clock.
    pub(crate) fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
    }

    /// Creates a client with an email address and a password.
    pub(crate) async fn user(&self, name: &str) {
        let email = format!("{name}@example.com");
        self.service
            .create_user(
                &cli(),
                &NewUserRequest {
                    username: name,
                    email: Some(&email),
                    password: Some(PASSWORD),
                    ..NewUserRequest::default()
                },
            )
            .await
            .unwrap();
    }

    /// Enrols a TOTP factor for `name` and confirms it with the code of the current step, as a
    /// user scanning the QR code would.
    pub(crate) async fn totp_device(&self, name: &str) -> Device {
        let enrollment = self.enroll(name, FactorKind::Totp).await.unwrap();
        let uri = enrollment.totp.expect("a TOTP enrolment shows a key URI");
        let totp = KeyUri::parse(&uri.otpauth_uri)
            .unwrap()
            .to_totp()
            .expect("a TOTP key URI");
        let id = enrollment.factor.id.to_string();
        let code = code_at(&totp, self.now());
        let confirmed = self.confirm(name, &id, &code).await.unwrap();
        assert!(confirmed.factor.confirmed);
        Device {
            id,
            totp,
            backup_codes: confirmed
                .backup_codes
                .expect("the first factor comes with backup codes"),
        }
    }

    /// Adds a pending factor of `kind` to `name`'s account, as the CLI would.
    pub(crate) async fn enroll(&self, name: &str, kind: FactorKind) -> Result<Enrollment, Error> {
        self.service
            .enroll(&cli(), &username(name), kind, None)
            .await
    }

    /// Confirms a pending factor with a code from it.
    pub(crate) async fn confirm(
        &self,
        name: &str,
        factor: &str,
        code: &str,
    ) -> Result<Confirmed, Error> {
        let request = FactorRequest::parse(name, factor)?;
        self.service
            .confirm(&cli(), &request, Code::parse(code)?)
            .await
    }

    /// Sends `name` a login code by email.
    pub(crate) async fn send_email_code(&self, name: &str) -> Result<CodeSent, Error> {
        self.service
            .send_code(&cli(), &username(name), FactorKind::Email)
            .await
    }

    /// The user's backup codes as displayed, each with whether it was used.
    pub(crate) async fn backup_codes(&self, name: &str) -> Vec<(String, bool)> {
        self.service
            .view_backup_codes(&cli(), &username(name))
            .await
            .unwrap()
    }

    /// Validates `code` for `name` with no method named, as `POST /api/v1/validate` would.
    pub(crate) async fn validate(&self, name: &str, code: &str) -> Result<Validation, Error> {
        validate(&self.service, name, code, None).await
    }

    /// Validates a code that must get an answer (not an error).
    pub(crate) async fn check(&self, name: &str, code: &str) -> Validation {
        self.validate(name, code).await.unwrap()
    }

    /// The user's count of failed attempts and the end of their lock, as stored.
    pub(crate) async fn failures(&self, name: &str) -> (i64, Option<i64>) {
        let user = self.view(name).await.user;
        (user.failed_attempts, user.locked_until)
    }

    /// The user as the admin area shows them, with their factors.
    pub(crate) async fn view(&self, name: &str) -> UserView {
        self.service.user_view(&username(name)).await.unwrap()
    }

    /// The stored TOTP data of one factor.
    pub(crate) async fn totp_data(&self, name: &str, factor: &str) -> TotpData {
        let view = self.view(name).await;
        let f = view
            .factors
            .into_iter()
            .find(|f| f.id.as_str() == factor)
            .expect("the factor");
        match f.data {
            FactorData::Totp(t) => t,
            other => panic!("not a TOTP factor: {other:?}"),
        }
    }

    /// The audit records about `name`, oldest first.
    pub(crate) async fn audit(&self, name: &str) -> Vec<AuditRecord> {
        let mut records = self
            .service
            .audit_log(&AuditFilter {
                subject: Some(name.to_owned()),
                limit: 1000,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        records.reverse();
        records
    }

    /// The audit records about `name` after the first `skip`, as (event, detail) pairs.
    pub(crate) async fn audit_since(&self, name: &str, skip: usize) -> Vec<(String, String)> {
        self.audit(name)
            .await
            .into_iter()
            .skip(skip)
            .map(|r| (r.event, r.detail))
            .collect()
    }
}

/// The code an authenticator app shows at `time`.
pub(crate) fn code_at(totp: &Totp, time: i64) -> String {
    totp.generate(u64::try_from(time).unwrap())
        .unwrap()
        .to_string()
}

/// The code of one step.
pub(crate) fn code_of_step(totp: &Totp, step: u64) -> String {
    totp.generate_step(step).to_string()
}

/// The step of `time`.
pub(crate) fn step_at(totp: &Totp, time: i64) -> u64 {
    totp.step_at(u64::try_from(time).unwrap()).unwrap()
}

/// Six digits that match no step within 12 of the current one (the window and any learned
/// drift), so that they are a wrong code whatever the test did before.
pub(crate) fn wrong_code(totp: &Totp, time: i64) -> String {
    let step = step_at(totp, time);
    let near: Vec<String> = (step - 12..=step + 12)
        .map(|s| code_of_step(totp, s))
        .collect();
    (0..1000u32)
        .map(|n| format!("{:06}", 123_457 + n * 7919))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// (event, detail) pairs to compare with [`Flow::audit_since`].
pub(crate) fn pairs(records: &[(&str, String)]) -> Vec<(String, String)> {
    records
        .iter()
        .map(|(e, d)| ((*e).to_owned(), d.clone()))
        .collect()
}

/// A username the tests know to be valid.
pub(crate) fn username(name: &str) -> Username {
    Username::parse(name).unwrap()
}

/// A code as a form would pass it on: parsed, its refusal left for the flow to answer.
pub(crate) fn typed(code: &str) -> Option<Result<Code, Error>> {
    Code::parse_given(Some(code))
}

/// Validates `code` for `name`, restricted to `method` if one is named, as the API would.
pub(crate) async fn validate(
    service: &Service,
    name: &str,
    code: &str,
    method: Option<&str>,
) -> Result<Validation, Error> {
    let request = ValidateRequest::parse(name, Some(code), method)?;
    service.validate(&cli(), request).await
}
