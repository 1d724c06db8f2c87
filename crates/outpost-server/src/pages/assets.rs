//! Static assets compiled into the binary, so no page loads anything from outside it.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

const PICO_CSS: &str = include_str!("../../assets/pico.min.css");
const OUTPOST_CSS: &str = include_str!("../../assets/outpost.css");
const OUTPOST_JS: &str = include_str!("../../assets/outpost.js");
const TRASH_ICON: &str = include_str!("../../assets/trash-2.svg");

pub async fn serve(Path(file): Path<String>) -> Result<Response, AppError> {
    let (body, content_type) = match file.as_str() {
        "pico.min.css" => (PICO_CSS, "text/css; charset=utf-8"),
        "outpost.css" => (OUTPOST_CSS, "text/css; charset=utf-8"),
        "outpost.js" => (OUTPOST_JS, "text/javascript; charset=utf-8"),
        "trash-2.svg" => (TRASH_ICON, "image/svg+xml"),
        _ => return Err(AppError::NotFound),
    };
    Ok(([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "public, max-age=3600")], body).into_response())
}
