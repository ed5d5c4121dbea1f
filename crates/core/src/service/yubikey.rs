//! YubiKey: the key's secret at enrolment, Yubico OTP checks, bulk import of programmed keys, and
//! the registry of clients of Twofold's own validation server.
//!
//! A factor that holds the key's AES key and private id (local mode) is checked here: modhex,
//! public id, AES decryption, CRC, private id, then the (use, session) counter strictly above
//! the last accepted one, consumed by one conditional UPDATE. A factor without them (server
//! mode) is checked by the validation servers in `methods.yubikey.servers`, and its counter is
//! still consumed here, so Twofold refuses a counter it has already seen either way.

use twofold_otp::yubico::{AesKey, Counter, PrivateId, YubicoOtp};
use zeroize::Zeroizing;

use super::{FactorRequest, MAX_FACTORS, Service, factor_secret_context};
use crate::audit::{AuditEvent, Context};
use crate::crypto::Sealed;
use crate::error::{Error, Result};
use crate::factor::{Factor, FactorData, FactorId, YubikeyData, YubikeyOrigin, parse_label};
use crate::i18n::Text;
use crate::identity::Username;
use crate::store::{NewWsapiClient, StoreError, User, WsapiClient};

/// The key material of a YubiKey programmed for local validation, as `ykpersonalize` prints it.
#[derive(Clone)]
pub struct YubikeySecret {
    /// The AES-128 key, 32 hex characters.
    pub aes_key: String,
    /// The private id ("uid"), 12 hex characters.
    pub private_id: String,
}

impl std::fmt::Debug for YubikeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("YubikeySecret([redacted])")
    }
}

/// Checks the key material's shape.
pub(crate) fn parse_secret(secret: &YubikeySecret) -> Result<(AesKey, PrivateId)> {
    let aes = AesKey::from_hex(secret.aes_key.trim())
        .map_err(|_| Error::invalid("invalid_aes_key", Text::new("err-aes-key-invalid")))?;
    let pid = PrivateId::from_hex(secret.private_id.trim())
        .map_err(|_| Error::invalid("invalid_private_id", Text::new("err-private-id-invalid")))?;
    Ok((aes, pid))
}

/// Why an OTP was refused (for the audit log; users see only "did not match").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OtpRefusal {
    /// The token did not decrypt with the key (another key, a typo, tampering).
    Crc,
    /// The private id inside the token is not the key's.
    PrivateId,
    /// The counter is not above the last accepted one.
    Replayed,
    /// The validation servers refused it, or none answered.
    Server(String),
}

impl OtpRefusal {
    pub(crate) fn describe(&self) -> String {
        match self {
            OtpRefusal::Crc => "otp_does_not_decrypt".into(),
            OtpRefusal::PrivateId => "wrong_private_id".into(),
            OtpRefusal::Replayed => "replayed_otp".into(),
            OtpRefusal::Server(why) => format!("validation_server: {why}"),
        }
    }
}

/// A bulk import's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows that are (or, on a dry run, would be) imported: line, username, public id.
    pub rows: Vec<(usize, String, String)>,
    /// Rows refused: line and why. Nothing is written when there is any.
    pub problems: Vec<(usize, String)>,
    /// Self-enrolled keys whose public id a row takes over (only when the import was told to):
    /// line, the username of the key's holder, public id.
    pub released: Vec<(usize, String, String)>,
    /// Whether the factors were written.
    pub written: bool,
}

/// How a bulk import runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Check every row and report, without writing anything.
    pub dry_run: bool,
    /// Take over public ids held by self-enrolled keys, releasing those keys.
    pub release_self_enrolled: bool,
}

/// Who holds a YubiKey's public id.
#[derive(Debug, Clone)]
pub struct YubikeyHolder {
    /// The user whose factor holds it.
    pub user: User,
    /// The factor.
    pub factor: Factor,
    /// The public id (modhex, lower case).
    pub public_id: String,
    /// Where the public id comes from.
    pub origin: YubikeyOrigin,
}

/// A client of the validation server, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsapiClientView {
    /// The numeric id clients send as `id`.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whether unsigned requests are answered.
    pub allow_unsigned: bool,
    /// Unix time.
    pub created_at: i64,
}

/// A client just registered: its id and key, shown once.
#[derive(Clone)]
pub struct NewClientCredentials {
    /// The numeric id.
    pub id: i64,
    /// The shared key in base64.
    pub key_base64: String,
}

impl std::fmt::Debug for NewClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewClientCredentials")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

pub(crate) fn client_key_context(name: &str) -> String {
    format!("wsapi-client:{name}:key")
}

/// A public id as an operator writes it: 1–16 bytes of modhex, lower case.
pub(crate) fn parse_public_id(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_lowercase();
    let bytes = twofold_otp::yubico::modhex_decode(&t).ok()?;
    (!bytes.is_empty() && bytes.len() <= twofold_otp::yubico::MAX_PUBLIC_ID).then_some(t)
}

impl Service {
    /// Seals a key's AES key and private id together, bound to the factor.
    pub(crate) fn seal_yubikey(
        &self,
        user_id: i64,
        id: &FactorId,
        aes: &AesKey,
        pid: &PrivateId,
    ) -> Sealed {
        let mut plain = Zeroizing::new([0u8; 22]);
        plain[..16].copy_from_slice(aes.expose());
        plain[16..].copy_from_slice(&pid.0);
        self.key.seal(
            self.rng.as_ref(),
            plain.as_slice(),
            &factor_secret_context(user_id, id),
        )
    }

    fn open_yubikey(
        &self,
        user_id: i64,
        id: &FactorId,
        sealed: &Sealed,
    ) -> Result<(AesKey, PrivateId)> {
        let plain = self
            .key
            .open(sealed, &factor_secret_context(user_id, id))
            .map_err(|e| Error::internal(&e))?;
        if plain.len() != 22 {
            return Err(Error::internal(&StoreError::Corrupt(format!(
                "factor {id}: YubiKey secret of {} bytes",
                plain.len()
            ))));
        }
        let mut aes = [0u8; 16];
        aes.copy_from_slice(&plain[..16]);
        let mut pid = [0u8; 6];
        pid.copy_from_slice(&plain[16..]);
        Ok((AesKey::from_bytes(aes), PrivateId(pid)))
    }

    /// Checks an OTP against one YubiKey factor (whose public id the caller matched, or which is
    /// being confirmed) and returns its counter, without consuming anything.
    pub(crate) async fn check_yubikey_otp(
        &self,
        user_id: i64,
        factor: &Factor,
        data: &YubikeyData,
        otp: &YubicoOtp,
    ) -> Result<std::result::Result<Counter, OtpRefusal>> {
        let counter = match &data.secret {
            Some(sealed) => {
                let (aes, pid) = self.open_yubikey(user_id, &factor.id, sealed)?;
                let Ok(fields) = otp.decrypt(&aes) else {
                    return Ok(Err(OtpRefusal::Crc));
                };
                if fields.check_private_id(&pid).is_err() {
                    return Ok(Err(OtpRefusal::PrivateId));
                }
                fields.counter()
            }
            None => match self.verify_with_servers(otp).await? {
                Ok(counter) => counter,
                Err(why) => return Ok(Err(OtpRefusal::Server(why))),
            },
        };
        if data
            .last_counter
            .is_some_and(|last| counter.packed() <= last)
        {
            return Ok(Err(OtpRefusal::Replayed));
        }
        Ok(Ok(counter))
    }

    /// Imports keys programmed in bulk: CSV rows `username,public id,private id,AES key[,label]`
    /// (modhex, hex, hex). Every row is checked first; nothing is written unless all are good.
    ///
    /// A public id held by another factor refuses its row, except that with
    /// `release_self_enrolled` a self-enrolled holder is released in the import's own
    /// transaction: the operator holds the key's AES key, which no user's claim can match, and
    /// releasing in the same transaction leaves the claimant no moment to claim it again. Keys
    /// imported, added by an administrator or vouched for by a validation server are never
    /// taken over; remove those first.
    pub async fn import_yubikeys(
        &self,
        ctx: &Context,
        csv: &str,
        options: ImportOptions,
    ) -> Result<ImportReport> {
        let ImportOptions {
            dry_run,
            release_self_enrolled,
        } = options;
        let mut report = ImportReport::default();
        let mut factors = Vec::new();
        let mut releases: Vec<Factor> = Vec::new();
        let mut released_users: Vec<User> = Vec::new();
        let mut seen_ids = std::collections::HashSet::new();
        let mut per_user: std::collections::HashMap<i64, usize> = Default::default();
        let mut released_of: std::collections::HashMap<i64, usize> = Default::default();
        let now = self.now();
        for (i, line) in csv.lines().enumerate() {
            let n = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split(',').map(str::trim).collect();
            if n == 1
                && cols
                    .first()
                    .is_some_and(|c| c.eq_ignore_ascii_case("username"))
            {
                continue;
            }
            if !(4..=5).contains(&cols.len()) {
                report.problems.push((
                    n,
                    format!(
                        "expected 4 or 5 columns (username,public id,private id,AES key[,label]), found {}",
                        cols.len()
                    ),
                ));
                continue;
            }
            let username = cols[0];
            let user = match Username::parse(username) {
                Ok(name) => self.store.user_by_name(&name.key()).await?,
                Err(_) => None,
            };
            let Some(user) = user else {
                report
                    .problems
                    .push((n, format!("no user named {username:?}")));
                continue;
            };
            let Some(public_id) = parse_public_id(cols[1]) else {
                report.problems.push((
                    n,
                    "the public id is 2 to 32 modhex characters (cbdefghijklnrtuv)".into(),
                ));
                continue;
            };
            let secret = YubikeySecret {
                aes_key: cols[3].to_owned(),
                private_id: cols[2].to_owned(),
            };
            let (aes, pid) = match parse_secret(&secret) {
                Ok(v) => v,
                Err(e) => {
                    report.problems.push((n, e.message.english()));
                    continue;
                }
            };
            let label = match cols.get(4).filter(|l| !l.is_empty()) {
                Some(l) => match parse_label(l) {
                    Some(l) => l,
                    None => {
                        report
                            .problems
                            .push((n, "a label has 1 to 64 characters".into()));
                        continue;
                    }
                },
                None => format!("YubiKey {public_id}"),
            };
            if !seen_ids.insert(public_id.clone()) {
                report
                    .problems
                    .push((n, format!("the public id {public_id} is in the file twice")));
                continue;
            }
            let mut release = None;
            match self.holder_of(&public_id).await? {
                Some(h) if release_self_enrolled && h.origin == YubikeyOrigin::SelfEnrolled => {
                    release = Some(h);
                }
                Some(h) => {
                    let hint = if h.origin == YubikeyOrigin::SelfEnrolled {
                        " (--release-self-enrolled takes it over)"
                    } else {
                        ""
                    };
                    report.problems.push((
                        n,
                        format!(
                            "the YubiKey {public_id} is already registered to {} ({}){hint}",
                            h.user.username,
                            h.origin.describe()
                        ),
                    ));
                    continue;
                }
                None => {
                    if self.store.public_id_taken(&public_id).await? {
                        report
                            .problems
                            .push((n, format!("the YubiKey {public_id} is already registered")));
                        continue;
                    }
                }
            }
            let count = per_user.entry(user.id).or_insert(0);
            *count += 1;
            // A key of the user's own that this row takes over leaves room for the new one.
            let freed = released_of.get(&user.id).copied().unwrap_or(0)
                + usize::from(release.as_ref().is_some_and(|h| h.user.id == user.id));
            let held = self.store.factors_of(user.id).await?.len();
            if (held + *count).saturating_sub(freed) > MAX_FACTORS {
                report.problems.push((
                    n,
                    format!("{username} would hold more than {MAX_FACTORS} factors"),
                ));
                continue;
            }
            let id = FactorId::generate(self.rng.as_ref());
            let sealed = self.seal_yubikey(user.id, &id, &aes, &pid);
            factors.push(Factor {
                id,
                user_id: user.id,
                label,
                confirmed: true,
                created_at: now,
                last_used_at: None,
                data: FactorData::Yubikey(YubikeyData {
                    public_id: Some(public_id.clone()),
                    secret: Some(sealed),
                    last_counter: None,
                    self_enrolled: false,
                }),
            });
            if let Some(h) = release {
                *released_of.entry(h.user.id).or_insert(0) += 1;
                report
                    .released
                    .push((n, h.user.username.to_string(), public_id.clone()));
                releases.push(h.factor);
                if !released_users.iter().any(|u| u.id == h.user.id) {
                    released_users.push(h.user);
                }
            }
            report.rows.push((n, user.username.to_string(), public_id));
        }
        if report.rows.is_empty() && report.problems.is_empty() {
            report.problems.push((0, "the file holds no rows".into()));
        }
        if !report.problems.is_empty() || dry_run {
            return Ok(report);
        }
        let written = if releases.is_empty() {
            self.store.insert_factors(&factors).await.map(|()| true)
        } else {
            self.store
                .import_factors_releasing(&releases, &factors)
                .await
        };
        match written {
            Ok(true) => {}
            Ok(false) => {
                report.problems.push((
                    0,
                    "a key to take over was removed or changed meanwhile; nothing was imported"
                        .into(),
                ));
                return Ok(report);
            }
            Err(StoreError::Conflict(_)) => {
                report.problems.push((
                    0,
                    "a public id was registered meanwhile; nothing was imported".into(),
                ));
                return Ok(report);
            }
            Err(e) => return Err(e.into()),
        }
        report.written = true;
        for (released, (line, holder, public_id)) in releases.iter().zip(&report.released) {
            let to = report
                .rows
                .iter()
                .find(|(n, _, _)| n == line)
                .map_or("", |(_, username, _)| username.as_str());
            self.audit(
                ctx,
                Some(holder),
                AuditEvent::FactorRemoved,
                format!("factor={} kind=yubikey via=import", released.id),
            )
            .await;
            self.audit(
                ctx,
                Some(holder),
                AuditEvent::YubikeyReleased,
                format!(
                    "public_id={public_id} factor={} origin=self_enrolled released_to={to} \
                     via=import",
                    released.id
                ),
            )
            .await;
        }
        for (f, (_, username, public_id)) in factors.iter().zip(&report.rows) {
            self.audit(
                ctx,
                Some(username),
                AuditEvent::FactorEnrolled,
                format!("kind=yubikey factor={} public_id={public_id} import", f.id),
            )
            .await;
        }
        // As with every removal of a user's last confirmed factor, their sessions end: a
        // session must not outlive the factor that let it in.
        for user in &released_users {
            let left = self.store.factors_of(user.id).await?;
            if !left.iter().any(|f| f.confirmed) {
                self.end_all_sessions(ctx, user, "last_factor_removed")
                    .await?;
            }
        }
        Ok(report)
    }

    /// The factor holding a public id (already in canonical form) and its user.
    async fn holder_of(&self, public_id: &str) -> Result<Option<YubikeyHolder>> {
        let Some(factor) = self.store.factor_by_public_id(public_id).await? else {
            return Ok(None);
        };
        let FactorData::Yubikey(data) = &factor.data else {
            return Ok(None);
        };
        let origin = data.origin();
        let Some(user) = self.store.user_by_id(factor.user_id).await? else {
            return Ok(None);
        };
        Ok(Some(YubikeyHolder {
            user,
            factor,
            public_id: public_id.to_owned(),
            origin,
        }))
    }

    /// Who holds the YubiKey whose public id is `text` (modhex, any case), for the admin
    /// area's search; `None` when the text is not a public id or no key holds it.
    pub async fn yubikey_holder(&self, text: &str) -> Result<Option<YubikeyHolder>> {
        match parse_public_id(text) {
            Some(public_id) => self.holder_of(&public_id).await,
            None => Ok(None),
        }
    }

    /// Releases a YubiKey's public id: an administrator removes the user's key factor, so the
    /// key's rightful owner can register it. Only a key bound to a public id is released this
    /// way (other factors are removed or reset as usual). The factor goes the way of every
    /// factor an administrator removes (`remove_factor`); the release is audited besides, with
    /// the public id and where it came from.
    pub async fn release_yubikey(
        &self,
        ctx: &Context,
        req: &FactorRequest,
    ) -> Result<YubikeyHolder> {
        let user = self.user_by_name(&req.username).await?;
        ctx.require_manage(&user)?;
        let factor = self.factor_of(&user, req.factor.as_ref()).await?;
        let (public_id, origin) = match &factor.data {
            FactorData::Yubikey(y) => match &y.public_id {
                Some(p) => (p.clone(), y.origin()),
                None => return Err(not_bound()),
            },
            _ => return Err(not_bound()),
        };
        // A factor's public id never changes once bound, so removing this id removes the
        // binding that was read.
        let removal = FactorRequest::of(req.username.clone(), factor.id.clone());
        self.remove_factor(ctx, &removal).await?;
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::YubikeyReleased,
            format!(
                "public_id={public_id} factor={} origin={}",
                factor.id,
                origin.as_str()
            ),
        )
        .await;
        Ok(YubikeyHolder {
            user,
            factor,
            public_id,
            origin,
        })
    }

    /// The answer to a confirmation whose public id another factor holds: audited for both
    /// accounts (`yubikey.conflict`: ids and usernames, never the OTP or a key), and a sentence
    /// for the refused user that names nobody.
    pub(crate) async fn yubikey_conflict(
        &self,
        ctx: &Context,
        user: &User,
        factor: &Factor,
        public_id: &str,
    ) -> Error {
        let claim_origin = match &factor.data {
            FactorData::Yubikey(y) => y.origin().as_str(),
            _ => "",
        };
        let holder = match self.holder_of(public_id).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the holder of a YubiKey");
                None
            }
        };
        match holder {
            Some(h) if h.user.id == user.id => {
                self.audit(
                    ctx,
                    Some(&user.username),
                    AuditEvent::SecondFactorFailure,
                    format!(
                        "confirm factor={} kind=yubikey reason=key_registered_here \
                         public_id={public_id} holder_factor={}",
                        factor.id, h.factor.id
                    ),
                )
                .await;
                Error::conflict("yubikey_registered", Text::new("err-yubikey-yours"))
            }
            holder => {
                let (holder_name, holder_factor, holder_origin) = match &holder {
                    Some(h) => (
                        h.user.username.as_str(),
                        h.factor.id.as_str(),
                        h.origin.as_str(),
                    ),
                    None => ("", "", ""),
                };
                self.audit(
                    ctx,
                    Some(&user.username),
                    AuditEvent::YubikeyConflict,
                    format!(
                        "public_id={public_id} factor={} origin={claim_origin} \
                         holder={holder_name} holder_factor={holder_factor} \
                         holder_origin={holder_origin}",
                        factor.id
                    ),
                )
                .await;
                if let Some(h) = &holder {
                    self.audit(
                        ctx,
                        Some(&h.user.username),
                        AuditEvent::YubikeyConflict,
                        format!(
                            "public_id={public_id} factor={holder_factor} \
                             origin={holder_origin} claimed_by={} claim_factor={} \
                             claim_origin={claim_origin}",
                            user.username, factor.id
                        ),
                    )
                    .await;
                }
                Error::conflict("yubikey_registered", Text::new("err-yubikey-taken"))
            }
        }
    }

    /// Registers a client of the validation server: a new numeric id and a random 20-byte key
    /// (shown once, in base64).
    pub async fn add_wsapi_client(
        &self,
        ctx: &Context,
        name: &str,
        allow_unsigned: bool,
    ) -> Result<NewClientCredentials> {
        let name = parse_client_name(name)?;
        let mut key = Zeroizing::new([0u8; 20]);
        self.rng.fill(key.as_mut_slice());
        let sealed = self.key.seal(
            self.rng.as_ref(),
            key.as_slice(),
            &client_key_context(&name),
        );
        let id = match self
            .store
            .insert_wsapi_client(&NewWsapiClient {
                name: name.clone(),
                key: sealed,
                allow_unsigned,
                created_at: self.now(),
            })
            .await
        {
            Ok(id) => id,
            Err(StoreError::Conflict(_)) => {
                return Err(Error::conflict(
                    "client_exists",
                    Text::new("err-validation-client-exists").arg("name", format!("{name:?}")),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        self.audit(
            ctx,
            None,
            AuditEvent::TokenCreated,
            format!("wsapi_client={name} id={id} allow_unsigned={allow_unsigned}"),
        )
        .await;
        use base64::Engine as _;
        Ok(NewClientCredentials {
            id,
            key_base64: base64::engine::general_purpose::STANDARD.encode(key.as_slice()),
        })
    }

    /// The registered clients of the validation server.
    pub async fn list_wsapi_clients(&self) -> Result<Vec<WsapiClientView>> {
        Ok(self
            .store
            .list_wsapi_clients()
            .await?
            .into_iter()
            .map(|c| WsapiClientView {
                id: c.id,
                name: c.name,
                allow_unsigned: c.allow_unsigned,
                created_at: c.created_at,
            })
            .collect())
    }

    /// Revokes a client: its requests get `NO_SUCH_CLIENT` from now on.
    pub async fn revoke_wsapi_client(&self, ctx: &Context, name: &str) -> Result<()> {
        if !self.store.delete_wsapi_client(name).await? {
            return Err(Error::not_found(
                "unknown_client",
                Text::new("err-validation-client-unknown").arg("name", format!("{name:?}")),
            ));
        }
        self.audit(
            ctx,
            None,
            AuditEvent::TokenRevoked,
            format!("wsapi_client={name}"),
        )
        .await;
        Ok(())
    }

    /// Asks the validation servers about an OTP of a factor that holds no key (server mode):
    /// the key's counter when they say OK, or why not. An OK without the key's counters is
    /// refused: Twofold must see the counter to refuse one it has already accepted.
    async fn verify_with_servers(
        &self,
        otp: &YubicoOtp,
    ) -> Result<std::result::Result<Counter, String>> {
        use base64::Engine as _;
        let settings = self.settings_cached().await?;
        let Ok(api_key) =
            base64::engine::general_purpose::STANDARD.decode(settings.yubikey_api_key()?.trim())
        else {
            return Ok(Err("the API key setting is not base64".into()));
        };
        if api_key.is_empty() {
            // Unsigned answers would be trusted on TLS alone, counters included.
            return Ok(Err(
                "no API key is set: answers of validation servers must be signed".into(),
            ));
        }
        let config = crate::yubico::YubicoServerConfig {
            client_id: settings.yubikey_client_id().to_owned(),
            api_key,
            servers: settings.yubikey_servers(),
        };
        Ok(match self.yubico.verify(&config, &otp.to_modhex()).await {
            Ok(Some(counter)) => Ok(counter),
            Ok(None) => Err("the validation server did not send the key's counters \
                             (sessioncounter, sessionuse)"
                .into()),
            Err(refusal) => Err(refusal.to_string()),
        })
    }

    /// A client's shared key, opened.
    pub(crate) fn wsapi_client_key(&self, client: &WsapiClient) -> Result<Zeroizing<Vec<u8>>> {
        self.key
            .open(&client.key, &client_key_context(&client.name))
            .map(|k| Zeroizing::new(k.to_vec()))
            .map_err(|e| Error::internal(&e))
    }
}

fn not_bound() -> Error {
    Error::invalid("not_a_bound_yubikey", Text::new("err-yubikey-not-bound"))
}

pub(super) fn parse_client_name(name: &str) -> Result<String> {
    let t = name.trim();
    if t.is_empty()
        || t.len() > 64
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(Error::invalid(
            "invalid_name",
            Text::new("err-client-name-invalid"),
        ));
    }
    Ok(t.to_owned())
}

/// How long answered requests are remembered for `REPLAYED_REQUEST`, in seconds.
const WSAPI_REQUEST_MEMORY: i64 = 24 * 3600;

impl Service {
    /// Answers a request of Yubico's validation protocol 2.0 (`GET /wsapi/2.0/verify?…`, the
    /// raw query string) for the keys held in local mode: the signed body, always (the protocol
    /// answers errors as statuses, over HTTP 200).
    ///
    /// Statuses: a missing or malformed parameter `MISSING_PARAMETER`; an unknown (or revoked)
    /// client `NO_SUCH_CLIENT`; a wrong signature, or none from a client that must sign,
    /// `BAD_SIGNATURE`; the YubiKey method switched off `OPERATION_NOT_ALLOWED`; an OTP that is
    /// not one, of an unknown key, of a key checked by other servers, of a disabled user, that
    /// does not decrypt or carries another private id `BAD_OTP`; the same OTP and nonce answered
    /// OK before `REPLAYED_REQUEST`; a counter not above the last accepted one
    /// `REPLAYED_OTP`; a database failure `BACKEND_ERROR`; else `OK`, which consumes the
    /// counter Twofold's own logins use too.
    pub async fn wsapi_verify(&self, ip: Option<String>, query: &str) -> String {
        use twofold_otp::wsapi::{Status, VerifyRequest, VerifyResponse};
        let now = self.now();
        let now_ms = u64::try_from(now).unwrap_or(0).saturating_mul(1000);
        let request = match VerifyRequest::parse(query) {
            Ok(r) => r,
            Err(e) => return VerifyResponse::new(e.status()).body(&[], now_ms),
        };
        let client = match i64::try_from(request.id()) {
            Ok(id) => self.store.wsapi_client(id).await,
            Err(_) => Ok(None),
        };
        let client = match client {
            Ok(Some(c)) => c,
            Ok(None) => {
                return VerifyResponse::new(Status::NoSuchClient).body(&[], now_ms);
            }
            Err(e) => {
                tracing::error!(error = %e, "validation server: cannot read the client");
                return VerifyResponse::new(Status::BackendError).body(&[], now_ms);
            }
        };
        let Ok(key) = self.wsapi_client_key(&client) else {
            return VerifyResponse::new(Status::BackendError).body(&[], now_ms);
        };
        let ctx = Context {
            actor: crate::audit::Actor::Token(format!("yubikey-client:{}", client.name)),
            ip,
        };
        let signed_ok = match request.signature() {
            Some(_) => twofold_otp::wsapi::verify_request_signature(&request, &key),
            None => client.allow_unsigned,
        };
        let status = if signed_ok {
            match self.wsapi_check(&ctx, &client, &request, now).await {
                Ok(answer) => answer,
                Err(e) => {
                    tracing::error!(error = %e, "validation server: the check failed");
                    WsapiAnswer::plain(Status::BackendError)
                }
            }
        } else {
            WsapiAnswer::plain(Status::BadSignature)
        };
        let mut response = VerifyResponse::for_request(&request, status.status);
        if status.status == Status::Ok {
            response = response.sync_level(100);
            if let (true, Some(c)) = (request.wants_counters(), status.counters) {
                response = response.counters(c);
            }
        }
        metrics::counter!("twofold_wsapi_requests_total", "status" => status.status.as_str())
            .increment(1);
        response.body(&key, now_ms)
    }

    async fn wsapi_check(
        &self,
        ctx: &Context,
        client: &WsapiClient,
        request: &twofold_otp::wsapi::VerifyRequest,
        now: i64,
    ) -> Result<WsapiAnswer> {
        use twofold_otp::wsapi::{KeyCounters, Status};
        let settings = self.settings_cached().await?;
        if !settings.method_active(crate::factor::FactorKind::Yubikey) {
            return Ok(WsapiAnswer::plain(Status::OperationNotAllowed));
        }
        let Ok(otp) = YubicoOtp::parse(request.otp()) else {
            return Ok(WsapiAnswer::plain(Status::BadOtp));
        };
        let hash = crate::crypto::token_hash(&format!(
            "wsapi:{}:{}:{}",
            client.id,
            request.nonce(),
            otp.to_modhex()
        ));
        if self.store.wsapi_request_seen(&hash).await? {
            return Ok(WsapiAnswer::plain(Status::ReplayedRequest));
        }
        let Some(factor) = self
            .store
            .factor_by_public_id(&otp.public_id_modhex())
            .await?
        else {
            return Ok(WsapiAnswer::plain(Status::BadOtp));
        };
        let FactorData::Yubikey(data) = &factor.data else {
            return Ok(WsapiAnswer::plain(Status::BadOtp));
        };
        let Some(sealed) = &data.secret else {
            // A key checked by other validation servers: Twofold cannot decrypt its OTPs.
            return Ok(WsapiAnswer::plain(Status::BadOtp));
        };
        let Some(user) = self.store.user_by_id(factor.user_id).await? else {
            return Ok(WsapiAnswer::plain(Status::BadOtp));
        };
        let (username, factor_id) = (&user.username, &factor.id);
        let refuse = |why: &'static str, status: Status| async move {
            self.audit(
                ctx,
                Some(username),
                AuditEvent::SecondFactorFailure,
                format!("kind=yubikey factor={factor_id} via=wsapi reason={why}"),
            )
            .await;
            Ok(WsapiAnswer::plain(status))
        };
        if user.disabled {
            return refuse("disabled", Status::BadOtp).await;
        }
        // The same policy as a login: 2FA on, YubiKey enabled for the user's role, not locked.
        if !settings.twofactor_enabled()
            || !settings.method_available(crate::factor::FactorKind::Yubikey, user.role)
        {
            return refuse("method_not_enabled", Status::BadOtp).await;
        }
        if user.is_locked(now) {
            return refuse("locked", Status::BadOtp).await;
        }
        if data.self_enrolled {
            // Its public id is only what the user's own OTP claimed: not vouched for here.
            return refuse("self_enrolled_key", Status::BadOtp).await;
        }
        let (aes, pid) = self.open_yubikey(user.id, &factor.id, sealed)?;
        let Ok(fields) = otp.decrypt(&aes) else {
            return refuse("otp_does_not_decrypt", Status::BadOtp).await;
        };
        if fields.check_private_id(&pid).is_err() {
            return refuse("wrong_private_id", Status::BadOtp).await;
        }
        let counter = fields.counter();
        let above_last = data.last_counter.is_none_or(|last| counter.packed() > last);
        if !above_last
            || !self
                .store
                .consume_counter(&factor.id, i64::from(counter.packed()), 0, now)
                .await?
        {
            return refuse("replayed_otp", Status::ReplayedOtp).await;
        }
        self.store.record_wsapi_request(&hash, now).await?;
        self.purge_wsapi_requests(now).await;
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::SecondFactorSuccess,
            format!("method=yubikey factor={} via=wsapi", factor.id),
        )
        .await;
        Ok(WsapiAnswer {
            status: Status::Ok,
            counters: Some(KeyCounters {
                timestamp: fields.timestamp,
                session_counter: counter.use_counter,
                session_use: counter.session_counter,
            }),
        })
    }

    /// Forgets answered requests older than a day, at most once an hour per process.
    async fn purge_wsapi_requests(&self, now: i64) {
        use std::sync::atomic::Ordering;
        let last = self.wsapi_purged_at.load(Ordering::Relaxed);
        if now - last < 3600
            || self
                .wsapi_purged_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if let Err(e) = self
            .store
            .purge_wsapi_requests(now - WSAPI_REQUEST_MEMORY)
            .await
        {
            tracing::warn!(error = %e, "validation server: cannot purge old requests");
        }
    }
}

/// A validation-server status with the key's counters for an `OK`.
struct WsapiAnswer {
    status: twofold_otp::wsapi::Status,
    counters: Option<twofold_otp::wsapi::KeyCounters>,
}

impl WsapiAnswer {
    fn plain(status: twofold_otp::wsapi::Status) -> Self {
        WsapiAnswer {
            status,
            counters: None,
        }
    }
}
