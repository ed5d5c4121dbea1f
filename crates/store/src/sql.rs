//! The statements of the validation hot path, as text: `queries` runs them through sqlx on
//! both backends, and `hot` runs the very same text in place on SQLite, binding the `$N`
//! parameters by name. (Every other statement lives where it is used, in `queries`.)

pub(crate) use crate::rows::USER_WITH_FACTORS;

/// `$1` the hash of a session id → the session with its user ([`crate::queries::sessions::SessionUserRow`]).
pub(crate) const SESSION_WITH_USER: &str = "SELECT s.id_hash, s.user_id, s.stage, \
     s.created_at AS s_created_at, s.expires_at, s.next, s.login_at, s.last_seen_at, \
     s.step_up_at, s.ip, s.user_agent, s.two_factor_at, \
     u.id, u.username, u.role, u.email, u.phone, u.password_hash, u.disabled, \
     u.failed_attempts, u.locked_until, u.created_at, u.language \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1";

/// `$1` hash → the token's row.
pub(crate) const TOKEN_BY_HASH: &str =
    "SELECT name, scope, created_at, last_used_at FROM api_tokens WHERE hash = $1";

/// Counts one second-factor attempt unless the user is locked or at the threshold: `$1` user
/// id, `$2` now, `$3` the threshold; returns the new count, or no row.
pub(crate) const BEGIN_ATTEMPT: &str = "UPDATE users SET failed_attempts = failed_attempts + 1, attempt_at = $2 \
     WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) \
       AND failed_attempts < $3 \
     RETURNING failed_attempts";

/// Gives back one counted attempt (never below 0): `$1` user id.
pub(crate) const REFUND_ATTEMPT: &str =
    "UPDATE users SET failed_attempts = failed_attempts - 1 WHERE id = $1 AND failed_attempts > 0";

/// `$1` user id.
pub(crate) const RESET_FAILURES: &str =
    "UPDATE users SET failed_attempts = 0 WHERE id = $1 AND failed_attempts <> 0";

/// Consumes a TOTP step or YubiKey counter: `$1` factor id, `$2` the counter (only a greater
/// one than the last is taken), `$3` drift, `$4` now.
pub(crate) const CONSUME_COUNTER: &str = "UPDATE factors SET last_counter = $2, drift = $3, last_used_at = $4 \
     WHERE id = $1 AND confirmed \
     AND (last_counter IS NULL OR last_counter < $2)";

/// Takes a WebAuthn ceremony's challenge: `$1` its hash, `$2` purpose, `$3` user id, `$4` now.
pub(crate) const TAKE_WEBAUTHN_CHALLENGE: &str = "DELETE FROM webauthn_challenges \
     WHERE challenge_hash = $1 AND purpose = $2 AND user_id = $3 AND expires_at > $4";

/// Takes a security key's signature counter when it grew (or both are 0, a key without a
/// counter): `$1` factor id, `$2` the counter, `$3` now.
pub(crate) const CONSUME_SIGN_COUNT: &str = "UPDATE factors SET last_counter = $2, last_used_at = $3 \
     WHERE id = $1 AND confirmed AND kind = 'webauthn' \
     AND (last_counter IS NULL OR last_counter < $2 OR ($2 = 0 AND last_counter = 0))";

/// Consumes a backup code: `$1` user id, `$2` its lookup hash, `$3` now.
pub(crate) const CONSUME_BACKUP_CODE: &str = "UPDATE backup_codes SET used_at = $3 \
     WHERE user_id = $1 AND lookup = $2 AND used_at IS NULL";

/// `$1` at, `$2` actor, `$3` subject, `$4` event, `$5` ip, `$6` detail.
pub(crate) const INSERT_AUDIT: &str =
    "INSERT INTO audit (at, actor, subject, event, ip, detail) VALUES ($1, $2, $3, $4, $5, $6)";

/// Uses a factor's live code: `$1` factor id, `$2` the code's hash, `$3` now, `$4` the wrong
/// tries after which it no longer works.
pub(crate) const CONSUME_CHALLENGE: &str = "UPDATE challenges SET used_at = $3 \
     WHERE factor_id = $1 AND code_hash = $2 AND used_at IS NULL \
       AND expires_at > $3 AND attempts < $4";

/// Counts a wrong try against a factor's live code: `$1` factor id.
pub(crate) const CHALLENGE_FAILED: &str = "UPDATE challenges SET attempts = attempts + 1 \
     WHERE factor_id = $1 AND used_at IS NULL";

/// Whether the user has a used backup code with this lookup hash: `$1` user id, `$2` lookup.
pub(crate) const BACKUP_CODE_USED: &str = "SELECT 1 FROM backup_codes \
     WHERE user_id = $1 AND lookup = $2 AND used_at IS NOT NULL";

/// `$1` user id → (locked until, lockout streak, last lockout).
pub(crate) const LOCK_STATE: &str =
    "SELECT locked_until, lockout_streak, last_lockout_at FROM users WHERE id = $1";

/// Locks the second factor: `$1` user id, `$2` until, `$3` the streak, `$4` now.
pub(crate) const SET_LOCK: &str = "UPDATE users SET locked_until = $2, failed_attempts = 0, \
     lockout_streak = $3, last_lockout_at = $4 WHERE id = $1";
