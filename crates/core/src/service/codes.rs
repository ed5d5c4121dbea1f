//! Email and SMS one-time codes: sending (rate-limited, a new code replacing the old), checking
//! (one conditional UPDATE, at most 5 tries per code), and the lockout notice.

use askama::Template;

use super::Service;
use crate::audit::{AuditEvent, Context};
use crate::delivery::{EmailConfig, EmailMessage, SmsConfig};
use crate::error::{Error, Result};
use crate::factor::{Factor, FactorData, FactorKind};
use crate::i18n::{Lang, Text};
use crate::identity::Username;
use crate::settings::Settings;
use crate::store::{Challenge, User};

/// Seconds between two sends of one method to one user.
pub const SEND_GAP: i64 = 30;
/// Sends of one method to one user per hour.
pub const SENDS_PER_HOUR: i64 = 10;
/// Wrong tries a code survives.
pub const CODE_ATTEMPTS: i64 = 5;

/// Where a code went, masked for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSent {
    /// `a•••@example.com` or `+44•••••••0958`.
    pub to: String,
    /// The factor it was sent for.
    pub factor_id: String,
}

/// The words of a code message, in the recipient's language.
struct CodeWords<'a> {
    lang: &'a str,
    subject: &'a str,
    intro: &'a str,
    code: &'a str,
    validity: &'a str,
}

#[derive(Template)]
#[template(path = "code.txt", escape = "none")]
struct CodeText<'a> {
    intro: &'a str,
    code: &'a str,
    validity: &'a str,
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodeHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    intro: &'a str,
    code: &'a str,
    validity: &'a str,
}

impl CodeWords<'_> {
    fn text(&self) -> CodeText<'_> {
        CodeText {
            intro: self.intro,
            code: self.code,
            validity: self.validity,
        }
    }

    fn html(&self) -> CodeHtml<'_> {
        CodeHtml {
            lang: self.lang,
            subject: self.subject,
            intro: self.intro,
            code: self.code,
            validity: self.validity,
        }
    }
}

#[derive(Template)]
#[template(path = "lockout.txt", escape = "none")]
struct LockoutText<'a> {
    greeting: &'a str,
    body: &'a str,
    advice: &'a str,
}

#[derive(Template)]
#[template(path = "lockout.html")]
struct LockoutHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    greeting: &'a str,
    body: &'a str,
    advice: &'a str,
}

/// The language of what is sent to `user`: their own choice, else the owner's `ui.language`.
fn recipient_language(user: &User, settings: &Settings) -> Lang {
    user.language().unwrap_or_else(|| settings.language())
}

/// The message ids of a code message: subject, first line and SMS, for a `"login"` or a
/// `"verification"` code.
fn code_ids(purpose: &str) -> [&'static str; 3] {
    if purpose == "verification" {
        [
            "mail-code-subject-verification",
            "mail-code-intro-verification",
            "sms-code-verification",
        ]
    } else {
        [
            "mail-code-subject-login",
            "mail-code-intro-login",
            "sms-code-login",
        ]
    }
}

/// A code's email (subject, text and HTML) in `lang`.
fn code_email(
    lang: Lang,
    purpose: &str,
    issuer: &str,
    code: &str,
    minutes: i64,
) -> Result<(String, String, String)> {
    let [subject_id, intro_id, _] = code_ids(purpose);
    let subject = lang.t1(subject_id, "issuer", issuer);
    let words = CodeWords {
        lang: lang.tag(),
        subject: &subject,
        intro: &lang.t1(intro_id, "issuer", issuer),
        code,
        validity: &lang.t1("mail-code-validity", "minutes", minutes),
    };
    let text = render(&words.text())?;
    let html = render(&words.html())?;
    Ok((subject, text, html))
}

/// A code's SMS in `lang`.
fn code_sms(lang: Lang, purpose: &str, issuer: &str, code: &str, minutes: i64) -> String {
    let [_, _, sms_id] = code_ids(purpose);
    lang.text(
        &Text::new(sms_id)
            .arg("issuer", issuer)
            .arg("code", code)
            .arg("minutes", minutes),
    )
}

/// Masks an address or number for display.
pub fn mask(destination: &str) -> String {
    match destination.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => {
            let n = destination.chars().count();
            let head: String = destination.chars().take(3).collect();
            let tail: String = destination.chars().skip(n.saturating_sub(4)).collect();
            format!("{head}{}{tail}", "•".repeat(n.saturating_sub(7)))
        }
    }
}

/// Where a code goes, with the settings to send it.
enum Channel {
    Email(EmailConfig),
    Sms(SmsConfig),
}

fn render(t: &impl Template) -> Result<String> {
    t.render().map_err(|e| Error::internal(&e))
}

impl Service {
    pub(super) fn code_hash(&self, factor: &Factor, code: &str) -> String {
        self.key
            .lookup_hash(&format!("challenge:{}", factor.id), code.as_bytes())
    }

    /// The hashes a live code of `factor` can be stored under: the sealing key's, and for a
    /// code's lifetime (`ttl`, and a minute) after this process met a new sealing key the
    /// previous key's too (a code sent just before the rotation).
    pub(super) fn code_hashes(&self, factor: &Factor, code: &str, ttl: i64) -> Vec<String> {
        let context = format!("challenge:{}", factor.id);
        let mut hashes = self.key.lookup_hashes(&context, code.as_bytes());
        let sealing = self.key.ids()[0];
        let now = self.now();
        let since = match self.sealing_key_seen.lock() {
            Ok(mut seen) => {
                if seen.0 != sealing {
                    *seen = (sealing, now);
                }
                seen.1
            }
            Err(_) => now,
        };
        if now - since > ttl + 60 {
            hashes.truncate(1);
        }
        hashes
    }

    fn six_digits(&self) -> String {
        // Rejection sampling keeps every code equally likely.
        loop {
            let mut b = [0u8; 4];
            self.rng.fill(&mut b);
            let n = u32::from_le_bytes(b);
            if n < 4_294_000_000 {
                return format!("{:06}", n % 1_000_000);
            }
        }
    }

    /// Sends a new code for an email or SMS factor: limits first (429 with the wait), then the
    /// message; the code is stored only once it was handed over, and a failed delivery leaves no
    /// code (not even the previous one) behind.
    pub(crate) async fn deliver_code(
        &self,
        ctx: &Context,
        user: &User,
        factor: &Factor,
        settings: &Settings,
        purpose: &str,
    ) -> Result<CodeSent> {
        let kind = factor.kind();
        let destination = match &factor.data {
            FactorData::Email { address } => address.clone(),
            FactorData::Sms { phone } => phone.clone(),
            _ => {
                return Err(Error::invalid(
                    "method_not_available",
                    Text::new("err-factor-no-codes"),
                ));
            }
        };
        // The delivery settings (a secret opened) before anything is counted or sent.
        let channel = match kind {
            FactorKind::Email => Channel::Email(settings.email_config()?),
            _ => Channel::Sms(settings.sms_config()?),
        };
        let now = self.now();
        if let Some(wait) = self
            .store
            .record_send(user.id, kind.as_str(), now, SEND_GAP, SENDS_PER_HOUR)
            .await?
        {
            return Err(Error::throttled(
                u64::try_from(wait).unwrap_or(1),
                Text::new("err-code-sent-recently").arg("seconds", wait),
            ));
        }
        let code = self.six_digits();
        let ttl = settings.code_ttl_seconds();
        let minutes = (ttl + 59) / 60;
        let issuer = settings.issuer();
        let lang = recipient_language(user, settings);
        let sent = match channel {
            Channel::Email(config) => {
                let (subject, text, html) = code_email(lang, purpose, issuer, &code, minutes)?;
                let message = EmailMessage {
                    to: destination.clone(),
                    subject,
                    text,
                    html,
                };
                self.mailer.send(&config, &message).await
            }
            Channel::Sms(config) => {
                let text = code_sms(lang, purpose, issuer, &code, minutes);
                self.sms.send(&config, &destination, &text).await
            }
        };
        if let Err(e) = sent {
            self.store.delete_challenge(&factor.id).await?;
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::CodeFailed,
                format!("kind={kind} factor={}", factor.id),
            )
            .await;
            return Err(Error::unavailable("delivery_failed", e.message));
        }
        let challenge = Challenge {
            factor_id: factor.id.clone(),
            user_id: user.id,
            code_hash: self.code_hash(factor, &code),
            created_at: now,
            expires_at: now + ttl,
        };
        self.store.put_challenge(&challenge).await?;
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::CodeSent,
            format!("kind={kind} factor={}", factor.id),
        )
        .await;
        Ok(CodeSent {
            to: mask(&destination),
            factor_id: factor.id.to_string(),
        })
    }

    /// "Send me a code": a login code by email or SMS for the user's factor of that kind (a
    /// confirmed, usable one; else the newest pending one, to finish its enrolment). A kind
    /// other than email or SMS is refused (`unknown_kind`): parse it at the edge with
    /// [`super::parse_sending_kind`] before the username, to answer that refusal first.
    pub async fn send_code(
        &self,
        ctx: &Context,
        username: &Username,
        kind: FactorKind,
    ) -> Result<CodeSent> {
        if !matches!(kind, FactorKind::Email | FactorKind::Sms) {
            return Err(super::requests::not_sending());
        }
        let user = self.user_by_name(username).await?;
        let settings = self.settings().await?;
        if !settings.method_available(kind, user.role) {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-method-not-enabled-for-role").arg("method", kind.title_text()),
            ));
        }
        let factors = self.store.factors_of(user.id).await?;
        let factor = factors
            .iter()
            .find(|f| f.kind() == kind && f.confirmed)
            .or_else(|| factors.iter().rev().find(|f| f.kind() == kind))
            .ok_or_else(|| {
                Error::invalid(
                    "not_enrolled",
                    Text::new("err-user-has-no-factor").arg("method", kind.title_text()),
                )
            })?;
        let purpose = if factor.confirmed {
            "login"
        } else {
            "verification"
        };
        self.deliver_code(ctx, &user, factor, &settings, purpose)
            .await
    }

    /// "Send me a code" at the second-factor step: only for a method the page offers, a usable
    /// (confirmed, active, enabled for the role) email or SMS factor of `kind`; anything else is
    /// refused with nothing counted or sent.
    pub async fn send_login_code(
        &self,
        ctx: &Context,
        user: &User,
        kind: Option<FactorKind>,
    ) -> Result<CodeSent> {
        let settings = self.settings().await?;
        let factors = self.store.factors_of(user.id).await?;
        let usable = super::usable(&settings, user.role, factors);
        let Some(factor) = usable.iter().find(|f| {
            matches!(f.data, FactorData::Email { .. } | FactorData::Sms { .. })
                && Some(f.kind()) == kind
        }) else {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-method-not-for-account"),
            ));
        };
        self.deliver_code(ctx, user, factor, &settings, "login")
            .await
    }

    /// Checks a code against the live code of an email or SMS factor; a miss counts against
    /// that code's tries.
    pub(crate) async fn try_challenge(
        &self,
        factor: &Factor,
        code: &str,
        now: i64,
    ) -> Result<bool> {
        let ttl = self.settings_cached().await?.code_ttl_seconds();
        for hash in self.code_hashes(factor, code, ttl) {
            if self
                .store
                .consume_challenge(&factor.id, &hash, now, CODE_ATTEMPTS)
                .await?
            {
                return Ok(true);
            }
        }
        self.store.challenge_failed(&factor.id).await?;
        Ok(false)
    }

    /// Tells the user by email that their second factor was locked (best effort: a failure is
    /// logged, the lockout stands).
    pub(crate) async fn lockout_notice(&self, user: &User, until: i64) {
        let Some(to) = user.email.clone() else { return };
        let Ok(settings) = self.settings().await else {
            return;
        };
        let issuer = settings.issuer();
        let until = crate::clock::utc_display(until);
        let lang = recipient_language(user, &settings);
        let subject = lang.t1("mail-lockout-subject", "issuer", issuer);
        let greeting = lang.t1("mail-lockout-greeting", "username", user.username.as_str());
        let body = lang.t2("mail-lockout-body", "issuer", issuer, "until", until);
        let advice = lang.t("mail-lockout-advice");
        let (Ok(text), Ok(html)) = (
            LockoutText {
                greeting: &greeting,
                body: &body,
                advice: &advice,
            }
            .render(),
            LockoutHtml {
                lang: lang.tag(),
                subject: &subject,
                greeting: &greeting,
                body: &body,
                advice: &advice,
            }
            .render(),
        ) else {
            return;
        };
        let message = EmailMessage {
            to,
            subject,
            text,
            html,
        };
        let Ok(config) = settings.email_config() else {
            tracing::warn!("could not open the SMTP password for the lockout notice");
            return;
        };
        if let Err(e) = self.mailer.send(&config, &message).await {
            tracing::warn!(error = %e, "could not send the lockout notice");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_little() {
        assert_eq!(mask("alice@example.com"), "a•••@example.com");
        assert_eq!(mask("+442079460958"), "+44••••••0958");
    }

    /// Every code message exists in every language, carries the code and the issuer, states
    /// its minutes, and the HTML names its language.
    #[test]
    fn code_messages_in_every_language() {
        for lang in Lang::ALL {
            for purpose in ["login", "verification"] {
                let (subject, text, html) =
                    code_email(lang, purpose, "Acme", "123456", 10).unwrap();
                let sms = code_sms(lang, purpose, "Acme", "123456", 10);
                let [subject_id, intro_id, sms_id] = code_ids(purpose);
                for id in [subject_id, intro_id, sms_id, "mail-code-validity"] {
                    assert!(lang.has(id), "{lang}: {id}");
                }
                assert!(subject.contains("Acme"), "{lang}: {subject}");
                for body in [&text, &html, &sms] {
                    assert!(
                        body.contains("123456") && body.contains("10"),
                        "{lang}: {body}"
                    );
                }
                assert!(html.contains(&format!("<html lang=\"{}\"", lang.tag())));
            }
        }
        let (subject, text, _) = code_email(Lang::En, "login", "Acme", "123456", 10).unwrap();
        assert_eq!(subject, "Your Acme login code");
        assert!(text.starts_with("Your Acme login code is:"), "{text}");
        assert!(text.contains("It works once and for 10 minutes."), "{text}");
        let (subject, _, _) = code_email(Lang::De, "verification", "Acme", "1", 1).unwrap();
        assert_ne!(subject, "Your Acme verification code");
        assert_eq!(
            code_sms(Lang::En, "login", "Acme", "123456", 1),
            "Your Acme login code is 123456. It works once, for 1 minute."
        );
    }
}
