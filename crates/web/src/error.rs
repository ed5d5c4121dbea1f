//! The error types of the HTTP layer: the API's [`ApiError`] (a status, a stable code and a
//! plain message, answered as `{"error": {"code", "message"}}`) and the portal's `PageError` (the
//! page that says what went wrong). Each is the one translation of the core's [`Error`] for its
//! edge. Internal causes were logged where they happened and are never shown.
//!
//! The `code` is the same in every language; the `message` is put into the request's language
//! (see [`crate::lang`]) when the answer is made.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use twofold_core::i18n::Text;
use twofold_core::{Error, ErrorKind};
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Text,
    retry_after: Option<u64>,
}

/// The error body.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable snake_case code, e.g. `invalid_code`, `user_not_found`.
    code: String,
    /// A sentence for people, in the request's language (`Accept-Language`, else the
    /// server's `ui.language`).
    message: String,
}

impl ApiError {
    /// An error with an explicit status.
    pub fn new(status: StatusCode, code: &'static str, message: Text) -> Self {
        ApiError {
            status,
            code,
            message,
            retry_after: None,
        }
    }

    /// 413: the body is over [`crate::MAX_BODY_BYTES`].
    pub fn body_too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            Text::new("err-api-body-too-large"),
        )
    }

    /// 400: the request could not be read.
    pub fn bad_request(message: Text) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 400: the body or the query could not be read; `detail` is the framework's own words.
    pub fn unreadable(detail: String) -> Self {
        Self::bad_request(Text::new("err-api-unreadable").arg("detail", detail))
    }

    /// 401: no token or an unknown one.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            Text::new("err-api-unauthorized"),
        )
    }

    /// 403: the token's scope does not allow this call.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            Text::new("err-api-forbidden"),
        )
    }

    /// 404 for an unknown route.
    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Text::new("err-api-no-route"),
        )
    }

    /// 405: the route exists but not with this method (the `Allow` header lists those it has).
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            Text::new("err-api-method-not-allowed"),
        )
    }

    /// Any other client error the framework answered by itself, by its status: a stable code
    /// from the status's name and `message` (what the framework said, if anything).
    pub fn client_error(status: StatusCode, message: &str) -> Self {
        if status == StatusCode::METHOD_NOT_ALLOWED {
            return Self::method_not_allowed();
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::body_too_large();
        }
        let code = match status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::NOT_ACCEPTABLE => "not_acceptable",
            StatusCode::REQUEST_TIMEOUT => "request_timeout",
            StatusCode::LENGTH_REQUIRED => "length_required",
            StatusCode::URI_TOO_LONG => "uri_too_long",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
            _ => "client_error",
        };
        // The framework's own words, or the status's standard reason phrase.
        let message = match message.trim() {
            "" => status.canonical_reason().map_or_else(
                || Text::new("err-api-refused"),
                |r| Text::raw(format!("{r}.")),
            ),
            m => Text::raw(m.to_owned()),
        };
        Self::new(status, code, message)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (status, retry_after) = match e.kind {
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, None),
            ErrorKind::Conflict => (StatusCode::CONFLICT, None),
            ErrorKind::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, None),
            ErrorKind::Forbidden => (StatusCode::FORBIDDEN, None),
            ErrorKind::Unauthorized => (StatusCode::UNAUTHORIZED, None),
            ErrorKind::Unavailable => (StatusCode::BAD_GATEWAY, None),
            ErrorKind::Throttled { retry_after } => {
                (StatusCode::TOO_MANY_REQUESTS, Some(retry_after))
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, None),
        };
        ApiError {
            status,
            code: e.code,
            message: e.message,
            retry_after,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.into_response_in(crate::lang::current())
    }
}

impl ApiError {
    /// The answer, its `message` in `lang` (outside a request's language scope: the listener's
    /// own answers).
    pub fn into_response_in(self, lang: twofold_core::i18n::Lang) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: lang.text(&self.message),
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(v) = self
            .retry_after
            .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// What a portal handler answers instead of its page: a core error or a store failure as the
/// page that says so, a refused form, or an answer already made (a redirect to log in, a form
/// shown again with its error). Handlers return `Result<Response, PageError>` and use `?`.
#[derive(Debug)]
pub(crate) enum PageError {
    /// 404 "Not found".
    NotFound,
    /// 403 "No access".
    Forbidden,
    /// 403 "Form refused": the CSRF token is missing, expired or foreign.
    CsrfRefused,
    /// 429 "Too many attempts" with `Retry-After`: the flow throttled the request.
    Throttled {
        /// The flow's sentence.
        message: String,
        /// Seconds until another attempt may succeed.
        retry_after: u64,
    },
    /// 500 "Something went wrong" (the cause was logged where it happened).
    Internal,
    /// A response already made, answered as it is.
    Answer(Response),
}

impl From<Error> for PageError {
    /// An unknown user or factor is "Not found", a refusal "No access", a throttled flow
    /// "Too many attempts" (429, `Retry-After`), anything else a server failure, logged here
    /// by its code: the errors a page answers in its own words are matched before this.
    fn from(e: Error) -> Self {
        match e.kind {
            ErrorKind::NotFound => PageError::NotFound,
            ErrorKind::Forbidden => PageError::Forbidden,
            ErrorKind::Throttled { retry_after } => PageError::Throttled {
                message: crate::lang::text(&e.message),
                retry_after,
            },
            _ => {
                tracing::warn!(code = e.code, "a page answered a flow's error as a failure");
                PageError::Internal
            }
        }
    }
}

impl From<Response> for PageError {
    fn from(resp: Response) -> Self {
        PageError::Answer(resp)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        use crate::portal::page;
        match self {
            PageError::NotFound => page::not_found(),
            PageError::Forbidden => page::forbidden(),
            PageError::CsrfRefused => page::csrf_refused(),
            PageError::Throttled {
                message,
                retry_after,
            } => {
                let mut resp = page::message(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts",
                    &message,
                    None,
                );
                if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                resp
            }
            PageError::Internal => page::internal(),
            PageError::Answer(resp) => resp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_client_errors_get_stable_codes() {
        let e = ApiError::client_error(StatusCode::METHOD_NOT_ALLOWED, "");
        assert_eq!(
            (e.status, e.code),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
        );
        let e = ApiError::client_error(StatusCode::BAD_REQUEST, "Invalid URL: bad\n");
        assert_eq!(
            (e.code, e.message.english().as_str()),
            ("bad_request", "Invalid URL: bad")
        );
        let e = ApiError::client_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, " ");
        assert_eq!(
            (e.code, e.message.english().as_str()),
            ("unsupported_media_type", "Unsupported Media Type.")
        );
        let e = ApiError::client_error(StatusCode::IM_A_TEAPOT, "");
        assert_eq!(
            (e.status, e.code),
            (StatusCode::IM_A_TEAPOT, "client_error")
        );
        assert_eq!(
            ApiError::client_error(StatusCode::PAYLOAD_TOO_LARGE, "x").code,
            "body_too_large"
        );
    }

    #[test]
    fn core_errors_become_pages_by_kind() {
        let status = |e: Error| PageError::from(e).into_response().status();
        assert_eq!(
            status(Error::not_found(
                "user_not_found",
                Text::new("err-user-not-found")
            )),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(Error::forbidden(
                "forbidden",
                Text::new("err-api-forbidden")
            )),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(Error::conflict("exists", Text::new("err-user-exists"))),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let throttled =
            PageError::from(Error::throttled(42, Text::new("err-server-busy"))).into_response();
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.headers()[header::RETRY_AFTER], "42");
        assert_eq!(
            PageError::CsrfRefused.into_response().status(),
            StatusCode::FORBIDDEN
        );
        let made = PageError::from(axum::response::Redirect::to("/login").into_response());
        assert_eq!(made.into_response().status(), StatusCode::SEE_OTHER);
    }
}
