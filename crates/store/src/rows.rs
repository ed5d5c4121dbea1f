//! Rows as the database returns them, and their conversion to and from the core's types. Both
//! backends decode into these same structs, so a row that does not map back is caught in one place.

use std::borrow::Cow;
use twofold_core::audit::AuditRecord;
use twofold_core::crypto::Sealed;

use twofold_core::factor::{
    Factor, FactorData, FactorId, FactorKind, HotpData, TotpData, WebauthnCredential, YubikeyData,
};
use twofold_core::identity::Username;
use twofold_core::store::{BackupCodeRow, StoreError, StoredValue, User};
use twofold_core::token::ApiToken;
use twofold_otp::{Algorithm, Digits};

/// Implements `sqlx::FromRow` for a row struct on both backends, reading each named field from
/// the column of the same name, and each `[field: Type]` (flattened) as a whole `Type` read from
/// the same row. Written out instead of derived: sqlx's derive needs its proc-macro crate, which
/// builds a second copy of the SQLite and PostgreSQL drivers for the compiler's own use.
macro_rules! from_row {
    ($name:ident $([$flat:ident: $flat_ty:ty])* { $($col:ident),* $(,)? }) => {
        $crate::rows::from_row!(@for sqlx::sqlite::SqliteRow, $name $([$flat: $flat_ty])* { $($col),* });
        $crate::rows::from_row!(@for sqlx::postgres::PgRow, $name $([$flat: $flat_ty])* { $($col),* });
    };
    (@for $row:ty, $name:ident $([$flat:ident: $flat_ty:ty])* { $($col:ident),* }) => {
        impl<'r> sqlx::FromRow<'r, $row> for $name {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                #[allow(unused_imports)]
                use sqlx::Row as _;
                Ok($name {
                    $($flat: <$flat_ty as sqlx::FromRow<'r, $row>>::from_row(row)?,)*
                    $($col: row.try_get(stringify!($col))?,)*
                })
            }
        }
    };
}
pub(crate) use from_row;

/// Any database failure that is not a constraint the caller can act on.
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// A failed write: a unique violation is `Conflict(what)`, anything else a backend error.
pub(crate) fn conflict(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => backend(e),
    }
}

/// A failed factor write: a taken YubiKey public id is `Conflict("yubikey")`, another unique
/// violation (the id) `Conflict("factor")`.
pub(crate) fn factor_conflict(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let on_public_id = db.constraint().is_some_and(|c| c.contains("public_id"))
                || db.message().contains("public_id");
            StoreError::Conflict(if on_public_id { "yubikey" } else { "factor" })
        }
        _ => backend(e),
    }
}

/// `params` of a YubiKey factor its user added with a secret they supplied.
const SELF_ENROLLED: &str = "self-enrolled";

pub(crate) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

/// The columns of `users`, in [`UserRow`]'s order.
macro_rules! user_columns {
    () => {
        "id, username, role, email, phone, password_hash, disabled, failed_attempts, \
         locked_until, created_at, language"
    };
}
pub(crate) use user_columns;

/// The columns of `factors` that [`FactorRow`] reads.
macro_rules! factor_columns {
    () => {
        "id, user_id, kind, label, confirmed, created_at, last_used_at, secret, algorithm, \
         digits, period, last_counter, drift, public_id, params"
    };
}
pub(crate) use factor_columns;

#[derive(Debug)]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    role: String,
    email: Option<String>,
    phone: Option<String>,
    password_hash: Option<String>,
    disabled: bool,
    failed_attempts: i64,
    locked_until: Option<i64>,
    created_at: i64,
    language: Option<String>,
}
crate::rows::from_row!(UserRow {
    id,
    username,
    role,
    email,
    phone,
    password_hash,
    disabled,
    failed_attempts,
    locked_until,
    created_at,
    language
});

impl UserRow {
    /// Reads the user's columns off a SQLite row of the hot path, by position from `at`, in
    /// [`user_columns`]'s order.
    pub(crate) fn from_sqlite_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(UserRow {
            id: r.get(at)?,
            username: r.get(at + 1)?,
            role: r.get(at + 2)?,
            email: r.get(at + 3)?,
            phone: r.get(at + 4)?,
            password_hash: r.get(at + 5)?,
            disabled: r.get(at + 6)?,
            failed_attempts: r.get(at + 7)?,
            locked_until: r.get(at + 8)?,
            created_at: r.get(at + 9)?,
            language: r.get(at + 10)?,
        })
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        let role = r
            .role
            .parse()
            .map_err(|_| corrupt(format!("user {}: unknown role {:?}", r.id, r.role)))?;
        let username = Username::parse(&r.username)
            .map_err(|_| corrupt(format!("user {}: invalid username", r.id)))?;
        Ok(User {
            id: r.id,
            username,
            role,
            email: r.email,
            phone: r.phone,
            password_hash: r.password_hash,
            disabled: r.disabled,
            failed_attempts: r.failed_attempts,
            locked_until: r.locked_until,
            created_at: r.created_at,
            language: r.language,
        })
    }
}

/// A user joined with one of their factors (none: the factor columns are NULL), for
/// `user_with_factors`.
#[derive(Debug)]
pub(crate) struct UserFactorRow {
    user: UserRow,
    f_id: Option<String>,
    f_user_id: Option<i64>,
    f_kind: Option<String>,
    f_label: Option<String>,
    f_confirmed: Option<bool>,
    f_created_at: Option<i64>,
    f_last_used_at: Option<i64>,
    f_secret: Option<Vec<u8>>,
    f_algorithm: Option<String>,
    f_digits: Option<i64>,
    f_period: Option<i64>,
    f_last_counter: Option<i64>,
    f_drift: Option<i64>,
    f_public_id: Option<String>,
    f_params: Option<String>,
}
crate::rows::from_row!(UserFactorRow [user: UserRow] { f_id, f_user_id, f_kind, f_label, f_confirmed, f_created_at, f_last_used_at, f_secret, f_algorithm, f_digits, f_period, f_last_counter, f_drift, f_public_id, f_params });

impl UserFactorRow {
    /// Reads a row of [`USER_WITH_FACTORS`] off SQLite's hot-path connection (`crate::hot`).
    /// Columns by position, in the SELECT's order (a lookup by name costs a scan of the
    /// column names per value); `hot_rows_read_columns_in_the_selects_order` checks the order.
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(UserFactorRow {
            user: UserRow::from_sqlite_at(r, 0)?,
            f_id: r.get(11)?,
            f_user_id: r.get(12)?,
            f_kind: r.get(13)?,
            f_label: r.get(14)?,
            f_confirmed: r.get(15)?,
            f_created_at: r.get(16)?,
            f_last_used_at: r.get(17)?,
            f_secret: r.get(18)?,
            f_algorithm: r.get(19)?,
            f_digits: r.get(20)?,
            f_period: r.get(21)?,
            f_last_counter: r.get(22)?,
            f_drift: r.get(23)?,
            f_public_id: r.get(24)?,
            f_params: r.get(25)?,
        })
    }
}

/// The SELECT of [`UserFactorRow`] (`$1`: the username key), factors oldest first.
pub(crate) const USER_WITH_FACTORS: &str = "SELECT u.id, u.username, u.role, u.email, u.phone, \
     u.password_hash, u.disabled, u.failed_attempts, u.locked_until, u.created_at, u.language, \
     f.id AS f_id, f.user_id AS f_user_id, f.kind AS f_kind, f.label AS f_label, \
     f.confirmed AS f_confirmed, f.created_at AS f_created_at, f.last_used_at AS f_last_used_at, \
     f.secret AS f_secret, f.algorithm AS f_algorithm, f.digits AS f_digits, \
     f.period AS f_period, f.last_counter AS f_last_counter, f.drift AS f_drift, \
     f.public_id AS f_public_id, f.params AS f_params \
     FROM users u LEFT JOIN factors f ON f.user_id = u.id \
     WHERE u.username_key = $1 ORDER BY f.created_at, f.seq";

/// Folds the joined rows of several users (ordered by user id) back into each user and their
/// factors.
pub(crate) fn users_with_factors(
    rows: Vec<UserFactorRow>,
) -> Result<Vec<(User, Vec<Factor>)>, StoreError> {
    let mut out = Vec::new();
    let mut run: Vec<UserFactorRow> = Vec::new();
    for r in rows {
        if run.last().is_some_and(|l| l.user.id != r.user.id) {
            out.extend(user_with_factors(std::mem::take(&mut run))?);
        }
        run.push(r);
    }
    out.extend(user_with_factors(run)?);
    Ok(out)
}

/// Folds the joined rows of one user back into the user and their factors.
pub(crate) fn user_with_factors(
    rows: Vec<UserFactorRow>,
) -> Result<Option<(User, Vec<Factor>)>, StoreError> {
    let mut user = None;
    let mut factors = Vec::new();
    for r in rows {
        if user.is_none() {
            user = Some(User::try_from(r.user)?);
        }
        let (Some(id), Some(user_id), Some(kind), Some(label), Some(confirmed), Some(created_at)) = (
            r.f_id,
            r.f_user_id,
            r.f_kind,
            r.f_label,
            r.f_confirmed,
            r.f_created_at,
        ) else {
            continue;
        };
        factors.push(Factor::try_from(FactorRow {
            id,
            user_id,
            kind,
            label,
            confirmed,
            created_at,
            last_used_at: r.f_last_used_at,
            secret: r.f_secret,
            algorithm: r.f_algorithm,
            digits: r.f_digits,
            period: r.f_period,
            last_counter: r.f_last_counter,
            drift: r.f_drift.unwrap_or(0),
            public_id: r.f_public_id,
            params: r.f_params,
        })?);
    }
    Ok(user.map(|u| (u, factors)))
}

#[derive(Debug)]
pub(crate) struct FactorRow {
    id: String,
    user_id: i64,
    kind: String,
    label: String,
    confirmed: bool,
    created_at: i64,
    last_used_at: Option<i64>,
    secret: Option<Vec<u8>>,
    algorithm: Option<String>,
    digits: Option<i64>,
    period: Option<i64>,
    last_counter: Option<i64>,
    drift: i64,
    public_id: Option<String>,
    params: Option<String>,
}
crate::rows::from_row!(FactorRow {
    id,
    user_id,
    kind,
    label,
    confirmed,
    created_at,
    last_used_at,
    secret,
    algorithm,
    digits,
    period,
    last_counter,
    drift,
    public_id,
    params
});

/// A TOTP or HOTP factor's algorithm and code length as stored; what is wrong with them if
/// they cannot be read.
fn code_shape(
    algorithm: Option<&str>,
    digits: Option<i64>,
) -> Result<(Algorithm, Digits), &'static str> {
    let algorithm = algorithm
        .ok_or("no algorithm")?
        .parse()
        .map_err(|_| "an unknown algorithm")?;
    let digits = digits
        .and_then(|d| u64::try_from(d).ok())
        .and_then(|d| Digits::new(d).ok())
        .ok_or("bad digits")?;
    Ok((algorithm, digits))
}

impl TryFrom<FactorRow> for Factor {
    type Error = StoreError;
    fn try_from(r: FactorRow) -> Result<Self, StoreError> {
        let id = FactorId::parse(&r.id).ok_or_else(|| corrupt("factor with a malformed id"))?;
        let bad = |what: &str| corrupt(format!("factor {id}: {what}"));
        let kind: FactorKind = r.kind.parse().map_err(|_| bad("unknown kind"))?;
        let data = match kind {
            FactorKind::Totp => {
                let secret = r.secret.ok_or_else(|| bad("TOTP without a secret"))?;
                let (algorithm, digits) = code_shape(r.algorithm.as_deref(), r.digits)
                    .map_err(|what| bad(&format!("TOTP with {what}")))?;
                let period = r
                    .period
                    .and_then(|p| u64::try_from(p).ok())
                    .filter(|&p| p > 0)
                    .ok_or_else(|| bad("bad period"))?;
                let last_step = r
                    .last_counter
                    .map(u64::try_from)
                    .transpose()
                    .map_err(|_| bad("negative time step"))?;
                FactorData::Totp(TotpData {
                    secret: Sealed(secret),
                    algorithm,
                    digits,
                    period,
                    last_step,
                    drift: r.drift,
                })
            }
            FactorKind::Hotp => {
                let secret = r.secret.ok_or_else(|| bad("HOTP without a secret"))?;
                let (algorithm, digits) = code_shape(r.algorithm.as_deref(), r.digits)
                    .map_err(|what| bad(&format!("HOTP with {what}")))?;
                let last_counter = r
                    .last_counter
                    .map(u64::try_from)
                    .transpose()
                    .map_err(|_| bad("negative HOTP counter"))?;
                FactorData::Hotp(HotpData {
                    secret: Sealed(secret),
                    algorithm,
                    digits,
                    last_counter,
                })
            }
            FactorKind::Email => FactorData::Email {
                address: r
                    .params
                    .ok_or_else(|| bad("email factor without an address"))?,
            },
            FactorKind::Sms => FactorData::Sms {
                phone: r.params.ok_or_else(|| bad("SMS factor without a number"))?,
            },
            FactorKind::Yubikey => FactorData::Yubikey(YubikeyData {
                public_id: r.public_id,
                secret: r.secret.map(Sealed),
                last_counter: r
                    .last_counter
                    .map(u32::try_from)
                    .transpose()
                    .map_err(|_| bad("YubiKey counter out of range"))?,
                self_enrolled: r.params.as_deref() == Some(SELF_ENROLLED),
            }),
            FactorKind::Duo => FactorData::Duo,
            FactorKind::Webauthn => FactorData::Webauthn(match (&r.public_id, &r.params) {
                (Some(public_id), Some(params)) => Some(
                    WebauthnCredential::from_stored(public_id, params, r.last_counter.unwrap_or(0))
                        .map_err(|e| bad(&format!("WebAuthn credential: {e}")))?,
                ),
                _ => None,
            }),
        };
        Ok(Factor {
            id,
            user_id: r.user_id,
            label: r.label,
            confirmed: r.confirmed,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            data,
        })
    }
}

/// The kind-specific columns of a factor to write.
#[derive(Debug, Default)]
pub(crate) struct FactorColumns<'a> {
    pub(crate) secret: Option<&'a [u8]>,
    pub(crate) algorithm: Option<&'static str>,
    pub(crate) digits: Option<i64>,
    pub(crate) period: Option<i64>,
    pub(crate) last_counter: Option<i64>,
    pub(crate) drift: i64,
    pub(crate) public_id: Option<Cow<'a, str>>,
    pub(crate) params: Option<Cow<'a, str>>,
}

impl<'a> FactorColumns<'a> {
    pub(crate) fn of(data: &'a FactorData) -> Result<Self, StoreError> {
        match data {
            FactorData::Totp(t) => Ok(FactorColumns {
                secret: Some(&t.secret.0),
                algorithm: Some(t.algorithm.as_uri_str()),
                digits: Some(i64::from(t.digits.get())),
                period: Some(
                    i64::try_from(t.period).map_err(|_| corrupt("TOTP period out of range"))?,
                ),
                last_counter: t
                    .last_step
                    .map(i64::try_from)
                    .transpose()
                    .map_err(|_| corrupt("TOTP step out of range"))?,
                drift: t.drift,
                public_id: None,
                params: None,
            }),
            // The counter column holds the last counter accepted, as for TOTP steps and YubiKey
            // counters, so the one conditional UPDATE that consumes them serves it too.
            FactorData::Hotp(h) => Ok(FactorColumns {
                secret: Some(&h.secret.0),
                algorithm: Some(h.algorithm.as_uri_str()),
                digits: Some(i64::from(h.digits.get())),
                last_counter: h
                    .last_counter
                    .map(i64::try_from)
                    .transpose()
                    .map_err(|_| corrupt("HOTP counter out of range"))?,
                ..FactorColumns::default()
            }),
            FactorData::Email { address } => Ok(FactorColumns {
                params: Some(Cow::Borrowed(address)),
                ..FactorColumns::default()
            }),
            FactorData::Sms { phone } => Ok(FactorColumns {
                params: Some(Cow::Borrowed(phone)),
                ..FactorColumns::default()
            }),
            FactorData::Yubikey(y) => Ok(FactorColumns {
                secret: y.secret.as_ref().map(|s| s.0.as_slice()),
                last_counter: y.last_counter.map(i64::from),
                public_id: y.public_id.as_deref().map(Cow::Borrowed),
                params: y.self_enrolled.then_some(Cow::Borrowed(SELF_ENROLLED)),
                ..FactorColumns::default()
            }),
            FactorData::Duo | FactorData::Webauthn(None) => Ok(FactorColumns::default()),
            FactorData::Webauthn(Some(c)) => Ok(FactorColumns {
                last_counter: Some(i64::from(c.sign_count)),
                public_id: Some(Cow::Owned(c.public_id())),
                params: Some(Cow::Owned(c.to_params())),
                ..FactorColumns::default()
            }),
        }
    }
}

#[derive(Debug)]
pub(crate) struct BackupRow {
    lookup: String,
    sealed: Vec<u8>,
    used_at: Option<i64>,
}
crate::rows::from_row!(BackupRow {
    lookup,
    sealed,
    used_at
});

impl From<BackupRow> for BackupCodeRow {
    fn from(r: BackupRow) -> Self {
        BackupCodeRow {
            lookup: r.lookup,
            sealed: Sealed(r.sealed),
            used_at: r.used_at,
        }
    }
}

#[derive(Debug)]
pub(crate) struct SettingRow {
    key: String,
    value: Option<String>,
    sealed: Option<Vec<u8>>,
}
crate::rows::from_row!(SettingRow { key, value, sealed });

impl TryFrom<SettingRow> for (String, StoredValue) {
    type Error = StoreError;
    fn try_from(r: SettingRow) -> Result<Self, StoreError> {
        let value = match (r.value, r.sealed) {
            (Some(v), None) => StoredValue::Plain(v),
            (None, Some(s)) => StoredValue::Sealed(Sealed(s)),
            _ => return Err(corrupt(format!("setting {}: not exactly one value", r.key))),
        };
        Ok((r.key, value))
    }
}

/// A setting's two columns: plain text or sealed bytes.
pub(crate) fn setting_columns(value: &StoredValue) -> (Option<&str>, Option<&[u8]>) {
    match value {
        StoredValue::Plain(v) => (Some(v), None),
        StoredValue::Sealed(s) => (None, Some(&s.0)),
    }
}

#[derive(Debug)]
pub(crate) struct TokenRow {
    name: String,
    scope: String,
    created_at: i64,
    last_used_at: Option<i64>,
}
crate::rows::from_row!(TokenRow {
    name,
    scope,
    created_at,
    last_used_at
});

impl TokenRow {
    /// Reads a row of [`crate::sql::TOKEN_BY_HASH`] off SQLite's hot-path connection.
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(TokenRow {
            // By position, in TOKEN_BY_HASH's order.
            name: r.get(0)?,
            scope: r.get(1)?,
            created_at: r.get(2)?,
            last_used_at: r.get(3)?,
        })
    }
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        let scope = r
            .scope
            .parse()
            .map_err(|_| corrupt(format!("token {}: unknown scope", r.name)))?;
        Ok(ApiToken {
            name: r.name,
            scope,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        })
    }
}

#[derive(Debug)]
pub(crate) struct AuditRow {
    id: i64,
    at: i64,
    actor: String,
    subject: Option<String>,
    event: String,
    ip: Option<String>,
    detail: String,
}
crate::rows::from_row!(AuditRow {
    id,
    at,
    actor,
    subject,
    event,
    ip,
    detail
});

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            id: r.id,
            at: r.at,
            actor: r.actor,
            subject: r.subject,
            event: r.event,
            ip: r.ip,
            detail: r.detail,
        }
    }
}

/// A `LIKE` pattern that finds `text` anywhere, case-insensitively (matched against lower-case
/// columns), with `\` escaping the pattern characters the user typed.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A `LIMIT` argument: 0 means no limit.
pub(crate) fn limit(n: u32) -> i64 {
    if n == 0 { i64::MAX } else { i64::from(n) }
}

/// Runs a conversion over every row.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_row(username: &str) -> UserRow {
        UserRow {
            id: 7,
            username: username.into(),
            role: "client".into(),
            email: None,
            phone: None,
            password_hash: None,
            disabled: false,
            failed_attempts: 0,
            locked_until: None,
            created_at: 0,
            language: None,
        }
    }

    /// A user row's name is read as a parsed username; one that cannot be a name is a corrupt
    /// row, not a user.
    #[test]
    fn a_user_row_holds_a_parsed_username() {
        let user = User::try_from(user_row("Alice")).unwrap();
        assert_eq!(user.username.key(), "alice");
        assert_eq!(user.username, "Alice");
        assert!(matches!(
            User::try_from(user_row("not a name")),
            Err(StoreError::Corrupt(_))
        ));
    }

    /// `UserFactorRow::from_sqlite` and `TokenRow::from_sqlite` read columns by position: the
    /// SELECTs must list them in the structs' order.
    #[test]
    fn hot_rows_read_columns_in_the_selects_order() {
        let users = [
            "u.id",
            "u.username",
            "u.role",
            "u.email",
            "u.phone",
            "u.password_hash",
            "u.disabled",
            "u.failed_attempts",
            "u.locked_until",
            "u.created_at",
            "u.language",
            "f_id",
            "f_user_id",
            "f_kind",
            "f_label",
            "f_confirmed",
            "f_created_at",
            "f_last_used_at",
            "f_secret",
            "f_algorithm",
            "f_digits",
            "f_period",
            "f_last_counter",
            "f_drift",
            "f_public_id",
            "f_params",
        ];
        assert_in_order(super::USER_WITH_FACTORS, &users);
        let sessions = [
            "s.id_hash",
            "s.user_id",
            "s.stage",
            "s_created_at",
            "s.expires_at",
            "s.next",
            "s.login_at",
            "s.last_seen_at",
            "s.step_up_at",
            "s.ip",
            "s.user_agent",
            "s.two_factor_at",
        ];
        let with_user: Vec<&str> = sessions.iter().chain(&users[..11]).copied().collect();
        assert_in_order(crate::sql::SESSION_WITH_USER, &with_user);
        assert_in_order(
            crate::sql::TOKEN_BY_HASH,
            &["name", "scope", "created_at", "last_used_at"],
        );
    }

    fn assert_in_order(select: &str, columns: &[&str]) {
        let list = select
            .strip_prefix("SELECT ")
            .and_then(|s| s.split(" FROM ").next())
            .expect("a SELECT");
        let got: Vec<&str> = list
            .split(',')
            .map(|c| c.split_whitespace().last().unwrap_or(""))
            .collect();
        assert_eq!(got, columns, "{select}");
    }
}
