//! Static assets compiled into the binary, so no page loads anything from outside it.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

const PICO_CSS: &str = include_str!("../../assets/pico.min.css");
const OUTPOST_CSS: &str = include_str!("../../assets/outpost.css");

pub async fn serve(Path(file): Path<String>) -> Result<Response, AppError> {
    let body = match file.as_str() {
        "pico.min.css" => PICO_CSS,
        "outpost.css" => OUTPOST_CSS,
        _ => return Err(AppError::NotFound),
    };
    Ok(([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")], body).into_response())
}
