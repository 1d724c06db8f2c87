//! Problem details (RFC 9457) for the agent API, and the JSON body extractor that produces
//! them for bodies that are too large, not JSON, or of the wrong shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use outpost_protocol::{PROBLEM_INVALID_REQUEST, PROBLEM_TOO_LARGE, Problem};
use serde::de::DeserializeOwned;

/// An error of the agent API, answered as `application/problem+json`.
#[derive(Debug)]
pub struct ApiProblem {
    pub status: StatusCode,
    pub problem_type: &'static str,
    pub title: &'static str,
    pub detail: String,
}

impl ApiProblem {
    pub fn new(status: StatusCode, problem_type: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, problem_type, title, detail: detail.into() }
    }

    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, PROBLEM_INVALID_REQUEST, "Invalid request", detail)
    }

    /// An unexpected failure: logged with an id that the response carries.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        let id = uuid::Uuid::now_v7();
        tracing::error!(request.id = %id, error = %error, "agent API request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "about:blank", "Internal server error", format!("The request failed; request id {id}."))
    }
}

impl From<outpost_store::StoreError> for ApiProblem {
    fn from(error: outpost_store::StoreError) -> Self {
        Self::internal(error)
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        let body = Problem { problem_type: self.problem_type.to_owned(), title: self.title.to_owned(), status: self.status.as_u16(), detail: self.detail };
        let json = serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned());
        (self.status, [(CONTENT_TYPE, "application/problem+json")], json).into_response()
    }
}

/// A JSON body read within the route's size limit.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiProblem;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiProblem> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.to_ascii_lowercase().starts_with("application/json"));
        if !is_json {
            return Err(ApiProblem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, PROBLEM_INVALID_REQUEST, "Unsupported media type", "Send the body as application/json."));
        }

        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiProblem::new(StatusCode::PAYLOAD_TOO_LARGE, PROBLEM_TOO_LARGE, "Body too large", "The request body is over this route's size limit.")
            } else {
                ApiProblem::new(StatusCode::BAD_REQUEST, PROBLEM_INVALID_REQUEST, "Unreadable body", rejection.body_text())
            }
        })?;

        serde_json::from_slice(&bytes).map(Json).map_err(|error| {
            let status = if error.is_syntax() || error.is_eof() { StatusCode::BAD_REQUEST } else { StatusCode::UNPROCESSABLE_ENTITY };
            ApiProblem::new(status, PROBLEM_INVALID_REQUEST, "Invalid JSON body", error.to_string())
        })
    }
}
