//! The one place the binary reads the wall clock; everything below takes time as an input.

/// Seconds since the Unix epoch, UTC.
pub(crate) fn now_unix() -> u64 {
    // The only wall-clock read in the CLI (clippy.toml disallows it elsewhere).
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
