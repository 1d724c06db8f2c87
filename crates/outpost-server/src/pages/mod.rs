//! Server-rendered pages, one module per page.

pub mod account_info;
pub mod assets;
pub mod change_password;
pub mod change_username;
pub mod collector_actions;
pub mod collectors;
pub mod home;
pub mod invitations;
pub mod password_reset;
pub mod second_factor;
pub mod sign_in;
pub mod sign_out;
pub mod sign_up;
pub mod team;
pub mod two_factor;

use askama::Template;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use outpost_domain::email::EmailAddress;
use outpost_domain::password::{Password, check_new_password};
use outpost_domain::FieldErrors;
use outpost_store::audit::Entry;
use outpost_store::sessions::SessionUser;
use outpost_store::users::{Role, User};

use crate::auth::csrf::CsrfToken;
use crate::auth::reauthentication::PasswordCheck;
use crate::clock::format_wait;
use crate::state::AppState;
use crate::error::AppError;
use crate::form::Form;

/// What the layout needs on every page: who is signed in, the CSRF token for the sign-out
/// form, and which navigation entry is current.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub username: Option<String>,
    pub is_team_master: bool,
    /// The session still owes the second factor, so the navigation offers only sign-out.
    pub second_factor_pending: bool,
    pub csrf_token: String,
    pub section: &'static str,
}

impl Chrome {
    pub fn new(user: Option<&SessionUser>, csrf: &CsrfToken, section: &'static str) -> Self {
        Self {
            username: user.map(|user| user.username.clone()),
            is_team_master: user.is_some_and(|user| user.role == Role::TeamMaster),
            second_factor_pending: user.is_some_and(|user| user.second_factor_pending),
            csrf_token: csrf.0.clone(),
            section,
        }
    }

    /// `aria-current` value for a navigation link.
    pub fn current(&self, section: &str) -> &'static str {
        if self.section == section { "page" } else { "false" }
    }
}

/// Renders a template with a status.
pub fn render(status: StatusCode, template: &impl Template) -> Result<Response, AppError> {
    Ok((status, Html(template.render()?)).into_response())
}

/// Renders a template as 429 Too Many Requests with `Retry-After` in seconds.
pub fn render_throttled(template: &impl Template, retry_after_seconds: i64) -> Result<Response, AppError> {
    let mut response = render(StatusCode::TOO_MANY_REQUESTS, template)?;
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds));
    Ok(response)
}

/// A failed password re-check, as a form shows it.
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    /// Seconds for `Retry-After` when the throttle made the user wait.
    pub retry_after: Option<i64>,
}

/// Turns the result of re-checking a password into the refusal a form shows, or `None`
/// when the password was right.
pub fn password_refusal(check: PasswordCheck, state: &AppState) -> Option<Refusal> {
    match check {
        PasswordCheck::Correct => None,
        PasswordCheck::Wrong => Some(Refusal { status: StatusCode::UNPROCESSABLE_ENTITY, message: "The password is incorrect.".to_owned(), retry_after: None }),
        PasswordCheck::Wait(seconds) => Some(Refusal {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!("Too many wrong passwords or codes. Try again in {}.", format_wait(seconds)),
            retry_after: Some(seconds),
        }),
        PasswordCheck::Locked => Some(Refusal { status: StatusCode::LOCKED, message: sign_in::lock_message(state), retry_after: None }),
    }
}

/// Renders a template with the refusal's status and, when set, its `Retry-After`.
pub fn render_refusal(template: &impl Template, refusal: &Refusal) -> Result<Response, AppError> {
    let mut response = render(refusal.status, template)?;
    if let Some(seconds) = refusal.retry_after {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}

/// Checks a new password from `password_field` against the policy and against its repetition
/// in `confirmation_field`, adding messages to `errors`. Returns the password only when both
/// are fine.
pub fn new_password(
    form: &Form,
    password_field: &'static str,
    confirmation_field: &'static str,
    username: Option<&EmailAddress>,
    errors: &mut FieldErrors,
) -> Option<Password> {
    let password = match check_new_password(form.text(password_field), username) {
        Ok(password) => Some(password),
        Err(error) => {
            errors.add(password_field, error.to_string());
            None
        }
    };
    if form.text(password_field) != form.text(confirmation_field) {
        errors.add(confirmation_field, "The two passwords do not match.");
        return None;
    }
    password
}

/// An audit entry for an action the signed-in user took.
pub fn session_audit_entry<'a>(user: &'a SessionUser, client_address: &'a str, detail: &'a str) -> Entry<'a> {
    Entry {
        actor: &user.username,
        user_id: Some(&user.user_id),
        account_id: Some(&user.account_id),
        client_address: Some(client_address),
        detail,
    }
}

/// An audit entry for an action of a user outside a full session (sign-up, sign-in, reset).
pub fn user_audit_entry<'a>(user: &'a User, client_address: &'a str, detail: &'a str) -> Entry<'a> {
    Entry {
        actor: &user.username,
        user_id: Some(&user.id),
        account_id: Some(&user.account_id),
        client_address: Some(client_address),
        detail,
    }
}
