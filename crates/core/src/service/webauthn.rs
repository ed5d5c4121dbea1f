//! Security keys and passkeys (WebAuthn): the relying party's side of registration, of the
//! second factor and of the passwordless sign-in.
//!
//! Every ceremony begins with a challenge of 32 random bytes, kept in the database by its
//! SHA-256 for [`CHALLENGE_TTL`] seconds, bound to its purpose, its user and its channel (the
//! portal's pages or the API), and taken by the answer with one conditional `DELETE`, so an
//! answer is accepted once, on whichever node it lands. A passwordless sign-in's challenge names
//! nobody and is shown to every visitor of the login page, so it is made without a row: random
//! bytes, an expiry and a MAC under the master key; its use is recorded by a row whose unique key
//! refuses a second use. The portal's ceremonies accept the portal's own origin only; the API's
//! also accept `https://` origins under a parent-domain relying party ID. The answer is checked by
//! [`twofold_otp::webauthn`] (type, challenge, origin, RP ID hash, flags, signature); the
//! signature counter is then taken by one conditional UPDATE that refuses a counter that did
//! not grow (a cloned key), audited as `webauthn_counter`. A second factor and a passwordless
//! sign-in go through the attempt guard like every other factor: counted before the check,
//! locked at the threshold, audited.

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use twofold_otp::webauthn::{
    self as wa, AssertionResponse, RegistrationResponse, RelyingParty, UserVerification,
};

use super::Service;
use super::attempt::{LocalCheck, LocalOutcome};
use super::validate::{Method, Reason, Validation};
use crate::audit::{AuditEvent, Context};
use crate::error::{Error, Result};
use crate::factor::{Factor, FactorData, FactorKind, WebauthnCredential, b64url};
use crate::i18n::Text;
use crate::identity::Username;
use crate::settings::Settings;
use crate::store::{Consume, User, WebauthnChallenge, WebauthnPurpose};

/// How long a ceremony may take, in seconds (the browser is told the same).
pub const CHALLENGE_TTL: i64 = 300;

/// The largest credential JSON accepted (a credential with an RSA-8192 key and a long
/// attestation stays far below it).
pub const MAX_CREDENTIAL_JSON: usize = 64 * 1024;

/// Where the portal is served, as WebAuthn sees it: its origin and its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicOrigin {
    /// `scheme://host[:port]`.
    origin: String,
    /// The host: the default relying party ID.
    host: String,
}

impl PublicOrigin {
    /// Reads the public URL. Browsers refuse an IP address as a relying party ID, and treat
    /// `localhost` as a secure context: a portal served on a loopback address is known by
    /// `localhost` on the same port.
    pub(crate) fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() {
                    (h, Some(p))
                } else {
                    (authority, None)
                }
            }
            _ => (authority, None),
        };
        let loopback = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
        let host = if loopback {
            "localhost".to_owned()
        } else {
            host.to_ascii_lowercase()
        };
        if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
            return None;
        }
        // A browser writes an origin without its scheme's default port.
        let port = port.filter(|p| !matches!((scheme, *p), ("http", "80") | ("https", "443")));
        let origin = match port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        };
        Some(PublicOrigin { origin, host })
    }
}

/// Where a ceremony runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The portal's own pages: only the portal's origin may answer.
    Portal,
    /// An application through the JSON API, running the browser side itself on its own origin
    /// under a parent-domain relying party ID.
    Api,
}

impl Channel {
    fn register(self) -> WebauthnPurpose {
        match self {
            Channel::Portal => WebauthnPurpose::Register,
            Channel::Api => WebauthnPurpose::ApiRegister,
        }
    }

    fn authenticate(self) -> WebauthnPurpose {
        match self {
            Channel::Portal => WebauthnPurpose::Authenticate,
            Channel::Api => WebauthnPurpose::ApiAuthenticate,
        }
    }
}

/// The relying party of this server, as the settings make it.
#[derive(Debug, Clone)]
struct Rp {
    /// The RP ID.
    id: String,
    /// The name authenticators show.
    name: String,
    /// The public URL's origin.
    origin: String,
    /// The RP ID is a parent domain of the public URL's host (set by `webauthn.rp_id`).
    parent: bool,
}

impl Rp {
    /// Whether a browser at `origin` may answer a ceremony of `channel`: the public URL's
    /// origin; for the API also an `https://` origin whose host is the RP ID or under it, when
    /// the RP ID was set to a parent domain (the applications behind forward authentication).
    /// Browsers let any such origin use the RP ID: this check is what keeps a page on another
    /// subdomain from answering the portal's challenges.
    fn accepts(&self, origin: &str, channel: Channel) -> bool {
        if origin == self.origin {
            return true;
        }
        if channel == Channel::Portal || !self.parent {
            return false;
        }
        let Some(rest) = origin.strip_prefix("https://") else {
            return false;
        };
        let host = match rest.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => rest,
        };
        !host.contains(['/', '@', '?', '#'])
            && (host == self.id
                || host
                    .strip_suffix(&self.id)
                    .is_some_and(|p| p.ends_with('.') && p.len() > 1))
    }
}

/// The answer when another account (or this one) already holds the credential.
pub(crate) fn credential_registered() -> Error {
    Error::conflict(
        "credential_registered",
        Text::new("err-credential-registered"),
    )
}

fn malformed_credential(why: impl Into<crate::i18n::Arg>) -> Error {
    Error::invalid(
        "malformed_credential",
        Text::new("err-credential-unreadable").arg("reason", why),
    )
}

/// The credential JSON an edge received, as it came (parsed once, by the verifier): bounded.
fn credential_bytes(credential: &[u8]) -> Result<&[u8]> {
    if credential.len() > MAX_CREDENTIAL_JSON {
        return Err(malformed_credential(Text::new("err-credential-too-large")));
    }
    Ok(credential)
}

fn challenge_hash(challenge: &[u8]) -> String {
    Sha256::digest(challenge)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn credential_descriptor(c: &WebauthnCredential) -> Value {
    let mut d = json!({"type": "public-key", "id": b64url(&c.credential_id)});
    if !c.transports.is_empty() {
        d["transports"] = json!(c.transports);
    }
    d
}

/// The user's registered credentials.
fn credentials(factors: &[Factor]) -> impl Iterator<Item = (&Factor, &WebauthnCredential)> {
    factors.iter().filter_map(|f| match &f.data {
        FactorData::Webauthn(Some(c)) if f.confirmed => Some((f, c)),
        _ => None,
    })
}

impl Service {
    /// Tells the service where its portal is served (`public_url`, or the address it listens
    /// on): WebAuthn's origin and default relying party ID. Set once; later calls change
    /// nothing.
    pub fn set_public_url(&self, url: &str) {
        if let Some(p) = PublicOrigin::parse(url) {
            let _ = self.public_origin.set(p);
        }
    }

    fn relying_party(&self, settings: &Settings) -> Result<Rp> {
        let public = self.public_origin.get().ok_or_else(|| {
            Error::invalid("method_not_available", Text::new("err-webauthn-public-url"))
        })?;
        let rp_id = match settings.webauthn_rp_id() {
            None => public.host.clone(),
            Some(rp) => {
                let rp = rp.to_ascii_lowercase();
                let under = public
                    .host
                    .strip_suffix(&rp)
                    .is_some_and(|p| p.is_empty() || p.ends_with('.'));
                if !under {
                    return Err(Error::invalid(
                        "method_not_available",
                        Text::new("err-rp-id-mismatch")
                            .arg("rp_id", rp.to_string())
                            .arg("host", public.host.to_string()),
                    ));
                }
                rp
            }
        };
        Ok(Rp {
            parent: rp_id != public.host,
            id: rp_id,
            name: settings.issuer().to_owned(),
            origin: public.origin.clone(),
        })
    }

    /// A new challenge for `purpose`, stored by its hash; its base64url text.
    async fn new_challenge(
        &self,
        purpose: WebauthnPurpose,
        user_id: Option<i64>,
        factor: Option<&Factor>,
    ) -> Result<String> {
        let now = self.now();
        self.purge_webauthn_challenges(now).await;
        let mut challenge = [0u8; 32];
        self.rng.fill(&mut challenge);
        self.store
            .insert_webauthn_challenge(&WebauthnChallenge {
                challenge_hash: challenge_hash(&challenge),
                purpose,
                user_id,
                factor_id: factor.map(|f| f.id.clone()),
                expires_at: now + CHALLENGE_TTL,
            })
            .await?;
        Ok(b64url(&challenge))
    }

    /// Forgets expired challenges, at most once a minute per process.
    async fn purge_webauthn_challenges(&self, now: i64) {
        use std::sync::atomic::Ordering;
        let last = self.webauthn_purged_at.load(Ordering::Relaxed);
        if now - last < 60
            || self
                .webauthn_purged_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if let Err(e) = self.store.purge_webauthn_challenges(now).await {
            tracing::warn!(error = %e, "could not purge expired WebAuthn challenges");
        }
    }

    /// The user's WebAuthn handle, made at their first key: 32 random bytes, never the
    /// username.
    async fn user_handle(&self, user: &User) -> Result<String> {
        let mut bytes = [0u8; 32];
        self.rng.fill(&mut bytes);
        self.store
            .webauthn_handle(user.id, &b64url(&bytes))
            .await?
            .ok_or_else(Error::no_user)
    }

    /// The options for `navigator.credentials.create()` that register a pending `webauthn`
    /// factor through `channel`, in the JSON form `PublicKeyCredential.parseCreationOptionsFromJSON`
    /// takes; each call opens a new ceremony.
    pub(crate) async fn webauthn_creation_options(
        &self,
        user: &User,
        factor: &Factor,
        channel: Channel,
    ) -> Result<Value> {
        let settings = self.settings().await?;
        let rp = self.relying_party(&settings)?;
        let handle = self.user_handle(user).await?;
        let factors = self.store.factors_of(user.id).await?;
        let exclude: Vec<Value> = credentials(&factors)
            .map(|(_, c)| credential_descriptor(c))
            .collect();
        let challenge = self
            .new_challenge(channel.register(), Some(user.id), Some(factor))
            .await?;
        let uv = settings.webauthn_user_verification();
        Ok(json!({
            "rp": {"id": rp.id, "name": rp.name},
            "user": {
                "id": handle,
                "name": user.username.as_str(),
                "displayName": user.username.as_str(),
            },
            "challenge": challenge,
            "pubKeyCredParams": wa::ALGORITHMS
                .iter()
                .map(|alg| json!({"type": "public-key", "alg": alg}))
                .collect::<Vec<_>>(),
            "timeout": CHALLENGE_TTL * 1000,
            "excludeCredentials": exclude,
            "authenticatorSelection": {
                // A discoverable credential where the key can keep one, so it can also sign
                // in without a password when that is offered.
                "residentKey": "preferred",
                "requireResidentKey": false,
                "userVerification": uv.as_str(),
            },
            "attestation": if settings.webauthn_direct_attestation() { "direct" } else { "none" },
        }))
    }

    /// Whether security keys can be registered here now: the method is active and the server
    /// knows a host name to be their relying party.
    pub(crate) async fn webauthn_ready(&self) -> Result<bool> {
        let settings = self.settings_cached().await?;
        Ok(self.relying_party(&settings).is_ok())
    }

    /// New creation options for a pending `webauthn` factor of the user, for the portal's page
    /// (shown again after a cancelled prompt, each time a new ceremony).
    pub async fn pending_webauthn(&self, req: &super::FactorRequest) -> Result<(Factor, Value)> {
        let (user, factor) = self.pending_of(req).await?;
        if factor.kind() != FactorKind::Webauthn {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-factor-not-security-key"),
            ));
        }
        let options = self
            .webauthn_creation_options(&user, &factor, Channel::Portal)
            .await?;
        Ok((factor, options))
    }

    /// Confirms a pending `webauthn` factor with the credential `navigator.credentials.create()`
    /// made (as `toJSON()` gives it), answering a ceremony of `channel`. Its challenge is taken
    /// first, so an answer is used once; a refused answer is audited and changes nothing else.
    pub async fn confirm_webauthn(
        &self,
        ctx: &Context,
        req: &super::FactorRequest,
        credential: &[u8],
        channel: Channel,
    ) -> Result<super::Confirmed> {
        let (user, factor) = self.pending_of(req).await?;
        if factor.kind() != FactorKind::Webauthn {
            return Err(Error::invalid(
                "missing_code",
                Text::new("err-factor-confirmed-with-code"),
            ));
        }
        let bytes = credential_bytes(credential)?;
        let response = RegistrationResponse::from_json(bytes)
            .map_err(|e| malformed_credential(e.to_string()))?;
        let challenge = wa::client_challenge(&response.client_data_json)
            .map_err(|e| malformed_credential(e.to_string()))?;
        let settings = self.settings().await?;
        let rp = self.relying_party(&settings)?;
        let now = self.now();
        let (username, factor_id) = (&user.username, &factor.id);
        let refused = |why: String| async move {
            self.audit(
                ctx,
                Some(username),
                AuditEvent::SecondFactorFailure,
                format!("confirm factor={factor_id} kind=webauthn reason={why}"),
            )
            .await;
            Error::invalid("invalid_credential", Text::new("err-security-key-refused"))
        };
        let taken = self
            .store
            .take_webauthn_challenge(
                &challenge_hash(&challenge),
                channel.register(),
                Some(user.id),
                now,
            )
            .await?;
        if taken.is_none_or(|t| t.factor_id.as_ref() != Some(&factor.id)) {
            return Err(refused("unknown_challenge".into()).await);
        }
        let origins = accepted_origin(&rp, &response.client_data_json, channel);
        let rp_view = RelyingParty {
            id: &rp.id,
            origins: &origins,
        };
        let new = match wa::verify_registration(
            &rp_view,
            &challenge,
            settings.webauthn_user_verification(),
            &response,
        ) {
            Ok(n) => n,
            Err(e) => return Err(refused(e.code().to_owned()).await),
        };
        let credential = WebauthnCredential {
            credential_id: new.id,
            public_key: new.public_key,
            algorithm: new.algorithm,
            sign_count: new.sign_count,
            aaguid: new.aaguid,
            backup_eligible: new.backup_eligible,
            backed_up: new.backed_up,
            transports: new
                .transports
                .into_iter()
                .filter(|t| t.len() <= 16 && t.bytes().all(|b| b.is_ascii_lowercase()))
                .take(8)
                .collect(),
            attestation_format: new.attestation_format.chars().take(32).collect(),
            user_handle: crate::factor::b64url_decode(&self.user_handle(&user).await?)
                .unwrap_or_default(),
        };
        self.confirm_checked(
            ctx,
            &user,
            &factor,
            Some((i64::from(credential.sign_count), 0)),
            Some(credential.public_id()),
            Some(credential.to_params()),
        )
        .await
    }

    /// The options for `navigator.credentials.get()` that let the user's keys answer as their
    /// second factor through `channel` (the API's challenge; the second-factor and step-up
    /// pages' button); `not_enrolled` when the user has no key.
    pub async fn webauthn_request_options(
        &self,
        username: &Username,
        channel: Channel,
    ) -> Result<Value> {
        let (user, factors) = self
            .store
            .user_with_factors(&username.key())
            .await?
            .ok_or_else(Error::no_user)?;
        let settings = self.settings_cached().await?;
        let allow: Vec<Value> = if settings.method_available(FactorKind::Webauthn, user.role) {
            credentials(&factors)
                .map(|(_, c)| credential_descriptor(c))
                .collect()
        } else {
            Vec::new()
        };
        if allow.is_empty() {
            return Err(Error::invalid(
                "not_enrolled",
                Text::new("err-no-security-key"),
            ));
        }
        let rp = self.relying_party(&settings)?;
        let challenge = self
            .new_challenge(channel.authenticate(), Some(user.id), None)
            .await?;
        Ok(json!({
            "challenge": challenge,
            "timeout": CHALLENGE_TTL * 1000,
            "rpId": rp.id,
            "allowCredentials": allow,
            "userVerification": settings.webauthn_user_verification().as_str(),
        }))
    }

    /// The options of a passwordless sign-in: no user named, a discoverable credential that
    /// verifies its user. `method_not_available` unless passwordless sign-in is on. Nothing is
    /// stored: the challenge carries its expiry and a MAC (see [`PASSWORDLESS_MAC`]).
    pub async fn passwordless_options(&self) -> Result<Value> {
        let settings = self.settings_cached().await?;
        if !settings.webauthn_passwordless() {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-passwordless-disabled"),
            ));
        }
        let rp = self.relying_party(&settings)?;
        let mut nonce = [0u8; 16];
        self.rng.fill(&mut nonce);
        let challenge = self.passwordless_challenge(&nonce, self.now() + CHALLENGE_TTL);
        Ok(json!({
            "challenge": b64url(&challenge),
            "timeout": CHALLENGE_TTL * 1000,
            "rpId": rp.id,
            "allowCredentials": [],
            "userVerification": "required",
        }))
    }

    /// A passwordless challenge: the nonce, the expiry (8 bytes, big-endian) and the first 16
    /// bytes of their MAC.
    fn passwordless_challenge(&self, nonce: &[u8; 16], expires_at: i64) -> Vec<u8> {
        let body = passwordless_body(nonce, expires_at);
        let mac = self.key.lookup_hash(PASSWORDLESS_MAC, &body);
        with_mac(body, &mac)
    }

    /// The expiry of a passwordless challenge this server made, unexpired at `now`.
    fn passwordless_expiry(&self, challenge: &[u8], now: i64) -> Option<i64> {
        use subtle::ConstantTimeEq as _;
        let nonce: [u8; 16] = challenge.get(..16)?.try_into().ok()?;
        let expires_at = i64::from_be_bytes(challenge.get(16..24)?.try_into().ok()?);
        // Made under any key of the ring: a challenge made just before a rotation still counts.
        let body = passwordless_body(&nonce, expires_at);
        let mut genuine = subtle::Choice::from(0);
        for mac in self.key.lookup_hashes_all(PASSWORDLESS_MAC, &body) {
            let expected = with_mac(body.clone(), &mac);
            if challenge.len() == expected.len() {
                genuine |= challenge.ct_eq(&expected);
            }
        }
        let genuine = bool::from(genuine);
        (genuine && expires_at > now && expires_at <= now + CHALLENGE_TTL).then_some(expires_at)
    }

    /// Checks a second factor given by a security key or passkey: `credential` as
    /// `navigator.credentials.get()`'s `toJSON()` gives it, answering a challenge made for this
    /// user through `channel`. Counted by the attempt guard like a code.
    pub async fn validate_webauthn(
        &self,
        ctx: &Context,
        username: &Username,
        credential: &[u8],
        channel: Channel,
    ) -> Result<Validation> {
        let (user, factors) = self
            .store
            .user_with_factors(&username.key())
            .await?
            .ok_or_else(Error::no_user)?;
        let bytes = credential_bytes(credential)?;
        let response =
            AssertionResponse::from_json(bytes).map_err(|e| malformed_credential(e.to_string()))?;
        let challenge = wa::client_challenge(&response.client_data_json)
            .map_err(|e| malformed_credential(e.to_string()))?;
        let settings = self.settings_cached().await?;
        if user.disabled {
            return Ok(self.refuse(ctx, &user, Reason::Disabled).await);
        }
        let usable = super::usable(&settings, user.role, factors);
        if !usable.iter().any(|f| f.kind() == FactorKind::Webauthn) {
            return Ok(self.refuse(ctx, &user, Reason::NotEnrolled).await);
        }
        let now = self.now();
        if user.is_locked(now) {
            return Ok(self.refuse(ctx, &user, Reason::Locked).await);
        }
        let rp = self.relying_party(&settings)?;
        // What the answer is, found before the attempt is counted (as a TOTP code's step is):
        // then one store transaction counts it, takes the challenge and the counter, and
        // settles it with its audit record.
        let (candidate, failure) =
            match credentials(&usable).find(|(_, c)| c.credential_id == response.id) {
                None => (None, "method=webauthn reason=unknown_credential".to_owned()),
                Some((factor, stored)) => {
                    // The user was named before the ceremony: a user handle in the answer must be
                    // theirs (WebAuthn §7.2 step 6).
                    let handle_ok = match &response.user_handle {
                        None => true,
                        Some(h) if !stored.user_handle.is_empty() => *h == stored.user_handle,
                        Some(h) => {
                            self.store.user_by_webauthn_handle(&b64url(h)).await? == Some(user.id)
                        }
                    };
                    let origins = accepted_origin(&rp, &response.client_data_json, channel);
                    let rp_view = RelyingParty {
                        id: &rp.id,
                        origins: &origins,
                    };
                    let verified = handle_ok
                        .then(|| {
                            wa::verify_assertion(
                                &rp_view,
                                &challenge,
                                settings.webauthn_user_verification(),
                                &stored.public_key,
                                &response,
                            )
                        })
                        .transpose();
                    match verified {
                        Ok(Some(asserted)) => (
                            Some((factor, stored, asserted)),
                            "method=webauthn reason=unknown_challenge".to_owned(),
                        ),
                        Ok(None) => (
                            None,
                            format!(
                                "method=webauthn factor={} reason=user_handle_mismatch",
                                factor.id
                            ),
                        ),
                        Err(e) => (
                            None,
                            format!("method=webauthn factor={} reason={}", factor.id, e.code()),
                        ),
                    }
                }
            };
        let (candidates, already_used) = match candidate {
            Some((factor, stored, asserted)) => (
                vec![(
                    Consume::Assertion {
                        factor: factor.id.clone(),
                        challenge_hash: challenge_hash(&challenge),
                        purpose: channel.authenticate(),
                        sign_count: i64::from(asserted.sign_count),
                    },
                    Method::Factor(FactorKind::Webauthn),
                    Some(factor.id.to_string()),
                )],
                // Two ceremonies of one key answered out of order, or a clone: refused and
                // audited, but no guess was made, so it does not count towards the lockout.
                Some((
                    AuditEvent::WebauthnCounter,
                    format!(
                        "factor={} stored={} given={} counted=false: the key may have been \
                         cloned, or two sign-ins were answered out of order",
                        factor.id, stored.sign_count, asserted.sign_count
                    ),
                )),
            ),
            None => (Vec::new(), None),
        };
        let check = LocalCheck {
            candidates,
            then_more: false,
            failure_detail: Some(failure),
            already_used,
            note: None,
        };
        match self
            .settle_second_factor(ctx, &user, &settings, now, check)
            .await?
        {
            LocalOutcome::Answer(answer) => Ok(answer),
            // Not asked for (nothing is checked after the store's).
            LocalOutcome::Open(attempt) => attempt.reject("method=webauthn".into()).await,
        }
    }

    /// Takes the key's signature counter (it must grow unless both are 0); a refusal is
    /// audited as `webauthn_counter`.
    async fn take_sign_count(
        &self,
        ctx: &Context,
        user: &User,
        factor: &Factor,
        stored: &WebauthnCredential,
        count: u32,
        now: i64,
    ) -> Result<bool> {
        let count = i64::from(count);
        if self
            .store
            .consume_sign_count(&factor.id, count, now)
            .await?
        {
            return Ok(true);
        }
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::WebauthnCounter,
            format!(
                "factor={} stored={} given={count}: the key may have been cloned",
                factor.id, stored.sign_count
            ),
        )
        .await;
        Ok(false)
    }

    /// A passwordless sign-in: a discoverable credential's answer to a passwordless challenge
    /// names its user by the handle; the key must have verified its user. Everything that
    /// needs no secret is checked before the attempt is counted — the challenge's MAC and
    /// expiry, the key's owner, the signature — so that a stranger who knows a user's handle
    /// and credential id cannot lock them out, nor learn whether they are locked or disabled.
    /// The user, with the answer; `None` for an answer that does not verify (refused without
    /// naming anyone).
    pub async fn passwordless_check(
        &self,
        ctx: &Context,
        credential: &[u8],
    ) -> Result<Option<(User, Validation)>> {
        let settings = self.settings_cached().await?;
        if !settings.webauthn_passwordless() {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-passwordless-disabled"),
            ));
        }
        let bytes = credential_bytes(credential)?;
        let response =
            AssertionResponse::from_json(bytes).map_err(|e| malformed_credential(e.to_string()))?;
        let challenge = wa::client_challenge(&response.client_data_json)
            .map_err(|e| malformed_credential(e.to_string()))?;
        let now = self.now();
        let miss = |why: &'static str| {
            let id = b64url(&response.id);
            let id: String = id.chars().take(12).collect();
            async move {
                self.audit(
                    ctx,
                    None,
                    AuditEvent::LoginFailed,
                    format!("passwordless reason={why} credential={id}"),
                )
                .await;
                Ok(None)
            }
        };
        let Some(expires_at) = self.passwordless_expiry(&challenge, now) else {
            return miss("unknown_challenge").await;
        };
        let Some(handle) = response.user_handle.as_deref() else {
            return miss("no_user_handle").await;
        };
        let Some(user_id) = self.store.user_by_webauthn_handle(&b64url(handle)).await? else {
            return miss("unknown_credential").await;
        };
        let Some(user) = self.store.user_by_id(user_id).await? else {
            return miss("unknown_credential").await;
        };
        let factors = self.store.factors_of(user.id).await?;
        let usable = super::usable(&settings, user.role, factors);
        let Some((factor, stored)) =
            credentials(&usable).find(|(_, c)| c.credential_id == response.id)
        else {
            return miss("unknown_credential").await;
        };
        let rp = self.relying_party(&settings)?;
        let origins = accepted_origin(&rp, &response.client_data_json, Channel::Portal);
        let rp_view = RelyingParty {
            id: &rp.id,
            origins: &origins,
        };
        let asserted = match wa::verify_assertion(
            &rp_view,
            &challenge,
            UserVerification::Required,
            &stored.public_key,
            &response,
        ) {
            Ok(a) => a,
            Err(e) => {
                self.audit(
                    ctx,
                    Some(&user.username),
                    AuditEvent::LoginFailed,
                    format!(
                        "passwordless factor={} reason={} counted=false",
                        factor.id,
                        e.code()
                    ),
                )
                .await;
                return Ok(None);
            }
        };
        // The key answered for this user: from here on the answer may say how they stand.
        if user.disabled {
            let answer = self.refuse(ctx, &user, Reason::Disabled).await;
            return Ok(Some((user, answer)));
        }
        if user.is_locked(now) {
            let answer = self.refuse(ctx, &user, Reason::Locked).await;
            return Ok(Some((user, answer)));
        }
        let attempt = match self.begin_second_factor(ctx, &user, &settings, now).await? {
            Ok(a) => a,
            Err(answer) => return Ok(Some((user.clone(), answer))),
        };
        let spent = self
            .store
            .insert_webauthn_challenge(&WebauthnChallenge {
                challenge_hash: challenge_hash(&challenge),
                purpose: WebauthnPurpose::PasswordlessSpent,
                user_id: None,
                factor_id: None,
                expires_at,
            })
            .await;
        match spent {
            Ok(()) => {}
            Err(crate::store::StoreError::Conflict(_)) => {
                attempt
                    .give_back(Some(
                        "method=webauthn passwordless reason=already_used counted=false".into(),
                    ))
                    .await?;
                return Ok(Some((
                    user.clone(),
                    Validation::Rejected(Reason::InvalidCode),
                )));
            }
            Err(e) => return Err(e.into()),
        }
        if !self
            .take_sign_count(ctx, &user, factor, stored, asserted.sign_count, now)
            .await?
        {
            attempt
                .give_back(Some(format!(
                    "method=webauthn factor={} reason=webauthn_counter counted=false",
                    factor.id
                )))
                .await?;
            return Ok(Some((
                user.clone(),
                Validation::Rejected(Reason::InvalidCode),
            )));
        }
        let answer = attempt
            .accept(
                Method::Factor(FactorKind::Webauthn),
                &format!("factor={} passwordless", factor.id),
            )
            .await?;
        Ok(Some((user, answer)))
    }
}

/// The context of the MAC of passwordless challenges.
const PASSWORDLESS_MAC: &str = "webauthn-passwordless-challenge";

/// The origins an answer may come from: the one its clientDataJSON names when the relying
/// party accepts it for `channel`, else the public URL's alone (so the exact check refuses it).
fn accepted_origin(rp: &Rp, client_data_json: &[u8], channel: Channel) -> [String; 1] {
    match client_origin(client_data_json) {
        Some(o) if rp.accepts(&o, channel) => [o],
        _ => [rp.origin.clone()],
    }
}

/// The origin a clientDataJSON names, to judge it against the relying party's rule before the
/// exact check.
fn client_origin(client_data_json: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(client_data_json).ok()?;
    v.get("origin")?.as_str().map(str::to_owned)
}

/// What a passwordless challenge's MAC covers: the nonce and the expiry (8 bytes, big-endian).
fn passwordless_body(nonce: &[u8; 16], expires_at: i64) -> Vec<u8> {
    let mut body = Vec::with_capacity(40);
    body.extend_from_slice(nonce);
    body.extend_from_slice(&expires_at.to_be_bytes());
    body
}

/// `body` followed by the first 16 bytes of `mac` (hex).
fn with_mac(mut body: Vec<u8>, mac: &str) -> Vec<u8> {
    body.extend((0..16).filter_map(|i| {
        mac.get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
    }));
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_public_urls_are_known_as_localhost() {
        let p = PublicOrigin::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(p.origin, "http://localhost:8080");
        assert_eq!(p.host, "localhost");
        let p = PublicOrigin::parse("https://2FA.example.com/").unwrap();
        assert_eq!(p.origin, "https://2fa.example.com");
        assert_eq!(p.host, "2fa.example.com");
        assert!(PublicOrigin::parse("http://10.0.0.1:80").is_none());
        let p = PublicOrigin::parse("https://2fa.example.com:443/x").unwrap();
        assert_eq!(p.origin, "https://2fa.example.com");
        let p = PublicOrigin::parse("http://localhost:80").unwrap();
        assert_eq!(p.origin, "http://localhost");
        assert!(PublicOrigin::parse("ftp://example.com").is_none());
    }

    #[test]
    fn origins_under_a_parent_rp_id_are_accepted_over_https_only() {
        let rp = Rp {
            id: "example.com".into(),
            name: "x".into(),
            origin: "https://login.example.com".into(),
            parent: true,
        };
        let api = |o: &str| rp.accepts(o, Channel::Api);
        assert!(api("https://login.example.com"));
        assert!(api("https://app.example.com"));
        assert!(api("https://example.com:8443"));
        assert!(!api("http://app.example.com"));
        assert!(!api("https://evilexample.com"));
        assert!(!api("https://example.com.evil.net"));
        assert!(!api("https://.example.com"));
        // The portal's own ceremonies: its origin only.
        assert!(rp.accepts("https://login.example.com", Channel::Portal));
        assert!(!rp.accepts("https://app.example.com", Channel::Portal));
        // Without a parent-domain RP ID, the API too accepts only the public URL's origin.
        let own = Rp {
            id: "login.example.com".into(),
            parent: false,
            ..rp.clone()
        };
        assert!(!own.accepts("https://a.login.example.com", Channel::Api));
        assert!(!own.accepts("https://login.example.com:8443", Channel::Api));
        assert!(own.accepts("https://login.example.com", Channel::Api));
        // A portal on http://localhost: that origin only, not https://localhost nor below it.
        let local = Rp {
            id: "localhost".into(),
            name: "x".into(),
            origin: "http://localhost:8080".into(),
            parent: false,
        };
        for channel in [Channel::Portal, Channel::Api] {
            assert!(local.accepts("http://localhost:8080", channel));
            assert!(!local.accepts("https://localhost", channel));
            assert!(!local.accepts("https://localhost:8080", channel));
            assert!(!local.accepts("https://evil.localhost", channel));
        }
    }
}
