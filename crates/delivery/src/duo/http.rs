//! What both APIs share: the HTTPS exchange with its size cap, Duo's API host, and the errors
//! Duo's answers map to.

use std::io;

use reqwest::{RequestBuilder, StatusCode, Url};
use serde_json::Value;
use twofold_core::duo::DuoError;

use super::DuoClient;
use crate::{ErrorChain, has_io_kind};

/// The most of an answer that is read.
const MAX_ANSWER: usize = 64 * 1024;

impl DuoClient {
    /// Sends `request` and reads the answer (at most [`MAX_ANSWER`] bytes); no answer or a 5xx
    /// is [`DuoError::Unreachable`]. `what` names the call in the log.
    pub(super) async fn exchange(
        &self,
        what: &'static str,
        request: RequestBuilder,
    ) -> Result<(StatusCode, Vec<u8>), DuoError> {
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                // A URL may carry a transaction id: keep it out of the log.
                let e = e.without_url();
                tracing::warn!(call = what, error = %ErrorChain(&e), "Duo could not be reached");
                return Err(unreachable(&e));
            }
        };
        let status = response.status();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_ANSWER {
                        tracing::warn!(call = what, %status, "Duo's answer is too long");
                        return Err(DuoError::Invalid(
                            "Duo's answer was not understood (too long).".into(),
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let e = e.without_url();
                    tracing::warn!(call = what, error = %ErrorChain(&e), "Duo's answer broke off");
                    return Err(unreachable(&e));
                }
            }
        }
        if status.is_server_error() {
            tracing::warn!(call = what, %status, "Duo could not answer");
            return Err(DuoError::Unreachable(format!(
                "Duo could not answer (HTTP {}).",
                status.as_u16()
            )));
        }
        Ok((status, body))
    }
}

/// `https://{api_host}/`: the API hostname must be a host name with an optional port, never a URL
/// (so never plain HTTP).
pub(super) fn base_url(api_host: &str) -> Result<Url, DuoError> {
    let host = api_host.trim().to_ascii_lowercase();
    let bad = || {
        DuoError::Refused(
            "The Duo API hostname is not valid: give the host name only, like \
             api-xxxxxxxx.duosecurity.com."
                .into(),
        )
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return Err(bad());
    }
    let url = Url::parse(&format!("https://{host}/")).map_err(|_| bad())?;
    let rebuilt = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    // Anything the URL parser changed (a default port, an odd IP spelling) is not a plain host.
    if rebuilt != host {
        return Err(bad());
    }
    Ok(url)
}

/// The error for a request that got no HTTP answer.
pub(super) fn unreachable(error: &reqwest::Error) -> DuoError {
    let sentence = if error.is_timeout() {
        "Duo did not answer in time."
    } else if error.is_connect() && has_io_kind(error, io::ErrorKind::InvalidData) {
        "A secure connection to Duo could not be made."
    } else if error.is_connect() {
        "Duo could not be reached."
    } else {
        "The connection to Duo failed."
    };
    DuoError::Unreachable(sentence.into())
}

/// The error for a 4xx (or another unexpected status): Duo's `message` or OAuth `error` when it
/// is a short plain word or phrase.
pub(super) fn refused(status: StatusCode, answer: Option<&Value>) -> DuoError {
    let reason = answer
        .and_then(|a| a.get("message").or_else(|| a.get("error")))
        .and_then(Value::as_str)
        .filter(|m| {
            !m.is_empty()
                && m.len() <= 80
                && m.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b" _-.,'".contains(&b))
        });
    DuoError::Refused(match reason {
        Some(reason) => format!(
            "Duo refused the request (HTTP {}: {reason}).",
            status.as_u16()
        ),
        None => format!("Duo refused the request (HTTP {}).", status.as_u16()),
    })
}

pub(super) fn not_understood(call: &str) -> DuoError {
    tracing::warn!(call, "Duo's answer was not understood");
    DuoError::Invalid("Duo's answer was not understood.".into())
}
