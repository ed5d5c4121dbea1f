//! HOTP (RFC 4226) and TOTP (RFC 6238).
//!
//! A [`Hotp`] or [`Totp`] keeps the HMAC key schedule computed once (the inner and outer padded
//! key states of RFC 2104), so each code costs two hash compressions. Verification compares every
//! candidate in constant time and walks the whole window without stopping early, then returns the
//! step (or counter) that matched, so the caller can refuse replays and learn clock drift.

use std::fmt;
use std::num::NonZeroU64;
use std::ops::RangeInclusive;
use std::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::Secret;

/// The HMAC hash function (RFC 6238 §1.2 allows SHA-1, SHA-256 and SHA-512).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// HMAC-SHA-1, the default every authenticator app supports.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used in `otpauth://` URIs: `SHA1`, `SHA256` or `SHA512`.
    pub fn as_uri_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }
}

/// The text is not one of the algorithm names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown algorithm {0:?} (expected SHA1, SHA256 or SHA512)")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Accepts `SHA1`, `SHA256`, `SHA512` in any case, with or without a dash (`sha-256`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().replace('-', "").as_str() {
            "SHA1" => Ok(Algorithm::Sha1),
            "SHA256" => Ok(Algorithm::Sha256),
            "SHA512" => Ok(Algorithm::Sha512),
            _ => Err(UnknownAlgorithm(s.to_owned())),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_uri_str())
    }
}

/// The number of digits in a code: 6, 7 or 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digits(u8);

/// The digit count is outside 6–8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("digits must be 6, 7 or 8, not {0}")]
pub struct InvalidDigits(pub u64);

impl Digits {
    /// Six digits, the default.
    pub const SIX: Digits = Digits(6);
    /// Eight digits.
    pub const EIGHT: Digits = Digits(8);

    /// Checks that `n` is 6, 7 or 8 (RFC 4226 §5.3 requires at least 6; 8 keeps the 31-bit
    /// truncated value well above the modulus).
    pub fn new(n: u64) -> Result<Self, InvalidDigits> {
        match n {
            6..=8 => Ok(Digits(n as u8)),
            _ => Err(InvalidDigits(n)),
        }
    }

    /// The count as a number.
    pub fn get(self) -> u8 {
        self.0
    }

    fn modulus(self) -> u32 {
        10u32.pow(u32::from(self.0))
    }
}

impl Default for Digits {
    fn default() -> Self {
        Digits::SIX
    }
}

/// A one-time code: a value below 10^digits, shown zero-padded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Code {
    value: u32,
    digits: Digits,
}

/// Why text is not a code of the expected length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    /// The text has characters other than ASCII digits.
    #[error("a code has only digits")]
    NotDigits,
    /// The text has the wrong number of digits.
    #[error("expected a {expected}-digit code, got {actual} characters")]
    WrongLength {
        /// Digits the factor uses.
        expected: u8,
        /// Characters given.
        actual: usize,
    },
}

impl Code {
    /// Parses exactly `digits` ASCII digits.
    pub fn parse(text: &str, digits: Digits) -> Result<Self, CodeError> {
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::NotDigits);
        }
        if text.len() != usize::from(digits.get()) {
            return Err(CodeError::WrongLength {
                expected: digits.get(),
                actual: text.len(),
            });
        }
        let value = text
            .bytes()
            .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
        Ok(Code { value, digits })
    }

    /// The numeric value.
    pub fn value(self) -> u32 {
        self.value
    }

    /// How many digits it shows.
    pub fn digits(self) -> Digits {
        self.digits
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:0width$}",
            self.value,
            width = usize::from(self.digits.get())
        )
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A code is a credential while it is valid: never print it.
        write!(f, "Code([redacted; {} digits])", self.digits.get())
    }
}

/// The HMAC key schedule, computed once per secret.
#[derive(Clone)]
enum KeyedMac {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
}

impl KeyedMac {
    fn new(secret: &Secret, algorithm: Algorithm) -> Self {
        // HMAC accepts keys of any length (RFC 2104 §2), so these cannot fail; an empty key is
        // already excluded by `Secret`.
        let key = secret.expose();
        match algorithm {
            Algorithm::Sha1 => KeyedMac::Sha1(keyed(key)),
            Algorithm::Sha256 => KeyedMac::Sha256(keyed(key)),
            Algorithm::Sha512 => KeyedMac::Sha512(keyed(key)),
        }
    }

    /// RFC 4226 §5.3: HMAC of the 8-byte big-endian counter, then dynamic truncation.
    fn truncated(&self, counter: u64) -> u32 {
        let msg = counter.to_be_bytes();
        match self {
            KeyedMac::Sha1(m) => truncate(&mac_once(m, &msg)),
            KeyedMac::Sha256(m) => truncate(&mac_once(m, &msg)),
            KeyedMac::Sha512(m) => truncate(&mac_once(m, &msg)),
        }
    }
}

fn keyed<M: KeyInit>(key: &[u8]) -> M {
    match M::new_from_slice(key) {
        Ok(m) => m,
        // Unreachable for HMAC, which takes any key length; fall back to an all-zero key rather
        // than panic in a library.
        Err(_) => M::new(&Default::default()),
    }
}

fn mac_once<M: Mac + Clone>(keyed: &M, msg: &[u8]) -> impl AsRef<[u8]> + use<M> {
    let mut m = keyed.clone();
    m.update(msg);
    m.finalize().into_bytes()
}

fn truncate(h: &impl AsRef<[u8]>) -> u32 {
    let h = h.as_ref();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    u32::from_be_bytes([h[offset], h[offset + 1], h[offset + 2], h[offset + 3]]) & 0x7fff_ffff
}

impl fmt::Debug for KeyedMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedMac([redacted])")
    }
}

/// An HOTP generator and verifier (RFC 4226) for one secret.
#[derive(Clone, Debug)]
pub struct Hotp {
    mac: KeyedMac,
    digits: Digits,
}

impl Hotp {
    /// Prepares the key schedule for `secret`.
    pub fn new(secret: &Secret, algorithm: Algorithm, digits: Digits) -> Self {
        Hotp {
            mac: KeyedMac::new(secret, algorithm),
            digits,
        }
    }

    /// The code for `counter`.
    pub fn generate(&self, counter: u64) -> Code {
        Code {
            value: self.mac.truncated(counter) % self.digits.modulus(),
            digits: self.digits,
        }
    }

    /// Checks `code` against every counter in `counters` (in constant time per candidate, without
    /// stopping early) and returns the lowest counter that matched. A code that is not exactly
    /// `digits` digits matches nothing.
    pub fn verify_range(&self, code: &str, counters: RangeInclusive<u64>) -> Option<u64> {
        let Ok(code) = Code::parse(code, self.digits) else {
            return None;
        };
        let modulus = self.digits.modulus();
        let mut found = subtle::Choice::from(0);
        let mut matched = 0u64;
        for counter in counters.rev() {
            let candidate = self.mac.truncated(counter) % modulus;
            let hit = candidate.ct_eq(&code.value);
            matched = u64::conditional_select(&matched, &counter, hit);
            found |= hit;
        }
        bool::from(found).then_some(matched)
    }

    /// RFC 4226 §7.2 resynchronisation: checks `counter` and the `look_ahead` counters after it.
    pub fn verify(&self, code: &str, counter: u64, look_ahead: u64) -> Option<u64> {
        self.verify_range(code, counter..=counter.saturating_add(look_ahead))
    }

    /// RFC 4226 §7.4 resynchronisation with two codes in a row: the lowest counter `c` in
    /// `counters` such that `first` is the code of `c` and `second` the code of `c + 1`.
    ///
    /// Every counter of the range (and the one after it) is computed and compared in constant
    /// time, without stopping early, so the time taken says nothing of where a match was. A
    /// code that is not exactly `digits` digits matches nothing; a range whose end is
    /// `u64::MAX` stops one short, since no counter follows it.
    pub fn verify_pair(
        &self,
        first: &str,
        second: &str,
        counters: RangeInclusive<u64>,
    ) -> Option<u64> {
        let (Ok(first), Ok(second)) = (
            Code::parse(first, self.digits),
            Code::parse(second, self.digits),
        ) else {
            return None;
        };
        let (lo, hi) = (*counters.start(), *counters.end());
        if lo > hi {
            return None;
        }
        let modulus = self.digits.modulus();
        let mut found = subtle::Choice::from(0);
        let mut matched = 0u64;
        // The pair starting at `hi` needs `hi + 1`: walk backwards from there, carrying whether
        // the counter above matched `second`.
        let top = hi.saturating_add(1);
        let mut above_is_second = subtle::Choice::from(0);
        let mut counter = top;
        loop {
            let value = self.mac.truncated(counter) % modulus;
            if counter < top || top == hi {
                let hit = value.ct_eq(&first.value) & above_is_second;
                matched = u64::conditional_select(&matched, &counter, hit);
                found |= hit;
            }
            above_is_second = value.ct_eq(&second.value);
            if counter == lo {
                break;
            }
            counter -= 1;
        }
        bool::from(found).then_some(matched)
    }

    /// The number of digits codes have.
    pub fn digits(&self) -> Digits {
        self.digits
    }
}

/// A TOTP match: the time step the code belongs to and its distance from the current step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpMatch {
    /// The time step `floor((time - t0) / period)` whose code matched.
    pub step: u64,
    /// `step - current step`: negative when the device clock is behind the server's.
    pub offset: i64,
}

/// A TOTP generator and verifier (RFC 6238) for one secret.
#[derive(Clone, Debug)]
pub struct Totp {
    hotp: Hotp,
    period: NonZeroU64,
    t0: u64,
}

impl Totp {
    /// The usual period of 30 seconds (RFC 6238 §5.2).
    pub const DEFAULT_PERIOD: NonZeroU64 = NonZeroU64::new(30).unwrap();

    /// Prepares the key schedule; `period` is the step length in seconds, `T0` is 0.
    pub fn new(secret: &Secret, algorithm: Algorithm, digits: Digits, period: NonZeroU64) -> Self {
        Totp {
            hotp: Hotp::new(secret, algorithm, digits),
            period,
            t0: 0,
        }
    }

    /// Sets `T0`, the Unix time of step 0 (RFC 6238 §4.1; 0 unless a system says otherwise).
    pub fn with_t0(mut self, t0: u64) -> Self {
        self.t0 = t0;
        self
    }

    /// The step of Unix time `time`, or `None` before `T0`.
    pub fn step_at(&self, time: u64) -> Option<u64> {
        time.checked_sub(self.t0).map(|t| t / self.period.get())
    }

    /// The Unix time at which `step` begins (saturating).
    pub fn step_start(&self, step: u64) -> u64 {
        step.saturating_mul(self.period.get())
            .saturating_add(self.t0)
    }

    /// The code of a given step.
    pub fn generate_step(&self, step: u64) -> Code {
        self.hotp.generate(step)
    }

    /// The code at Unix time `time` (`None` before `T0`).
    pub fn generate(&self, time: u64) -> Option<Code> {
        self.step_at(time).map(|s| self.generate_step(s))
    }

    /// Checks `code` against the steps in `steps` and returns the lowest that matched.
    pub fn verify_steps(&self, code: &str, steps: RangeInclusive<u64>) -> Option<u64> {
        self.hotp.verify_range(code, steps)
    }

    /// Checks `code` at `time` allowing `window` steps of clock drift each way.
    pub fn verify(&self, code: &str, time: u64, window: u64) -> Option<TotpMatch> {
        let current = self.step_at(time)?;
        let steps = current.saturating_sub(window)..=current.saturating_add(window);
        let step = self.verify_steps(code, steps)?;
        Some(TotpMatch {
            step,
            offset: step_offset(step, current),
        })
    }

    /// The step length.
    pub fn period(&self) -> NonZeroU64 {
        self.period
    }

    /// The number of digits codes have.
    pub fn digits(&self) -> Digits {
        self.hotp.digits
    }
}

fn step_offset(step: u64, current: u64) -> i64 {
    if step >= current {
        i64::try_from(step - current).unwrap_or(i64::MAX)
    } else {
        i64::try_from(current - step).map_or(i64::MIN, |d| -d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET20: &[u8] = b"12345678901234567890";
    const SECRET32: &[u8] = b"12345678901234567890123456789012";
    const SECRET64: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    fn secret(b: &[u8]) -> Secret {
        Secret::from_bytes(b.to_vec()).unwrap()
    }

    /// RFC 4226 Appendix D: HOTP values for counters 0–9, and the truncated 31-bit values.
    #[test]
    fn rfc4226_appendix_d() {
        let truncated: [u32; 10] = [
            1284755224, 1094287082, 137359152, 1726969429, 1640338314, 868254676, 1918287922,
            82162583, 673399871, 645520489,
        ];
        let codes = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        let hotp = Hotp::new(&secret(SECRET20), Algorithm::Sha1, Digits::SIX);
        for (counter, (t, code)) in truncated.iter().zip(codes).enumerate() {
            let counter = counter as u64;
            assert_eq!(hotp.mac.truncated(counter), *t, "counter {counter}");
            assert_eq!(hotp.generate(counter).to_string(), code);
            assert_eq!(hotp.verify(code, counter, 0), Some(counter));
            assert_eq!(hotp.verify(code, 0, 9), Some(counter));
        }
    }

    /// Two codes in a row resynchronise: the pair must be consecutive, in order, and start
    /// inside the range (its second code may lie just past it).
    #[test]
    fn pairs_of_consecutive_codes() {
        let hotp = Hotp::new(&secret(SECRET20), Algorithm::Sha1, Digits::SIX);
        let code = |c: u64| hotp.generate(c).to_string();
        assert_eq!(hotp.verify_pair(&code(5), &code(6), 0..=9), Some(5));
        assert_eq!(hotp.verify_pair(&code(0), &code(1), 0..=0), Some(0));
        // The last counter of the range may start a pair: its second code is the next one.
        assert_eq!(hotp.verify_pair(&code(9), &code(10), 0..=9), Some(9));
        // Outside the range, reversed, or not adjacent: nothing.
        assert_eq!(hotp.verify_pair(&code(5), &code(6), 6..=9), None);
        assert_eq!(hotp.verify_pair(&code(5), &code(6), 0..=4), None);
        assert_eq!(hotp.verify_pair(&code(6), &code(5), 0..=9), None);
        assert_eq!(hotp.verify_pair(&code(5), &code(7), 0..=9), None);
        assert_eq!(hotp.verify_pair(&code(5), &code(5), 0..=9), None);
        // Far ahead, within a wide range.
        assert_eq!(
            hotp.verify_pair(&code(987), &code(988), 10..=1009),
            Some(987)
        );
        // Malformed or wrong-length codes match nothing; an empty range matches nothing.
        assert_eq!(hotp.verify_pair("12345", &code(6), 0..=9), None);
        assert_eq!(hotp.verify_pair(&code(5), "abcdef", 0..=9), None);
        #[allow(clippy::reversed_empty_ranges)]
        let empty = 9..=0;
        assert_eq!(hotp.verify_pair(&code(5), &code(6), empty), None);
        // No counter follows u64::MAX: a pair cannot start there, one just below can.
        let top = u64::MAX;
        assert_eq!(
            hotp.verify_pair(&code(top - 1), &code(top), top - 3..=top),
            Some(top - 1)
        );
        assert_eq!(hotp.verify_pair(&code(top), &code(0), top - 3..=top), None);
        // Eight digits, SHA-256 (RFC 6238's 32-byte key).
        let h8 = Hotp::new(&secret(SECRET32), Algorithm::Sha256, Digits::EIGHT);
        let c8 = |c: u64| h8.generate(c).to_string();
        assert_eq!(h8.verify_pair(&c8(41), &c8(42), 0..=100), Some(41));
        assert_eq!(h8.verify_pair(&code(41), &code(42), 0..=100), None);
    }

    /// RFC 6238 Appendix B: 8-digit TOTP values, period 30, for the three hash functions.
    #[test]
    fn rfc6238_appendix_b() {
        let table: &[(u64, &str, &str, &str)] = &[
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        let p = Totp::DEFAULT_PERIOD;
        let t1 = Totp::new(&secret(SECRET20), Algorithm::Sha1, Digits::EIGHT, p);
        let t256 = Totp::new(&secret(SECRET32), Algorithm::Sha256, Digits::EIGHT, p);
        let t512 = Totp::new(&secret(SECRET64), Algorithm::Sha512, Digits::EIGHT, p);
        for &(time, c1, c256, c512) in table {
            assert_eq!(t1.generate(time).unwrap().to_string(), c1, "SHA1 at {time}");
            assert_eq!(
                t256.generate(time).unwrap().to_string(),
                c256,
                "SHA256 at {time}"
            );
            assert_eq!(
                t512.generate(time).unwrap().to_string(),
                c512,
                "SHA512 at {time}"
            );
            for (t, c) in [(&t1, c1), (&t256, c256), (&t512, c512)] {
                let m = t.verify(c, time, 0).unwrap();
                assert_eq!(m.step, time / 30);
                assert_eq!(m.offset, 0);
            }
        }
    }

    #[test]
    fn window_and_offsets() {
        let t = Totp::new(
            &secret(SECRET20),
            Algorithm::Sha1,
            Digits::SIX,
            Totp::DEFAULT_PERIOD,
        );
        let now = 1_700_000_000;
        let step = now / 30;
        let prev = t.generate_step(step - 1).to_string();
        let next = t.generate_step(step + 1).to_string();
        let far = t.generate_step(step + 2).to_string();
        assert_eq!(
            t.verify(&prev, now, 1),
            Some(TotpMatch {
                step: step - 1,
                offset: -1
            })
        );
        assert_eq!(
            t.verify(&next, now, 1),
            Some(TotpMatch {
                step: step + 1,
                offset: 1
            })
        );
        assert_eq!(t.verify(&far, now, 1), None);
        assert_eq!(t.verify(&far, now, 2).map(|m| m.offset), Some(2));
        assert_eq!(t.verify(&prev, now, 0), None);
    }

    #[test]
    fn malformed_codes_match_nothing() {
        let t = Totp::new(
            &secret(SECRET20),
            Algorithm::Sha1,
            Digits::SIX,
            Totp::DEFAULT_PERIOD,
        );
        let code = t.generate(59).unwrap().to_string();
        assert!(t.verify(&code, 59, 1).is_some());
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            " 287082",
            "２８７０８２",
            &format!("{code} "),
        ] {
            assert_eq!(t.verify(bad, 59, 1), None, "{bad:?}");
        }
        assert_eq!(
            Code::parse("12a456", Digits::SIX),
            Err(CodeError::NotDigits)
        );
        assert_eq!(
            Code::parse("1234567", Digits::SIX),
            Err(CodeError::WrongLength {
                expected: 6,
                actual: 7
            })
        );
    }

    #[test]
    fn far_future_and_edges() {
        let t = Totp::new(
            &secret(SECRET20),
            Algorithm::Sha1,
            Digits::SIX,
            NonZeroU64::MIN,
        );
        // Past 2038 (i32) and 2106 (u32), and the very end of u64.
        for time in [2_147_483_648u64, 4_294_967_296, 1 << 40, u64::MAX] {
            let code = t.generate(time).unwrap().to_string();
            assert_eq!(t.verify(&code, time, 1).unwrap().step, time);
        }
        let t = Totp::new(
            &secret(SECRET20),
            Algorithm::Sha1,
            Digits::SIX,
            Totp::DEFAULT_PERIOD,
        )
        .with_t0(100);
        assert_eq!(t.step_at(99), None);
        assert_eq!(t.generate(99), None);
        assert_eq!(t.step_at(130), Some(1));
        assert_eq!(t.step_start(1), 130);
        // Window at step 0 does not wrap around.
        let c0 = t.generate_step(0).to_string();
        assert_eq!(t.verify(&c0, 100, 1).map(|m| m.step), Some(0));
    }

    #[test]
    fn digits_and_algorithm_parsing() {
        assert!(Digits::new(5).is_err());
        assert!(Digits::new(9).is_err());
        assert_eq!(Digits::new(7).unwrap().get(), 7);
        assert_eq!("sha-256".parse::<Algorithm>().unwrap(), Algorithm::Sha256);
        assert_eq!("SHA512".parse::<Algorithm>().unwrap(), Algorithm::Sha512);
        assert!("md5".parse::<Algorithm>().is_err());
    }

    #[test]
    fn debug_hides_codes_and_keys() {
        let t = Totp::new(
            &secret(SECRET20),
            Algorithm::Sha1,
            Digits::SIX,
            Totp::DEFAULT_PERIOD,
        );
        let code = t.generate(59).unwrap();
        assert!(!format!("{code:?}").contains(&code.to_string()));
        assert!(!format!("{t:?}").contains("1234"));
    }
}
