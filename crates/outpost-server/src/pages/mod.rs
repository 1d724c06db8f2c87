//! Server-rendered pages, one module per page.

pub mod account_info;
pub mod assets;
pub mod change_password;
pub mod change_username;
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
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use outpost_store::sessions::SessionUser;
use outpost_store::users::Role;

use crate::auth::csrf::CsrfToken;
use crate::error::AppError;

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
