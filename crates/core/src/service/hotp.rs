//! Counter-based tokens (HOTP, RFC 4226): the window a code is looked for in, replays, and
//! resynchronisation with two codes in a row.
//!
//! A factor stores the last counter it accepted (`None` before the first); the token is expected
//! to show the next one. A code is accepted when it matches one of the `hotp.window` counters
//! from that next one (presses of the button that never reached Twofold), and consuming it is
//! the one conditional UPDATE every counter goes through (only above the last accepted). A code
//! of one of the `hotp.window` counters up to the last accepted is a replay: refused without
//! counting, like a TOTP step already used. A token pressed further ahead than the window is
//! brought back by two consecutive codes within [`RESYNC_RANGE`] counters of the next one,
//! checked through the attempt guard like any second-factor attempt, so a wrong pair counts
//! as a failure and the call is no free oracle.

use twofold_otp::{Hotp, Secret};

use super::attempt::{LocalCheck, LocalOutcome};
use super::validate::{Method, Reason, Validation};
use super::{FactorRequest, Service, factor_secret_context};
use crate::audit::Context;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::factor::{Factor, FactorData, FactorId, FactorKind, HotpData};
use crate::i18n::Text;
use crate::store::Consume;

/// How many counters from the next expected one a resynchronising pair may start at.
pub const RESYNC_RANGE: u64 = 1000;

/// What a code is to one HOTP factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct HotpMatch {
    /// The lowest counter of the window that the code matches, not yet accepted.
    pub(crate) fresh: Option<u64>,
    /// The code matches one of the `window` counters up to the last accepted.
    pub(crate) replay: bool,
}

/// The counters a code is looked for in: `window` (at least 1) from the next expected one.
pub(crate) fn window_of(data: &HotpData, window: u64) -> std::ops::RangeInclusive<u64> {
    let next = data.next();
    next..=next.saturating_add(window.max(1) - 1)
}

/// Checks `code` against the factor's window and, for replays, the `window` counters up to
/// the last accepted. Both are computed whatever the first found. Pure computation.
pub(crate) fn check(hotp: &Hotp, data: &HotpData, code: &str, window: u64) -> HotpMatch {
    let fresh = hotp.verify_range(code, window_of(data, window));
    let replay = data.last_counter.is_some_and(|last| {
        hotp.verify_range(code, last.saturating_sub(window.max(1) - 1)..=last)
            .is_some()
    });
    HotpMatch { fresh, replay }
}

/// The counter a resynchronising pair starts at: the lowest `c` within [`RESYNC_RANGE`] of the
/// next expected counter such that `first` is the code of `c` and `second` that of `c + 1`.
pub(crate) fn resync_pair(hotp: &Hotp, data: &HotpData, first: &str, second: &str) -> Option<u64> {
    let next = data.next();
    hotp.verify_pair(first, second, next..=next.saturating_add(RESYNC_RANGE - 1))
}

/// Whether the pair is one the factor already took: `second` the code of one of the `window`
/// counters up to the last accepted and `first` the code of the counter before it (a
/// resynchronisation repeated, or one that lost the race to a parallel one).
pub(crate) fn resync_replay(
    hotp: &Hotp,
    data: &HotpData,
    first: &str,
    second: &str,
    window: u64,
) -> bool {
    data.last_counter
        .and_then(|last| last.checked_sub(1).map(|top| (last, top)))
        .is_some_and(|(last, top)| {
            let lo = last.saturating_sub(window.max(1));
            hotp.verify_pair(first, second, lo..=top).is_some()
        })
}

impl Service {
    /// The HOTP engine of a factor, its secret opened.
    pub(crate) fn hotp_of(&self, user_id: i64, id: &FactorId, h: &HotpData) -> Result<Hotp> {
        let bytes = self
            .key
            .open(&h.secret, &factor_secret_context(user_id, id))
            .map_err(|e| Error::internal(&e))?;
        let secret = Secret::from_bytes(bytes.to_vec()).map_err(|e| Error::internal(&e))?;
        Ok(Hotp::new(&secret, h.algorithm, h.digits))
    }

    /// Resynchronises a confirmed HOTP factor whose token was pressed beyond the window: two
    /// consecutive codes (`first` of counter `c`, `second` of `c + 1`) within [`RESYNC_RANGE`]
    /// of the next expected counter move it past `c + 1`, consumed by one conditional UPDATE.
    ///
    /// The attempt is counted through the second-factor guard before anything is consumed: a
    /// wrong pair is a failed attempt of the user (`invalid_code`, locking at the threshold), a
    /// pair the factor already took (repeated, or one that lost the race for its counters) is
    /// refused uncounted, and a locked user is refused (`locked`). Codes absent or of no code's shape are refused before the count
    /// (`missing_code`, `malformed_code`).
    pub async fn resync_hotp(
        &self,
        ctx: &Context,
        req: &FactorRequest,
        first: Option<Result<Code>>,
        second: Option<Result<Code>>,
    ) -> Result<Factor> {
        let user = self.user_by_name(&req.username).await?;
        ctx.require_manage(&user)?;
        let factor = self.factor_of(&user, req.factor.as_ref()).await?;
        let FactorData::Hotp(h) = &factor.data else {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-resync-hotp-only"),
            ));
        };
        if !factor.confirmed {
            return Err(Error::conflict(
                "not_enrolled",
                Text::new("err-resync-not-confirmed"),
            ));
        }
        let digits = |code: Option<Result<Code>>| -> Result<String> {
            match code {
                None => Err(Error::invalid(
                    "missing_code",
                    Text::new("err-resync-codes-missing"),
                )),
                Some(Ok(Code::Digits(d))) => Ok(d),
                Some(Ok(_)) => Err(crate::code::malformed()),
                Some(Err(e)) => Err(e),
            }
        };
        let (first, second) = (digits(first)?, digits(second)?);
        let hotp = self.hotp_of(user.id, &factor.id, h)?;
        let settings = self.settings_cached().await?;
        let fresh = resync_pair(&hotp, h, &first, &second);
        // A pair the factor already took (a repeated call, or one that lost the race) is
        // refused at once without counting, as a TOTP step already used is: it is no guess.
        if fresh.is_none() && resync_replay(&hotp, h, &first, &second, settings.hotp_window()) {
            self.audit(
                ctx,
                Some(&user.username),
                crate::audit::AuditEvent::SecondFactorFailure,
                "reason=already_used counted=false resync".into(),
            )
            .await;
            return Err(super::factors::wrong_code());
        }
        let candidates = fresh
            .map(|c| {
                (
                    Consume::Counter {
                        factor: factor.id.clone(),
                        counter: i64::try_from(c.saturating_add(1)).unwrap_or(i64::MAX),
                        drift: 0,
                    },
                    Method::Factor(FactorKind::Hotp),
                    Some(factor.id.to_string()),
                )
            })
            .into_iter()
            .collect();
        let now = self.now();
        let check = LocalCheck {
            candidates,
            then_more: false,
            failure_detail: None,
            already_used: None,
            note: Some("resync"),
        };
        let answer = match self
            .settle_second_factor(ctx, &user, &settings, now, check)
            .await?
        {
            LocalOutcome::Answer(answer) => answer,
            // Nothing is checked after the local candidates: a miss is a failure.
            LocalOutcome::Open(attempt) => {
                attempt.reject("reason=invalid_code resync".into()).await?
            }
        };
        match answer {
            Validation::Accepted(_) => self.factor_of(&user, Some(&factor.id)).await,
            Validation::Rejected(Reason::Locked) => Err(Error::invalid(
                "locked",
                Text::new("err-locked-unlock-first"),
            )),
            Validation::Rejected(_) => Err(super::factors::wrong_code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Sealed;
    use twofold_otp::{Algorithm, Digits};

    fn token(digits: Digits) -> Hotp {
        let secret = Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        Hotp::new(&secret, Algorithm::Sha1, digits)
    }

    fn data(last: Option<u64>) -> HotpData {
        HotpData {
            secret: Sealed(Vec::new()),
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
            last_counter: last,
        }
    }

    #[test]
    fn a_new_token_is_expected_at_counter_zero() {
        let hotp = token(Digits::SIX);
        let code = |c: u64| hotp.generate(c).to_string();
        assert_eq!(data(None).next(), 0);
        assert_eq!(window_of(&data(None), 10), 0..=9);
        assert_eq!(
            check(&hotp, &data(None), &code(0), 10),
            HotpMatch {
                fresh: Some(0),
                replay: false
            }
        );
        assert_eq!(check(&hotp, &data(None), &code(9), 10).fresh, Some(9));
        assert_eq!(
            check(&hotp, &data(None), &code(10), 10),
            HotpMatch::default(),
            "just past the window"
        );
    }

    #[test]
    fn the_window_starts_after_the_last_accepted() {
        let hotp = token(Digits::SIX);
        let code = |c: u64| hotp.generate(c).to_string();
        let d = data(Some(41));
        assert_eq!(window_of(&d, 10), 42..=51);
        assert_eq!(check(&hotp, &d, &code(42), 10).fresh, Some(42));
        assert_eq!(check(&hotp, &d, &code(51), 10).fresh, Some(51));
        assert_eq!(check(&hotp, &d, &code(52), 10), HotpMatch::default());
        // A window of one takes only the next code.
        assert_eq!(check(&hotp, &d, &code(42), 1).fresh, Some(42));
        assert_eq!(check(&hotp, &d, &code(43), 1).fresh, None);
        // A window of 0 (never stored: the setting is 1–100) still takes the next one.
        assert_eq!(check(&hotp, &d, &code(42), 0).fresh, Some(42));
    }

    #[test]
    fn codes_already_accepted_are_replays() {
        let hotp = token(Digits::SIX);
        let code = |c: u64| hotp.generate(c).to_string();
        let d = data(Some(41));
        assert_eq!(
            check(&hotp, &d, &code(41), 10),
            HotpMatch {
                fresh: None,
                replay: true
            }
        );
        assert!(check(&hotp, &d, &code(32), 10).replay);
        // Beyond the look-back it is simply a miss.
        assert_eq!(check(&hotp, &d, &code(31), 10), HotpMatch::default());
        // Nothing accepted yet: nothing to replay.
        assert!(!check(&hotp, &data(None), &code(0), 10).replay);
    }

    #[test]
    fn a_pair_just_taken_is_a_replay() {
        let hotp = token(Digits::SIX);
        let code = |c: u64| hotp.generate(c).to_string();
        // A resynchronisation took 500 and 501.
        let d = data(Some(501));
        assert!(resync_replay(&hotp, &d, &code(500), &code(501), 10));
        assert!(resync_replay(&hotp, &d, &code(491), &code(492), 10));
        assert!(
            !resync_replay(&hotp, &d, &code(490), &code(491), 10),
            "beyond the look-back"
        );
        assert!(
            !resync_replay(&hotp, &d, &code(501), &code(502), 10),
            "not taken yet"
        );
        assert!(!resync_replay(&hotp, &d, &code(500), &code(499), 10));
        assert_eq!(resync_pair(&hotp, &d, &code(500), &code(501)), None);
        // Nothing taken, or only counter 0: no pair can have been.
        assert!(!resync_replay(&hotp, &data(None), &code(0), &code(1), 10));
        assert!(!resync_replay(
            &hotp,
            &data(Some(0)),
            &code(0),
            &code(1),
            10
        ));
        assert!(resync_replay(&hotp, &data(Some(1)), &code(0), &code(1), 10));
    }

    #[test]
    fn a_resync_pair_must_be_consecutive_and_within_range() {
        let hotp = token(Digits::SIX);
        let code = |c: u64| hotp.generate(c).to_string();
        let d = data(Some(9));
        assert_eq!(resync_pair(&hotp, &d, &code(500), &code(501)), Some(500));
        assert_eq!(resync_pair(&hotp, &d, &code(10), &code(11)), Some(10));
        // The last counter a pair may start at: next + RESYNC_RANGE - 1.
        let edge = 10 + RESYNC_RANGE - 1;
        assert_eq!(
            resync_pair(&hotp, &d, &code(edge), &code(edge + 1)),
            Some(edge)
        );
        assert_eq!(
            resync_pair(&hotp, &d, &code(edge + 1), &code(edge + 2)),
            None
        );
        // Already used, reversed or apart: refused.
        assert_eq!(resync_pair(&hotp, &d, &code(8), &code(9)), None);
        assert_eq!(resync_pair(&hotp, &d, &code(501), &code(500)), None);
        assert_eq!(resync_pair(&hotp, &d, &code(500), &code(502)), None);
        // Eight-digit tokens need eight-digit codes.
        let h8 = token(Digits::EIGHT);
        let d8 = HotpData {
            digits: Digits::EIGHT,
            ..data(Some(9))
        };
        let c8 = |c: u64| h8.generate(c).to_string();
        assert_eq!(resync_pair(&h8, &d8, &c8(700), &c8(701)), Some(700));
        assert_eq!(resync_pair(&h8, &d8, &code(700), &code(701)), None);
    }
}
