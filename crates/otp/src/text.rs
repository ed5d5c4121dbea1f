//! The text codecs every crate of the workspace shares: percent-encoding (RFC 3986 §2.1) and the
//! proleptic Gregorian calendar of Unix days, written once.

/// Appends `text` to `out` with every byte but RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`, §2.3) and the bytes in `keep` written as `%XX` (upper-case hex,
/// §2.1). Spaces become `%20`, which every reader takes, unlike `+`.
pub fn percent_encode_into(text: &str, keep: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || keep.contains(&b)
        {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// [`percent_encode_into`] a new string.
pub fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    percent_encode_into(text, keep, &mut out);
    out
}

/// Decodes `%XX` escapes (either case), and `+` as a space when `plus_is_space` (HTML forms and
/// query strings); `None` for a broken escape or bytes that are not UTF-8.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = hex_value(*bytes.get(i + 1)?)?;
                let lo = hex_value(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A Unix time in UTC: (year, month 1–12, day 1–31, hour, minute, second), in the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`), for any time before or after 1970.
pub fn utc_parts(unix: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The day of the week of a Unix time, 0 = Monday … 6 = Sunday.
pub fn weekday(unix: i64) -> i64 {
    // 1970-01-01 was a Thursday.
    (unix.div_euclid(86_400) + 3).rem_euclid(7)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percent_encoding() {
        assert_eq!(percent_encode("+1 555/ü~", b""), "%2B1%20555%2F%C3%BC~");
        assert_eq!(percent_encode("/a b/", b"/"), "/a%20b/");
        assert_eq!(
            percent_decode("a%2Fb+c%c3%bc", true).as_deref(),
            Some("a/b cü")
        );
        assert_eq!(percent_decode("a+b", false).as_deref(), Some("a+b"));
        for broken in ["%", "%4", "%G0", "%ff"] {
            assert_eq!(percent_decode(broken, true), None, "{broken}");
        }
    }

    #[test]
    fn calendar() {
        assert_eq!(utc_parts(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(utc_parts(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(utc_parts(1_700_000_000), (2023, 11, 14, 22, 13, 20));
        assert_eq!(utc_parts(-1), (1969, 12, 31, 23, 59, 59));
        assert_eq!(weekday(0), 3, "a Thursday");
        assert_eq!(weekday(1_700_000_000), 1, "a Tuesday");
    }

    proptest! {
        #[test]
        fn percent_round_trip(text in "\\PC*") {
            prop_assert_eq!(percent_decode(&percent_encode(&text, b""), false), Some(text));
        }
    }
}
