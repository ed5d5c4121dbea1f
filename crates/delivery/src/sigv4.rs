//! AWS Signature Version 4 (for the SNS `Publish` call): the canonical request, the string to
//! sign, the derived signing key and the `Authorization` header, as AWS's "Create a signed AWS API
//! request" guide describes them. Tested against AWS's published example here and against
//! botocore's signer in `tests/delivery.rs`.

use hmac::{Hmac, Mac};
use reqwest::Url;
use sha2::{Digest, Sha256};

use crate::hex;

/// Who signs, and for which service and region.
pub(crate) struct Signer<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) secret_access_key: &'a str,
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
}

/// The headers a signed request must carry besides those given to [`Signer::sign`].
#[derive(Debug)]
pub(crate) struct Signature {
    /// `X-Amz-Date`: `YYYYMMDD'T'HHMMSS'Z'`.
    pub(crate) amz_date: String,
    /// `Authorization`.
    pub(crate) authorization: String,
}

impl Signer<'_> {
    /// Signs a request to `url` at Unix time `now`. `headers` are the headers to sign besides
    /// `host` (taken from `url`, as the HTTP client sends it) and `x-amz-date` (added here); the
    /// request must carry them with exactly these values.
    pub(crate) fn sign(
        &self,
        method: &str,
        url: &Url,
        headers: &[(&str, &str)],
        body: &[u8],
        now: i64,
    ) -> Signature {
        let amz_date = amz_date(now);
        let date = &amz_date[..8];

        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), normalise_value(value)))
            .collect();
        all.push(("host".to_owned(), host_header(url)));
        all.push(("x-amz-date".to_owned(), amz_date.clone()));
        all.sort();
        let signed_headers = all
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let canonical_headers: String = all
            .iter()
            .map(|(name, value)| format!("{name}:{value}\n"))
            .collect();

        let canonical_request = format!(
            "{method}\n{uri}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload}",
            uri = canonical_uri(url),
            query = canonical_query(url),
            payload = hex(&Sha256::digest(body)),
        );
        let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical_request.as_bytes()))
        );

        let key = format!("AWS4{}", self.secret_access_key);
        let k_date = hmac_sha256(key.as_bytes(), date.as_bytes());
        let k_region = hmac_sha256(&k_date, self.region.as_bytes());
        let k_service = hmac_sha256(&k_region, self.service.as_bytes());
        let k_signing = hmac_sha256(&k_service, b"aws4_request");
        let signature = hex(&hmac_sha256(&k_signing, string_to_sign.as_bytes()));

        Signature {
            authorization: format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, \
                 Signature={signature}",
                self.access_key_id
            ),
            amz_date,
        }
    }
}

/// HMAC-SHA256 (also signs the webhook body).
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn unreachable_hmac() -> Hmac<Sha256> {
    // HMAC takes keys of any length; this is never reached.
    <Hmac<Sha256> as hmac::KeyInit>::new(&Default::default())
}

/// The `Host` header the HTTP client sends: the host, and the port when it is not the scheme's
/// default.
pub(crate) fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The path, URI-encoded once more (every service but S3 encodes the already encoded path).
fn canonical_uri(url: &Url) -> String {
    let path = url.path();
    if path.is_empty() {
        "/".to_owned()
    } else {
        uri_encode(path, true)
    }
}

/// Query parameters, each name and value encoded, sorted.
fn canonical_query(url: &Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (uri_encode(&k, false), uri_encode(&v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Trims a header value and folds runs of spaces into one.
fn normalise_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// AWS's URI encoding: every byte but the unreserved characters (`A-Z a-z 0-9 - _ . ~`) as `%XX`,
/// and `/` kept when `keep_slash`. Also a valid `application/x-www-form-urlencoded` encoding.
pub(crate) fn uri_encode(text: &str, keep_slash: bool) -> String {
    twofold_otp::text::percent_encode(text, if keep_slash { b"/" } else { b"" })
}

/// `name=value&…`, form-encoded in the given order.
pub(crate) fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `YYYYMMDD'T'HHMMSS'Z'` for Unix time `now` (UTC).
fn amz_date(now: i64) -> String {
    let (year, month, day, hour, minute, second) = twofold_otp::text::utc_parts(now);
    format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(4_102_444_799), "20991231T235959Z");
    }

    #[test]
    fn encoding() {
        assert_eq!(uri_encode("+1 555/ü~", false), "%2B1%20555%2F%C3%BC~");
        assert_eq!(uri_encode("/a b/", true), "/a%20b/");
        assert_eq!(
            form_encode(&[("To", "+1"), ("Body", "a&b=c")]),
            "To=%2B1&Body=a%26b%3Dc"
        );
    }

    /// The example of AWS's Signature Version 4 documentation (IAM `ListUsers`).
    #[test]
    fn aws_documentation_example() {
        let signer = Signer {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "iam",
        };
        let url =
            Url::parse("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08").unwrap();
        let signed = signer.sign(
            "GET",
            &url,
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            b"",
            1_440_938_160,
        );
        assert_eq!(signed.amz_date, "20150830T123600Z");
        assert_eq!(
            signed.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }
}
