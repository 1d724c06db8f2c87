//! Sign-in with username and password, throttled per username and per client address.
//! Failures never reveal whether the username exists: unknown usernames are verified
//! against a dummy hash and get the same message.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use outpost_domain::email::{MAX_EMAIL_CHARS, normalize};
use outpost_domain::password::Password;
use outpost_domain::throttle::Verdict;
use outpost_store::audit::{self, Entry, Event};
use outpost_store::users::{self, Role};
use serde::Deserialize;

use crate::auth::csrf::CsrfToken;
use crate::auth::password_hashing::Verification;
use crate::auth::{self, MaybeUser, session, throttle};
use crate::routes::SECOND_FACTOR_PATH;
use outpost_store::two_factor;
use crate::client_address::ClientAddress;
use crate::clock::format_wait;
use crate::error::AppError;
use crate::form::Form;
use crate::pages::{Chrome, render, render_throttled};
use crate::state::AppState;

const WRONG_CREDENTIALS: &str = "The email address or password is incorrect.";

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    username: String,
    /// Local address to return to after sign-in.
    next: String,
    notice: Option<String>,
    alert: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    signed_out: Option<String>,
    reset: Option<String>,
    expired: Option<String>,
    next: Option<String>,
}

/// Accepts `next` only as a path on this server, so sign-in never redirects elsewhere.
fn local_target(next: &str) -> Option<&str> {
    let safe = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 2000
        && !next.chars().any(char::is_control);
    safe.then_some(next)
}

pub async fn show(MaybeUser(user): MaybeUser, csrf: CsrfToken, Query(query): Query<SignInQuery>) -> Result<Response, AppError> {
    let next = query.next.as_deref().and_then(local_target).unwrap_or_default().to_owned();
    let notice = if query.reset.is_some() {
        Some("Your password has been changed. Sign in with the new password.".to_owned())
    } else if query.signed_out.is_some() {
        Some("You have signed out.".to_owned())
    } else if query.expired.is_some() {
        Some("Your session ended, so the form was not sent. Sign in again and repeat the change.".to_owned())
    } else if !next.is_empty() {
        Some("Sign in to continue.".to_owned())
    } else {
        None
    };
    let page = SignInPage { chrome: Chrome::new(user.as_ref(), &csrf, "sign-in"), username: String::new(), next, notice, alert: None };
    render(StatusCode::OK, &page)
}

pub(crate) fn lock_message(state: &AppState) -> String {
    let support = if state.config.support_email.is_empty() {
        "contact support".to_owned()
    } else {
        format!("contact support at {}", state.config.support_email)
    };
    format!("This account is locked after too many failed sign-ins. Reset the password with \"Forgot password?\" to unlock it, or {support}.")
}

pub async fn submit(
    State(state): State<AppState>,
    csrf: CsrfToken,
    client: ClientAddress,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, AppError> {
    let address = client.text();
    let typed_username: String = form.text("username").chars().take(MAX_EMAIL_CHARS + 1).collect();
    let username_key = normalize(&typed_username);
    let password = Password::normalize(form.text("password"));
    let next = local_target(form.text("next")).unwrap_or_default().to_owned();
    let mut page = SignInPage { chrome: Chrome::new(None, &csrf, "sign-in"), username: typed_username.clone(), next: next.clone(), notice: None, alert: None };

    match throttle::check_password_attempt(&state, &username_key, &address).await? {
        Verdict::Allowed => {}
        Verdict::Wait(seconds) => {
            page.alert = Some(format!(
                "Too many failed sign-ins for this account or from your network. Try again in {}.",
                format_wait(seconds)
            ));
            return render_throttled(&page, seconds);
        }
        Verdict::Locked => {
            page.alert = Some(lock_message(&state));
            return render(StatusCode::LOCKED, &page);
        }
    }

    let user = users::find_by_username(&state.database, &username_key).await?;
    let verification = state.hasher.verify(&password, user.as_ref().map(|user| user.password_hash.as_str())).await?;
    let now = state.now();

    let (Verification::Match { needs_rehash }, Some(user)) = (verification, user.as_ref()) else {
        let next = throttle::record_password_failure(&state, &username_key, &address).await?;
        let entry = Entry {
            actor: &typed_username,
            user_id: user.as_ref().map(|user| user.id.as_str()),
            account_id: user.as_ref().map(|user| user.account_id.as_str()),
            client_address: Some(&address),
            detail: "wrong password or unknown username",
        };
        audit::record(&state.database, Event::SignInFailed, entry, now).await?;
        tracing::info!(client.address = %address, "sign-in failed");

        page.alert = Some(match next {
            Verdict::Locked => lock_message(&state),
            Verdict::Wait(seconds) => format!("{WRONG_CREDENTIALS} Wait {} before the next try.", format_wait(seconds)),
            Verdict::Allowed => WRONG_CREDENTIALS.to_owned(),
        });
        return render(StatusCode::UNAUTHORIZED, &page);
    };

    throttle::record_password_success(&state, &username_key, &address).await?;
    if needs_rehash {
        let rehashed = state.hasher.hash(&password).await?;
        users::update_password_hash(&state.database, &user.id, &rehashed).await?;
        tracing::info!(user.id = %user.id, "rehashed password with current argon2 parameters");
    }

    let user_agent = headers.get(USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let has_two_factor = two_factor::credential(&state.database, &user.id).await?.is_some();
    let trusted = has_two_factor && auth::two_factor::is_trusted_device(&state, &user.id, &headers).await?;

    if has_two_factor && !trusted {
        let cookie = session::start(&state, &user.id, &address, user_agent, true).await?;
        tracing::info!(user.id = %user.id, "password accepted; asking for the second factor");
        let location = HeaderValue::from_static(SECOND_FACTOR_PATH);
        return Ok((StatusCode::SEE_OTHER, [(SET_COOKIE, cookie), (LOCATION, location)]).into_response());
    }

    let detail = if trusted { "password on a trusted device" } else { "password" };
    let target = (!next.is_empty()).then_some(next.as_str());
    complete_sign_in(&state, user, &address, user_agent, detail, Vec::new(), target).await
}

/// Starts a full session after every required factor, records the sign-in and sends the user
/// to their first page. `extra_cookies` are added to the response (a trusted-device cookie).
pub(crate) async fn complete_sign_in(
    state: &AppState,
    user: &users::User,
    address: &str,
    user_agent: &str,
    detail: &str,
    extra_cookies: Vec<HeaderValue>,
    target: Option<&str>,
) -> Result<Response, AppError> {
    let now = state.now();
    let cookie = session::start(state, &user.id, address, user_agent, false).await?;
    users::record_sign_in(&state.database, &user.id, now).await?;

    let entry = Entry {
        actor: &user.username,
        user_id: Some(&user.id),
        account_id: Some(&user.account_id),
        client_address: Some(address),
        detail,
    };
    audit::record(&state.database, Event::SignInSucceeded, entry, now).await?;
    tracing::info!(user.id = %user.id, "signed in");

    let first_page = if user.role == Role::TeamMaster { "/account" } else { "/security/password" };
    let location = HeaderValue::from_str(target.unwrap_or(first_page)).unwrap_or(HeaderValue::from_static("/"));
    let mut response = (StatusCode::SEE_OTHER, [(SET_COOKIE, cookie), (LOCATION, location)]).into_response();
    for extra in extra_cookies {
        response.headers_mut().append(SET_COOKIE, extra);
    }
    Ok(response)
}
