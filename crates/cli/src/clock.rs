//! The one place the binary reads the wall clock; everything below takes time as an input.

/// Seconds since the Unix epoch, UTC.
pub(crate) fn now_unix() -> u64 {
    // The only wall-clock read in the CLI (clippy.toml disallows it elsewhere).
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The service's clock: the wall clock, moved by `TWOFOLD_TEST_CLOCK_OFFSET` seconds when that
/// is set. The offset exists for the integration tests, which start a server "an hour later"
/// instead of waiting an hour; it is never documented as a setting.
pub(crate) fn service_clock() -> std::sync::Arc<dyn twofold_core::clock::Clock> {
    match std::env::var("TWOFOLD_TEST_CLOCK_OFFSET")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        Some(offset) if offset != 0 => {
            tracing::warn!(
                offset,
                "the clock is moved by TWOFOLD_TEST_CLOCK_OFFSET seconds"
            );
            std::sync::Arc::new(twofold_core::clock::ShiftedClock(offset))
        }
        _ => std::sync::Arc::new(twofold_core::clock::SystemClock),
    }
}
