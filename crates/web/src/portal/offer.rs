//! The words of what the second-factor and enrolment pages offer, in the page's language. What
//! is offered is the core's decision ([`SecondFactorOffer`], [`EnrollOption`]); the sentences
//! are made here, at the edge that knows the reader's language, from the user's factors.

use twofold_core::factor::{Factor, FactorData, FactorKind};
use twofold_core::i18n::Lang;
use twofold_core::service::{EnrollOption, SecondFactorOffer, mask};
use twofold_core::store::User;

use super::page::kind_title;

/// The second-factor page's texts.
pub(crate) struct OfferWords {
    /// Each usable factor, as "Title (label)".
    pub(crate) methods: Vec<String>,
    /// (kind, button text) of each "Send me a code" button.
    pub(crate) senders: Vec<(String, String)>,
    /// The help under the code box.
    pub(crate) code_help: String,
}

/// The code lengths of the user's `kind` factors, as the help says them ("6", "6- or 8").
fn digits(lang: Lang, usable: &[Factor], kind: FactorKind) -> String {
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
    let mut said = lengths.iter().map(u8::to_string);
    let first = said.next().unwrap_or_else(|| "6".to_owned());
    said.fold(first, |acc, n| {
        lang.t2("code-help-digits-or", "first", acc, "next", n)
    })
}

/// `s` with its first letter upper-case (a list item that starts a sentence).
fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Where a sender's codes go: the first usable factor of its kind, masked.
fn destination(usable: &[Factor], kind: FactorKind) -> String {
    usable
        .iter()
        .find_map(|f| match &f.data {
            FactorData::Email { address } if kind == FactorKind::Email => Some(mask(address)),
            FactorData::Sms { phone } if kind == FactorKind::Sms => Some(mask(phone)),
            _ => None,
        })
        .unwrap_or_default()
}

/// The page's texts for `offer`, made from the `usable` factors it was made from;
/// `duo_passcodes`: the code box also takes a Duo Mobile passcode.
pub(crate) fn second_factor_words(
    offer: &SecondFactorOffer,
    usable: &[Factor],
    duo_passcodes: bool,
) -> OfferWords {
    let lang = crate::lang::current();
    let methods = usable
        .iter()
        .map(|f| {
            lang.t2(
                "second-factor-method",
                "method",
                kind_title(f.kind()),
                "label",
                &f.label,
            )
        })
        .collect();
    let senders: Vec<(String, String)> = offer
        .senders
        .iter()
        .map(|s| {
            let to = destination(usable, s.kind);
            let text = match s.kind {
                FactorKind::Sms => lang.t1("second-factor-send-sms", "destination", to),
                _ => lang.t1("second-factor-send-email", "destination", to),
            };
            (s.kind.as_str().to_owned(), text)
        })
        .collect();
    let has = |k: FactorKind| usable.iter().any(|f| f.kind() == k);
    let mut ways: Vec<String> = Vec::new();
    if has(FactorKind::Totp) {
        let d = digits(lang, usable, FactorKind::Totp);
        ways.push(lang.t1("code-help-totp", "digits", d));
    }
    if has(FactorKind::Hotp) {
        let d = digits(lang, usable, FactorKind::Hotp);
        ways.push(lang.t1("code-help-hotp", "digits", d));
    }
    if !senders.is_empty() {
        ways.push(lang.t("code-help-sent"));
    }
    if duo_passcodes {
        ways.push(lang.t("code-help-duo"));
    }
    let mut listed = ways.into_iter();
    let joined = listed.next().map(|first| {
        listed.fold(first, |acc, w| {
            lang.t2("code-help-or", "first", acc, "next", w)
        })
    });
    let code_help = match joined {
        Some(ways) if has(FactorKind::Yubikey) => lang.t1("code-help-key-or", "ways", ways),
        None if has(FactorKind::Yubikey) => lang.t("code-help-key"),
        None if offer.webauthn => lang.t("code-help-webauthn"),
        None if offer.duo_host.is_some() => lang.t("code-help-duo-button"),
        None => lang.t("code-help-sent-only"),
        Some(ways) => lang.t1("code-help-ways", "ways", capitalised(&ways)),
    };
    OfferWords {
        methods,
        senders,
        code_help,
    }
}

/// What a method on the enrolment page is, for `user` (where codes would go, masked).
pub(crate) fn enroll_help(option: &EnrollOption, user: &User) -> String {
    let lang = crate::lang::current();
    match option.kind {
        FactorKind::Totp => lang.t("enroll-help-totp"),
        FactorKind::Email => lang.t1(
            "enroll-help-email",
            "destination",
            mask(user.email.as_deref().unwrap_or("")),
        ),
        FactorKind::Sms => lang.t1(
            "enroll-help-sms",
            "destination",
            mask(user.phone.as_deref().unwrap_or("")),
        ),
        FactorKind::Yubikey => lang.t("enroll-help-yubikey"),
        FactorKind::Duo => lang.t("enroll-help-duo"),
        FactorKind::Webauthn => lang.t("enroll-help-webauthn"),
        FactorKind::Hotp => lang.t("enroll-help-hotp"),
    }
}

#[cfg(test)]
mod tests {
    use twofold_core::factor::{Factor, FactorData, FactorId, FactorKind};
    use twofold_core::service::{CodeSender, SecondFactorOffer};

    use super::{capitalised, second_factor_words};

    fn email_factor() -> Factor {
        Factor {
            id: FactorId::parse("0123456789abcdef0123456789abcdef").unwrap(),
            user_id: 1,
            label: "mailbox".into(),
            confirmed: true,
            created_at: 0,
            last_used_at: None,
            data: FactorData::Email {
                address: "emma@example.com".into(),
            },
        }
    }

    fn offer() -> SecondFactorOffer {
        SecondFactorOffer {
            methods: vec![],
            senders: vec![CodeSender {
                kind: FactorKind::Email,
                text: String::new(),
            }],
            code_help: String::new(),
            digits_only: true,
            duo_host: None,
            remember_days: None,
            webauthn: false,
        }
    }

    /// Outside a request the words are English, as the core words them.
    #[test]
    fn the_offer_is_worded_from_the_factors() {
        let usable = [email_factor()];
        let words = second_factor_words(&offer(), &usable, false);
        assert_eq!(words.methods, ["Email codes (mailbox)"]);
        assert_eq!(
            words.senders,
            [(
                "email".to_owned(),
                "Send me a code by email (e•••@example.com)".to_owned()
            )]
        );
        assert_eq!(words.code_help, "The 6-digit code we sent you.");
        let words = second_factor_words(&offer(), &usable, true);
        assert_eq!(
            words.code_help,
            "The 6-digit code we sent you, or a passcode from Duo Mobile."
        );
        let mut keyed = offer();
        keyed.senders.clear();
        keyed.webauthn = true;
        assert_eq!(
            second_factor_words(&keyed, &[], false).code_help,
            "Use your security key or passkey, or enter a backup code."
        );
    }

    #[test]
    fn a_list_starting_a_sentence_is_capitalised() {
        assert_eq!(capitalised("the code"), "The code");
        assert_eq!(capitalised("él"), "Él");
        assert_eq!(capitalised(""), "");
    }
}
