//! Change password: the current password, a new one and its confirmation. On success the
//! user's other sessions end and this one stays.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use outpost_domain::email::{EmailAddress, normalize};
use outpost_domain::FieldErrors;
use outpost_store::audit::{self, Event};
use outpost_store::users;
use serde::Deserialize;

use crate::auth::csrf::CsrfToken;
use crate::auth::reauthentication::{PasswordCheck, check_password};
use crate::auth::two_factor::send_notice;
use crate::auth::{CurrentUser, throttle};
use crate::client_address::ClientAddress;
use crate::clock::format_wait;
use crate::error::AppError;
use crate::form::Form;
use crate::pages::{Chrome, new_password, render, render_throttled, session_audit_entry};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "change_password.html")]
struct ChangePasswordPage {
    chrome: Chrome,
    errors: FieldErrors,
    notice: Option<String>,
    alert: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ChangePasswordQuery {
    changed: Option<String>,
}

pub async fn show(
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Query(query): Query<ChangePasswordQuery>,
) -> Result<Response, AppError> {
    let notice = query.changed.map(|_| "Your password has been changed. Your other sessions have ended.".to_owned());
    let page = ChangePasswordPage { chrome: Chrome::new(Some(&user), &csrf, "password"), errors: FieldErrors::new(), notice, alert: None };
    render(StatusCode::OK, &page)
}

pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    client: ClientAddress,
    form: Form,
) -> Result<Response, AppError> {
    let address = client.text();
    let username_key = normalize(&user.username);
    let mut page = ChangePasswordPage { chrome: Chrome::new(Some(&user), &csrf, "password"), errors: FieldErrors::new(), notice: None, alert: None };

    match check_password(&state, &user.user_id, &user.username, &address, form.text("current_password")).await? {
        PasswordCheck::Correct => {}
        PasswordCheck::Wrong => page.errors.add("current_password", "The current password is incorrect."),
        PasswordCheck::Wait(seconds) => {
            page.alert = Some(format!("Too many wrong current passwords. Try again in {}.", format_wait(seconds)));
            return render_throttled(&page, seconds);
        }
        PasswordCheck::Locked => {
            page.alert = Some(super::sign_in::lock_message(&state));
            return render(StatusCode::LOCKED, &page);
        }
    }

    let username = EmailAddress::parse(&user.username).map_err(|error| AppError::Internal(anyhow::anyhow!("stored username is invalid: {error}")))?;
    let mut new_password = new_password(&form, "new_password", "password_confirmation", Some(&username), &mut page.errors);
    if new_password.is_some() && form.text("new_password") == form.text("current_password") {
        page.errors.add("new_password", "The new password is the same as the current one. Choose a different password.");
        new_password = None;
    }
    let Some(new_password) = new_password.filter(|_| page.errors.is_empty()) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };

    let password_hash = state.hasher.hash(&new_password).await?;
    let now = state.now();
    users::change_password(&state.database, &user.user_id, &password_hash, Some(&user.session_id), now).await?;
    throttle::record_password_success(&state, &username_key, &address).await?;

    let entry = session_audit_entry(&user, &address, "other sessions ended");
    audit::record(&state.database, Event::PasswordChanged, entry, now).await?;
    tracing::info!(user.id = %user.user_id, "password changed");
    let notice = format!("Your password was changed from {address}. Your other sessions and trusted devices were signed out.");
    send_notice(&state, &user.user_id, &user.username, "Your Outpost password was changed", &notice);

    Ok((StatusCode::SEE_OTHER, [(LOCATION, HeaderValue::from_static("/security/password?changed=1"))]).into_response())
}
