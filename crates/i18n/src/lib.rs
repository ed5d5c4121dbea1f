//! Twofold's languages: the Fluent catalogues in `locales/<tag>/*.ftl`, compiled into the binary,
//! and the choice of a language.
//!
//! Every text a person reads (pages, form errors, emails, SMS, the API's `message`) is a message
//! id here; [`Lang::t`] and [`Lang::text`] format it in one language. Plurals and numbers go
//! through Fluent (`{ $count -> [one] … *[other] … }`), never string pasting. Every catalogue has
//! exactly the ids English has (a test breaks otherwise), so no text falls back silently.
//!
//! The language of a request is chosen by the caller, in this order: the user's own choice
//! (Security Settings), the browser's `Accept-Language` ([`negotiate`]), the owner's
//! `ui.language`.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language Twofold speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English, the default.
    #[default]
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Spanish.
    Es,
    /// Brazilian Portuguese.
    PtBr,
}

/// The catalogue files of each language, by area.
pub const FILES: [&str; 5] = ["common", "portal", "admin", "errors", "mail"];

macro_rules! catalogue {
    ($tag:literal) => {
        [
            include_str!(concat!("../locales/", $tag, "/common.ftl")),
            include_str!(concat!("../locales/", $tag, "/portal.ftl")),
            include_str!(concat!("../locales/", $tag, "/admin.ftl")),
            include_str!(concat!("../locales/", $tag, "/errors.ftl")),
            include_str!(concat!("../locales/", $tag, "/mail.ftl")),
        ]
    };
}

/// The catalogue sources of a language, in [`FILES`] order.
pub fn sources(lang: Lang) -> [&'static str; 5] {
    match lang {
        Lang::En => catalogue!("en"),
        Lang::De => catalogue!("de"),
        Lang::Fr => catalogue!("fr"),
        Lang::Es => catalogue!("es"),
        Lang::PtBr => catalogue!("pt-BR"),
    }
}

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 5] = [Lang::En, Lang::De, Lang::Fr, Lang::Es, Lang::PtBr];

    /// The BCP 47 tag (`en`, `de`, `fr`, `es`, `pt-BR`): `<html lang>`, the stored choice.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::PtBr => "pt-BR",
        }
    }

    /// The language's name in itself, for the language menus.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
            Lang::Fr => "Français",
            Lang::Es => "Español",
            Lang::PtBr => "Português (Brasil)",
        }
    }

    /// The writing direction, for `<html dir>`: every language here is left to right.
    pub fn dir(self) -> &'static str {
        "ltr"
    }

    /// The language a stored or configured tag names: exactly one of [`Lang::tag`]'s values,
    /// any case.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(tag.trim()))
    }

    /// The language closest to a browser's language range: `de-AT` is German, `pt` and
    /// `pt-PT` Brazilian Portuguese, `*` and unknown ranges none.
    fn matching(range: &str) -> Option<Lang> {
        let primary = range.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            "fr" => Some(Lang::Fr),
            "es" => Some(Lang::Es),
            "pt" => Some(Lang::PtBr),
            _ => None,
        }
    }

    /// Whether a browser's language range names this whole language (not one region of it):
    /// `de`, `fr`; `pt` and `pt-BR` for Brazilian Portuguese.
    fn is_whole_range(self, range: &str) -> bool {
        range.eq_ignore_ascii_case(self.tag())
            || (self == Lang::PtBr && range.eq_ignore_ascii_case("pt"))
    }

    fn bundle(self) -> &'static Bundle {
        &BUNDLES[self as usize]
    }

    /// The message `id`, with no arguments.
    pub fn t(self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with one argument.
    pub fn t1(self, id: &str, name: &'static str, value: impl Into<Arg>) -> String {
        self.text(&Text::new(id.to_owned()).arg(name, value))
    }

    /// The message `id` with two arguments.
    pub fn t2(
        self,
        id: &str,
        name: &'static str,
        value: impl Into<Arg>,
        name2: &'static str,
        value2: impl Into<Arg>,
    ) -> String {
        self.text(&Text::new(id.to_owned()).arg(name, value).arg(name2, value2))
    }

    /// A [`Text`] in this language.
    pub fn text(self, text: &Text) -> String {
        self.try_text(text).0
    }

    /// A [`Text`] in this language, and whether formatting it met an error.
    fn try_text(self, text: &Text) -> (String, bool) {
        if text.raw {
            return (text.id.clone().into_owned(), false);
        }
        if text.args.is_empty() {
            return self.try_format(&text.id, None);
        }
        let mut args = FluentArgs::new();
        for (name, value) in &text.args {
            match value {
                Arg::Str(s) => args.set(*name, FluentValue::from(s.as_str())),
                Arg::Num(n) => args.set(*name, FluentValue::from(*n)),
                Arg::Text(t) => args.set(*name, FluentValue::from(self.text(t))),
            }
        }
        self.try_format(&text.id, Some(&args))
    }

    fn format(self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        self.try_format(id, args).0
    }

    /// The formatted message and whether Fluent reported an error (a missing id or argument).
    fn try_format(self, id: &str, args: Option<&FluentArgs<'_>>) -> (String, bool) {
        let bundle = self.bundle();
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            // The catalogue tests make this unreachable for the ids the code uses; an id
            // that still slips through shows as itself, never as another language's text.
            return (id.to_owned(), true);
        };
        let mut errors = Vec::new();
        let out = bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned();
        (out, !errors.is_empty())
    }

    /// Whether the catalogue has message `id`.
    pub fn has(self, id: &str) -> bool {
        self.bundle().has_message(id)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// The language an `Accept-Language` header prefers among Twofold's: the highest q-value wins,
/// ties go to the earlier range. `q=0` on a language's own range (`fr`, `pt`, `pt-BR`) refuses
/// it; on a regional range (`en-US;q=0`) it refuses only
/// that region, which leaves the language to its other ranges. A range with a malformed q-value
/// is ignored. `None` when it names none of Twofold's languages.
pub fn negotiate(accept_language: &str) -> Option<Lang> {
    let mut ranges: Vec<(u16, Lang)> = Vec::new();
    let mut refused: Vec<Lang> = Vec::new();
    for item in accept_language.split(',').take(32) {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or("").trim();
        let mut q = Some(1000u16);
        for p in parts {
            let p = p.trim();
            if let Some(v) = p.strip_prefix("q=").or(p.strip_prefix("Q=")) {
                q = parse_q(v);
            }
        }
        let (Some(q), Some(lang)) = (q, Lang::matching(range)) else {
            continue;
        };
        if q > 0 {
            ranges.push((q, lang));
        } else if lang.is_whole_range(range) {
            refused.push(lang);
        }
    }
    let mut best: Option<(u16, Lang)> = None;
    for &(q, lang) in &ranges {
        if !refused.contains(&lang) && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

/// A q-value in thousandths (`0`, `0.5`, `1.000`), or `None` when malformed.
fn parse_q(v: &str) -> Option<u16> {
    let v = v.trim();
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths = 0u16;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    let q = whole + thousandths;
    (q <= 1000).then_some(q)
}

/// An argument of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Text, shown as is.
    Str(String),
    /// A whole number: Fluent picks its plural form and formats it.
    Num(i64),
    /// Another message, put into the same language first.
    Text(Box<Text>),
}

impl From<Text> for Arg {
    fn from(t: Text) -> Self {
        Arg::Text(Box::new(t))
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Str(s.to_owned())
    }
}

impl From<&&str> for Arg {
    fn from(s: &&str) -> Self {
        Arg::Str((*s).to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Str(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Str(s.clone())
    }
}

macro_rules! num_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Self {
                Arg::Num(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
        impl From<&$t> for Arg {
            fn from(n: &$t) -> Self {
                Arg::Num(i64::try_from(*n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
num_arg!(i32, i64, u8, u16, u32, u64, usize);

/// A message not yet put into a language: an id and its arguments. Errors and notices carry
/// one from where they arise to the edge that knows the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    id: Cow<'static, str>,
    args: Vec<(&'static str, Arg)>,
    /// Shown as is in every language (see [`Text::raw`]).
    raw: bool,
}

impl Text {
    /// Message `id` with no arguments.
    pub fn new(id: impl Into<Cow<'static, str>>) -> Self {
        Text {
            id: id.into(),
            args: Vec::new(),
            raw: false,
        }
    }

    /// Text that is the same in every language: not a sentence of Twofold's but a value (a
    /// name, an outside service's own words), or a sentence only the CLI shows (the CLI
    /// speaks English).
    pub fn raw(text: impl Into<Cow<'static, str>>) -> Self {
        Text {
            id: text.into(),
            args: Vec::new(),
            raw: true,
        }
    }

    /// Whether this is [`Text::raw`] text.
    pub fn is_raw(&self) -> bool {
        self.raw
    }

    /// Adds argument `name`.
    #[must_use]
    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    /// The message id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The text in English (logs, the CLI).
    pub fn english(&self) -> String {
        Lang::En.text(self)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

type Bundle = FluentBundle<FluentResource>;

static BUNDLES: LazyLock<Vec<Bundle>> = LazyLock::new(|| Lang::ALL.map(load).into());

fn load(lang: Lang) -> Bundle {
    let id: LanguageIdentifier = lang.tag().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // The output goes into HTML (escaped), mail and SMS: no invisible isolation marks.
    bundle.set_use_isolating(false);
    for source in sources(lang) {
        let resource = match FluentResource::try_new(source.to_owned()) {
            Ok(r) => r,
            // A syntax error is caught by the catalogue tests; the rest of the file still loads.
            Err((r, _)) => r,
        };
        // A duplicate id is caught by the catalogue tests too; the first one stays.
        let _ = bundle.add_resource(resource);
    }
    bundle
}

#[cfg(test)]
mod tests;
