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
    let (y, m, d, hh, mm, ss) = twofold_otp::text::utc_parts(unix);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
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
