//! The one error type at the HTTP edge, with the status mapping in one place. Pages render
//! the error page; an unexpected error shows a request id and logs the full cause.

use askama::Template;
use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::clock::format_wait;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No session: pages redirect to sign-in.
    #[error("sign-in required")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("gone: {0}")]
    Gone(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many requests, retry after {retry_after_seconds} s")]
    TooManyRequests { retry_after_seconds: i64, message: String },
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl From<outpost_store::StoreError> for AppError {
    fn from(error: outpost_store::StoreError) -> Self {
        Self::Internal(error.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        Self::Internal(anyhow::anyhow!("template rendering failed: {error}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: crate::pages::Chrome,
    title: &'a str,
    message: &'a str,
    request_id: Option<&'a str>,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if matches!(self, Self::Unauthorized) {
            return (StatusCode::SEE_OTHER, [(LOCATION, HeaderValue::from_static("/sign-in"))]).into_response();
        }

        let status = self.status();
        let mut request_id = None;
        let (title, message) = match &self {
            Self::BadRequest(message) => ("Bad request", message.clone()),
            Self::Unauthorized => ("Sign-in required", "Sign in to continue.".to_owned()),
            Self::Forbidden(message) => ("Not allowed", message.clone()),
            Self::NotFound => ("Page not found", "There is no page at this address.".to_owned()),
            Self::Conflict(message) => ("Not possible", message.clone()),
            Self::Gone(message) => ("Gone", message.clone()),
            Self::PayloadTooLarge => (
                "Request too large",
                "The submitted form is larger than the 64 KiB limit. Shorten the text and submit it again.".to_owned(),
            ),
            Self::UnsupportedMediaType => (
                "Unsupported form encoding",
                "Forms must be sent as application/x-www-form-urlencoded.".to_owned(),
            ),
            Self::TooManyRequests { retry_after_seconds, message } => {
                ("Too many attempts", format!("{message} Try again in {}.", format_wait(*retry_after_seconds)))
            }
            Self::Internal(error) => {
                let id = uuid::Uuid::now_v7().to_string();
                tracing::error!(request.id = %id, error = format!("{error:#}"), "request failed");
                request_id = Some(id);
                ("Something went wrong", "The server could not complete the request. It has been logged.".to_owned())
            }
        };

        let page = ErrorPage { chrome: crate::pages::Chrome::default(), title, message: &message, request_id: request_id.as_deref() };
        let body = page.render().unwrap_or_else(|_| message.clone());
        let mut response = (status, Html(body)).into_response();

        if let Self::TooManyRequests { retry_after_seconds, .. } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string())
        {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        response
    }
}
