//! Infrastructure configuration, layered once at start-up: defaults, then the TOML file
//! (`--config` or `TWOFOLD_CONFIG`), then `TWOFOLD_*` environment variables. Everything about 2FA
//! itself is a setting in the database, not here.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use twofold_core::access::{Access, AccessRules, Redirects, RuleSpec};

use crate::exit::Failure;

/// The file and environment keys, before checking.
#[derive(Clone, Serialize, Deserialize)]
struct Raw {
    /// `host:port`, or a bare port (which the environment layer reads as a number).
    #[serde(deserialize_with = "text_or_number")]
    listen: String,
    data_dir: PathBuf,
    database_url: Option<String>,
    public_url: Option<String>,
    master_key_file: Option<PathBuf>,
    /// Addresses or CIDR ranges, separated by commas (or a TOML array).
    trusted_proxies: TrustedProxies,
    extra_ca_file: Option<PathBuf>,
    /// The session cookie's domain, for applications behind forward authentication.
    cookie_domain: Option<String>,
    /// The RADIUS server's `host:port` or bare port; empty: no RADIUS server.
    #[serde(default, deserialize_with = "text_or_number")]
    radius_listen: String,
    /// Forward authentication's `[[access]]` rules (file only).
    #[serde(default)]
    access: Vec<RawRule>,
}

/// One `[[access]]` table before checking.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    domain: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    policy: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum TrustedProxies {
    List(Vec<String>),
    Text(String),
}

impl Default for Raw {
    fn default() -> Self {
        Raw {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./twofold-data"),
            database_url: None,
            public_url: None,
            master_key_file: None,
            trusted_proxies: TrustedProxies::Text(String::new()),
            extra_ca_file: None,
            cookie_domain: None,
            radius_listen: String::new(),
            access: Vec::new(),
        }
    }
}

/// The checked configuration. (`Debug` is not derived: the database URL may hold a password.)
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) listen: SocketAddr,
    pub(crate) data_dir: PathBuf,
    pub(crate) database_url: String,
    /// The URL users see; `None` until configured (then the bound address is used).
    pub(crate) public_url: Option<String>,
    pub(crate) master_key_file: PathBuf,
    pub(crate) trusted_proxies: Vec<IpNet>,
    /// PEM certificates trusted for outgoing TLS beside the system's (SMTP, SMS providers).
    pub(crate) extra_ca_file: Option<PathBuf>,
    /// The session cookie's `Domain`; `None`: the portal's host only.
    pub(crate) cookie_domain: Option<String>,
    /// Forward authentication's rules and where sign-ins may send browsers back to.
    pub(crate) access: Access,
    /// Where the RADIUS server listens (UDP); `None`: it does not run.
    pub(crate) radius_listen: Option<SocketAddr>,
}

impl Config {
    /// Loads the layers; `file` is `--config` (else `TWOFOLD_CONFIG`). Refuses to guess: an
    /// unknown key in the file is an error naming the file, the key and the nearest known one;
    /// an unknown `TWOFOLD_*` variable is a warning on stderr (environments carry other tools'
    /// variables with the prefix); every error names where the value came from.
    pub(crate) fn load(file: Option<&Path>) -> Result<Self, Failure> {
        for warning in unknown_variables(std::env::vars_os().map(|(k, _)| k)) {
            let _ = writeln!(std::io::stderr(), "warning: {warning}");
        }
        let mut fig = Figment::from(Serialized::defaults(Raw::default()));
        let from_env = std::env::var_os("TWOFOLD_CONFIG").map(PathBuf::from);
        let path = file.map(Path::to_path_buf).or(from_env);
        if let Some(path) = &path {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::value(format_args!(
                    "configuration file {}: {}",
                    path.display(),
                    if e.kind() == std::io::ErrorKind::NotFound {
                        "does not exist".to_owned()
                    } else {
                        e.to_string()
                    }
                ))
            })?;
            check_file_keys(&text).map_err(|e| {
                Failure::value(format_args!("configuration file {}: {e}", path.display()))
            })?;
            fig = fig.merge(Toml::string(&text));
        }
        fig = fig.merge(
            Env::prefixed("TWOFOLD_")
                .ignore(&["config", "log"])
                .only(ENV_KEYS),
        );
        // Where a key's value came from, for errors.
        let source = |key: &str| match fig.find_metadata(key) {
            Some(m) if m.name.contains("environment") => {
                format!("TWOFOLD_{}", key.to_ascii_uppercase())
            }
            Some(m) if m.name.contains("TOML") => match &path {
                Some(p) => format!("configuration file {}: {key}", p.display()),
                None => key.to_owned(),
            },
            _ => key.to_owned(),
        };
        let raw: Raw = fig.extract().map_err(|e| {
            let key = e.path.first().cloned().unwrap_or_default();
            let kind = e.kind.to_string();
            Failure::value(format_args!("{}: {kind}", source(&key)))
        })?;
        Self::check(raw).map_err(|(key, message)| {
            // A rule's message names the rule itself ("access rule 2 ...").
            let source = source(key);
            let source = source.strip_suffix(": access").unwrap_or(&source);
            Failure::value(format_args!("{source}: {message}"))
        })
    }

    /// Checks the values; an error is the key at fault and what is wrong with its value.
    fn check(raw: Raw) -> Result<Self, (&'static str, String)> {
        let listen = parse_listen(&raw.listen).ok_or_else(|| {
            (
                "listen",
                format!(
                    "{:?} is not an address and port like 127.0.0.1:8080, or a port",
                    raw.listen
                ),
            )
        })?;
        let radius_listen = match raw.radius_listen.trim() {
            "" => None,
            text => Some(parse_listen(text).ok_or_else(|| {
                (
                    "radius_listen",
                    format!("{text:?} is not an address and port like 0.0.0.0:1812, or a port"),
                )
            })?),
        };
        let database_url = raw
            .database_url
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| format!("sqlite://{}", raw.data_dir.join("twofold.db").display()));
        let public_url = raw
            .public_url
            .filter(|u| !u.is_empty())
            .map(|u| u.trim_end_matches('/').to_owned());
        if public_url
            .as_deref()
            .is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://")))
        {
            return Err((
                "public_url",
                "must start with http:// or https://".to_owned(),
            ));
        }
        let entries: Vec<String> = match raw.trusted_proxies {
            TrustedProxies::List(l) => l,
            TrustedProxies::Text(t) => t.split(',').map(str::to_owned).collect(),
        };
        let mut trusted_proxies = Vec::new();
        for e in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let net = e
                .parse::<IpNet>()
                .or_else(|_| e.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    (
                        "trusted_proxies",
                        format!("{e:?} is not an address or CIDR range"),
                    )
                })?;
            trusted_proxies.push(net);
        }
        let master_key_file = raw
            .master_key_file
            .unwrap_or_else(|| raw.data_dir.join("master.key"));
        let cookie_domain = raw
            .cookie_domain
            .map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty());
        let redirects = match (&public_url, &cookie_domain) {
            (Some(url), domain) => Redirects::new(url, domain.as_deref()).map_err(|e| {
                let key = if e.starts_with("public_url") {
                    "public_url"
                } else {
                    "cookie_domain"
                };
                let said = e.split_once(": ").map_or(e.as_str(), |(_, m)| m).to_owned();
                (key, said)
            })?,
            (None, None) => Redirects::default(),
            (None, Some(_)) => {
                return Err((
                    "cookie_domain",
                    "needs public_url (the portal's address under that domain)".to_owned(),
                ));
            }
        };
        let mut specs = Vec::with_capacity(raw.access.len());
        for (i, r) in raw.access.into_iter().enumerate() {
            let missing = |what: &str| {
                (
                    "access",
                    format!("access rule {}: {what} is missing", i + 1),
                )
            };
            specs.push(RuleSpec {
                domain: r.domain.ok_or_else(|| missing("domain"))?,
                paths: r.paths,
                roles: r.roles,
                policy: r.policy.ok_or_else(|| missing("policy"))?,
            });
        }
        let rules = AccessRules::new(&specs).map_err(|e| ("access", e))?;
        Ok(Config {
            listen,
            data_dir: raw.data_dir,
            database_url,
            public_url,
            master_key_file,
            trusted_proxies,
            extra_ca_file: raw.extra_ca_file,
            cookie_domain,
            access: Access { rules, redirects },
            radius_listen,
        })
    }
}

/// A string, or a number taken as its text (`TWOFOLD_LISTEN=8081` arrives as a number).
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Number(i64),
    }
    Ok(match TextOrNumber::deserialize(d)? {
        TextOrNumber::Text(t) => t,
        TextOrNumber::Number(n) => n.to_string(),
    })
}

impl Config {
    /// The SQLite database file, when the database is one on disk (not PostgreSQL, not
    /// `:memory:`).
    pub(crate) fn sqlite_file(&self) -> Option<&Path> {
        let path = self.database_url.strip_prefix("sqlite://")?;
        let path = path.split('?').next().unwrap_or(path);
        (!path.is_empty() && !path.contains(":memory:")).then(|| Path::new(path))
    }
}

/// The keys the environment may set (`TWOFOLD_<KEY>`).
const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "master_key_file",
    "trusted_proxies",
    "extra_ca_file",
    "cookie_domain",
    "radius_listen",
];

/// The keys of the file: those, and the `[[access]]` rules (file only).
fn file_keys() -> Vec<&'static str> {
    ENV_KEYS.iter().copied().chain(["access"]).collect()
}

/// The keys of an `[[access]]` rule.
const RULE_KEYS: &[&str] = &["domain", "paths", "roles", "policy"];

/// `host:port`, or a bare port on 127.0.0.1.
fn parse_listen(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let port: u16 = text.parse().ok()?;
        return Some(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().ok()
}

/// The file's keys, each known: the error names an unknown one and the nearest known key. (The
/// values are checked later, after the layers merge.)
fn check_file_keys(text: &str) -> Result<(), String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        // The parser's message spans several lines (the line quoted); keep its first.
        e.to_string()
            .lines()
            .next()
            .unwrap_or("not valid TOML")
            .to_owned()
    })?;
    let known = file_keys();
    for (key, value) in &table {
        if !known.contains(&key.as_str()) {
            return Err(unknown("key", key, &known));
        }
        if key == "access" {
            let Some(rules) = value.as_array() else {
                return Err(
                    "access must be a list of rules, written as [[access]] tables".to_owned(),
                );
            };
            for (i, rule) in rules.iter().enumerate() {
                let Some(rule) = rule.as_table() else {
                    return Err(format!("access rule {} is not a table", i + 1));
                };
                if let Some(k) = rule.keys().find(|k| !RULE_KEYS.contains(&k.as_str())) {
                    return Err(format!(
                        "access rule {}: {}",
                        i + 1,
                        unknown("key", k, RULE_KEYS)
                    ));
                }
            }
        }
    }
    Ok(())
}

fn unknown(what: &str, name: &str, known: &[&str]) -> String {
    match nearest(name, known) {
        Some(near) => format!("unknown {what} `{name}`; did you mean `{near}`?"),
        None => format!("unknown {what} `{name}` (known: {})", known.join(", ")),
    }
}

/// The `TWOFOLD_*` variables that are not Twofold's, each with the nearest that is.
fn unknown_variables(names: impl Iterator<Item = std::ffi::OsString>) -> Vec<String> {
    let known: Vec<String> = ENV_KEYS
        .iter()
        .map(|k| format!("TWOFOLD_{}", k.to_ascii_uppercase()))
        .chain(["TWOFOLD_CONFIG".to_owned(), "TWOFOLD_LOG".to_owned()])
        .collect();
    let known_refs: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for name in names {
        let Some(name) = name.to_str() else { continue };
        // The test suite's knobs, and its runners' own variables.
        let ours = name.starts_with("TWOFOLD_TEST_") || name.starts_with("TWOFOLD_E2E_");
        if !name.starts_with("TWOFOLD_") || ours || known_refs.contains(&name) {
            continue;
        }
        out.push(match nearest(name, &known_refs) {
            Some(near) => format!("{name} is not a Twofold setting; did you mean {near}?"),
            None => format!("{name} is not a Twofold setting (ignored)"),
        });
    }
    out.sort();
    out
}

/// The known name closest to `name` by edit distance, if it is close enough to be a slip, or
/// the one known name a common word for it points to (`PORT`, `HOST`, `BIND`: `LISTEN`).
fn nearest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let word = lower.rsplit('_').next().unwrap_or(&lower);
    if matches!(word, "port" | "host" | "bind" | "address" | "addr")
        && let Some(k) = known
            .iter()
            .find(|k| k.to_ascii_lowercase().ends_with("listen"))
    {
        return Some(k);
    }
    let best = known
        .iter()
        .map(|k| (distance(&lower, &k.to_ascii_lowercase()), *k))
        .min_by_key(|(d, _)| *d)?;
    if best.0 <= 3.max(name.len() / 3) {
        return Some(best.1);
    }
    None
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(change: impl FnOnce(&mut Raw)) -> Result<Config, String> {
        let mut raw = Raw::default();
        change(&mut raw);
        Config::check(raw).map_err(|(key, message)| format!("{key}: {message}"))
    }

    #[test]
    fn defaults_follow_the_data_dir() {
        let c = checked(|_| {}).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.data_dir, PathBuf::from("./twofold-data"));
        assert_eq!(c.database_url, "sqlite://./twofold-data/twofold.db");
        assert_eq!(
            c.master_key_file,
            PathBuf::from("./twofold-data/master.key")
        );
        assert!(c.public_url.is_none() && c.trusted_proxies.is_empty());
        assert!(c.extra_ca_file.is_none());

        let c = checked(|r| {
            r.data_dir = "/srv/tf".into();
            r.database_url = Some(String::new());
            r.public_url = Some(String::new());
        })
        .unwrap();
        assert_eq!(
            c.database_url, "sqlite:///srv/tf/twofold.db",
            "empty means default"
        );
        assert_eq!(c.master_key_file, PathBuf::from("/srv/tf/master.key"));
        assert!(c.public_url.is_none());

        let c = checked(|r| {
            r.database_url = Some("postgres://tf@db/tf".into());
            r.master_key_file = Some("/etc/twofold/key".into());
            r.public_url = Some("https://2fa.example.com/".into());
        })
        .unwrap();
        assert_eq!(c.database_url, "postgres://tf@db/tf");
        assert_eq!(c.master_key_file, PathBuf::from("/etc/twofold/key"));
        assert_eq!(c.public_url.as_deref(), Some("https://2fa.example.com"));
    }

    #[test]
    fn trusted_proxies_as_text_or_list() {
        let nets = |t: TrustedProxies| checked(|r| r.trusted_proxies = t).unwrap().trusted_proxies;
        let expected: Vec<IpNet> = ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(
            nets(TrustedProxies::Text(" 127.0.0.1, 10.0.0.0/8,, ::1 ".into())),
            expected
        );
        assert_eq!(
            nets(TrustedProxies::List(vec![
                "127.0.0.1".into(),
                "10.0.0.0/8".into(),
                "::1".into()
            ])),
            expected
        );
        assert!(nets(TrustedProxies::Text(String::new())).is_empty());
    }

    #[test]
    fn bad_values_name_their_key() {
        type Change = Box<dyn FnOnce(&mut Raw)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|r| r.listen = "80800".into()), "listen"),
            (Box::new(|r| r.listen = "localhost:8080".into()), "listen"),
            (
                Box::new(|r| r.public_url = Some("2fa.example.com".into())),
                "public_url",
            ),
            (
                Box::new(|r| r.trusted_proxies = TrustedProxies::Text("10.0.0.0/33".into())),
                "trusted_proxies: \"10.0.0.0/33\"",
            ),
            (
                Box::new(|r| {
                    r.trusted_proxies =
                        TrustedProxies::List(vec!["127.0.0.1".into(), "proxy".into()]);
                }),
                "trusted_proxies: \"proxy\"",
            ),
        ];
        for (change, says) in cases {
            let e = checked(change)
                .err()
                .unwrap_or_else(|| panic!("{says} accepted"));
            assert!(e.contains(says), "{e} should say {says}");
        }
    }

    fn rule(domain: Option<&str>, policy: Option<&str>) -> RawRule {
        RawRule {
            domain: domain.map(str::to_owned),
            policy: policy.map(str::to_owned),
            ..RawRule::default()
        }
    }

    #[test]
    fn access_rules_and_the_cookie_domain_are_checked_at_start() {
        let c = checked(|r| {
            r.public_url = Some("https://auth.example.com".into());
            r.cookie_domain = Some(".Example.com".into());
            r.access = vec![rule(Some("*.example.com"), Some("two_factor"))];
        })
        .unwrap();
        assert_eq!(c.cookie_domain.as_deref(), Some("example.com"));
        assert_eq!(c.access.rules.len(), 1);
        assert!(
            c.access
                .redirects
                .checked("https://app.example.com/")
                .is_some()
        );
        type Change = Box<dyn FnOnce(&mut Raw)>;
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|r| {
                    r.access = vec![
                        rule(Some("a.example.com"), Some("bypass")),
                        rule(None, Some("deny")),
                    ]
                }),
                "access rule 2: domain is missing",
            ),
            (
                Box::new(|r| r.access = vec![rule(Some("a.example.com"), None)]),
                "access rule 1: policy is missing",
            ),
            (
                Box::new(|r| r.access = vec![rule(Some("a.example.com"), Some("allow"))]),
                "access rule 1 (domain \"a.example.com\"): policy \"allow\"",
            ),
            (
                Box::new(|r| r.cookie_domain = Some("example.com".into())),
                "cookie_domain: needs public_url",
            ),
            (
                Box::new(|r| {
                    r.public_url = Some("https://auth.other.test".into());
                    r.cookie_domain = Some("example.com".into());
                }),
                "cookie_domain: the public URL's host",
            ),
        ];
        for (change, says) in cases {
            let e = checked(change)
                .err()
                .unwrap_or_else(|| panic!("{says} accepted"));
            assert!(e.contains(says), "{e} should say {says}");
        }
    }

    #[test]
    fn listen_takes_an_address_or_a_bare_port() {
        let at = |l: &str| checked(|r| r.listen = l.into()).map(|c| c.listen);
        assert_eq!(at("8081").unwrap(), "127.0.0.1:8081".parse().unwrap());
        assert_eq!(at(" 9000 ").unwrap(), "127.0.0.1:9000".parse().unwrap());
        assert_eq!(at("0.0.0.0:8443").unwrap(), "0.0.0.0:8443".parse().unwrap());
        assert_eq!(at("[::1]:8080").unwrap(), "[::1]:8080".parse().unwrap());
        for bad in ["65536", "", ":8080", "localhost:8080", "-1"] {
            let e = at(bad).err().unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(e.starts_with("listen: "), "{e}");
        }
    }

    #[test]
    fn unknown_file_keys_are_errors_with_the_nearest_key() {
        assert_eq!(
            check_file_keys("listen = \"1\"\n[[access]]\ndomain = \"a\"\npolicy = \"deny\"\n"),
            Ok(())
        );
        let e = check_file_keys("lisen = \"127.0.0.1:8080\"\n").unwrap_err();
        assert_eq!(e, "unknown key `lisen`; did you mean `listen`?");
        let e = check_file_keys("trusted_proxy = \"10.0.0.1\"\n").unwrap_err();
        assert!(e.contains("did you mean `trusted_proxies`?"), "{e}");
        let e = check_file_keys("colour = \"blue\"\n").unwrap_err();
        assert!(
            e.starts_with("unknown key `colour` (known: listen, "),
            "{e}"
        );
        let e = check_file_keys("[[access]]\ndomain = \"a\"\npolicies = \"deny\"\n").unwrap_err();
        assert_eq!(
            e,
            "access rule 1: unknown key `policies`; did you mean `policy`?"
        );
        let e = check_file_keys("access = 3\n").unwrap_err();
        assert!(e.contains("[[access]]"), "{e}");
        let e = check_file_keys("listen = \n").unwrap_err();
        assert!(!e.contains('\n') && !e.is_empty(), "{e}");
    }

    #[test]
    fn unknown_variables_warn_with_the_nearest_one() {
        let names = [
            "TWOFOLD_PORT",
            "TWOFOLD_LISTEN",
            "TWOFOLD_DATABSE_URL",
            "TWOFOLD_TEST_PG",
            "TWOFOLD_E2E_SLOW",
            "TWOFOLD_LOG",
            "TWOFOLD_CONFIG",
            "TWOFOLD_WHATEVER_ELSE_ENTIRELY",
            "PATH",
        ]
        .map(std::ffi::OsString::from);
        assert_eq!(
            unknown_variables(names.into_iter()),
            vec![
                "TWOFOLD_DATABSE_URL is not a Twofold setting; did you mean TWOFOLD_DATABASE_URL?",
                "TWOFOLD_PORT is not a Twofold setting; did you mean TWOFOLD_LISTEN?",
                "TWOFOLD_WHATEVER_ELSE_ENTIRELY is not a Twofold setting (ignored)",
            ]
        );
    }
}
