//! What the portal's pages offer a user, decided here so the pages only render it: the methods
//! a user may enrol (and why others are not offered), and what the second-factor page offers
//! (the methods, the "Send me a code" buttons, Duo, the help under the code box).

use super::Service;
use super::codes::mask;
use crate::error::Result;
use crate::factor::{Factor, FactorData, FactorKind};
use crate::i18n::Text;
use crate::identity::Role;
use crate::settings::Settings;
use crate::store::User;

/// The methods enrolment offers, in the order the page lists them. Counter-based tokens (HOTP)
/// are not among them: an administrator adds one through the API with the token's parameters.
pub(crate) const ENROLLABLE: [FactorKind; 6] = [
    FactorKind::Totp,
    FactorKind::Email,
    FactorKind::Sms,
    FactorKind::Yubikey,
    FactorKind::Duo,
    FactorKind::Webauthn,
];

/// Why a method is not offered at enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotOffered {
    /// The method is off, or not enabled for the user's role.
    NotEnabled,
    /// Email: the account has no address to send to.
    NoEmail,
    /// SMS: the account has no phone number to send to.
    NoPhone,
    /// Duo: the Web SDK application (which enrolment goes through) is not set.
    DuoNotSetUp,
    /// Security keys: the server has no host name for them (its public URL is an address).
    WebauthnNotSetUp,
}

impl NotOffered {
    /// A sentence for the user.
    pub fn message(self) -> &'static str {
        match self {
            NotOffered::NotEnabled => "This method is not enabled for your account.",
            NotOffered::NoEmail => "Your account has no email address to send codes to.",
            NotOffered::NoPhone => "Your account has no phone number to send codes to.",
            NotOffered::DuoNotSetUp => "Duo is not set up on this server.",
            NotOffered::WebauthnNotSetUp => {
                "Security keys need the server's public URL to be a host name."
            }
        }
    }
}

/// One method on the enrolment page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollOption {
    /// The method.
    pub kind: FactorKind,
    /// `None` when the user may enrol it, else why not.
    pub not_offered: Option<NotOffered>,
    /// What the method is, for this user (where codes would go, masked).
    pub help: Text,
}

impl EnrollOption {
    /// Whether the user may enrol this method.
    pub fn offered(&self) -> bool {
        self.not_offered.is_none()
    }
}

/// The enrolment page's choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollChoices {
    /// Every method enrolment knows, offered or not, in the page's order.
    pub options: Vec<EnrollOption>,
    /// A YubiKey is added with its AES key and private id (local mode).
    pub yubikey_local: bool,
}

/// A "Send me a code" button on the second-factor page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSender {
    /// Email or SMS.
    pub kind: FactorKind,
    /// The button's text, with the destination masked.
    pub text: Text,
}

/// What the second-factor page offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorOffer {
    /// The usable factors, as "Title (label)".
    pub methods: Vec<Text>,
    /// One button per method that sends codes (email, SMS).
    pub senders: Vec<CodeSender>,
    /// The help under the code box: whole sentences, shown one after the other.
    pub code_help: Vec<Text>,
    /// The code box takes digits only (no YubiKey among the factors).
    pub digits_only: bool,
    /// "Log in with Duo" is offered: Duo's API hostname (for the page's form-action).
    pub duo_host: Option<String>,
    /// "Remember this browser for N days" is offered: N (`remember.days`, when allowed for
    /// the user's role).
    pub remember_days: Option<i64>,
    /// "Use your security key or passkey" is offered (the user has one).
    pub webauthn: bool,
}

fn help(kind: FactorKind, user: &User) -> Text {
    match kind {
        FactorKind::Totp => Text::new("offer-help-totp"),
        FactorKind::Email => {
            Text::new("offer-help-email").arg("to", mask(user.email.as_deref().unwrap_or("")))
        }
        FactorKind::Sms => {
            Text::new("offer-help-sms").arg("to", mask(user.phone.as_deref().unwrap_or("")))
        }
        FactorKind::Yubikey => Text::new("offer-help-yubikey"),
        FactorKind::Duo => Text::new("offer-help-duo"),
        FactorKind::Webauthn => Text::new("offer-help-webauthn"),
        FactorKind::Hotp => Text::new("offer-help-hotp"),
    }
}

/// Code lengths: one, or the shortest and the longest.
type Lengths = (u8, Option<u8>);

/// The code lengths of the user's `kind` factors.
fn digits_of(usable: &[Factor], kind: FactorKind) -> Lengths {
    let mut lengths: Vec<u8> = usable
        .iter()
        .filter_map(|f| match &f.data {
            FactorData::Totp(t) if kind == FactorKind::Totp => Some(t.digits.get()),
            FactorData::Hotp(h) if kind == FactorKind::Hotp => Some(h.digits.get()),
            _ => None,
        })
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    match lengths.as_slice() {
        [] => (6, None),
        [one] => (*one, None),
        [first, .., last] => (*first, Some(*last)),
    }
}

/// One way to fill the code box, as a whole sentence: the first of the help's sentences
/// (`first`), or one of those after it ("Or …").
fn way(id: &'static str, first: bool, digits: Option<Lengths>) -> Text {
    let text = Text::new(id).arg("position", if first { "first" } else { "more" });
    match digits {
        None => text,
        Some((a, None)) => text.arg("digits", a).arg("other", 0),
        Some((a, Some(b))) => text.arg("digits", a).arg("other", b),
    }
}

/// The enrolment choices of `user`: a method is offered when it is enabled for their role, email
/// and SMS only with an address or number to send to, Duo only when its Web SDK application is
/// set (`duo_web`; enrolment goes through the Universal Prompt).
pub(crate) fn enroll_choices(
    settings: &Settings,
    user: &User,
    duo_web: bool,
    webauthn_ready: bool,
) -> EnrollChoices {
    let options = ENROLLABLE
        .into_iter()
        .map(|kind| {
            let not_offered = if !settings.method_available(kind, user.role) {
                Some(NotOffered::NotEnabled)
            } else {
                match kind {
                    FactorKind::Email if user.email.is_none() => Some(NotOffered::NoEmail),
                    FactorKind::Sms if user.phone.is_none() => Some(NotOffered::NoPhone),
                    FactorKind::Duo if !duo_web => Some(NotOffered::DuoNotSetUp),
                    FactorKind::Webauthn if !webauthn_ready => Some(NotOffered::WebauthnNotSetUp),
                    _ => None,
                }
            };
            EnrollOption {
                kind,
                not_offered,
                help: help(kind, user),
            }
        })
        .collect();
    EnrollChoices {
        options,
        yubikey_local: settings.yubikey_local(),
    }
}

/// What the second-factor page offers for the `usable` factors, with Duo's offer (see
/// [`Service::duo_offer`]).
pub(crate) fn second_factor_offer(
    usable: &[Factor],
    duo: Option<(Option<String>, bool)>,
) -> SecondFactorOffer {
    let methods = usable
        .iter()
        .map(|f| {
            Text::new("offer-method")
                .arg("kind", f.kind().as_str())
                .arg("label", f.label.as_str())
        })
        .collect();
    let mut senders: Vec<CodeSender> = Vec::new();
    for f in usable {
        let sender = match &f.data {
            FactorData::Email { address } => CodeSender {
                kind: FactorKind::Email,
                text: Text::new("offer-send-email").arg("to", mask(address)),
            },
            FactorData::Sms { phone } => CodeSender {
                kind: FactorKind::Sms,
                text: Text::new("offer-send-sms").arg("to", mask(phone)),
            },
            _ => continue,
        };
        if !senders.iter().any(|s| s.kind == sender.kind) {
            senders.push(sender);
        }
    }
    let has = |k: FactorKind| usable.iter().any(|f| f.kind() == k);
    let has_key = has(FactorKind::Yubikey);
    let webauthn = has(FactorKind::Webauthn);
    let (duo_host, duo_passcodes) = duo.unwrap_or((None, false));
    let mut ways: Vec<(&'static str, Option<Lengths>)> = Vec::new();
    if has(FactorKind::Totp) {
        ways.push(("offer-way-totp", Some(digits_of(usable, FactorKind::Totp))));
    }
    if has(FactorKind::Hotp) {
        ways.push(("offer-way-hotp", Some(digits_of(usable, FactorKind::Hotp))));
    }
    if !senders.is_empty() {
        ways.push(("offer-way-sent", None));
    }
    if duo_passcodes {
        ways.push(("offer-way-duo", None));
    }
    let mut code_help: Vec<Text> = Vec::new();
    if has_key {
        code_help.push(Text::new("offer-help-touch-key"));
    } else if ways.is_empty() && webauthn {
        code_help.push(Text::new("offer-help-key-or-backup"));
    } else if ways.is_empty() && duo_host.is_some() {
        code_help.push(Text::new("offer-help-duo-or-backup"));
    } else if ways.is_empty() {
        ways.push(("offer-way-sent", None));
    }
    for (i, (id, digits)) in ways.into_iter().enumerate() {
        code_help.push(way(id, i == 0 && !has_key, digits));
    }
    SecondFactorOffer {
        methods,
        senders,
        code_help,
        digits_only: !has_key,
        duo_host,
        remember_days: None,
        webauthn,
    }
}

/// Whether `role` must have a second factor: 2FA is on server-wide and forced for the role.
pub(crate) fn second_factor_required(settings: &Settings, role: Role) -> bool {
    settings.twofactor_enabled() && settings.forced(role)
}

impl Service {
    /// Whether users of `role` must have a second factor (Security Settings says so, and a
    /// login without one goes to enrolment).
    pub async fn second_factor_required(&self, role: Role) -> Result<bool> {
        Ok(second_factor_required(&*self.settings().await?, role))
    }

    /// The enrolment page's choices for `user` (see [`EnrollOption`]).
    pub async fn enroll_choices(&self, user: &User) -> Result<EnrollChoices> {
        let settings = self.settings().await?;
        let duo_web = self.duo_web_host().await?.is_some();
        let webauthn_ready = self.webauthn_ready().await?;
        Ok(enroll_choices(&settings, user, duo_web, webauthn_ready))
    }

    /// What the second-factor page offers `user`: only the methods that can log in now
    /// (confirmed, active and enabled for the role).
    pub async fn second_factor_offer(&self, user: &User) -> Result<SecondFactorOffer> {
        let usable = self.usable_factors(user).await?;
        let duo = self.duo_offer(user).await?;
        Ok(SecondFactorOffer {
            remember_days: self.remember_offer(user).await?,
            ..second_factor_offer(&usable, duo)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::crypto::MasterKey;

    fn english(texts: &[Text]) -> Vec<String> {
        texts.iter().map(Text::english).collect()
    }

    /// The code help as an English reader sees it: its sentences one after the other.
    fn help_of(offer: &SecondFactorOffer) -> String {
        english(&offer.code_help).join(" ")
    }

    /// Every method's name is in the catalogue, and the English one is the name the CLI and
    /// the API document use.
    #[test]
    fn every_method_has_its_name_in_the_catalogue() {
        for kind in FactorKind::ALL {
            assert_eq!(crate::i18n::Lang::En.t(kind.title_id()), kind.title());
            for lang in crate::i18n::Lang::ALL {
                let method = Text::new("offer-method")
                    .arg("kind", kind.as_str())
                    .arg("label", "x");
                assert_eq!(
                    lang.text(&method),
                    format!("{} (x)", lang.t(kind.title_id()))
                );
            }
        }
    }
    use crate::factor::FactorId;
    use crate::store::StoredValue;

    fn settings(values: &[(&str, &str)]) -> Settings {
        let stored = values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), StoredValue::Plain((*v).to_owned())))
            .collect();
        Settings::from_stored(
            stored,
            "host.example",
            Arc::new(MasterKey::from_bytes([7; 32])),
        )
    }

    fn user(role: Role, email: Option<&str>, phone: Option<&str>) -> User {
        User {
            id: 1,
            username: crate::identity::Username::parse("alice").unwrap(),
            role,
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            password_hash: None,
            disabled: false,
            failed_attempts: 0,
            locked_until: None,
            created_at: 0,
            language: None,
        }
    }

    fn factor(data: FactorData, label: &str) -> Factor {
        Factor {
            id: FactorId::parse(&"a".repeat(32)).unwrap(),
            user_id: 1,
            label: label.into(),
            confirmed: true,
            created_at: 0,
            last_used_at: None,
            data,
        }
    }

    fn offered(choices: &EnrollChoices) -> Vec<(FactorKind, Option<NotOffered>)> {
        choices
            .options
            .iter()
            .map(|o| (o.kind, o.not_offered))
            .collect()
    }

    #[test]
    fn enrolment_offers_what_the_role_and_the_account_allow() {
        let keys: Vec<String> = ENROLLABLE
            .iter()
            .flat_map(|k| ["active", "clients", "admins"].map(|w| format!("methods.{k}.{w}")))
            .collect();
        let values: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "true")).collect();
        let s = settings(&values);
        let bare = user(Role::Client, None, None);
        assert_eq!(
            offered(&enroll_choices(&s, &bare, false, true)),
            [
                (FactorKind::Totp, None),
                (FactorKind::Email, Some(NotOffered::NoEmail)),
                (FactorKind::Sms, Some(NotOffered::NoPhone)),
                (FactorKind::Yubikey, None),
                (FactorKind::Duo, Some(NotOffered::DuoNotSetUp)),
                (FactorKind::Webauthn, None),
            ]
        );
        // Security keys need a host name to be their relying party.
        assert_eq!(
            enroll_choices(&s, &bare, false, false).options[5].not_offered,
            Some(NotOffered::WebauthnNotSetUp)
        );
        let full = user(
            Role::Client,
            Some("alice@example.com"),
            Some("+447700900958"),
        );
        let choices = enroll_choices(&s, &full, true, true);
        assert!(choices.options.iter().all(EnrollOption::offered));
        let email = &choices.options[1];
        assert_eq!(
            email.help.english(),
            "A 6-digit code sent to a•••@example.com each time you log in."
        );
        // A method off for the role is not offered, whatever the account holds.
        let mut values = values.clone();
        values.push(("methods.sms.clients", "false"));
        let s = settings(&values);
        assert_eq!(
            enroll_choices(&s, &full, true, true).options[2].not_offered,
            Some(NotOffered::NotEnabled)
        );
        assert!(
            enroll_choices(
                &s,
                &user(Role::Admin, None, Some("+447700900958")),
                true,
                false
            )
            .options[2]
                .offered()
        );
    }

    #[test]
    fn the_second_factor_page_offers_the_usable_factors() {
        let email = factor(
            FactorData::Email {
                address: "alice@example.com".into(),
            },
            "Email",
        );
        let offer = second_factor_offer(&[email.clone(), email.clone()], None);
        assert_eq!(
            english(&offer.methods),
            ["Email codes (Email)", "Email codes (Email)"]
        );
        assert_eq!(offer.senders.len(), 1, "one button per method");
        assert_eq!(offer.senders[0].kind, FactorKind::Email);
        assert_eq!(
            offer.senders[0].text.english(),
            "Send me a code by email (a•••@example.com)"
        );
        assert_eq!(help_of(&offer), "The 6-digit code we sent you.");
        assert!(offer.digits_only && offer.duo_host.is_none());

        let duo = factor(FactorData::Duo, "Duo");
        let offer = second_factor_offer(
            std::slice::from_ref(&duo),
            Some((Some("api-x.duosecurity.com".into()), false)),
        );
        assert_eq!(
            help_of(&offer),
            "Use Log in with Duo below, or a backup code."
        );
        assert_eq!(offer.duo_host.as_deref(), Some("api-x.duosecurity.com"));
        let offer = second_factor_offer(&[duo, email], Some((None, true)));
        assert_eq!(
            help_of(&offer),
            "The 6-digit code we sent you. Or enter a passcode from Duo Mobile."
        );
        assert!(offer.duo_host.is_none() && !offer.webauthn);

        let key = factor(FactorData::Webauthn(None), "Blue key");
        let offer = second_factor_offer(std::slice::from_ref(&key), None);
        assert!(offer.webauthn);
        assert_eq!(
            help_of(&offer),
            "Use your security key or passkey, or enter a backup code."
        );
    }

    #[test]
    fn the_code_help_says_how_long_the_codes_are() {
        use crate::crypto::Sealed;
        use crate::factor::{HotpData, TotpData};
        use twofold_otp::{Algorithm, Digits};
        let totp = |digits| {
            factor(
                FactorData::Totp(TotpData {
                    secret: Sealed(Vec::new()),
                    algorithm: Algorithm::Sha1,
                    digits,
                    period: 30,
                    last_step: None,
                    drift: 0,
                }),
                "Phone",
            )
        };
        let hotp = |digits| {
            factor(
                FactorData::Hotp(HotpData {
                    secret: Sealed(Vec::new()),
                    algorithm: Algorithm::Sha1,
                    digits,
                    last_counter: None,
                }),
                "Token",
            )
        };
        let help = |f: &[Factor]| help_of(&second_factor_offer(f, None));
        assert_eq!(
            help(&[totp(Digits::SIX)]),
            "The 6-digit code your authenticator app shows now."
        );
        assert_eq!(
            help(&[totp(Digits::EIGHT)]),
            "The 8-digit code your authenticator app shows now."
        );
        assert_eq!(
            help(&[totp(Digits::EIGHT), totp(Digits::SIX)]),
            "The 6- or 8-digit code your authenticator app shows now."
        );
        assert_eq!(
            help(&[hotp(Digits::EIGHT)]),
            "The 8-digit code your token shows when you press its button."
        );
        let both = second_factor_offer(&[totp(Digits::SIX), hotp(Digits::SIX)], None);
        assert_eq!(
            help_of(&both),
            "The 6-digit code your authenticator app shows now. Or enter the 6-digit code your \
             token shows when you press its button."
        );
        assert_eq!(
            english(&both.methods),
            ["Time Based Tokens (Phone)", "Counter-based tokens (Token)"]
        );
        // In another language the sentences, the numbers and the method names follow it.
        let de = crate::i18n::Lang::De;
        let help_de: Vec<String> = both.code_help.iter().map(|t| de.text(t)).collect();
        assert!(help_de[0].starts_with("Der 6-stellige Code"), "{help_de:?}");
        assert!(
            help_de[1].starts_with("Oder geben Sie den 6-stelligen Code"),
            "{help_de:?}"
        );
        assert_eq!(de.text(&both.methods[0]), "Zeitbasierte Codes (Phone)");
        assert!(both.digits_only);
        // The portal's enrolment does not offer HOTP, whatever the settings say.
        assert!(!ENROLLABLE.contains(&FactorKind::Hotp));
    }

    #[test]
    fn a_second_factor_is_required_when_on_and_forced_for_the_role() {
        let forced = [("force.clients", "true")];
        assert!(second_factor_required(&settings(&forced), Role::Client));
        assert!(!second_factor_required(&settings(&forced), Role::Admin));
        let off = [("force.clients", "true"), ("twofactor.enabled", "false")];
        assert!(!second_factor_required(&settings(&off), Role::Client));
    }
}
