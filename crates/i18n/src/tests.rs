use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fluent_syntax::ast;

use super::*;

/// Every message and term of one catalogue file, with the variables it reads.
fn entries(source: &str, what: &str) -> BTreeMap<String, BTreeSet<String>> {
    let resource = match fluent_syntax::parser::parse(source) {
        Ok(r) => r,
        Err((_, errors)) => panic!("{what} does not parse: {errors:?}"),
    };
    let mut out = BTreeMap::new();
    for entry in resource.body {
        let (id, value, attributes) = match entry {
            ast::Entry::Message(m) => (m.id.name.to_owned(), m.value, m.attributes),
            ast::Entry::Term(t) => (format!("-{}", t.id.name), Some(t.value), t.attributes),
            ast::Entry::Junk { content } => panic!("{what}: junk {content:?}"),
            _ => continue,
        };
        assert!(value.is_some(), "{what}: {id} has no value");
        assert!(
            attributes.is_empty(),
            "{what}: {id} has attributes (not used here)"
        );
        let mut vars = BTreeSet::new();
        if let Some(v) = &value {
            pattern_vars(v, &mut vars);
        }
        assert!(
            out.insert(id.clone(), vars).is_none(),
            "{what}: {id} is defined twice"
        );
    }
    out
}

fn pattern_vars(p: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
    for e in &p.elements {
        if let ast::PatternElement::Placeable { expression } = e {
            expression_vars(expression, vars);
        }
    }
}

fn expression_vars(e: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        ast::Expression::Select { selector, variants } => {
            inline_vars(selector, vars);
            for v in variants {
                pattern_vars(&v.value, vars);
            }
        }
        ast::Expression::Inline(i) => inline_vars(i, vars),
    }
}

fn inline_vars(i: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match i {
        ast::InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_owned());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_vars(a, vars);
            }
            for a in &arguments.named {
                inline_vars(&a.value, vars);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
        _ => {}
    }
}

fn catalogue(lang: Lang) -> Vec<BTreeMap<String, BTreeSet<String>>> {
    sources(lang)
        .iter()
        .zip(FILES)
        .map(|(s, f)| entries(s, &format!("{}/{f}.ftl", lang.tag())))
        .collect()
}

#[test]
fn every_catalogue_has_exactly_the_ids_english_has() {
    let english = catalogue(Lang::En);
    let mut problems = Vec::new();
    for lang in Lang::ALL {
        let other = catalogue(lang);
        let mut seen = BTreeSet::new();
        for ((file, en), theirs) in FILES.iter().zip(&english).zip(&other) {
            for id in en.keys().filter(|id| !theirs.contains_key(*id)) {
                problems.push(format!("{}/{file}.ftl lacks {id}", lang.tag()));
            }
            for id in theirs.keys().filter(|id| !en.contains_key(*id)) {
                problems.push(format!(
                    "{}/{file}.ftl has {id}, which English lacks",
                    lang.tag()
                ));
            }
            for (id, vars) in theirs {
                if let Some(en_vars) = en.get(id) {
                    for v in vars.difference(en_vars) {
                        problems.push(format!(
                            "{}/{file}.ftl: {id} reads ${v}, which English does not pass",
                            lang.tag()
                        ));
                    }
                }
                if !seen.insert(id.clone()) {
                    problems.push(format!("{}: {id} is in two files", lang.tag()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_message_formats_in_every_language_with_its_arguments() {
    let english = catalogue(Lang::En);
    let mut problems = Vec::new();
    for lang in Lang::ALL {
        for file in &english {
            for (id, vars) in file.iter().filter(|(id, _)| !id.starts_with('-')) {
                for n in [0, 1, 2, 5, 21] {
                    let mut text = Text::new(id.clone());
                    for v in vars {
                        let name: &'static str = Box::leak(v.clone().into_boxed_str());
                        text = text.arg(name, n);
                    }
                    let (out, failed) = lang.try_text(&text);
                    if failed || out.trim().is_empty() {
                        problems.push(format!("{}: {id} with {n}: {out:?}", lang.tag()));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn translations_are_not_left_in_english() {
    // A translated catalogue may share a few words with English (names, "OK"), not whole
    // stretches: more than a tenth of identical long texts means it was not translated.
    let english = catalogue(Lang::En);
    for lang in Lang::ALL.into_iter().skip(1) {
        let mut long = 0;
        let mut same = Vec::new();
        for file in &english {
            for id in file.keys().filter(|id| !id.starts_with('-')) {
                let en = Lang::En.t(id);
                if en.len() < 20 || en.contains('{') {
                    continue;
                }
                long += 1;
                if lang.t(id) == en {
                    same.push(id.clone());
                }
            }
        }
        assert!(
            same.len() * 10 <= long,
            "{}: {} of {long} texts are English: {same:?}",
            lang.tag(),
            same.len()
        );
    }
}

/// Every message id the code names literally (`.t("…")`, `.t1("…"`, `.t2("…"`, `Text::new("…")`,
/// `text!("…"`) in the templates and the Rust sources of the crates that show text.
fn ids_in_code() -> BTreeMap<String, PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in [
        "web/templates",
        "web/src",
        "core/templates",
        "core/src",
        "cli/src",
        "delivery/src",
    ] {
        collect(&root.join(dir), &mut files);
    }
    let mut ids = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for opener in [".t(\"", ".t1(\"", ".t2(\"", "Text::new(\"", "text!(\""] {
            for (at, _) in text.match_indices(opener) {
                let rest = &text[at + opener.len()..];
                let Some(end) = rest.find('"') else { continue };
                let id = &rest[..end];
                if !id.is_empty()
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    ids.insert(id.to_owned(), file.clone());
                }
            }
        }
    }
    ids
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "rs" || x == "html" || x == "txt")
        {
            out.push(p);
        }
    }
}

#[test]
fn every_id_the_code_names_is_in_the_catalogue() {
    let ids = ids_in_code();
    let missing: Vec<String> = ids
        .iter()
        .filter(|(id, _)| !Lang::En.has(id))
        .map(|(id, f)| format!("{id} ({})", f.display()))
        .collect();
    assert!(missing.is_empty(), "ids not in en: {}", missing.join(", "));
}

#[test]
fn accept_language_honours_q_values() {
    assert_eq!(negotiate("de-DE,de;q=0.9,en;q=0.8"), Some(Lang::De));
    assert_eq!(negotiate("en;q=0.5, fr;q=0.9"), Some(Lang::Fr));
    assert_eq!(negotiate("ja, es;q=0.3"), Some(Lang::Es));
    assert_eq!(negotiate("pt-PT"), Some(Lang::PtBr));
    assert_eq!(negotiate("pt-br;q=1.0"), Some(Lang::PtBr));
    assert_eq!(negotiate("ja, zh;q=0.9"), None);
    assert_eq!(negotiate("*"), None);
    assert_eq!(negotiate(""), None);
    // q=0 refuses a language even when another range of it was accepted.
    assert_eq!(negotiate("fr-CA, fr;q=0, es;q=0.1"), Some(Lang::Es));
    // Ties go to the earlier range.
    assert_eq!(negotiate("es;q=0.8, de;q=0.8"), Some(Lang::Es));
    // A range with a malformed q-value is ignored (neither chosen nor refusing).
    assert_eq!(negotiate("de;q=2, fr;q=abc, es;q=0.1"), Some(Lang::Es));
    assert_eq!(negotiate("de;q=0.9999, fr;q=0.5"), Some(Lang::Fr));
    assert_eq!(negotiate("de;q=0.9500, de-AT;q=0.2"), Some(Lang::De));
    // Refusing one region leaves the language to its other ranges; refusing it whole does not.
    assert_eq!(negotiate("en-US;q=0, en-GB"), Some(Lang::En));
    assert_eq!(negotiate("en;q=0, en-GB, de;q=0.1"), Some(Lang::De));
    assert_eq!(negotiate("pt;q=0, pt-BR, es;q=0.5"), Some(Lang::Es));
}

#[test]
fn tags_round_trip_and_name_themselves() {
    for lang in Lang::ALL {
        assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
        assert_eq!(Lang::from_tag(&lang.tag().to_uppercase()), Some(lang));
        assert_eq!(lang.dir(), "ltr");
    }
    assert_eq!(Lang::from_tag("pt"), None);
    assert_eq!(Lang::from_tag("xx"), None);
    assert_eq!(Lang::PtBr.name(), "Português (Brasil)");
}

#[test]
fn plurals_come_from_the_language_rules() {
    // French counts 0 and 1 as "one"; English only 1.
    let en0 = Lang::En.t1("backup-codes-left", "count", 0);
    let en1 = Lang::En.t1("backup-codes-left", "count", 1);
    let fr0 = Lang::Fr.t1("backup-codes-left", "count", 0);
    let fr1 = Lang::Fr.t1("backup-codes-left", "count", 1);
    let fr2 = Lang::Fr.t1("backup-codes-left", "count", 2);
    assert_ne!(en0.replace('0', ""), en1.replace('1', ""));
    assert_eq!(fr0.replace('0', ""), fr1.replace('1', ""));
    assert_ne!(fr1.replace('1', ""), fr2.replace('2', ""));
}

#[test]
fn a_missing_id_shows_as_itself() {
    assert_eq!(Lang::De.t("no-such-message"), "no-such-message");
}

#[test]
fn a_message_argument_is_put_into_the_same_language() {
    let reason = Text::new("err-setting-expected-bool");
    let text = Text::new("err-setting-invalid")
        .arg("key", "lockout.enabled")
        .arg("reason", reason);
    assert_eq!(
        Lang::En.text(&text),
        "invalid value for lockout.enabled: expected true or false"
    );
    let german = Lang::De.text(&text);
    assert!(
        german.starts_with("ungültiger Wert für lockout.enabled: "),
        "{german}"
    );
    assert!(
        german.ends_with(&Lang::De.t("err-setting-expected-bool")),
        "{german}"
    );
}

#[test]
fn raw_text_is_the_same_in_every_language() {
    let t = Text::raw("Duo said: denied");
    for lang in Lang::ALL {
        assert_eq!(lang.text(&t), "Duo said: denied");
    }
    assert!(t.is_raw());
}
