//! Forward authentication's rules: which requests to an application behind the reverse proxy
//! pass and how far their visitor must have signed in (`[[access]]` rules, first match wins, no
//! match denies), and where a sign-in may send the browser back to (`next=`).
//!
//! Everything here is pure: the configuration is checked once at start-up ([`AccessRules::new`],
//! [`Redirects::new`]), and each request's target is parsed once at the edge ([`Target`]).

use std::fmt;
use std::str::FromStr;

use crate::identity::Role;

/// What a rule asks of the visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Passes without a sign-in.
    Bypass,
    /// A sign-in past the password.
    OneFactor,
    /// A sign-in past the second factor (a remembered browser counts).
    TwoFactor,
    /// Never passes.
    Deny,
}

impl Policy {
    /// The configuration's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Bypass => "bypass",
            Policy::OneFactor => "one_factor",
            Policy::TwoFactor => "two_factor",
            Policy::Deny => "deny",
        }
    }
}

impl FromStr for Policy {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "bypass" => Ok(Policy::Bypass),
            "one_factor" => Ok(Policy::OneFactor),
            "two_factor" => Ok(Policy::TwoFactor),
            "deny" => Ok(Policy::Deny),
            _ => Err(()),
        }
    }
}

/// One `[[access]]` table as the configuration file gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSpec {
    /// An exact host (`wiki.example.com`) or every host under a domain (`*.example.com`).
    pub domain: String,
    /// Path prefixes; empty: every path.
    pub paths: Vec<String>,
    /// Roles the rule applies to; empty: everyone.
    pub roles: Vec<String>,
    /// `bypass`, `one_factor`, `two_factor` or `deny`.
    pub policy: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Domain {
    /// This host only.
    Exact(String),
    /// Hosts under this suffix (kept with its leading dot: `.example.com`).
    Under(String),
}

impl Domain {
    fn matches(&self, host: &str) -> bool {
        match self {
            Domain::Exact(d) => host == d,
            Domain::Under(suffix) => host.len() > suffix.len() && host.ends_with(suffix.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    domain: Domain,
    paths: Vec<String>,
    roles: Vec<Role>,
    policy: Policy,
}

/// The checked rules, in the configuration's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRules {
    rules: Vec<Rule>,
}

/// A host name as rules and redirects compare it: lower case, letters, digits, dots and dashes,
/// no empty label.
fn host_name(s: &str) -> Option<String> {
    let h = s.trim_end_matches('.').to_ascii_lowercase();
    let ok = !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ok.then_some(h)
}

impl AccessRules {
    /// Checks the rules; the error names the first bad one (its number, from 1, and domain).
    pub fn new(specs: &[RuleSpec]) -> Result<Self, String> {
        let mut rules = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let name = format!("access rule {} (domain {:?})", i + 1, spec.domain);
            let domain = match spec.domain.trim().strip_prefix("*.") {
                Some(rest) => host_name(rest).map(|h| Domain::Under(format!(".{h}"))),
                None => host_name(spec.domain.trim()).map(Domain::Exact),
            }
            .ok_or_else(|| {
                format!("{name}: domain must be a host name like app.example.com or *.example.com")
            })?;
            let mut paths = Vec::with_capacity(spec.paths.len());
            for p in &spec.paths {
                let ok = p.starts_with('/')
                    && p.len() <= 512
                    && !p.contains(['?', '#', '\\', '%', ';'])
                    && !p.chars().any(|c| c.is_control() || c.is_whitespace());
                let normal = ok.then(|| normalise_path(p)).flatten();
                let Some(normal) =
                    normal.filter(|n| *n == p.trim_end_matches('/').to_lowercase() || p == "/")
                else {
                    return Err(format!(
                        "{name}: path {p:?} must be a plain path prefix like /admin"
                    ));
                };
                paths.push(normal);
            }
            let mut roles = Vec::with_capacity(spec.roles.len());
            for r in &spec.roles {
                roles.push(r.parse::<Role>().map_err(|_| {
                    format!("{name}: role {r:?} is not one of client, admin, owner")
                })?);
            }
            let policy = spec.policy.parse::<Policy>().map_err(|()| {
                format!(
                    "{name}: policy {:?} is not one of bypass, one_factor, two_factor, deny",
                    spec.policy
                )
            })?;
            rules.push(Rule {
                domain,
                paths,
                roles,
                policy,
            });
        }
        Ok(AccessRules { rules })
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// No rules: every request behind the proxy is denied.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The policy of the first rule that matches the target and the visitor's role (`None`: not
    /// signed in); no match denies. A rule limited to some roles cannot be judged before a
    /// sign-in: an anonymous visitor who meets one is asked to sign in ([`Policy::OneFactor`]),
    /// and the rules are read again with the role once they have.
    pub fn policy(&self, target: &Target, role: Option<Role>) -> Policy {
        for rule in &self.rules {
            if !rule.domain.matches(&target.host) {
                continue;
            }
            if !rule.paths.is_empty() && !rule.paths.iter().any(|p| under(&target.path, p)) {
                continue;
            }
            if rule.roles.is_empty() {
                return rule.policy;
            }
            match role {
                None => return Policy::OneFactor,
                Some(r) if rule.roles.contains(&r) => return rule.policy,
                Some(_) => continue,
            }
        }
        Policy::Deny
    }
}

/// `path` is `prefix` or below it (by whole segments: `/admin` covers `/admin/x`, not
/// `/administrator`).
fn under(path: &str, prefix: &str) -> bool {
    prefix == "/"
        || path == prefix
        || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

/// The path as the rules see it: percent-decoded, `\` read as `/` (some servers do), each
/// segment cut at `;` (path parameters), empty segments dropped, lower case (rules match
/// without regard to case, as some applications do). `None` when it cannot be decoded (bad
/// escapes, not UTF-8, a NUL) or holds a `.` or `..` segment in any of those readings:
/// browsers never send one, and an application behind the proxy might resolve it differently
/// (`/admin/..%2Fdocs` is under `/admin` to many routers), so such a request is refused rather
/// than guessed at.
fn normalise_path(raw: &str) -> Option<String> {
    let decoded = percent_decode(raw)?;
    let mut path = String::with_capacity(decoded.len() + 1);
    for seg in decoded.split(['/', '\\']) {
        if seg.split(';').any(|part| part == "." || part == "..") {
            return None;
        }
        let seg = seg.split(';').next().unwrap_or("");
        if !seg.is_empty() {
            path.push('/');
            path.push_str(&seg.to_lowercase());
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    Some(path)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let v = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    (!text.contains('\0')).then_some(text)
}

/// The original request a reverse proxy asks about: its scheme, host (lower case, no port) and
/// normalised path for the rules, and the URL to come back to after a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    scheme: String,
    host: String,
    path: String,
    url: String,
}

/// Why a target could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadTarget;

impl fmt::Display for BadTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the original request's URL cannot be read")
    }
}

/// The longest original URL taken.
const MAX_URL: usize = 4096;

impl Target {
    /// From an absolute URL (nginx's `X-Original-URL`).
    pub fn from_url(url: &str) -> Result<Self, BadTarget> {
        let (scheme, rest) = url.split_once("://").ok_or(BadTarget)?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, uri) = rest.split_at(end);
        Self::from_parts(scheme, authority, if uri.is_empty() { "/" } else { uri })
    }

    /// From its parts (`X-Forwarded-Proto`, `-Host`, `-Uri`).
    pub fn from_parts(scheme: &str, authority: &str, uri: &str) -> Result<Self, BadTarget> {
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(BadTarget);
        }
        if scheme.len() + authority.len() + uri.len() + 3 > MAX_URL
            || !uri.starts_with('/')
            || uri
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || !c.is_ascii())
        {
            return Err(BadTarget);
        }
        let (host, port) = split_port(authority).ok_or(BadTarget)?;
        let host = host_name(host).ok_or(BadTarget)?;
        let path_end = uri.find(['?', '#']).unwrap_or(uri.len());
        let path = normalise_path(&uri[..path_end]).ok_or(BadTarget)?;
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let url = format!("{scheme}://{host}{port}{uri}");
        Ok(Target {
            scheme,
            host,
            path,
            url,
        })
    }

    /// The host, lower case, without a port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path as the rules match it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The URL to send the browser back to after a sign-in.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Splits `host[:port]`; the port, when there, is 1–5 digits.
fn split_port(authority: &str) -> Option<(&str, Option<&str>)> {
    match authority.rsplit_once(':') {
        Some((h, p)) => {
            let ok = p.parse::<u16>().is_ok_and(|n| n > 0) && p.bytes().all(|b| b.is_ascii_digit());
            ok.then_some((h, Some(p)))
        }
        None => Some((authority, None)),
    }
}

/// Where a sign-in (or a sign-out) may send the browser: a local path of the portal, or an
/// absolute URL with the public URL's scheme whose host is the cookie domain or under it (with
/// no cookie domain: the portal's own host). Anything else is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirects {
    /// `http` or `https`; `None`: local paths only.
    scheme: Option<String>,
    /// The host absolute URLs must be, or be under.
    domain: String,
}

impl Default for Redirects {
    /// Local paths only.
    fn default() -> Self {
        Redirects {
            scheme: None,
            domain: String::new(),
        }
    }
}

impl Redirects {
    /// From the public URL and the cookie domain (`TWOFOLD_COOKIE_DOMAIN`, a leading dot
    /// ignored). The public URL's host must be the cookie domain or under it: a browser refuses
    /// a cookie for a domain its page is not in.
    pub fn new(public_url: &str, cookie_domain: Option<&str>) -> Result<Self, String> {
        let (scheme, rest) = public_url
            .split_once("://")
            .filter(|(s, _)| *s == "http" || *s == "https")
            .ok_or("public_url: must start with http:// or https://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let host = split_port(&rest[..end])
            .and_then(|(h, _)| host_name(h))
            .ok_or("public_url: the host must be a host name or address")?;
        let domain = match cookie_domain.map(str::trim).filter(|d| !d.is_empty()) {
            None => host,
            Some(d) => {
                let d = host_name(d.trim_start_matches('.')).ok_or_else(|| {
                    format!("cookie_domain: {d:?} is not a domain name like example.com")
                })?;
                if !(host == d || host.ends_with(&format!(".{d}"))) {
                    return Err(format!(
                        "cookie_domain: the public URL's host {host} is not {d} or under it, so \
                         browsers would refuse its cookie"
                    ));
                }
                d
            }
        };
        Ok(Redirects {
            scheme: Some(scheme.to_owned()),
            domain,
        })
    }

    /// The checked `next=` value, or `None` when it may not be followed.
    pub fn checked(&self, next: &str) -> Option<String> {
        local_path(next).or_else(|| self.absolute(next))
    }

    fn absolute(&self, next: &str) -> Option<String> {
        let scheme = self.scheme.as_deref()?;
        if next.len() > MAX_URL
            || next
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\' || !c.is_ascii())
        {
            return None;
        }
        let rest = next.strip_prefix(scheme)?.strip_prefix("://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        // No userinfo, no escapes: the host is exactly what is written.
        if authority.contains(['@', '%']) {
            return None;
        }
        let (host, _) = split_port(authority)?;
        let host = host_name(host)?;
        let inside = host == self.domain
            || (host.len() > self.domain.len()
                && host.ends_with(&self.domain)
                && host.as_bytes()[host.len() - self.domain.len() - 1] == b'.');
        inside.then(|| next.to_owned())
    }
}

/// A `next=` value if it is a local path of the portal (and not the login pages themselves).
pub fn local_path(next: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && !next.starts_with("/login")
        && !next.starts_with("/logout")
        && !next.starts_with("/setup");
    ok.then(|| next.to_owned())
}

/// Forward authentication's configuration: the rules and where redirects may go.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// The `[[access]]` rules.
    pub rules: AccessRules,
    /// Where `next=` may point.
    pub redirects: Redirects,
}

impl Access {
    /// The policy an absolute `next=` URL meets for a user of `role`; `None` for the portal's
    /// own pages (and anything not a readable URL).
    pub fn policy_for_next(&self, next: &str, role: Role) -> Option<Policy> {
        if local_path(next).is_some() {
            return None;
        }
        let target = Target::from_url(next).ok()?;
        Some(self.rules.policy(&target, Some(role)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(domain: &str, paths: &[&str], roles: &[&str], policy: &str) -> RuleSpec {
        RuleSpec {
            domain: domain.into(),
            paths: paths.iter().map(|s| (*s).into()).collect(),
            roles: roles.iter().map(|s| (*s).into()).collect(),
            policy: policy.into(),
        }
    }

    fn rules() -> AccessRules {
        AccessRules::new(&[
            spec("public.example.com", &[], &[], "bypass"),
            spec(
                "*.example.com",
                &["/admin"],
                &["admin", "owner"],
                "two_factor",
            ),
            spec("*.example.com", &["/admin"], &[], "deny"),
            spec("*.example.com", &["/docs", "/Public/"], &[], "one_factor"),
            spec("*.example.com", &[], &[], "two_factor"),
        ])
        .unwrap()
    }

    fn at(url: &str, role: Option<Role>) -> Policy {
        rules().policy(&Target::from_url(url).unwrap(), role)
    }

    #[test]
    fn first_match_wins_and_no_match_denies() {
        assert_eq!(at("https://public.example.com/x", None), Policy::Bypass);
        assert_eq!(at("https://app.example.com/", None), Policy::TwoFactor);
        assert_eq!(
            at("https://app.example.com/docs/a", Some(Role::Client)),
            Policy::OneFactor
        );
        assert_eq!(
            at("https://example.com/", None),
            Policy::Deny,
            "*. is below only"
        );
        assert_eq!(at("https://other.test/", Some(Role::Owner)), Policy::Deny);
        assert_eq!(at("https://app.example.com.evil.test/", None), Policy::Deny);
    }

    #[test]
    fn roles_limit_a_rule_and_anonymous_visitors_must_sign_in_first() {
        let url = "https://app.example.com/admin/users";
        assert_eq!(at(url, Some(Role::Admin)), Policy::TwoFactor);
        assert_eq!(at(url, Some(Role::Owner)), Policy::TwoFactor);
        assert_eq!(at(url, Some(Role::Client)), Policy::Deny);
        assert_eq!(at(url, None), Policy::OneFactor);
    }

    #[test]
    fn paths_match_by_segment_after_normalising() {
        let c = Some(Role::Client);
        assert_eq!(
            at("https://a.example.com/administrator", c),
            Policy::TwoFactor
        );
        for sneaky in [
            "https://a.example.com//admin",
            "https://a.example.com/%61dmin",
            "https://a.example.com/ADMIN/users",
            "https://a.example.com/admin;x=1",
            "https://a.example.com/admin%2Fusers",
            "https://a.example.com/admin\\users",
            "https://A.EXAMPLE.COM:8443/admin?x=/docs",
        ] {
            assert_eq!(at(sneaky, c), Policy::Deny, "{sneaky}");
        }
        // Dot segments, in any spelling, are refused: whichever way an application resolves
        // them, a rule must not be judged on the other.
        for dots in [
            "https://a.example.com/docs/../admin",
            "https://a.example.com/admin/../docs",
            "https://a.example.com/admin/..%2Fdocs",
            "https://a.example.com/admin/%2e%2e/docs",
            "https://a.example.com/admin/..;/docs",
            "https://a.example.com/admin/x%2F..%2F..%2Fdocs",
            "https://a.example.com/admin\\..\\docs",
            "https://a.example.com/./admin/",
            "https://a.example.com/docs/.",
        ] {
            assert!(Target::from_url(dots).is_err(), "{dots}");
        }
        assert_eq!(at("https://a.example.com/public", c), Policy::OneFactor);
        assert!(Target::from_url("https://a.example.com/%zz").is_err());
        assert!(Target::from_url("https://a.example.com/%00").is_err());
        assert!(Target::from_url("ftp://a.example.com/").is_err());
        assert!(Target::from_url("https://user@a.example.com/").is_err());
        assert!(Target::from_url("https://a.example.com/a b").is_err());
    }

    #[test]
    fn a_bad_rule_is_named() {
        for (bad, says) in [
            (spec("exa mple.com", &[], &[], "deny"), "domain"),
            (
                spec("*.example.com", &["admin"], &[], "deny"),
                "path \"admin\"",
            ),
            (spec("*.example.com", &["/a/../b"], &[], "deny"), "path"),
            (
                spec("*.example.com", &[], &["root"], "deny"),
                "role \"root\"",
            ),
            (
                spec("*.example.com", &[], &[], "two-factor"),
                "policy \"two-factor\"",
            ),
        ] {
            let err =
                AccessRules::new(&[spec("ok.example.com", &[], &[], "bypass"), bad]).unwrap_err();
            assert!(err.starts_with("access rule 2 ("), "{err}");
            assert!(err.contains(says), "{err}");
        }
    }

    #[test]
    fn next_may_be_local_or_under_the_cookie_domain_with_the_same_scheme() {
        let r = Redirects::new("https://auth.example.com", Some("example.com")).unwrap();
        for good in [
            "/account/security",
            "https://example.com/",
            "https://app.example.com/a?b=c#d",
            "https://deep.app.example.com:8443/x",
            "https://APP.example.com",
        ] {
            assert_eq!(r.checked(good).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "https://evil.example",
            "https://example.com.evil.example/",
            "https://evilexample.com/",
            "http://app.example.com/",
            "https://app.example.com@evil.example/",
            "https://evil.example\\@app.example.com/",
            "https://evil.example%2f.example.com/",
            "https://evil.example%2F@app.example.com/",
            "https:/\\evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)//example.com",
            "data:text/html,x",
            "https://app.example.com:99999/",
            "https://app.example.com /",
            "HTTPS://app.example.com/",
            "/login?next=https://evil.example",
            "",
        ] {
            assert_eq!(r.checked(bad), None, "{bad}");
        }
        // Without a cookie domain, only the portal's own host.
        let own = Redirects::new("http://auth.example.com:8080", None).unwrap();
        assert!(own.checked("http://auth.example.com:8080/x").is_some());
        assert!(own.checked("http://app.example.com/").is_none());
        // Local paths only when nothing is configured.
        assert!(
            Redirects::default()
                .checked("https://auth.example.com/")
                .is_none()
        );
        assert!(
            Redirects::new("https://auth.other.test", Some("example.com"))
                .unwrap_err()
                .starts_with("cookie_domain:")
        );
    }
}
