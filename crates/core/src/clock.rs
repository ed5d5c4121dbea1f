//! Time as an input: the core asks a [`Clock`] for Unix seconds (UTC) and never reads the system
//! clock itself, so tests can move time.

use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current Unix time in seconds (UTC).
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        // The one wall-clock read of the server (clippy.toml disallows it elsewhere).
        #[allow(clippy::disallowed_methods)]
        let now = std::time::SystemTime::now();
        now.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

/// The system's wall clock moved by a fixed number of seconds. The integration tests start a
/// server "later" this way (sessions and lockouts that would need an hour of waiting); `serve`
/// uses it only when `TWOFOLD_TEST_CLOCK_OFFSET` is set.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShiftedClock(pub i64);

impl Clock for ShiftedClock {
    fn now(&self) -> i64 {
        SystemClock.now().saturating_add(self.0)
    }
}

/// A clock that tests set and move by hand.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: i64) -> Self {
        ManualClock(AtomicI64::new(now))
    }

    /// Moves the clock by `seconds` (negative goes back).
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC for a Unix time (proleptic Gregorian calendar).
pub fn utc_display(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let s = unix.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc_display;

    #[test]
    fn utc_formatting() {
        assert_eq!(utc_display(0), "1970-01-01 00:00:00");
        assert_eq!(utc_display(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(utc_display(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(utc_display(4_102_444_800), "2100-01-01 00:00:00");
    }
}
