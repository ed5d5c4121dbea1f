//! RADIUS: what the server answers an Access-Request, decided here by the same rules as
//! `/validate` (the attempt guard: lockout, replay, audit), and its client registry.
//!
//! The edge (`twofold-radius`) parses the datagram, checks the client's address and
//! authenticators, and hands over the user name, the password field and the `State`; it turns
//! the [`RadiusAnswer`] into a packet. `radius.mode` says what the password field holds:
//! - `otp`: the code alone (the device checked the password elsewhere); `push` asks for a Duo
//!   push;
//! - `password+otp`: the user's Twofold password immediately followed by the code;
//! - `challenge`: the password alone; the answer is an Access-Challenge whose `Reply-Message`
//!   says what to enter (an email/SMS code is sent first; a Duo user enters a passcode, or
//!   nothing for a push), and the next request carries the `State` and the code.
//!
//! A `State` is 16 random bytes, kept as its SHA-256 with the user and the client for two
//! minutes, and taken by one conditional `DELETE`: it answers once, from the client it was sent
//! to, on whichever node the answer arrives.
//!
//! A `Reply-Message` is in the user's own language once the request proved the password, else
//! in the `ui.language` setting's: before that, its language would tell that the account exists.

use ipnet::IpNet;
use zeroize::Zeroizing;

use super::{Service, validate::Method};
use crate::audit::{AuditEvent, Context};
use crate::code::Code;
use crate::crypto;
use crate::error::{Error, ErrorKind, Result};
use crate::factor::{FactorData, FactorKind};
use crate::i18n::{Lang, Text};
use crate::identity::Username;
use crate::settings::RadiusMode;
use crate::store::{NewRadiusClient, RadiusState, StoreError, User};

use super::validate::{Reason, ValidateRequest, Validation};

/// The password throttle's key for RADIUS: its own, apart from the portal's (`user:`).
const THROTTLE_SCOPE: &str = "radius-user";

/// How long an Access-Challenge's `State` can be answered, in seconds.
const STATE_TTL: i64 = 120;

/// The length of a backup code, and of what a YubiKey types (a 12-character public id and 32
/// characters of token).
const BACKUP_CODE_LEN: usize = 10;
const YUBIKEY_OTP_LEN: usize = 44;

/// An Access-Request, as the edge read it (the password field already un-hidden).
pub struct RadiusRequest {
    /// The registered name of the client that sent it.
    pub client: String,
    /// `User-Name`.
    pub username: String,
    /// `User-Password`, un-hidden (trailing NULs dropped).
    pub password: Zeroizing<Vec<u8>>,
    /// `State`, when the request answers a challenge.
    pub state: Option<Vec<u8>>,
}

impl std::fmt::Debug for RadiusRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RadiusRequest")
            .field("client", &self.client)
            .field("username", &self.username)
            .field("state", &self.state.is_some())
            .finish_non_exhaustive()
    }
}

/// What to answer an Access-Request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RadiusAnswer {
    /// Access-Accept.
    Accept,
    /// Access-Reject with this `Reply-Message`.
    Reject(String),
    /// Access-Challenge with this `State` and `Reply-Message`.
    Challenge {
        /// The `State` to send (and get back).
        state: Vec<u8>,
        /// What to enter.
        message: String,
    },
}

/// A client as the server uses it: its network and its shared secret, opened.
pub struct ServedRadiusClient {
    /// Its registered name.
    pub name: String,
    /// The address or network its packets come from.
    pub network: IpNet,
    /// The shared secret.
    pub secret: Zeroizing<Vec<u8>>,
    /// Whether its requests may lack a Message-Authenticator.
    pub allow_missing_message_authenticator: bool,
}

impl std::fmt::Debug for ServedRadiusClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedRadiusClient")
            .field("name", &self.name)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

/// A registered client, as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadiusClientView {
    /// Its name.
    pub name: String,
    /// The address or network its packets come from.
    pub network: String,
    /// Whether its requests may lack a Message-Authenticator.
    pub allow_missing_message_authenticator: bool,
    /// Unix time.
    pub created_at: i64,
}

/// A client just registered: its shared secret, shown once.
pub struct NewRadiusSecret(pub String);

impl std::fmt::Debug for NewRadiusSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewRadiusSecret([redacted])")
    }
}

/// An answer whose `Reply-Message` is not yet put into the reader's language.
enum Reply {
    Accept,
    Reject(Text),
    Challenge { state: Vec<u8>, message: Text },
}

impl Reply {
    fn in_lang(self, lang: Lang) -> RadiusAnswer {
        match self {
            Reply::Accept => RadiusAnswer::Accept,
            Reply::Reject(m) => RadiusAnswer::Reject(lang.text(&m)),
            Reply::Challenge { state, message } => RadiusAnswer::Challenge {
                state,
                message: lang.text(&message),
            },
        }
    }
}

fn wrong_code() -> Reply {
    Reply::Reject(Text::new("err-code-wrong"))
}

fn wrong_password() -> Reply {
    Reply::Reject(Text::new("err-radius-wrong-password"))
}

fn expired() -> Reply {
    Reply::Reject(Text::new("err-radius-expired"))
}

/// The answer to a refused validation.
fn refusal(reason: Reason) -> Reply {
    Reply::Reject(match reason {
        Reason::InvalidCode => Text::new("err-code-wrong"),
        Reason::Locked => Text::new("err-locked"),
        Reason::NotEnrolled => Text::new("err-radius-not-enrolled"),
        Reason::Disabled => Text::new("err-account-disabled"),
    })
}

/// The sealing context of a client's secret: bound to its name.
pub(crate) fn secret_context(name: &str) -> String {
    format!("radius_client:{name}:secret")
}

/// Parses a client's address: an IP address (one host) or a network in CIDR form.
fn parse_network(text: &str) -> Result<IpNet> {
    let t = text.trim();
    t.parse::<IpNet>()
        .or_else(|_| t.parse::<std::net::IpAddr>().map(IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| {
            Error::invalid(
                "invalid_address",
                Text::new("err-address-invalid").arg("address", format!("{t:?}")),
            )
        })
}

impl Service {
    /// Registers a RADIUS client that sends from `address` (an IP or a CIDR network): a random
    /// shared secret, returned once and stored sealed.
    pub async fn add_radius_client(
        &self,
        ctx: &Context,
        name: &str,
        address: &str,
        allow_missing_message_authenticator: bool,
    ) -> Result<NewRadiusSecret> {
        let name = super::yubikey::parse_client_name(name)?;
        let network = parse_network(address)?;
        if network.prefix_len() == 0 {
            return Err(Error::invalid(
                "invalid_address",
                Text::new("err-radius-client-every-address"),
            ));
        }
        // Without a Message-Authenticator nothing proves who sent a request: such a client is
        // one address, never a network whose every address could speak for it.
        if allow_missing_message_authenticator && network.prefix_len() != network.max_prefix_len() {
            return Err(Error::invalid(
                "invalid_address",
                Text::new("err-radius-client-no-ma-network"),
            ));
        }
        // The client of a packet is the most specific network holding its address: two clients
        // with the same network would leave which one answers to chance.
        if let Some(other) = self
            .store
            .list_radius_clients()
            .await?
            .into_iter()
            .find(|c| parse_network(&c.network).is_ok_and(|n| n == network))
        {
            return Err(Error::conflict(
                "client_exists",
                Text::new("err-radius-client-address-taken")
                    .arg("name", format!("{:?}", other.name))
                    .arg("network", network.to_string()),
            ));
        }
        // 24 random bytes as 48 hex digits: printable, so it fits every client's configuration.
        let secret = Zeroizing::new(crypto::random_token(self.rng.as_ref(), "", 24));
        let sealed = self
            .key
            .seal(self.rng.as_ref(), secret.as_bytes(), &secret_context(&name));
        match self
            .store
            .insert_radius_client(&NewRadiusClient {
                name: name.clone(),
                network: network.to_string(),
                secret: sealed,
                allow_missing_message_authenticator,
                created_at: self.now(),
            })
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(Error::conflict(
                    "client_exists",
                    Text::new("err-radius-client-exists").arg("name", format!("{name:?}")),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.audit(
            ctx,
            None,
            AuditEvent::TokenCreated,
            format!(
                "radius_client={name} network={network} \
                 allow_missing_message_authenticator={allow_missing_message_authenticator}"
            ),
        )
        .await;
        Ok(NewRadiusSecret(secret.to_string()))
    }

    /// The registered RADIUS clients, by name.
    pub async fn list_radius_clients(&self) -> Result<Vec<RadiusClientView>> {
        Ok(self
            .store
            .list_radius_clients()
            .await?
            .into_iter()
            .map(|c| RadiusClientView {
                name: c.name,
                network: c.network,
                allow_missing_message_authenticator: c.allow_missing_message_authenticator,
                created_at: c.created_at,
            })
            .collect())
    }

    /// Revokes a RADIUS client: its packets are dropped from the server's next reload on.
    pub async fn revoke_radius_client(&self, ctx: &Context, name: &str) -> Result<()> {
        if !self.store.delete_radius_client(name).await? {
            return Err(Error::not_found(
                "unknown_client",
                Text::new("err-radius-client-unknown").arg("name", format!("{name:?}")),
            ));
        }
        self.audit(
            ctx,
            None,
            AuditEvent::TokenRevoked,
            format!("radius_client={name}"),
        )
        .await;
        Ok(())
    }

    /// The clients with their secrets opened, for the server. A client whose secret does not
    /// open (another master key) is left out and logged.
    pub async fn served_radius_clients(&self) -> Result<Vec<ServedRadiusClient>> {
        let mut out = Vec::new();
        for c in self.store.list_radius_clients().await? {
            let Ok(network) = parse_network(&c.network) else {
                tracing::error!(client = %c.name, "a RADIUS client's stored network does not parse");
                continue;
            };
            match self.key.open(&c.secret, &secret_context(&c.name)) {
                Ok(secret) => out.push(ServedRadiusClient {
                    name: c.name,
                    network,
                    secret,
                    allow_missing_message_authenticator: c.allow_missing_message_authenticator,
                }),
                Err(_) => {
                    tracing::error!(client = %c.name, "a RADIUS client's secret does not open");
                }
            }
        }
        Ok(out)
    }

    /// Answers an Access-Request (see the module documentation). `ctx` names the client (its
    /// actor is [`crate::audit::Actor::Radius`]) and the device's address.
    pub async fn radius_authenticate(
        &self,
        ctx: &Context,
        req: RadiusRequest,
    ) -> Result<RadiusAnswer> {
        // The Reply-Message is in the user's own language once the request proved the password
        // (before that, the language would tell whether the account exists), else in the
        // `ui.language` setting's.
        let mut reader: Option<Lang> = None;
        let reply = self.radius_reply(ctx, req, &mut reader).await?;
        let lang = match reader {
            Some(l) => l,
            None => self.settings_cached().await?.language(),
        };
        Ok(reply.in_lang(lang))
    }

    async fn radius_reply(
        &self,
        ctx: &Context,
        req: RadiusRequest,
        reader: &mut Option<Lang>,
    ) -> Result<Reply> {
        // Nobody types control characters: such a field is a forgery's random bytes (a client
        // allowed to omit the Message-Authenticator proves nothing), refused before it counts.
        let Ok(password) = std::str::from_utf8(&req.password) else {
            return Ok(wrong_code());
        };
        if password.chars().any(char::is_control) {
            return Ok(wrong_code());
        }
        let Ok(username) = Username::parse(req.username.trim()) else {
            return Ok(match self.radius_mode().await? {
                RadiusMode::Otp => wrong_code(),
                _ => wrong_password(),
            });
        };
        let answer = if let Some(state) = &req.state {
            self.radius_answer_challenge(ctx, &req.client, &username, state, password, reader)
                .await
        } else {
            self.radius_first(ctx, &req.client, &username, password, reader)
                .await
        };
        match answer {
            // Throttled passwords, a mail server or Duo out of reach: said in the Reject.
            Err(e) if matches!(e.kind, ErrorKind::Throttled { .. } | ErrorKind::Unavailable) => {
                Ok(Reply::Reject(e.message))
            }
            other => other,
        }
    }

    /// A request that answers no challenge, by `radius.mode`.
    async fn radius_first(
        &self,
        ctx: &Context,
        client: &str,
        username: &Username,
        password: &str,
        reader: &mut Option<Lang>,
    ) -> Result<Reply> {
        match self.radius_mode().await? {
            RadiusMode::Otp => self.radius_code(ctx, username, password, false).await,
            RadiusMode::PasswordOtp => {
                self.radius_password_and_code(ctx, username, password, reader)
                    .await
            }
            RadiusMode::Challenge => {
                self.radius_challenge(ctx, client, username, password, reader)
                    .await
            }
        }
    }

    async fn radius_mode(&self) -> Result<RadiusMode> {
        Ok(self.settings_cached().await?.radius_mode())
    }

    /// Checks `code` as `/validate` would: `push` (or, answering a challenge, nothing) asks
    /// for a Duo push. `password_checked` says whether the request proved the password: when
    /// not (`otp` mode) every refusal reads as a wrong code, so the answer tells nothing about
    /// the account, and Duo's open fail mode lets nobody through on nothing at all.
    async fn radius_code(
        &self,
        ctx: &Context,
        username: &Username,
        code: &str,
        password_checked: bool,
    ) -> Result<Reply> {
        let code = code.trim();
        let push = code.is_empty() || code.eq_ignore_ascii_case("push");
        let req = ValidateRequest {
            username: username.clone(),
            code: (!push).then(|| Code::parse(code)),
            method: push.then_some(Ok(Method::Factor(FactorKind::Duo))),
        };
        let mut unchecked = false;
        match self.validate_noting(ctx, req, &mut unchecked).await {
            Ok(Validation::Accepted(_)) if unchecked && !password_checked => {
                Ok(Reply::Reject(super::duo_unreachable()))
            }
            Ok(Validation::Accepted(_)) => Ok(Reply::Accept),
            Ok(Validation::Rejected(Reason::NotEnrolled | Reason::Disabled))
                if !password_checked =>
            {
                Ok(refusal(Reason::InvalidCode))
            }
            Ok(Validation::Rejected(reason)) => Ok(refusal(reason)),
            // No such user is a wrong code (a RADIUS answer names no account); so is a code of
            // no known shape or a push for a user without Duo: refused, not counted.
            Err(e)
                if matches!(
                    e.kind,
                    ErrorKind::NotFound
                        | ErrorKind::Invalid
                        | ErrorKind::Conflict
                        | ErrorKind::Forbidden
                        | ErrorKind::Unauthorized
                ) =>
            {
                Ok(refusal(Reason::InvalidCode))
            }
            Err(e) => Err(e),
        }
    }

    /// `password+otp`: the code is the end of the password field. Each length one of the
    /// user's codes can have is tried (an attempt under the throttle each); the split whose
    /// front is the password has its end checked as a code.
    async fn radius_password_and_code(
        &self,
        ctx: &Context,
        username: &Username,
        field: &str,
        reader: &mut Option<Lang>,
    ) -> Result<Reply> {
        let user = self.store.user_by_name(&username.key()).await?;
        // Where the password ends is a guess: the code is as long as one of the user's factors
        // types (or a backup code). Each guess costs an attempt under the throttle, so the field
        // cannot test more passwords than the attempts it is charged.
        let mut lengths: Vec<usize> = Vec::new();
        if let Some(u) = &user {
            let settings = self.settings_cached().await?;
            let factors = self.store.factors_of(u.id).await?;
            for f in super::usable(&settings, u.role, factors) {
                lengths.push(match &f.data {
                    FactorData::Totp(t) => usize::from(t.digits.get()),
                    FactorData::Hotp(h) => usize::from(h.digits.get()),
                    FactorData::Yubikey(_) => YUBIKEY_OTP_LEN,
                    _ => 6,
                });
            }
        } else {
            lengths.push(6);
        }
        lengths.push(BACKUP_CODE_LEN);
        lengths.sort_unstable();
        lengths.dedup();
        let splits: Vec<(&str, &str)> = lengths
            .iter()
            .filter_map(|&n| {
                let at = field.len().checked_sub(n)?;
                let (password, code) = (field.get(..at)?, field.get(at..)?);
                (!password.is_empty() && Code::parse(code).is_ok()).then_some((password, code))
            })
            .collect();
        let candidates: Vec<&str> = splits.iter().map(|(p, _)| *p).collect();
        let matched = if candidates.is_empty() {
            // Still one throttled (and timed) attempt: a malformed field looks like a wrong one.
            if self
                .radius_password(ctx, user.as_ref(), username, &[field])
                .await?
                .is_some()
            {
                // The password alone, with no code after it: a failed sign-in all the same.
                self.audit(
                    ctx,
                    Some(&username.key()),
                    AuditEvent::LoginFailed,
                    "radius".into(),
                )
                .await;
            }
            None
        } else {
            self.radius_password(ctx, user.as_ref(), username, &candidates)
                .await?
        };
        let Some(i) = matched else {
            return Ok(wrong_password());
        };
        *reader = user.as_ref().and_then(User::language);
        self.radius_code(ctx, username, splits[i].1, true).await
    }

    /// Checks a RADIUS password (any one of `candidates`) under the throttle, which counts by
    /// user only and apart from the portal's: every request of a VPN gateway comes from its one
    /// address, which must not lock out everyone behind it. A miss is audited. The index of the
    /// candidate that matched.
    async fn radius_password(
        &self,
        ctx: &Context,
        user: Option<&User>,
        username: &Username,
        candidates: &[&str],
    ) -> Result<Option<usize>> {
        let by_user = Context {
            actor: ctx.actor.clone(),
            ip: None,
        };
        let matched = self
            .password_among(&by_user, user, username, None, candidates, THROTTLE_SCOPE)
            .await?;
        if matched.is_none() {
            self.audit(
                ctx,
                Some(&username.key()),
                AuditEvent::LoginFailed,
                "radius".into(),
            )
            .await;
        }
        Ok(matched)
    }

    /// `challenge`, first request: the password; right, an Access-Challenge asking for the
    /// code of the user's method (an email/SMS code is sent first).
    async fn radius_challenge(
        &self,
        ctx: &Context,
        client: &str,
        username: &Username,
        password: &str,
        reader: &mut Option<Lang>,
    ) -> Result<Reply> {
        let user = self.store.user_by_name(&username.key()).await?;
        let ok = self
            .radius_password(ctx, user.as_ref(), username, &[password])
            .await?
            .is_some();
        let Some(user) = user.filter(|_| ok) else {
            return Ok(wrong_password());
        };
        *reader = user.language();
        if user.disabled {
            return Ok(refusal(Reason::Disabled));
        }
        let now = self.now();
        self.purge_radius_states(now).await;
        let settings = self.settings_cached().await?;
        let factors = self.store.factors_of(user.id).await?;
        let usable = super::usable(&settings, user.role, factors);
        if usable.is_empty() {
            return Ok(refusal(Reason::NotEnrolled));
        }
        if user.is_locked(now) {
            return Ok(refusal(Reason::Locked));
        }
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::LoginPassword,
            "next=radius_challenge".into(),
        )
        .await;
        let has = |k: FactorKind| usable.iter().any(|f| f.kind() == k);
        let message = if has(FactorKind::Totp) || has(FactorKind::Yubikey) || has(FactorKind::Hotp)
        {
            if has(FactorKind::Hotp) && !has(FactorKind::Totp) && !has(FactorKind::Yubikey) {
                Text::new("radius-challenge-hotp")
            } else if has(FactorKind::Yubikey) && !has(FactorKind::Totp) {
                Text::new("radius-challenge-yubikey")
            } else {
                Text::new("radius-challenge-totp")
            }
        } else if has(FactorKind::Duo) {
            Text::new("radius-challenge-duo")
        } else if let Some(kind) = usable
            .iter()
            .find(|f| matches!(f.data, FactorData::Email { .. } | FactorData::Sms { .. }))
            .map(|f| f.kind())
        {
            match self.send_login_code(ctx, &user, Some(kind)).await {
                Ok(sent) => Text::new("radius-challenge-sent").arg("destination", sent.to),
                Err(e) if matches!(e.kind, ErrorKind::Throttled { .. }) => e.message,
                Err(e) => {
                    tracing::warn!(error = %e, "could not send a RADIUS challenge's code");
                    return Ok(Reply::Reject(Text::new("err-radius-code-not-sent")));
                }
            }
        } else {
            Text::new("radius-challenge-backup")
        };
        let mut state = vec![0u8; 16];
        self.rng.fill(&mut state);
        self.store
            .insert_radius_state(&RadiusState {
                state_hash: state_hash(&state),
                user_id: user.id,
                client: client.to_owned(),
                expires_at: now + STATE_TTL,
            })
            .await?;
        Ok(Reply::Challenge { state, message })
    }

    /// `challenge`, the answer: the `State` (taken once, from the client it went to, within
    /// two minutes, for the same user) and the code.
    async fn radius_answer_challenge(
        &self,
        ctx: &Context,
        client: &str,
        username: &Username,
        state: &[u8],
        code: &str,
        reader: &mut Option<Lang>,
    ) -> Result<Reply> {
        let now = self.now();
        self.purge_radius_states(now).await;
        let Some(user_id) = self
            .store
            .take_radius_state(&state_hash(state), client, now)
            .await?
        else {
            return Ok(expired());
        };
        let user: Option<User> = self.store.user_by_id(user_id).await?;
        let Some(user) = user.filter(|u| u.username.key() == username.key()) else {
            return Ok(expired());
        };
        *reader = user.language();
        self.radius_code(ctx, username, code, true).await
    }

    /// Forgets expired challenges, at most once a minute per process (best effort).
    async fn purge_radius_states(&self, now: i64) {
        use std::sync::atomic::Ordering;
        let last = self.radius_purged_at.load(Ordering::Relaxed);
        if now - last < 60
            || self
                .radius_purged_at
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if let Err(e) = self.store.purge_radius_states(now).await {
            tracing::warn!(error = %e, "could not purge expired RADIUS challenges");
        }
    }
}

/// The stored form of a `State`: SHA-256, hex.
fn state_hash(state: &[u8]) -> String {
    use sha2::Digest as _;
    crypto::hex(&sha2::Sha256::digest(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_as_hosts_or_cidr() {
        assert_eq!(
            parse_network("10.0.0.7").unwrap().to_string(),
            "10.0.0.7/32"
        );
        assert_eq!(
            parse_network(" 10.0.0.7/24 ").unwrap().to_string(),
            "10.0.0.0/24"
        );
        assert_eq!(parse_network("::1").unwrap().to_string(), "::1/128");
        for bad in ["", "10.0.0", "10.0.0.0/33", "host.example", "10.0.0.1/"] {
            assert_eq!(
                parse_network(bad).unwrap_err().code,
                "invalid_address",
                "{bad}"
            );
        }
    }

    #[test]
    fn state_hashes_differ_by_state() {
        assert_ne!(state_hash(&[0; 16]), state_hash(&[1; 16]));
        assert_eq!(state_hash(&[0; 16]).len(), 64);
    }
}
