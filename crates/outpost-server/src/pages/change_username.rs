use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfToken;
use crate::error::AppError;
use crate::pages::{Chrome, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "change_username.html")]
struct ChangeUsernamePage {
    chrome: Chrome,
    username: String,
    support_email: String,
}

/// Explains that only support changes usernames (`outpost admin change-username`).
pub async fn show(State(state): State<AppState>, CurrentUser(user): CurrentUser, csrf: CsrfToken) -> Result<Response, AppError> {
    let page = ChangeUsernamePage {
        chrome: Chrome::new(Some(&user), &csrf, "username"),
        username: user.username.clone(),
        support_email: state.config.support_email.clone(),
    };
    render(StatusCode::OK, &page)
}
