//! Sign-up: the person becomes Team Master of a new account and is signed in.

use askama::Template;
use axum::extract::State;
use axum::http::header::{LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use outpost_domain::email::EmailAddress;
use outpost_domain::throttle::Verdict;
use outpost_domain::FieldErrors;
use outpost_store::audit::{self, Event};
use outpost_store::throttle::Scope;
use outpost_store::{StoreError, users};

use crate::auth::csrf::CsrfToken;
use crate::auth::{MaybeUser, session, throttle};
use crate::client_address::ClientAddress;
use crate::clock::format_wait;
use crate::error::AppError;
use crate::form::Form;
use crate::pages::{Chrome, new_password, render, render_throttled, user_audit_entry};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "sign_up.html")]
struct SignUpPage {
    chrome: Chrome,
    username: String,
    errors: FieldErrors,
    alert: Option<String>,
}

pub async fn show(MaybeUser(user): MaybeUser, csrf: CsrfToken) -> Result<Response, AppError> {
    if user.as_ref().is_some_and(|user| !user.second_factor_pending) {
        // A signed-in user would otherwise create a second account and switch to it.
        return Ok(axum::response::Redirect::to("/").into_response());
    }
    let page = SignUpPage {
        chrome: Chrome::new(user.as_ref(), &csrf, "sign-up"),
        username: String::new(),
        errors: FieldErrors::new(),
        alert: None,
    };
    render(StatusCode::OK, &page)
}

pub async fn submit(
    State(state): State<AppState>,
    csrf: CsrfToken,
    client: ClientAddress,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, AppError> {
    let address = client.text();
    let typed_username = form.text("username");
    let mut page = SignUpPage {
        chrome: Chrome::new(None, &csrf, "sign-up"),
        username: typed_username.to_owned(),
        errors: FieldErrors::new(),
        alert: None,
    };

    if let Verdict::Wait(seconds) = throttle::check_address(&state, Scope::SignUpAddress, &address).await? {
        page.alert = Some(format!("Too many sign-up attempts from your network. Try again in {}.", format_wait(seconds)));
        return render_throttled(&page, seconds);
    }

    let username = match EmailAddress::parse(typed_username) {
        Ok(email) => Some(email),
        Err(error) => {
            page.errors.add("username", error.to_string());
            None
        }
    };
    let password = new_password(&form, "password", "password_confirmation", username.as_ref(), &mut page.errors);

    let (Some(username), Some(password)) = (username, password) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    if !page.errors.is_empty() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }

    let password_hash = state.hasher.hash(&password).await?;
    let now = state.now();
    let user = match users::create_account_with_team_master(&state.database, username.as_str(), username.normalized(), &password_hash, now).await {
        Ok(user) => user,
        Err(StoreError::UsernameTaken) => {
            throttle::record_address(&state, Scope::SignUpAddress, &address).await?;
            page.errors.add("username", "An account with this email address already exists. Sign in, or reset the password if you forgot it.");
            return render(StatusCode::CONFLICT, &page);
        }
        Err(error) => return Err(error.into()),
    };

    let user_agent = headers.get(USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let cookie = session::start(&state, &user.id, &address, user_agent, false).await?;

    let entry = user_audit_entry(&user, &address, "");
    audit::record(&state.database, Event::SignUp, entry, now).await?;
    users::record_sign_in(&state.database, &user.id, now).await?;
    tracing::info!(user.id = %user.id, account.id = %user.account_id, "signed up a new account");

    Ok((StatusCode::SEE_OTHER, [(SET_COOKIE, cookie), (LOCATION, HeaderValue::from_static("/account?welcome=1"))]).into_response())
}
