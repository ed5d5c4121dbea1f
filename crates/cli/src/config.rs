//! Infrastructure configuration, layered once at start-up: defaults, then the TOML file
//! (`--config` or `TWOFOLD_CONFIG`), then `TWOFOLD_*` environment variables. Everything about 2FA
//! itself is a setting in the database, not here.

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
}

impl Config {
    /// Loads the layers; `file` is `--config` (else `TWOFOLD_CONFIG`).
    pub(crate) fn load(file: Option<&Path>) -> Result<Self, Failure> {
        let mut fig = Figment::from(Serialized::defaults(Raw::default()));
        let from_env = std::env::var_os("TWOFOLD_CONFIG").map(PathBuf::from);
        if let Some(path) = file.map(Path::to_path_buf).or(from_env) {
            if !path.is_file() {
                return Err(Failure::value(format_args!(
                    "configuration file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(Env::prefixed("TWOFOLD_").ignore(&["config", "log"]).only(&[
            "listen",
            "data_dir",
            "database_url",
            "public_url",
            "master_key_file",
            "trusted_proxies",
            "extra_ca_file",
            "cookie_domain",
        ]));
        let raw: Raw = fig
            .extract()
            .map_err(|e| Failure::value(format_args!("configuration: {e}")))?;
        Self::check(raw)
    }

    fn check(raw: Raw) -> Result<Self, Failure> {
        let listen: SocketAddr = raw.listen.parse().map_err(|_| {
            Failure::value(format_args!(
                "listen: {:?} is not an address and port like 127.0.0.1:8080",
                raw.listen
            ))
        })?;
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
            return Err(Failure::value(
                "public_url: must start with http:// or https://",
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
                    Failure::value(format_args!(
                        "trusted_proxies: {e:?} is not an address or CIDR range"
                    ))
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
            (Some(url), domain) => {
                Redirects::new(url, domain.as_deref()).map_err(Failure::value)?
            }
            (None, None) => Redirects::default(),
            (None, Some(_)) => {
                return Err(Failure::value(
                    "cookie_domain: needs public_url (the portal's address under that domain)",
                ));
            }
        };
        let mut specs = Vec::with_capacity(raw.access.len());
        for (i, r) in raw.access.into_iter().enumerate() {
            let missing = |what: &str| {
                Failure::value(format_args!("access rule {}: {what} is missing", i + 1))
            };
            specs.push(RuleSpec {
                domain: r.domain.ok_or_else(|| missing("domain"))?,
                paths: r.paths,
                roles: r.roles,
                policy: r.policy.ok_or_else(|| missing("policy"))?,
            });
        }
        let rules = AccessRules::new(&specs).map_err(Failure::value)?;
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(change: impl FnOnce(&mut Raw)) -> Result<Config, String> {
        let mut raw = Raw::default();
        change(&mut raw);
        Config::check(raw).map_err(|f| f.message().to_owned())
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
            (Box::new(|r| r.listen = "8080".into()), "listen"),
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
}
