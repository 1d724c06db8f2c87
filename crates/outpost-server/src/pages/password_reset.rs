//! "Forgot password?": a single-use link, valid one hour, sent by email. The request page
//! returns the same response whether or not the address has an account.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use outpost_domain::email::{EmailAddress, normalize};
use outpost_domain::throttle::Verdict;
use outpost_domain::FieldErrors;
use outpost_store::audit::{self, Event};
use outpost_store::throttle::Scope;
use outpost_store::{resets, users};

use crate::auth::csrf::CsrfToken;
use crate::auth::token::Token;
use crate::auth::{MaybeUser, throttle};
use crate::client_address::ClientAddress;
use crate::clock::format_wait;
use crate::error::AppError;
use crate::form::{self, Form};
use crate::pages::{Chrome, new_password, render, render_throttled, user_audit_entry};
use crate::state::AppState;

/// How long a reset link works, in seconds.
pub const RESET_LINK_LIFETIME_SECONDS: i64 = 60 * 60;

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct RequestPage {
    chrome: Chrome,
    email: String,
    sent: bool,
    errors: FieldErrors,
    alert: Option<String>,
}

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPage {
    chrome: Chrome,
    valid: bool,
    token: String,
    username: String,
    errors: FieldErrors,
}

pub async fn show_request(MaybeUser(user): MaybeUser, csrf: CsrfToken) -> Result<Response, AppError> {
    let page = RequestPage {
        chrome: Chrome::new(user.as_ref(), &csrf, "sign-in"),
        email: String::new(),
        sent: false,
        errors: FieldErrors::new(),
        alert: None,
    };
    render(StatusCode::OK, &page)
}

pub async fn submit_request(
    State(state): State<AppState>,
    csrf: CsrfToken,
    client: ClientAddress,
    form: Form,
) -> Result<Response, AppError> {
    let address = client.text();
    let mut page = RequestPage {
        chrome: Chrome::new(None, &csrf, "sign-in"),
        email: form.text("email").to_owned(),
        sent: false,
        errors: FieldErrors::new(),
        alert: None,
    };

    if let Verdict::Wait(seconds) = throttle::check_address(&state, Scope::ResetAddress, &address).await? {
        page.alert = Some(format!("Too many reset requests from your network. Try again in {}.", format_wait(seconds)));
        return render_throttled(&page, seconds);
    }

    let email = match EmailAddress::parse(form.text("email")) {
        Ok(email) => email,
        Err(error) => {
            page.errors.add("email", error.to_string());
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    throttle::record_address(&state, Scope::ResetAddress, &address).await?;

    if let Some(user) = users::find_by_username(&state.database, email.normalized()).await? {
        let token = Token::generate();
        let now = state.now();
        resets::create(&state.database, &user.id, &token.digest(), now, now + RESET_LINK_LIFETIME_SECONDS).await?;

        let entry = user_audit_entry(&user, &address, "");
        audit::record(&state.database, Event::PasswordResetRequested, entry, now).await?;

        let link = format!("{}/reset-password?token={}", state.config.public_url, token.expose());
        let body = format!(
            "Someone asked to reset the password of your Outpost account {}.\n\n\
             To set a new password, open this link within one hour. It works once:\n\n{link}\n\n\
             If you did not ask for this, ignore this message: your password stays as it is.\n",
            user.username
        );
        // Sent in the background so the response takes as long as for unknown addresses.
        let mailer = state.mailer.clone();
        let recipient = user.username.clone();
        let user_id = user.id.clone();
        tokio::spawn(async move {
            if let Err(error) = mailer.send(&recipient, "Reset your Outpost password", body).await {
                tracing::error!(user.id = %user_id, error = format!("{error:#}"), "failed to send the password reset message");
            }
        });
    }

    page.sent = true;
    page.email = email.as_str().to_owned();
    render(StatusCode::OK, &page)
}

fn token_from_query(query: Option<&str>) -> String {
    let fields = form::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    fields.get("token").cloned().unwrap_or_default()
}

fn invalid_link(chrome: Chrome) -> Result<Response, AppError> {
    let page = ResetPage { chrome, valid: false, token: String::new(), username: String::new(), errors: FieldErrors::new() };
    render(StatusCode::GONE, &page)
}

pub async fn show_reset(State(state): State<AppState>, csrf: CsrfToken, RawQuery(query): RawQuery) -> Result<Response, AppError> {
    let chrome = Chrome::new(None, &csrf, "sign-in");
    let token = token_from_query(query.as_deref());
    if token.is_empty() {
        return invalid_link(chrome);
    }

    let user_id = resets::peek(&state.database, &Token::from_client(&token).digest(), state.now()).await?;
    let user = match user_id {
        Some(user_id) => users::find_by_id(&state.database, &user_id).await?,
        None => None,
    };
    let Some(user) = user else {
        return invalid_link(chrome);
    };

    let page = ResetPage { chrome, valid: true, token, username: user.username, errors: FieldErrors::new() };
    render(StatusCode::OK, &page)
}

pub async fn submit_reset(
    State(state): State<AppState>,
    csrf: CsrfToken,
    client: ClientAddress,
    form: Form,
) -> Result<Response, AppError> {
    let chrome = Chrome::new(None, &csrf, "sign-in");
    let token = Token::from_client(form.text("token"));
    let token_hash = token.digest();

    let user = match resets::peek(&state.database, &token_hash, state.now()).await? {
        Some(user_id) => users::find_by_id(&state.database, &user_id).await?,
        None => None,
    };
    let Some(user) = user else {
        return invalid_link(chrome);
    };

    let mut page = ResetPage {
        chrome,
        valid: true,
        token: token.expose().to_owned(),
        username: user.username.clone(),
        errors: FieldErrors::new(),
    };
    let username = EmailAddress::parse(&user.username).map_err(|error| AppError::Internal(anyhow::anyhow!("stored username is invalid: {error}")))?;
    let password = new_password(&form, "password", "password_confirmation", Some(&username), &mut page.errors);
    let Some(password) = password.filter(|_| page.errors.is_empty()) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };

    let password_hash = state.hasher.hash(&password).await?;
    let now = state.now();
    if resets::consume(&state.database, &token_hash, &password_hash, now).await?.is_none() {
        return invalid_link(page.chrome);
    }

    // A reset lifts a lock from failed sign-ins.
    throttle::record_password_success(&state, &normalize(&user.username), &client.text()).await?;

    let address = client.text();
    let entry = user_audit_entry(&user, &address, "all sessions ended");
    audit::record(&state.database, Event::PasswordReset, entry, now).await?;
    tracing::info!(user.id = %user.id, "password reset through an emailed link");
    let notice = format!("Your password was reset through an emailed link from {address}. All your sessions and trusted devices were signed out.");
    crate::auth::two_factor::send_notice(&state, &user.id, &user.username, "Your Outpost password was reset", &notice);

    Ok((StatusCode::SEE_OTHER, [(LOCATION, HeaderValue::from_static("/sign-in?reset=1"))]).into_response())
}
