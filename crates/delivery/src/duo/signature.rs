//! Auth API signatures: `duo_client`'s signature version 5.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha512};

use super::jwt::hmac_sha512;
use crate::hex;
use crate::sigv4::uri_encode;

/// What signature version 5 covers.
pub(super) struct SignedRequest<'a> {
    /// The `Date` header, RFC 2822.
    pub(super) date: &'a str,
    pub(super) method: &'a str,
    /// The API host name, lower case, without the port.
    pub(super) host: &'a str,
    pub(super) path: &'a str,
    /// [`canon_params`] of the query (empty for a JSON body).
    pub(super) params: &'a str,
    /// The body (empty for GET).
    pub(super) body: &'a str,
}

/// `Basic base64(ikey:hex(HMAC-SHA512(skey, canonical)))`, the canonical request being the date,
/// method, host, path, parameters, SHA-512 of the body and SHA-512 of the `X-Duo-*` headers
/// (none), one per line.
pub(super) fn sign_v5(ikey: &str, skey: &[u8], request: &SignedRequest<'_>) -> String {
    let no_headers = hex(&Sha512::digest(b""));
    let canonical = [
        request.date,
        &request.method.to_ascii_uppercase(),
        &request.host.to_ascii_lowercase(),
        request.path,
        request.params,
        &hex(&Sha512::digest(request.body.as_bytes())),
        &no_headers,
    ]
    .join("\n");
    let signature = hex(&hmac_sha512(skey, canonical.as_bytes()));
    format!("Basic {}", STANDARD.encode(format!("{ikey}:{signature}")))
}

/// Parameters as `name=value&…`, each RFC 3986-encoded, sorted by name then value.
pub(super) fn canon_params(params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON object as duo_client writes the body it signs: `json.dumps(params, sort_keys=True,
/// separators=(",", ":"))`, so sorted keys, no spaces and, like Python's default
/// `ensure_ascii`, every character outside ASCII's printable range as `\uXXXX` (UTF-16).
pub(super) fn canon_json(object: &BTreeMap<&str, &str>) -> String {
    // serde_json writes a BTreeMap in key order, without spaces; only string contents can hold
    // characters past `~`.
    let json = serde_json::to_string(object).unwrap_or_default();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            let mut units = [0_u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The `Date` header as Python's `email.utils.formatdate()` writes it:
/// `Tue, 14 Nov 2023 22:13:20 -0000`.
pub(super) fn http_date(now: i64) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day, hour, minute, second) = twofold_otp::text::utc_parts(now);
    let weekday = DAYS[usize::try_from(twofold_otp::text::weekday(now)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!("{weekday}, {day:02} {month} {year:04} {hour:02}:{minute:02}:{second:02} -0000")
}
