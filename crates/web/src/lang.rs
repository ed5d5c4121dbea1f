//! The language of the request being answered.
//!
//! [`choose`] runs around every request: it picks the language from, in order, `?lang=` (the
//! login page's switcher, remembered in the `tf_lang` cookie), the `tf_lang` cookie, the
//! browser's `Accept-Language` and the owner's `ui.language`. A signed-in user's own choice
//! (Security Settings) overrides all of them once the session is read ([`Visitor`] calls
//! [`set`]). Everything that renders text while answering (templates, error pages, the API's
//! `message`) reads [`current`].
//!
//! [`Visitor`]: crate::portal::page::Visitor

use std::cell::Cell;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use twofold_core::i18n::{Lang, Text, negotiate};

use crate::AppState;
use crate::portal::page::{cookie_values, set_lasting_cookie};

/// The cookie that keeps the login page's language choice of a visitor not yet signed in.
pub(crate) const LANG_COOKIE: &str = "tf_lang";

tokio::task_local! {
    static LANG: Cell<Lang>;
}

/// The language of the request being answered (English outside one).
pub(crate) fn current() -> Lang {
    LANG.try_with(Cell::get).unwrap_or_default()
}

/// Answers the rest of the request in `lang` (a signed-in user's own choice).
pub(crate) fn set(lang: Lang) {
    let _ = LANG.try_with(|c| c.set(lang));
}

/// A message in the request's language.
pub(crate) fn text(t: &Text) -> String {
    current().text(t)
}

/// The language the first well-formed `tf_lang` cookie names.
fn lang_cookie(headers: &HeaderMap) -> Option<Lang> {
    cookie_values(headers, LANG_COOKIE).find_map(Lang::from_tag)
}

/// The `?lang=` of a query string, if it names a language Twofold speaks.
fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::from_tag(v))
}

/// The middleware: picks the request's language and answers the request in it. A `?lang=`
/// choice is remembered in the `tf_lang` cookie.
pub(crate) async fn choose(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let asked = query_lang(req.uri().query());
    let lang = match asked {
        Some(l) => l,
        None => {
            let cookie = lang_cookie(req.headers());
            let browser = || {
                req.headers()
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(negotiate)
            };
            match cookie.or_else(browser) {
                Some(l) => l,
                None => state.service.default_language().await,
            }
        }
    };
    let mut resp = LANG.scope(Cell::new(lang), next.run(req)).await;
    if let Some(l) = asked {
        let cookie = set_lasting_cookie(LANG_COOKIE, l.tag(), state.secure_cookies, 365);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cookie or query naming no language Twofold speaks is ignored; the first good one counts.
    #[test]
    fn bad_choices_are_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("tf_lang=klingon; tf_lang=; tf_lang=pt-BR; tf_lang=de"),
        );
        assert_eq!(lang_cookie(&headers), Some(Lang::PtBr));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("tf_lang=<x>; other=de"),
        );
        assert_eq!(lang_cookie(&headers), None);
        assert_eq!(query_lang(Some("next=%2F&lang=fr")), Some(Lang::Fr));
        assert_eq!(query_lang(Some("lang=xx")), None);
        assert_eq!(query_lang(Some("lang")), None);
        assert_eq!(query_lang(None), None);
    }
}
